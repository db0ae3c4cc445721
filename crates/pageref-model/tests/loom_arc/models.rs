//! The models: a value whose every use and drop is checked ([`Val`]), and
//! the eight races of the shipped `Arc`, each generic over the words `W`
//! (the shipped [`Words`](crate::checked::Words) or a planted bug's).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use loom::cell::UnsafeCell;
use pageref::sync::{Arc, ArcWords, Weak};

use crate::checked::{all_joined, check, note, spawn, Failed, Passed};

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
/// Bound and cost: 2 threads, no preemption bound: 32 executions, ~1 ms. (2-vCPU AMD EPYC VM)
pub(crate) fn upgrade_vs_last_drop<W: ArcWords>() -> Result<Passed, Failed> {
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
/// Bound and cost: 2 threads, no preemption bound: 19 executions, ~1 ms. (2-vCPU AMD EPYC VM)
pub(crate) fn upgrade_vs_try_unwrap<W: ArcWords>() -> Result<Passed, Failed> {
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
/// Bound and cost: 2 threads, no preemption bound: 26 executions, ~1 ms. (2-vCPU AMD EPYC VM)
pub(crate) fn upgrade_vs_into_inner<W: ArcWords>() -> Result<Passed, Failed> {
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
/// Bound and cost: 2 threads, no preemption bound: 43 executions, ~40 ms. (2-vCPU AMD EPYC VM)
pub(crate) fn make_mut_with_live_weak<W: ArcWords>() -> Result<Passed, Failed> {
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
/// Bound and cost: 2 threads, no preemption bound: 54 executions, ~2 ms. (2-vCPU AMD EPYC VM)
pub(crate) fn get_mut_vs_weak_count<W: ArcWords>() -> Result<Passed, Failed> {
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
/// Bound and cost: 2 threads, no preemption bound: 60 executions, ~14 ms. (2-vCPU AMD EPYC VM)
pub(crate) fn new_cyclic_vs_upgrade<W: ArcWords>() -> Result<Passed, Failed> {
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
/// Bound and cost: 3 threads, no preemption bound: 39 875 executions, ~3.7 s. (2-vCPU AMD EPYC VM)
pub(crate) fn two_upgrades_vs_last_drop<W: ArcWords>() -> Result<Passed, Failed> {
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
/// Bound and cost: 3 threads, no preemption bound: 9 628 executions, ~1 s. (2-vCPU AMD EPYC VM)
pub(crate) fn into_inner_three_ways<W: ArcWords>() -> Result<Passed, Failed> {
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
