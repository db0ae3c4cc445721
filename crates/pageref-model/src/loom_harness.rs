//! Running loom models of the shipped code, with traces and coverage.
//!
//! [`check`] runs a model body under `loom::model::Builder` with an explicit
//! preemption bound, resets the trace log at the start of every execution,
//! and, if the model fails, returns the panic message together with the
//! failing execution rendered as a CPU0/CPU1 table ([`crate::trace::render`]).
//!
//! Loom explores every interleaving of the model threads up to the
//! preemption bound under the C11 memory model (including loads of older
//! values), and reports concurrent accesses to a `loom::cell::UnsafeCell`
//! that are not ordered by happens-before. See
//! <https://docs.rs/loom/0.7/loom/model/struct.Builder.html>.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::page::{Contents, DataCell, Page};
use crate::trace::{self, ThreadIndex, Traced};

loom::thread_local! {
    static INDEX: Cell<usize> = Cell::new(0);
}

/// Model-thread index under loom (0 for the model body's own thread).
#[derive(Debug)]
pub struct LoomThreads;

impl ThreadIndex for LoomThreads {
    fn current() -> usize {
        INDEX.with(|i| i.get())
    }
}

/// The 32-bit counter word of every loom model: loom's `AtomicU32`
/// (pageref's feature `loom` implements `AtomicWord` for it), traced.
pub type LoomWord = Traced<loom::sync::atomic::AtomicU32, LoomThreads>;

/// The 64-bit counter word of the loom models (`FileRef`): loom's
/// `AtomicU64`, traced.
pub type LoomWord64 = Traced<loom::sync::atomic::AtomicU64, LoomThreads>;

/// Page contents under loom: a `loom::cell::UnsafeCell`, so that racing
/// accesses are reported.
#[derive(Debug)]
pub struct LoomCell(loom::cell::UnsafeCell<Contents>);

// SAFETY: every access goes through loom's `with`/`with_mut`, which check it
// against all concurrent accesses and panic on a race (that is the point:
// the model reports the race instead of performing it).
unsafe impl Sync for LoomCell {}

impl DataCell for LoomCell {
    fn new(c: Contents) -> Self {
        LoomCell(loom::cell::UnsafeCell::new(c))
    }
    fn read(&self) -> Contents {
        // SAFETY: loom checks this access against every concurrent one and
        // panics on a race before it happens; the copy is of plain data.
        self.0.with(|p| unsafe { *p })
    }
    fn write(&self, f: impl FnOnce(&mut Contents)) {
        // SAFETY: as in `read`; loom reports the access if it races.
        self.0.with_mut(|p| f(unsafe { &mut *p }))
    }
}

/// A modelled page under loom.
pub type LoomPage<R> = Page<R, LoomCell, LoomThreads>;

/// Spawns model thread number `index` (1, 2, ...). If the thread panics
/// (a failed check, or a race loom detected), the failure is recorded and the
/// thread returns `O::default()`; see [`guard`].
pub fn spawn<F, O>(index: usize, f: F) -> loom::thread::JoinHandle<O>
where
    F: FnOnce() -> O + Send + 'static,
    O: Default + Send + 'static,
{
    loom::thread::spawn(move || {
        INDEX.with(|i| i.set(index));
        guard(f)
    })
}

/// Runs one model thread's code, catching a panic: the first failure of
/// the execution is recorded with the trace up to that point, and the thread
/// ends normally, returning `O::default()`.
///
/// Why: if a panic unwound out of a loom model thread while other model
/// threads are suspended, loom would drop their stacks outside the execution
/// and their loom objects would panic again in their destructors (an
/// abort). So every thread finishes normally, and [`check`] reports the
/// recorded failure once the execution is over.
pub fn guard<O: Default>(f: impl FnOnce() -> O) -> O {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(o) => o,
        // A failure in an execution that C11 forbids (see `Traced`) is loom's
        // artefact, not ours: discard it.
        Err(_) if trace::infeasible() => O::default(),
        Err(p) => {
            let msg = panic_message(&*p);
            if let Some(wanted) = WANTED.with(|w| w.get()) {
                // Looking for another failure (see `search_for`). Once an
                // execution has failed in an unwanted way, every later
                // failure of it may be a consequence (a thread that stopped
                // before its put leaves references behind), so none counts.
                let tainted = TAINTED.with(|t| t.get());
                if msg != STOP && (tainted || !wanted(&msg)) {
                    if !tainted {
                        TAINTED.with(|t| t.set(true));
                        OTHER.with(|o| o.set(o.get() + 1));
                    }
                    return O::default();
                }
            }
            FAILURE.with(|fl| {
                let mut fl = fl.borrow_mut();
                if fl.is_none() {
                    *fl = Some((msg, trace::render(&trace::snapshot())));
                }
            });
            O::default()
        }
    }
}

