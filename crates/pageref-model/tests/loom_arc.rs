//! loom models of the shipped `pageref::sync::{Arc, Weak}`: the very code
//! that users link, instantiated with loom's atomics through its hidden
//! second type parameter (`Arc<T, Words>`; `pageref` feature `loom`).
//!
//! Every model checks, in every explored execution:
//!
//! * the value is dropped exactly once: it counts its drops (checked after
//!   the threads are joined), and its destructor asserts that the value was
//!   still alive (a second drop fails);
//! * never while held: every holder reads the value's contents, a
//!   `loom::cell::UnsafeCell`, which the destructor writes, so a read after
//!   the drop sees the dropped marker and a read concurrent with it is a
//!   data race that loom reports;
//! * the memory is freed exactly once: `LoomWords` keeps every allocation
//!   in quarantine (its memory is never reused during a run, so a buggy use
//!   after free reads intact memory and is reported, not performed), panics
//!   on a second free, and counts the allocations not freed, which must be
//!   none at the end of each execution (a leak fails the model).
//!
//! Bounds: no preemption bound (every interleaving loom's C11 model has,
//! including loads of older values). Two model threads (the body and one
//! spawned thread) in six models, three in `two_upgrades_vs_last_drop` and
//! `into_inner_three_ways`. The models that can revive a last drop's
//! transient 0 assert that some execution did. Executions and run times on
//! the 2-core VM (test profile, optimised), from `--nocapture`:
//!
//! | model | threads | executions | time |
//! |---|---|---|---|
//! | `upgrade_vs_last_drop` | 2 | 32 | 1 ms |
//! | `two_upgrades_vs_last_drop` | 3 | 39 875 | 3.7 s |
//! | `upgrade_vs_try_unwrap` | 2 | 19 | 1 ms |
//! | `upgrade_vs_into_inner` | 2 | 26 | 1 ms |
//! | `into_inner_three_ways` | 3 | 9 628 | 1.0 s |
//! | `make_mut_with_live_weak` | 2 | 43 | 40 ms |
//! | `get_mut_vs_weak_count` | 2 | 54 | 2 ms |
//! | `new_cyclic_vs_upgrade` | 2 | 60 | 14 ms |
//!
//! The whole binary, planted bugs included, runs in ~5 s (plus its build).
//!
//! The planted bugs (`pageref::sync::mutants`, feature `mutants`) each make
//! at least one model fail; the tests `planted_*` assert that and print the
//! failure.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering, Ordering::SeqCst};
use std::time::{Duration, Instant};

use loom::cell::UnsafeCell;
use pageref::sync::mutants::{self, Planted};
use pageref::sync::{Arc, ArcWords, Weak};
use pageref::AtomicWord;

/// The preemption bound of every model: none (every interleaving).
const BOUND: Option<usize> = None;

