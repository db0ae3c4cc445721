//! The harness of the `Arc` models: loom's `AtomicUsize` checked for RMW
//! atomicity and logged ([`Checked`]), model threads whose failures are
//! recorded per execution ([`spawn`], [`guard`]), and [`check`], which runs
//! a model body under loom and returns what it found.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pageref::AtomicWord;

/// The preemption bound of every model: none (every interleaving).
const BOUND: Option<usize> = None;

/// loom's `AtomicUsize`, with a shadow of the last value written and a log.
///
/// loom 0.7 does not enforce RMW atomicity against a concurrent plain
/// store (tokio-rs/loom issues #254 and #389): it can let `store(1)` of
/// `make_mut` squeeze in between a failed upgrade's read and write, and
/// then let a later `fetch_sub` read the upgrade's value, which C11 forbids
/// (a store sequenced before an RMW is read or overwritten by it). As the
/// page-refcount models do (`pageref_model::trace::Traced`), an execution
/// where an RMW reads anything but the last value written, or a load after
/// every thread was joined reads a stale value, is discarded, never
/// reported; the count of discarded executions is printed. This is sound
/// for one location: every C11 execution has an interleaving where the
/// writes run in modification order, which loom explores too.
pub(crate) struct Checked {
    inner: loom::sync::atomic::AtomicUsize,
    latest: std::sync::atomic::AtomicUsize,
    id: usize,
}

thread_local! {
    static INFEASIBLE: Cell<bool> = const { Cell::new(false) };
    static JOINED: Cell<bool> = const { Cell::new(false) };
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static FAILURE: RefCell<Option<(String, Vec<String>)>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<usize> = const { Cell::new(0) };
    static REVIVED: Cell<bool> = const { Cell::new(false) };
}

loom::thread_local! {
    static THREAD: Cell<usize> = Cell::new(0);
}

pub(crate) fn note(s: String) {
    let t = THREAD.with(|t| t.get());
    LOG.with(|l| l.borrow_mut().push(format!("T{t}: {s}")));
}

impl Checked {
    fn record(&self, op: &str, read: usize, wrote: Option<usize>, rmw: bool) {
        // ORDERING: Relaxed; bookkeeping on the one OS thread that runs
        // every model thread, not part of the model.
        let latest = self.latest.load(Ordering::Relaxed);
        let final_load = !rmw && wrote.is_none() && JOINED.with(|j| j.get());
        if (rmw || final_load) && read != latest && !INFEASIBLE.with(|f| f.get()) {
            INFEASIBLE.with(|f| f.set(true));
            note(format!("INFEASIBLE under C11 (tokio-rs/loom #254/#389): {op} read {read:#x}, last write {latest:#x}"));
        }
        if let Some(w) = wrote {
            // ORDERING: Relaxed; as above.
            self.latest.store(w, Ordering::Relaxed);
        }
        let kind = if self.id.is_multiple_of(2) {
            "strong"
        } else {
            "weak"
        };
        let word = format!("arc{}.{kind}", self.id / 2);
        match wrote {
            Some(w) => note(format!("{word}.{op}: {read:#x} -> {w:#x}")),
            None => note(format!("{word}.{op}: {read:#x}")),
        }
    }
}

// SAFETY: every method forwards to loom's `AtomicUsize` with the caller's
// ordering and returns its result; the bookkeeping only records.
#[allow(unsafe_code)]
unsafe impl pageref::sync::ModelAtomic for Checked {}

impl AtomicWord for Checked {
    type Value = usize;
    fn new(v: usize) -> Self {
        // Allocations create their strong word first, then the weak one.
        let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
        Checked {
            inner: loom::sync::atomic::AtomicUsize::new(v),
            latest: std::sync::atomic::AtomicUsize::new(v),
            id,
        }
    }
    fn load(&self, o: Ordering) -> usize {
        // ORDERING: the caller's, forwarded (so for every method).
        let v = self.inner.load(o);
        self.record(&format!("load({o:?})"), v, None, false);
        v
    }
    fn store(&self, v: usize, o: Ordering) {
        // ORDERING: Relaxed; bookkeeping, as in `record`.
        let before = self.latest.load(Ordering::Relaxed);
        self.inner.store(v, o);
        self.record(&format!("store({v:#x}, {o:?})"), before, Some(v), false);
    }
    fn swap(&self, v: usize, o: Ordering) -> usize {
        let old = self.inner.swap(v, o);
        self.record(&format!("swap({v:#x}, {o:?})"), old, Some(v), true);
        old
    }
    fn fetch_add(&self, v: usize, o: Ordering) -> usize {
        let old = self.inner.fetch_add(v, o);
        if old == 0 && o == Ordering::Acquire {
            // An upgrade read a last drop's transient 0: a revival.
            REVIVED.with(|r| r.set(true));
        }
        self.record(
            &format!("fetch_add({v}, {o:?})"),
            old,
            Some(old.wrapping_add(v)),
            true,
        );
        old
    }
    fn fetch_sub(&self, v: usize, o: Ordering) -> usize {
        let old = self.inner.fetch_sub(v, o);
        self.record(
            &format!("fetch_sub({v}, {o:?})"),
            old,
            Some(old.wrapping_sub(v)),
            true,
        );
        old
    }
    fn fetch_and(&self, v: usize, o: Ordering) -> usize {
        let old = self.inner.fetch_and(v, o);
        self.record(
            &format!("fetch_and({v:#x}, {o:?})"),
            old,
            Some(old & v),
            true,
        );
        old
    }
    fn compare_exchange(
        &self,
        c: usize,
        n: usize,
        s: Ordering,
        f: Ordering,
    ) -> Result<usize, usize> {
        let r = self.inner.compare_exchange(c, n, s, f);
        let op = format!("compare_exchange({c:#x}, {n:#x}, {s:?}, {f:?})");
        match r {
            Ok(old) => self.record(&op, old, Some(n), true),
            Err(old) => self.record(&op, old, None, true),
        }
        r
    }
    fn compare_exchange_weak(
        &self,
        c: usize,
        n: usize,
        s: Ordering,
        f: Ordering,
    ) -> Result<usize, usize> {
        // Strong, so that a failure is never spurious (and the check above
        // stays exact); loom explores the same outcomes otherwise.
        self.compare_exchange(c, n, s, f)
    }
    fn fence(o: Ordering) {
        loom::sync::atomic::fence(o);
        note(format!("fence({o:?})"));
    }
}

