//! shuttle tests of the shipped `pageref::sync::{Arc, Weak}` with more
//! threads than loom can explore: `Arc<T, ShuttleWords>` (pageref feature
//! `shuttle`) under shuttle's PCT scheduler (randomized, fixed seed, so CI
//! runs are reproducible; see `pageref_model::shuttle_harness`).
//!
//! Shuttle is sequentially consistent and has no data-race detector, so
//! this complements the loom models (`loom_arc/`, the C11 memory model,
//! 2-3 threads) with long histories on five threads: every thread upgrades,
//! clones, downgrades, drops, and takes the value back with `into_inner`,
//! or writes through `make_mut` / `get_mut`, while the body drops the
//! original `Arc`. Checked in every execution: a holder never sees a
//! dropped value (the value's `alive` flag), nor one that another thread
//! holds by `&mut` (an `exclusive` flag held across a scheduling point),
//! each value is dropped exactly once (its destructor checks the flag;
//! created = dropped at the end), and
//! every allocation is freed exactly once (`ShuttleWords` quarantines the
//! memory, panics on a double free, counts what is not freed).
//!
//! Bound and cost: 5 threads (the body and 4 spawned), PCT depth 5,
//! `ITERATIONS` = 10 000 executions: ~0.5 s on the 2-vCPU AMD EPYC development VM. Planted bugs
//! caught here (execution of the first failure, fixed seed): a last drop
//! without the CAS (1), an upgrade that ignores the dead bit (1), `make_mut`
//! re-opening the old allocation (5), `into_inner` with two winners (897).
//! The two weak-memory ordering bugs (a relaxed final CAS, a relaxed publish
//! in `new_cyclic`) cannot show under a sequentially consistent scheduler,
//! and `get_mut` without the weak lock needs a thread that drops its last
//! `Weak` while it holds an `Arc`, which this script never does: loom's
//! models catch those three.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use pageref::sync::mutants::{self, Planted};
use pageref::sync::{Arc, ArcWords, ShuttleWords};
use pageref_model::loom_harness::Failed;
use pageref_model::shuttle_harness::{check_pct, spawn};

/// Executions per test (PCT, depth 5).
const ITERATIONS: usize = 10_000;
const SEED: u64 = 0x05ee_da4c;

type Words = ShuttleWords;

/// Bookkeeping of one execution (leaked: a planted double drop must fail
/// the test, not corrupt the process's heap).
#[derive(Default)]
struct Counts {
    created: AtomicUsize,
    dropped: AtomicUsize,
    taken: AtomicUsize,
}

/// The state of one logical value, shared by every bitwise copy of it (a
/// value moved out of an allocation leaves its bits behind; a planted bug
/// that reads the stale copy must still see the value's real state).
/// Leaked, plain atomics: bookkeeping, not the protocol under test.
#[derive(Default)]
struct State {
    alive: AtomicBool,
    exclusive: AtomicBool,
}

/// The value: a pointer to its `State`.
struct Val {
    state: &'static State,
    counts: &'static Counts,
}

impl Val {
    fn new(counts: &'static Counts) -> Val {
        counts.created.fetch_add(1, SeqCst);
        let state: &'static State = Box::leak(Box::default());
        state.alive.store(true, SeqCst);
        Val { state, counts }
    }
    /// A shared holder's use.
    fn check(&self) {
        assert!(
            self.state.alive.load(SeqCst),
            "a holder saw a dropped value"
        );
        assert!(
            !self.state.exclusive.load(SeqCst),
            "a holder shares a value that another thread holds by &mut"
        );
    }
    /// An exclusive holder's use (through `get_mut` / `make_mut`): holds the
    /// value exclusively across a scheduling point.
    fn write(&mut self) {
        self.check();
        self.state.exclusive.store(true, SeqCst);
        shuttle::thread::yield_now();
        assert!(self.state.alive.load(SeqCst), "dropped while held by &mut");
        self.state.exclusive.store(false, SeqCst);
    }
}

impl Clone for Val {
    fn clone(&self) -> Val {
        self.check();
        Val::new(self.counts)
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        assert!(self.state.alive.swap(false, SeqCst), "value dropped twice");
        self.counts.dropped.fetch_add(1, SeqCst);
    }
}