// ---- the harness: loom's atomics checked for RMW atomicity, a log of
// every operation, and failures recorded per execution ----

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
struct Checked {
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

fn note(s: String) {
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
            note(format!("INFEASIBLE under C11 (loom #254/#389): {op} read {read:#x}, last write {latest:#x}"));
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
type Words = pageref::sync::LoomWords<Checked>;

/// A model that passed: executions explored, of which discarded, time.
struct Passed {
    executions: u64,
    discarded: u64,
    /// Executions in which an upgrade revived a last drop's transient 0.
    revivals: u64,
    elapsed: Duration,
}

/// A model that failed: the first failure and the log of its execution.
struct Failed {
    message: String,
    log: Vec<String>,
    executions: u64,
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
fn guard(f: impl FnOnce()) {
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
fn spawn(index: usize, f: impl FnOnce() + Send + 'static) -> loom::thread::JoinHandle<()> {
    loom::thread::spawn(move || {
        THREAD.with(|t| t.set(index));
        guard(f)
    })
}

/// Declares every model thread joined (see `Checked`).
fn all_joined() {
    JOINED.with(|j| j.set(true));
}

/// Runs `body` under loom with preemption bound `BOUND`.
fn check(body: impl Fn() + Send + Sync + 'static) -> Result<Passed, Failed> {
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

const ALIVE: u32 = 0xA11E;
const DROPPED: u32 = 0xDEAD;

/// The value in the `Arc`: contents in a loom cell, and counts of the
/// values created and dropped (bookkeeping outside the model: plain atomics
/// read after every thread is joined).
struct Val {
    cell: UnsafeCell<u32>,
    counts: &'static Counts,
}

#[derive(Default)]
struct Counts {
    created: AtomicUsize,
    dropped: AtomicUsize,
    taken: AtomicUsize,
}

// SAFETY: every access to `cell` goes through loom's `with` / `with_mut`,
// which check it against every concurrent access and report a race instead
// of performing it.
unsafe impl Sync for Val {}

impl Val {
    fn new(counts: &'static Counts) -> Val {
        counts.created.fetch_add(1, SeqCst);
        Val {
            cell: UnsafeCell::new(ALIVE),
            counts,
        }
    }

    /// A holder's use of the value.
    fn read(&self) {
        note("reads the value".into());
        // SAFETY: checked by loom (see the `Sync` impl).
        let v = self.cell.with(|p| unsafe { *p });
        assert_eq!(v, ALIVE, "a holder read a dropped value");
    }

    /// An exclusive holder's write (`get_mut`, `make_mut`).
    fn write(&mut self) {
        note("writes the value (&mut)".into());
        // SAFETY: checked by loom.
        self.cell.with_mut(|p| unsafe {
            assert_eq!(*p, ALIVE, "a holder wrote a dropped value");
            *p = ALIVE;
        });
    }
}

impl Clone for Val {
    fn clone(&self) -> Val {
        self.read();
        Val::new(self.counts)
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        // While a failure unwinds, touch no loom object (a second panic in a
        // destructor would abort the test process before the report).
        if std::thread::panicking() {
            return;
        }
        note("drops the value".into());
        // SAFETY: checked by loom.
        self.cell.with_mut(|p| unsafe {
            assert_eq!(*p, ALIVE, "value dropped twice");
            *p = DROPPED;
        });
        self.counts.dropped.fetch_add(1, SeqCst);
    }
}

impl Counts {
    /// After the joins: every value created was dropped exactly once or
    /// taken out exactly once.
    fn check(&self) {
        let (c, d) = (self.created.load(SeqCst), self.dropped.load(SeqCst));
        assert_eq!(c, d, "values created {c}, dropped {d}");
    }
}

/// The counts of one execution. Leaked (a few bytes per execution), not
/// reference-counted: a planted bug that drops a value twice must not also
/// drop its bookkeeping twice, which would corrupt the test process's heap
/// instead of failing the model.
fn counts() -> &'static Counts {
    Box::leak(Box::default())
}

/// Upgrade vs the last drop: the body drops the only `Arc` while the other
/// thread upgrades, uses the value and drops its `Arc`. Covers the revival
/// of the transient 0 and the final CAS read of the reviver's 0.
///
/// Bound and cost: 2 threads, no preemption bound: 32 executions, ~1 ms. (2-core VM)
fn upgrade_vs_last_drop<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let a = Arc::<Val, W>::new_with_words(Val::new(c));
        let w = Arc::downgrade(&a);
        let t = spawn(1, move || {
            if let Some(s) = w.upgrade() {
                s.read();
            } else {
                assert_eq!(w.strong_count(), 0);
            }
        });
        drop(a);
        t.join().unwrap();
        all_joined();
        c.check();
    })
}

/// Upgrade vs `try_unwrap`: the body unwraps (and drops the value it gets)
/// while the other thread upgrades and uses it.
///
/// Bound and cost: 2 threads, no preemption bound: 19 executions, ~1 ms. (2-core VM)
fn upgrade_vs_try_unwrap<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let a = Arc::<Val, W>::new_with_words(Val::new(c));
        let w = Arc::downgrade(&a);
        let t = spawn(1, move || {
            if let Some(s) = w.upgrade() {
                s.read();
            }
        });
        match Arc::try_unwrap(a) {
            Ok(mut v) => v.write(),
            Err(a) => a.read(),
        }
        t.join().unwrap();
        all_joined();
        c.check();
    })
}