/// The shipped `Arc` code on loom's atomics (checked, logged).
pub(crate) type Words = pageref::sync::LoomWords<Checked>;

/// A model that passed: executions explored, of which discarded, time.
pub(crate) struct Passed {
    pub(crate) executions: u64,
    pub(crate) discarded: u64,
    /// Executions in which an upgrade revived a last drop's transient 0.
    pub(crate) revivals: u64,
    pub(crate) elapsed: Duration,
}

/// A model that failed: the first failure and the log of its execution.
pub(crate) struct Failed {
    pub(crate) message: String,
    pub(crate) log: Vec<String>,
    pub(crate) executions: u64,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "model failed after {} execution(s): {}",
            self.executions, self.message
        )?;
        writeln!(f, "failing execution:")?;
        for l in &self.log {
            writeln!(f, "  {l}")?;
        }
        Ok(())
    }
}

fn message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(non-string panic)".into())
}

/// Runs `f`, recording its panic as the execution's failure (unless the
/// execution is infeasible) instead of unwinding out of a model thread
/// (which would make loom drop suspended threads' objects and abort).
pub(crate) fn guard(f: impl FnOnce()) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
        if !INFEASIBLE.with(|i| i.get()) {
            let msg = message(&*p);
            note(format!("FAILED: {msg}"));
            FAILURE.with(|fl| {
                let mut fl = fl.borrow_mut();
                if fl.is_none() {
                    *fl = Some((msg, LOG.with(|l| l.borrow().clone())));
                }
            });
        }
    }
}

/// Spawns model thread `index` (1, 2).
pub(crate) fn spawn(
    index: usize,
    f: impl FnOnce() + Send + 'static,
) -> loom::thread::JoinHandle<()> {
    loom::thread::spawn(move || {
        THREAD.with(|t| t.set(index));
        guard(f)
    })
}

/// Declares every model thread joined (see `Checked`).
pub(crate) fn all_joined() {
    JOINED.with(|j| j.set(true));
}

/// Runs `body` under loom with preemption bound `BOUND`.
pub(crate) fn check(body: impl Fn() + Send + Sync + 'static) -> Result<Passed, Failed> {
    thread_local!(static EXECS: Cell<(u64, u64, u64)> = const { Cell::new((0, 0, 0)) });
    EXECS.with(|e| e.set((0, 0, 0)));
    FAILURE.with(|f| f.borrow_mut().take());
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = BOUND;
    let start = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| {
        builder.check(move || {
            if FAILURE.with(|f| f.borrow().is_some()) {
                panic!("stopping after the failing execution");
            }
            INFEASIBLE.with(|i| i.set(false));
            JOINED.with(|j| j.set(false));
            LOG.with(|l| l.borrow_mut().clear());
            NEXT_ID.with(|n| n.set(0));
            REVIVED.with(|r| r.set(false));
            let live = Words::live();
            guard(&body);
            let leaked = Words::live() - live;
            if leaked != 0 && !INFEASIBLE.with(|i| i.get()) {
                guard(|| panic!("{leaked} allocation(s) leaked"));
            }
            EXECS.with(|e| {
                let (n, d, r) = e.get();
                let bad = INFEASIBLE.with(|i| i.get());
                let revived = !bad && REVIVED.with(|r| r.get());
                e.set((n + 1, d + u64::from(bad), r + u64::from(revived)));
            });
        })
    }));
    let (executions, discarded, revivals) = EXECS.with(|e| e.get());
    match (r, FAILURE.with(|f| f.borrow_mut().take())) {
        (_, Some((message, log))) => Err(Failed {
            message,
            log,
            executions,
        }),
        (Ok(()), None) => Ok(Passed {
            executions,
            discarded,
            revivals,
            elapsed: start.elapsed(),
        }),
        // loom's own failure outside the model threads (a leak, a deadlock).
        (Err(p), None) => Err(Failed {
            message: message(&*p),
            log: LOG.with(|l| l.borrow().clone()),
            executions,
        }),
    }
}
