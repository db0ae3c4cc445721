//! Execution traces: a tracing [`AtomicWord`] wrapper and the CPU0/CPU1
//! table that a failing model prints.
//!
//! Every atomic operation the shipped refcount code performs goes through
//! [`Traced`], which forwards it to the real (loom / shuttle) atomic and
//! appends one [`Event`] to the *current execution's* log: which model thread
//! did it, the operation and its ordering, the value it read, and the value
//! it left. The model harness adds high-level events ("try_get -> true",
//! "free incarnation 1", "init") with [`note`].
//!
//! The log lives in a `std` thread-local of the OS thread that runs the
//! model: loom and shuttle run every model thread as a coroutine on that one
//! OS thread, one execution after the other, so the log is private to the
//! running test and, when a model fails, holds exactly the failing execution.
//! The model checkers do not see the log (it is not a loom/shuttle object),
//! so it adds no interleavings.
//!
//! Model-thread identity comes from a [`ThreadIndex`] implementation that the
//! harness sets when it spawns a thread (loom's and shuttle's own
//! thread-locals, since all model threads share one OS thread).

use core::marker::PhantomData;
use core::sync::atomic::Ordering;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;

use pageref::atomic::{AtomicWord, Word};

/// One entry of an execution log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Model-thread index (0 = the thread that runs the model body).
    pub thread: usize,
    /// What happened.
    pub what: What,
}

/// The kind of an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// An atomic operation on the traced counter word.
    Atomic {
        /// Operation and its arguments, e.g. `fetch_sub(1, AcqRel)`.
        op: String,
        /// The value the operation read (for a store: the latest value in
        /// modification order, which it overwrote), zero-extended.
        read: u64,
        /// The value it wrote, if it wrote.
        wrote: Option<u64>,
        /// For loads under loom, which may read a value older than the
        /// latest one: the latest value at that point.
        latest: u64,
        /// The width of the word in bits (how wide to print the values).
        bits: u32,
    },
    /// A high-level step recorded by the harness.
    Note(String),
}

thread_local! {
    static LOG: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    static INFEASIBLE: Cell<bool> = const { Cell::new(false) };
    static FINAL: Cell<bool> = const { Cell::new(false) };
}

/// Clears the current execution's log (the harness calls it at the start of
/// every execution).
pub fn reset() {
    LOG.with(|l| l.borrow_mut().clear());
    INFEASIBLE.with(|f| f.set(false));
    FINAL.with(|f| f.set(false));
}

/// Whether the current execution was found infeasible under C11 (see
/// [`Traced`]): the harness then discards it instead of reporting a failure.
pub fn infeasible() -> bool {
    INFEASIBLE.with(|f| f.get())
}

fn mark_infeasible<T: ThreadIndex>(why: &str) {
    if !infeasible() {
        INFEASIBLE.with(|f| f.set(true));
        note::<T>(format!("INFEASIBLE under C11, execution discarded: {why}"));
    }
}

/// Declares that every model thread has been joined: from now on a load
/// must read the last value written (all writes happen before it), and an
/// execution where it does not is discarded as infeasible (see [`Traced`]).
pub fn all_joined() {
    FINAL.with(|f| f.set(true));
}

/// A copy of the current (or, after a failure, the failing) execution's log.
pub fn snapshot() -> Vec<Event> {
    LOG.with(|l| l.borrow().clone())
}

fn push(e: Event) {
    // try_borrow_mut: never panic inside the logger (e.g. while unwinding).
    LOG.with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            l.push(e)
        }
    });
}

/// Which model thread is running. Implemented by each harness with its
/// checker's thread-local (see [`crate::loom_harness::LoomThreads`] and
/// [`crate::shuttle_harness::ShuttleThreads`]).
pub trait ThreadIndex: 'static {
    /// The running model thread's index.
    fn current() -> usize;
}

/// Records a high-level event for the running model thread.
pub fn note<T: ThreadIndex>(text: impl Into<String>) {
    push(Event {
        thread: T::current(),
        what: What::Note(text.into()),
    });
}