/// Message of the failure that stops loom after the failing execution.
const STOP: &str = "pageref-model: stopping after the failing execution";

/// Which failure messages a [`search_for`] looks for.
pub type Wanted = fn(&str) -> bool;

thread_local! {
    static FAILURE: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
    static EXECUTIONS: Cell<u64> = const { Cell::new(0) };
    static DISCARDED: Cell<u64> = const { Cell::new(0) };
    static COVERAGE: RefCell<BTreeMap<&'static str, u64>> = const { RefCell::new(BTreeMap::new()) };
    static WANTED: Cell<Option<Wanted>> = const { Cell::new(None) };
    static OTHER: Cell<u64> = const { Cell::new(0) };
    static TAINTED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `models` (calls of [`check`]) looking for one kind of failure: an
/// execution that fails with a message that `wanted` rejects is counted in
/// [`Passed::other_failures`] and exploration goes on, so that a model whose
/// first counterexample shows one mechanism can be searched for another
/// (`tests/loom/findings.rs`), or for a failure that is not a data race
/// (`tests/shuttle/sc.rs`).
pub fn search_for<T>(wanted: Wanted, models: impl FnOnce() -> T) -> T {
    WANTED.with(|w| w.set(Some(wanted)));
    let r = catch_unwind(AssertUnwindSafe(models));
    WANTED.with(|w| w.set(None));
    r.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Records that an execution reached an interesting outcome (e.g. "the seed
/// interleaving"), so that a test can assert the model really explored it.
pub fn hit(what: &'static str) {
    COVERAGE.with(|c| *c.borrow_mut().entry(what).or_insert(0) += 1);
}

/// A model that passed.
#[derive(Debug, Clone)]
pub struct Passed {
    /// Executions explored.
    pub executions: u64,
    /// Of those, executions discarded as infeasible under C11 (loom's
    /// modification-order artefacts, see [`Traced`]).
    pub discarded: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// How many executions reached each outcome passed to [`hit`].
    pub coverage: BTreeMap<&'static str, u64>,
    /// Failures skipped by [`search_for`] (0 otherwise).
    pub other_failures: u64,
}

impl Passed {
    /// Executions that reached `what` (see [`hit`]).
    pub fn hits(&self, what: &str) -> u64 {
        self.coverage.get(what).copied().unwrap_or(0)
    }
}

/// A model that failed: loom's or the harness's panic message and the
/// failing execution.
#[derive(Debug, Clone)]
pub struct Failed {
    /// The panic message.
    pub message: String,
    /// The failing execution as a thread-per-column table.
    pub table: String,
    /// Executions explored, the failing one included.
    pub executions: u64,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model failed after {} execution(s): {}",
            self.executions, self.message
        )?;
        writeln!(f, "failing execution:")?;
        f.write_str(&self.table)
    }
}

/// The message of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "(non-string panic)".to_string()
    }
}

/// Runs `body` under loom with the given preemption bound (`None`: no
/// bound, every interleaving); every execution starts with an empty trace.
pub fn check<F>(preemption_bound: Option<usize>, body: F) -> Result<Passed, Failed>
where
    F: Fn() + Send + Sync + 'static,
{
    OTHER.with(|o| o.set(0));
    EXECUTIONS.with(|e| e.set(0));
    DISCARDED.with(|e| e.set(0));
    COVERAGE.with(|c| c.borrow_mut().clear());
    FAILURE.with(|f| f.borrow_mut().take());
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemption_bound;
    let start = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| {
        builder.check(move || {
            // A failure was recorded in the previous execution: stop here,
            // before this execution creates any loom object.
            if FAILURE.with(|f| f.borrow().is_some()) {
                panic!("{STOP}");
            }
            trace::reset();
            TAINTED.with(|t| t.set(false));
            EXECUTIONS.with(|e| e.set(e.get() + 1));
            guard(&body);
            if trace::infeasible() {
                DISCARDED.with(|d| d.set(d.get() + 1));
            }
        })
    }));
    let executions = EXECUTIONS.with(|e| e.get());
    let recorded = FAILURE.with(|f| f.borrow_mut().take());
    match (r, recorded) {
        (_, Some((message, table))) => Err(Failed {
            message,
            table,
            executions,
        }),
        (Ok(()), None) => Ok(Passed {
            executions,
            discarded: DISCARDED.with(|d| d.get()),
            elapsed: start.elapsed(),
            coverage: COVERAGE.with(|c| c.borrow().clone()),
            other_failures: OTHER.with(|o| o.get()),
        }),
        // A failure loom itself raised outside the model threads (deadlock,
        // leak, ...).
        (Err(p), None) => Err(Failed {
            message: panic_message(&*p),
            table: trace::render(&trace::snapshot()),
            executions,
        }),
    }
}