/// Upgrade vs `into_inner`: the body calls `into_inner` on its `Arc`; the
/// other thread upgrades, uses the value, and calls `into_inner` on what it
/// got. Exactly one of the two calls returns the value.
///
/// Bound and cost: 2 threads, no preemption bound: 26 executions, ~1 ms. (2-core VM)
fn upgrade_vs_into_inner<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let a = Arc::<Val, W>::new_with_words(Val::new(c));
        let w = Arc::downgrade(&a);
        let c1 = c;
        let t = spawn(1, move || {
            if let Some(s) = w.upgrade() {
                s.read();
                if let Some(mut v) = Arc::into_inner(s) {
                    v.write();
                    c1.taken.fetch_add(1, SeqCst);
                }
            }
        });
        if let Some(mut v) = Arc::into_inner(a) {
            v.write();
            c.taken.fetch_add(1, SeqCst);
        }
        t.join().unwrap();
        all_joined();
        assert_eq!(c.taken.load(SeqCst), 1, "into_inner winners");
        c.check();
    })
}

/// `make_mut` with a live `Weak`: the body writes through `make_mut` while
/// the other thread upgrades and reads. The write never races a holder:
/// either the upgrade came first (make_mut clones) or the value moved to a
/// new allocation and the `Weak` is disassociated (the upgrade fails).
///
/// Bound and cost: 2 threads, no preemption bound: 43 executions, ~40 ms. (2-core VM)
fn make_mut_with_live_weak<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let mut a = Arc::<Val, W>::new_with_words(Val::new(c));
        let w = Arc::downgrade(&a);
        let t = spawn(1, move || {
            if let Some(s) = w.upgrade() {
                s.read();
            }
        });
        Arc::make_mut(&mut a).write();
        a.read();
        t.join().unwrap();
        all_joined();
        drop(a);
        c.check();
    })
}

/// `get_mut` vs `weak_count`, `downgrade` and `upgrade`: the other thread
/// holds a clone, reads `Arc::weak_count` (0: the `get_mut` lock must not
/// show as `usize::MAX - 1`), downgrades, drops its `Arc`, upgrades, drops
/// the `Weak` and reads. The body writes through `get_mut` whenever it says unique: that
/// write must never race the other thread's read.
///
/// Bound and cost: 2 threads, no preemption bound: 54 executions, ~2 ms. (2-core VM)
fn get_mut_vs_weak_count<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let mut a = Arc::<Val, W>::new_with_words(Val::new(c));
        let b = a.clone();
        let t = spawn(1, move || {
            assert_eq!(Arc::weak_count(&b), 0);
            let w = Arc::downgrade(&b);
            drop(b);
            // Upgrade, then drop the Weak before using the value: the
            // counts then look unique to a `get_mut` that reads them
            // without the weak-count lock.
            let s = w.upgrade();
            drop(w);
            if let Some(s) = s {
                s.read();
            }
        });
        if let Some(v) = Arc::get_mut(&mut a) {
            v.write();
        }
        t.join().unwrap();
        all_joined();
        assert!(Arc::get_mut(&mut a).is_some(), "unique after the join");
        drop(a);
        c.check();
    })
}