/// A tracing [`AtomicWord`]: forwards every operation to `A` and logs it.
///
/// `latest` shadows the last value written, in the order the checker
/// executed the writes. It is a plain `std` atomic that the checkers do not
/// see; it is updated right after the inner operation returns. Loom and
/// shuttle only switch model threads at their own operations, so the inner
/// operation, the shadow update and the log entry happen together.
///
/// **Pruning loom's infeasible executions.** loom 0.7 tracks modification
/// order as a partial order and does not enforce RMW atomicity against a
/// concurrent plain store: it can let a store "squeeze in" between an RMW's
/// read and its write, and then let a later RMW (or a load that happens
/// after both) read the RMW's value instead of the store's
/// (tokio-rs/loom issues #254 and #389, fix proposed in PR #391). On our
/// models that produced executions such as: T1 `fetch_add` reads FROZEN;
/// T0 `store(1)` (unfreeze); T0 `fetch_sub` reads T1's FROZEN+1 — impossible
/// in C11, since T0's own store is sequenced before its RMW. We therefore
/// discard (never report) an execution in which
///
/// * an RMW (or CAS) reads a value other than the last one written,
/// * after [`all_joined`], a load reads a value other than the last one
///   written, or
/// * a load of a model thread reads a value that this thread can no longer
///   see: older (in the order the writes ran) than its own last write or
///   than the earliest write its previous load could have read (C11's
///   read-write and read-read coherence). loom 0.7 produced such loads on
///   rcuref's plain `DEAD` stores (a thread reading another's add after its
///   own later store), and then tripped its own internal assertion
///   (`assert_ne!(mo_i, mo_j)`, marked "TODO: this sometimes fails" in
///   loom's `rt/atomic.rs`).
///
/// This is sound for a single atomic location: every C11 execution has an
/// interleaving in which the writes to that location run in modification
/// order (modification order is consistent with happens-before), and in that
/// interleaving every RMW reads the last write and every load reads a write
/// no older than what its thread saw last; loom explores that interleaving
/// too when it runs without a preemption bound. Under a bound (s08 and s11)
/// that interleaving may need more preemptions than the bound allows, so
/// there the claim is weaker: the bounded search covers the feasible
/// executions it reaches, not every one that the discarded ones stand for.
/// Loads in model threads may still read older values. The number of
/// discarded executions is reported by the harness.
pub struct Traced<A, T> {
    inner: A,
    latest: std::sync::atomic::AtomicU64,
    /// The values written, in the order the writes ran (the initial value
    /// first), and for each model thread the earliest index its last
    /// access could have read or written (coherence, see above). Plain
    /// `std` state the checkers do not see, like `latest`.
    coherence: std::sync::Mutex<(Vec<u64>, Vec<usize>)>,
    threads: PhantomData<fn() -> T>,
}

impl<A, T> std::fmt::Debug for Traced<A, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // ORDERING: Relaxed; the shadow is only touched by the one OS thread
        // that runs all model threads (see the type's docs).
        let latest = self.latest.load(Ordering::Relaxed);
        f.debug_struct("Traced")
            .field("latest", &format_args!("{latest:#x}"))
            .finish_non_exhaustive()
    }
}

impl<A: AtomicWord, T: ThreadIndex> Traced<A, T> {
    fn latest(&self) -> u64 {
        // ORDERING: Relaxed; the shadow is only touched by the one OS thread
        // that runs all model threads (see the type's docs).
        self.latest.load(Ordering::Relaxed)
    }