/// One thread's script: three rounds of upgrade, clone, downgrade, and one
/// of drop / `into_inner` / `make_mut` / `get_mut`.
fn script<W: ArcWords>(w: pageref::sync::Weak<Val, W>, c: &'static Counts, i: usize) {
    for k in 0..3 {
        let Some(a) = w.upgrade() else {
            assert_eq!(w.strong_count(), 0);
            shuttle::thread::yield_now();
            continue;
        };
        a.check();
        let b = a.clone();
        let wb = Arc::downgrade(&b);
        drop(b);
        match (i + k) % 4 {
            0 => drop(a),
            1 => {
                if let Some(mut v) = Arc::into_inner(a) {
                    v.write();
                    c.taken.fetch_add(1, SeqCst);
                }
            }
            2 => {
                let mut a = a;
                Arc::make_mut(&mut a).write();
                a.check();
            }
            _ => {
                let mut a = a;
                if let Some(v) = Arc::get_mut(&mut a) {
                    v.write();
                }
                a.check();
            }
        }
        if let Some(x) = wb.upgrade() {
            x.check();
        }
    }
}

/// Four threads run `script` on one shared value while the body drops
/// the original and finally checks the counts.
fn many_threads<W: ArcWords>() -> Result<(u64, std::time::Duration), Failed> {
    check_pct(SEED, 5, ITERATIONS, || {
        let c: &'static Counts = Box::leak(Box::default());
        // The planted words share the real ones' count.
        let live = Words::live();
        let a = Arc::<Val, W>::new_with_words(Val::new(c));
        let ts: Vec<_> = (1..=4)
            .map(|i| {
                let w = Arc::downgrade(&a);
                spawn(i, move || script(w, c, i))
            })
            .collect();
        shuttle::thread::yield_now();
        drop(a);
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(
            c.created.load(SeqCst),
            c.dropped.load(SeqCst),
            "values created vs dropped"
        );
        assert!(c.taken.load(SeqCst) <= 1, "into_inner had two winners");
        assert_eq!(Words::live(), live, "allocation leaked");
    })
}

/// The shipped `Arc` passes every one of the `ITERATIONS` executions.
/// 5 threads, PCT depth 5, 10 000 executions (fixed seed).
#[test]
fn five_threads_random_schedules() {
    match many_threads::<Words>() {
        Ok((n, t)) => {
            println!("many_threads: {n} executions passed in {t:.2?}");
            assert_eq!(n, ITERATIONS as u64, "shuttle ran fewer executions");
        }
        Err(f) => panic!("{f}"),
    }
}

/// Runs the script with planted bug `B`: it must fail with a message that
/// contains `expect` (the failure the bug causes, not any failure).
fn caught<const B: u8>(name: &str, expect: &str) {
    match many_threads::<Planted<Words, B>>() {
        Ok((n, _)) => panic!("planted bug {name} went unnoticed in {n} executions"),
        Err(f) => {
            println!("planted bug {name}: CAUGHT\n{f}");
            assert!(
                f.message.contains(expect),
                "planted bug {name}: expected a failure containing {expect:?}, got: {f}"
            );
        }
    }
}

/// An upgrade that ignores the dead bit hands out the dropped value.
/// 5 threads, PCT depth 5, at most 10 000 executions (fixed seed).
#[test]
fn planted_upgrade_ignores_dead() {
    caught::<{ mutants::UPGRADE_IGNORES_DEAD }>(
        "upgrade ignores the dead bit",
        "a holder saw a dropped value",
    );
}

/// A last drop without the CAS: an upgrade revives the dropped value.
/// 5 threads, PCT depth 5, at most 10 000 executions (fixed seed).
#[test]
fn planted_drop_without_cas() {
    caught::<{ mutants::DROP_WITHOUT_CAS }>(
        "last drop without the CAS",
        "a holder saw a dropped value",
    );
}

/// `into_inner` claiming with load + store: the claim's plain store of
/// `DEAD` overwrites an upgrade's increment made in between, and that
/// holder's drop then finds the count dead (the core crate's check of a
/// drop on a dead strong count). 5 threads, PCT depth 5, at most 10 000
/// executions (fixed seed).
#[test]
fn planted_into_inner_two_winners() {
    caught::<{ mutants::INTO_INNER_TWO_WINNERS }>(
        "into_inner with two winners",
        "drop: strong count was not live",
    );
}

/// `make_mut` re-opening the old allocation: a `Weak` upgrades to the value
/// that `make_mut` moved out while `make_mut`'s caller holds it by `&mut`.
/// 5 threads, PCT depth 5, at most 10 000 executions (fixed seed).
#[test]
fn planted_make_mut_revives() {
    caught::<{ mutants::MAKE_MUT_REVIVES }>(
        "make_mut re-opens the old allocation",
        "a holder shares a value that another thread holds by &mut",
    );
}