/// `new_cyclic` vs upgrade: inside the constructor, a thread is started
/// with a clone of the `Weak` and upgrades it while the value is being
/// made. An upgrade that succeeds must see the value completely written
/// (the `Release` store that publishes the count).
///
/// Bound and cost: 2 threads, no preemption bound: 60 executions, ~14 ms. (2-core VM)
fn new_cyclic_vs_upgrade<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let mut t = None;
        let a = Arc::<Val, W>::new_cyclic_with_words(|w: &Weak<Val, W>| {
            let w = w.clone();
            t = Some(spawn(1, move || {
                if let Some(s) = w.upgrade() {
                    s.read();
                }
            }));
            // Made after the thread started: its creation is a write that
            // an unsynchronised read would race.
            Val::new(c)
        });
        a.read();
        drop(a);
        t.unwrap().join().unwrap();
        all_joined();
        c.check();
    })
}

/// Two upgraders race the last drop (three threads): revivals of the
/// transient 0 by either, the revivers' own last drops and final CASes
/// against each other and against the first dropper's.
///
/// Bound and cost: 3 threads, no preemption bound: 39 875 executions, ~3.7 s. (2-core VM)
fn two_upgrades_vs_last_drop<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let a = Arc::<Val, W>::new_with_words(Val::new(c));
        let ts: Vec<_> = (1..=2)
            .map(|i| {
                let w = Arc::downgrade(&a);
                spawn(i, move || {
                    if let Some(s) = w.upgrade() {
                        s.read();
                    }
                })
            })
            .collect();
        drop(a);
        for t in ts {
            t.join().unwrap();
        }
        all_joined();
        c.check();
    })
}

/// `into_inner` on two clones while a third thread upgrades and calls
/// `into_inner` on what it got (three threads): exactly one winner.
///
/// Bound and cost: 3 threads, no preemption bound: 9 628 executions, ~1 s. (2-core VM)
fn into_inner_three_ways<W: ArcWords>() -> Result<Passed, Failed> {
    check(|| {
        let c = counts();
        let a = Arc::<Val, W>::new_with_words(Val::new(c));
        let b = a.clone();
        let w = Arc::downgrade(&a);
        let win = |c: &Counts, x: Arc<Val, W>| {
            if let Some(mut v) = Arc::into_inner(x) {
                v.write();
                c.taken.fetch_add(1, SeqCst);
            }
        };
        let (c1, c2) = (c, c);
        let t1 = spawn(1, move || win(c1, b));
        let t2 = spawn(2, move || {
            if let Some(s) = w.upgrade() {
                s.read();
                win(c2, s);
            }
        });
        win(c, a);
        t1.join().unwrap();
        t2.join().unwrap();
        all_joined();
        assert_eq!(c.taken.load(SeqCst), 1, "into_inner winners");
        c.check();
    })
}

type Model = fn() -> Result<Passed, Failed>;

fn pass(name: &str, m: Model) -> Passed {
    match m() {
        Ok(p) => {
            println!(
                "{name}: verified, {} executions ({} discarded as infeasible, {} with a revived 0) in {:.2?}",
                p.executions, p.discarded, p.revivals, p.elapsed
            );
            p
        }
        Err(f) => panic!("{name}: {f}"),
    }
}

#[test]
fn model_upgrade_vs_last_drop() {
    let p = pass("upgrade_vs_last_drop", upgrade_vs_last_drop::<Words>);
    assert!(p.revivals > 0, "the model never revived a transient 0");
}
#[test]
fn model_two_upgrades_vs_last_drop() {
    let p = pass(
        "two_upgrades_vs_last_drop",
        two_upgrades_vs_last_drop::<Words>,
    );
    assert!(p.revivals > 0, "the model never revived a transient 0");
}
#[test]
fn model_upgrade_vs_try_unwrap() {
    pass("upgrade_vs_try_unwrap", upgrade_vs_try_unwrap::<Words>);
}
#[test]
fn model_upgrade_vs_into_inner() {
    pass("upgrade_vs_into_inner", upgrade_vs_into_inner::<Words>);
}
#[test]
fn model_into_inner_three_ways() {
    let p = pass("into_inner_three_ways", into_inner_three_ways::<Words>);
    assert!(p.revivals > 0, "the model never revived a transient 0");
}
#[test]
fn model_make_mut_with_live_weak() {
    pass("make_mut_with_live_weak", make_mut_with_live_weak::<Words>);
}
#[test]
fn model_get_mut_vs_weak_count() {
    pass("get_mut_vs_weak_count", get_mut_vs_weak_count::<Words>);
}
#[test]
fn model_new_cyclic_vs_upgrade() {
    pass("new_cyclic_vs_upgrade", new_cyclic_vs_upgrade::<Words>);
}