    /// Marks the execution infeasible if a load reads a value written
    /// before what its thread already saw (see the type's docs); otherwise
    /// advances the thread's view to the earliest write it can have read.
    fn check_coherent_load(&self, op: &str, read: u64) {
        let mut c = self.coherence.lock().unwrap_or_else(|e| e.into_inner());
        let t = T::current();
        let floor = c.1.get(t).copied().unwrap_or(0);
        match (floor..c.0.len()).find(|&i| c.0[i] == read) {
            Some(i) => {
                if c.1.len() <= t {
                    c.1.resize(t + 1, 0);
                }
                c.1[t] = i;
            }
            None => {
                drop(c);
                mark_infeasible::<T>(&format!(
                    "{op} read {read:#010x}, older than what this thread already saw (loom's rt/atomic.rs)"
                ));
            }
        }
    }

    fn record(&self, op: String, read: A::Value, wrote: Option<A::Value>, rmw: bool) {
        let (read, wrote) = (read.to_u64(), wrote.map(Word::to_u64));
        let latest = self.latest();
        let final_load = !rmw && wrote.is_none() && FINAL.with(|f| f.get());
        if (rmw || final_load) && read != latest {
            mark_infeasible::<T>(&format!(
                "{op} read {read:#010x} but the last write was {latest:#010x} (loom issues #254/#389)"
            ));
        }
        if !rmw && wrote.is_none() {
            self.check_coherent_load(&op, read);
        }
        if let Some(w) = wrote {
            // ORDERING: Relaxed; single OS thread, see above.
            self.latest.store(w, Ordering::Relaxed);
            let mut c = self.coherence.lock().unwrap_or_else(|e| e.into_inner());
            c.0.push(w);
            let at = c.0.len() - 1;
            let t = T::current();
            if c.1.len() <= t {
                c.1.resize(t + 1, 0);
            }
            c.1[t] = at;
        }
        push(Event {
            thread: T::current(),
            what: What::Atomic {
                op,
                read,
                wrote,
                latest,
                bits: A::Value::BITS,
            },
        });
    }
}

fn ord(o: Ordering) -> &'static str {
    match o {
        Ordering::Relaxed => "Relaxed",
        Ordering::Release => "Release",
        Ordering::Acquire => "Acquire",
        Ordering::AcqRel => "AcqRel",
        Ordering::SeqCst => "SeqCst",
        _ => "?",
    }
}

impl<A: AtomicWord, T: ThreadIndex> AtomicWord for Traced<A, T> {
    type Value = A::Value;

    fn new(v: A::Value) -> Self {
        Traced {
            inner: A::new(v),
            latest: std::sync::atomic::AtomicU64::new(v.to_u64()),
            coherence: std::sync::Mutex::new((vec![v.to_u64()], Vec::new())),
            threads: PhantomData,
        }
    }

    fn load(&self, order: Ordering) -> A::Value {
        // ORDERING: the caller's, forwarded unchanged (so for every method).
        let v = self.inner.load(order);
        self.record(format!("load({})", ord(order)), v, None, false);
        v
    }

    fn store(&self, v: A::Value, order: Ordering) {
        self.inner.store(v, order);
        let before = A::Value::truncate_u64(self.latest());
        self.record(
            format!("store({v:#x}, {})", ord(order)),
            before,
            Some(v),
            false,
        );
    }

    fn swap(&self, v: A::Value, order: Ordering) -> A::Value {
        let old = self.inner.swap(v, order);
        self.record(format!("swap({v:#x}, {})", ord(order)), old, Some(v), true);
        old
    }

    fn fetch_add(&self, v: A::Value, order: Ordering) -> A::Value {
        let old = self.inner.fetch_add(v, order);
        let op = format!("fetch_add({v}, {})", ord(order));
        self.record(op, old, Some(old.wrapping_add(v)), true);
        old
    }

    fn fetch_sub(&self, v: A::Value, order: Ordering) -> A::Value {
        let old = self.inner.fetch_sub(v, order);
        let op = format!("fetch_sub({v}, {})", ord(order));
        self.record(op, old, Some(old.wrapping_sub(v)), true);
        old
    }

    fn fetch_and(&self, v: A::Value, order: Ordering) -> A::Value {
        let old = self.inner.fetch_and(v, order);
        let op = format!("fetch_and({v:#x}, {})", ord(order));
        self.record(op, old, Some(old & v), true);
        old
    }

    fn compare_exchange(
        &self,
        current: A::Value,
        new: A::Value,
        success: Ordering,
        failure: Ordering,
    ) -> Result<A::Value, A::Value> {
        let r = self.inner.compare_exchange(current, new, success, failure);
        self.log_cas("cas", current, new, success, failure, r);
        r
    }

    fn compare_exchange_weak(
        &self,
        current: A::Value,
        new: A::Value,
        success: Ordering,
        failure: Ordering,
    ) -> Result<A::Value, A::Value> {
        let r = self
            .inner
            .compare_exchange_weak(current, new, success, failure);
        self.log_cas("cas_weak", current, new, success, failure, r);
        r
    }

    fn fence(order: Ordering) {
        A::fence(order);
        push(Event {
            thread: T::current(),
            what: What::Note(format!("fence({})", ord(order))),
        });
    }
}

impl<A: AtomicWord, T: ThreadIndex> Traced<A, T> {
    fn log_cas(
        &self,
        name: &str,
        current: A::Value,
        new: A::Value,
        success: Ordering,
        failure: Ordering,
        r: Result<A::Value, A::Value>,
    ) {
        match r {
            Ok(old) => {
                let op = format!("{name}({current:#x} -> {new:#x}, {}) ok", ord(success));
                self.record(op, old, Some(new), true)
            }
            Err(now) => {
                let op = format!("{name}({current:#x} -> {new:#x}, {}) FAILS", ord(failure));
                self.record(op, now, None, true)
            }
        }
    }
}

/// Renders an execution log as a table: one column per model thread, one
/// row per event, the counter's raw value `before -> after` in hex, like the
/// CPU0/CPU1 diagrams of the review thread.
pub fn render(events: &[Event]) -> String {
    let threads = events.iter().map(|e| e.thread + 1).max().unwrap_or(1);
    let cells: Vec<(usize, String)> = events
        .iter()
        .map(|e| {
            let text = match &e.what {
                What::Note(s) => format!("-- {s}"),
                What::Atomic {
                    op,
                    read,
                    wrote: Some(w),
                    bits,
                    ..
                } => format!("{op}  {} -> {}", hex(*read, *bits), hex(*w, *bits)),
                What::Atomic {
                    op,
                    read,
                    wrote: None,
                    latest,
                    bits,
                } if read != latest => format!(
                    "{op}  reads {} (stale; latest {})",
                    hex(*read, *bits),
                    hex(*latest, *bits)
                ),
                What::Atomic { op, read, bits, .. } => format!("{op}  reads {}", hex(*read, *bits)),
            };
            (e.thread, text)
        })
        .collect();
    let mut width = vec![4usize; threads];
    for (t, s) in &cells {
        width[*t] = width[*t].max(s.len());
    }
    let mut out = String::new();
    let mut line = |cols: &mut dyn FnMut(usize) -> String| {
        let mut l = String::from("|");
        for (t, w) in width.iter().enumerate() {
            let _ = write!(l, " {:<w$} |", cols(t), w = w);
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut |t| format!("T{t}"));
    line(&mut |t| "-".repeat(width[t]));
    for (ct, s) in &cells {
        line(&mut |t| if t == *ct { s.clone() } else { String::new() });
    }
    out
}

/// `v` in hex, as many digits as a word of `bits` has.
fn hex(v: u64, bits: u32) -> String {
    format!("{v:0w$x}", w = bits as usize / 4)
}

/// The raw values written to the counter word in the log, in modification
/// order, each with the operation that wrote it (for trace properties such
/// as "no RMW ever clears the frozen bit").
pub fn writes(events: &[Event]) -> Vec<(usize, &str, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.what {
            What::Atomic {
                op,
                read,
                wrote: Some(w),
                ..
            } => Some((e.thread, op.as_str(), *read, *w)),
            _ => None,
        })
        .collect()
}