/// Runs `model` with planted bug `B`; it must fail. Returns the failure.
fn caught<const B: u8>(name: &str, model: fn() -> Result<Passed, Failed>) -> Failed {
    match model() {
        Ok(p) => panic!(
            "planted bug {name} went unnoticed by the model ({} executions)",
            p.executions
        ),
        Err(f) => {
            println!("planted bug {name} (id {B}): CAUGHT\n{f}");
            f
        }
    }
}

type Bug<const B: u8> = Planted<Words, B>;

/// An upgrade that ignores the dead bit upgrades to a dropped value.
#[test]
fn planted_upgrade_ignores_dead() {
    const B: u8 = mutants::UPGRADE_IGNORES_DEAD;
    caught::<B>(
        "upgrade ignores the dead bit",
        upgrade_vs_last_drop::<Bug<B>>,
    );
}

/// A last drop without the `0 -> DEAD` CAS: an upgrade revives the freed
/// value, which is then dropped (and freed) twice.
#[test]
fn planted_drop_without_cas() {
    const B: u8 = mutants::DROP_WITHOUT_CAS;
    caught::<B>("last drop without the CAS", upgrade_vs_last_drop::<Bug<B>>);
}

/// A relaxed final CAS: the dropper reads the reviver's 0 without
/// synchronising with it, so its drop races the reviver's read (the C11
/// counterexample of the series' relaxed CAS, on the Arc).
#[test]
fn planted_relaxed_final_cas() {
    const B: u8 = mutants::RELAXED_FINAL_CAS;
    let f = caught::<B>("relaxed final CAS", upgrade_vs_last_drop::<Bug<B>>);
    assert!(
        f.message.contains("Causality violation") || f.message.contains("dropped"),
        "{}",
        f.message
    );
}

/// `into_inner` claiming with load + store: two winners.
#[test]
fn planted_into_inner_two_winners() {
    const B: u8 = mutants::INTO_INNER_TWO_WINNERS;
    caught::<B>(
        "into_inner with two winners",
        upgrade_vs_into_inner::<Bug<B>>,
    );
}

/// `get_mut` without the weak-count lock: a `Weak` made and upgraded
/// between its two loads holds the value during the `&mut`.
#[test]
fn planted_get_mut_without_weak_lock() {
    const B: u8 = mutants::GET_MUT_NO_WEAK_LOCK;
    caught::<B>(
        "get_mut without the weak lock",
        get_mut_vs_weak_count::<Bug<B>>,
    );
}

/// `new_cyclic` publishing with a relaxed store: an upgrader may read the
/// value before it is written.
#[test]
fn planted_cyclic_relaxed_publish() {
    const B: u8 = mutants::CYCLIC_RELAXED_PUBLISH;
    caught::<B>(
        "new_cyclic relaxed publish",
        new_cyclic_vs_upgrade::<Bug<B>>,
    );
}

/// `make_mut` re-opening the old allocation after moving the value out: a
/// `Weak` upgrades to the moved-from value.
#[test]
fn planted_make_mut_revives() {
    const B: u8 = mutants::MAKE_MUT_REVIVES;
    caught::<B>(
        "make_mut re-opens the old allocation",
        make_mut_with_live_weak::<Bug<B>>,
    );
}
