//! Deterministic replays of specific races on the shipped code: real threads,
//! but every atomic operation waits for its turn in a script of
//! (thread, operation) steps, so one chosen interleaving runs exactly.
//!
//! These are not a model check (loom, in the verification crate, explores
//! all interleavings); they pin down single interleavings: scenarios 7
//! and 9 of `docs/races.md` on every scheme with a transient zero, and the races
//! behind the sticky counter's helping and its claim, and show that the
//! planted bugs really break them. Each replay runs in milliseconds.

use core::sync::atomic::Ordering;
use pageref::{AtomicWord, PageRef, StickyRef};
use std::cell::Cell;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The kind of an atomic operation, as the script names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Load,
    Store,
    FetchAdd,
    FetchSub,
    Cas,
    /// The sticky counter's help-flag claim: `fetch_and` (or, in the
    /// planted bug, `swap`).
    Claim,
}

struct Sched {
    script: Vec<(u8, Op)>,
    pos: usize,
}

static SCHED: Mutex<Sched> = Mutex::new(Sched {
    script: Vec::new(),
    pos: 0,
});
static TURN: Condvar = Condvar::new();

thread_local! {
    /// The scripted thread this is (`u8::MAX`: not scripted, runs freely).
    static ME: Cell<u8> = const { Cell::new(u8::MAX) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits for this thread's turn for `op`, runs it, advances the script.
fn step<T>(op: Op, f: impl FnOnce() -> T) -> T {
    let me = ME.with(Cell::get);
    if me == u8::MAX {
        return f(); // not a scripted thread (e.g. the test's own checks)
    }
    let mut s = lock(&SCHED);
    loop {
        let Some(&(who, want)) = s.script.get(s.pos) else {
            return f(); // script over: free run
        };
        if who == me {
            assert_eq!(
                op, want,
                "step {}: thread {me} does {op:?}, the script says {want:?}",
                s.pos
            );
            let r = f();
            s.pos += 1;
            TURN.notify_all();
            return r;
        }
        let (g, timeout) = TURN
            .wait_timeout(s, Duration::from_secs(5))
            .unwrap_or_else(|e| e.into_inner());
        s = g;
        assert!(
            !timeout.timed_out(),
            "stuck at step {}: thread {me} wants {op:?}, the script waits for {:?}",
            s.pos,
            s.script.get(s.pos)
        );
    }
}

/// An atomic word (of either width) whose every operation is a scripted
/// step.
struct Scripted<A = std::sync::atomic::AtomicU32>(A);

impl<A: AtomicWord> AtomicWord for Scripted<A> {
    type Value = A::Value;
    fn new(v: A::Value) -> Self {
        Scripted(A::new(v))
    }
    fn load(&self, o: Ordering) -> A::Value {
        step(Op::Load, || self.0.load(o))
    }
    fn store(&self, v: A::Value, o: Ordering) {
        step(Op::Store, || self.0.store(v, o))
    }
    fn swap(&self, v: A::Value, o: Ordering) -> A::Value {
        step(Op::Claim, || self.0.swap(v, o))
    }
    fn fetch_add(&self, v: A::Value, o: Ordering) -> A::Value {
        step(Op::FetchAdd, || self.0.fetch_add(v, o))
    }
    fn fetch_sub(&self, v: A::Value, o: Ordering) -> A::Value {
        step(Op::FetchSub, || self.0.fetch_sub(v, o))
    }
    fn fetch_and(&self, v: A::Value, o: Ordering) -> A::Value {
        step(Op::Claim, || self.0.fetch_and(v, o))
    }
    fn compare_exchange(
        &self,
        c: A::Value,
        n: A::Value,
        s: Ordering,
        f: Ordering,
    ) -> Result<A::Value, A::Value> {
        step(Op::Cas, || self.0.compare_exchange(c, n, s, f))
    }
    fn compare_exchange_weak(
        &self,
        c: A::Value,
        n: A::Value,
        s: Ordering,
        f: Ordering,
    ) -> Result<A::Value, A::Value> {
        step(Op::Cas, || self.0.compare_exchange(c, n, s, f))
    }
    fn fence(o: Ordering) {
        // Not a scripted step: a fence changes no value.
        A::fence(o)
    }
}

/// Runs `threads` (thread `i` is scripted as `i`) under `script`; returns
/// their results and how many steps of the script were played (a step that
/// no thread performs leaves the rest unplayed). One replay at a time.
fn replay<T: Send>(
    script: Vec<(u8, Op)>,
    threads: Vec<Box<dyn FnOnce() -> T + Send + '_>>,
) -> (Vec<T>, usize) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _serial = lock(&ONE_AT_A_TIME);
    *lock(&SCHED) = Sched { script, pos: 0 };
    let out = std::thread::scope(|s| {
        let handles: Vec<_> = threads
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                s.spawn(move || {
                    ME.with(|m| m.set(i as u8));
                    f()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let played = lock(&SCHED).pos;
    (out, played)
}

/// The debug-only plausibility load of `init`/`unfreeze`, when compiled in.
fn check_load(t: u8) -> Vec<(u8, Op)> {
    if pageref::check::ENABLED {
        vec![(t, Op::Load)]
    } else {
        vec![]
    }
}

const D: u8 = 0; // a holder whose put brings the count to zero
const G: u8 = 1; // a speculative getter that revives it
const H: u8 = 2; // a reader whose count() helps

/// Revival and helping, then re-allocation, then the stalled claimant:
///
/// D puts 1 -> 0 and stalls; G revives 0 -> 1 and puts 1 -> 0; H reads 0
/// and helps (`0 -> ZERO|HELP`); D's and G's final CASes both fail on the
/// helped word, so both go to claim the help flag; G claims it, frees and
/// re-allocates (`init`: count 1, the new owner's reference); only then does
/// D claim. Returns (D's put, G's put, H's count, the count at the end).
fn reuse_race<P: pageref::Policy>() -> (bool, bool, u32, u32) {
    let c: StickyRef<Scripted, P> = PageRef::new(1);
    let mut script = vec![
        (D, Op::FetchSub), // D: 1 -> 0
        (G, Op::FetchAdd), // G: try_get 0 -> 1, succeeds
        (G, Op::FetchSub), // G: 1 -> 0
        (H, Op::Load),     // H: count() reads 0 ...
        (H, Op::Cas),      // ... and helps: 0 -> ZERO|HELP
        (D, Op::Cas),      // D: 0 -> ZERO fails, sees the help flag
        (G, Op::Cas),      // G: the same
        (G, Op::Claim),    // G claims the flag: G frees ...
    ];
    script.extend(check_load(G)); // ... and re-allocates:
    script.push((G, Op::Store)); // init, count 1
    script.push((D, Op::Claim)); // D, late, tries to claim
    let c = &c;
    let len = script.len();
    let (r, played) = replay(
        script,
        vec![
            Box::new(move || (c.dec_and_test(), 0)),
            Box::new(move || {
                assert!(c.try_get());
                let freed = c.dec_and_test();
                if freed {
                    c.init();
                }
                (freed, 0)
            }),
            Box::new(move || (false, c.count())),
        ],
    );
    assert_eq!(played, len, "script not played to its end");
    (r[0].0, r[1].0, r[2].1, c.count())
}

/// The shipped claim (`fetch_and(!HELP)`): exactly one put frees (G), the
/// reader's 0 was final for the old incarnation, and D's late claim leaves
/// the re-allocated counter alone.
#[test]
fn sticky_late_claim_after_reallocation() {
    let (d, g, h, end) = reuse_race::<pageref::AcquireFinal>();
    assert_eq!((d, g, h), (false, true, 0));
    assert_eq!(end, 1, "the new incarnation keeps its reference");
}

/// D puts 1 -> 0; H reads 0 and helps before D's CAS. D must claim the flag.
/// Returns (D's put, H's count, frozen at the end, whether D claimed).
fn helped_put<P: pageref::Policy>() -> (bool, u32, bool, bool) {
    let c: StickyRef<Scripted, P> = PageRef::new(1);
    const H: u8 = 1; // here the reader is the second thread
    let script = vec![
        (D, Op::FetchSub), // D: 1 -> 0
        (H, Op::Load),     // H: reads 0 ...
        (H, Op::Cas),      // ... helps
        (D, Op::Cas),      // D: fails, sees the help flag
        (D, Op::Claim),    // D claims it
    ];
    let c = &c;
    let len = script.len();
    let (r, played) = replay(
        script,
        vec![
            Box::new(move || (c.dec_and_test(), 0)),
            Box::new(move || (false, c.count())),
        ],
    );
    (r[0].0, r[1].1, c.is_frozen(), played == len)
}

/// The shipped code: the helped decrementer is told it reached zero.
#[test]
fn sticky_helped_put_frees() {
    assert_eq!(helped_put::<pageref::AcquireFinal>(), (true, 0, true, true));
}

/// D puts 1 -> 0; H reads 0; G revives 0 -> 1 before H's helping CAS, which
/// fails; H then tries to get. Returns (H's count, H's get, D's put, G's
/// put).
fn revived_before_help<P: pageref::Policy>() -> (u32, bool, bool, bool) {
    let c: StickyRef<Scripted, P> = PageRef::new(1);
    let script = vec![
        (D, Op::FetchSub), // D: 1 -> 0
        (H, Op::Load),     // H: count() reads 0 ...
        (G, Op::FetchAdd), // G: try_get 0 -> 1
        (H, Op::Cas),      // H: 0 -> ZERO|HELP fails (count is 1)
        (H, Op::FetchAdd), // H: try_get
        (D, Op::Cas),      // D: 0 -> ZERO fails (revived): false
    ];
    let c = &c;
    let len = script.len();
    let (r, played) = replay(
        script,
        vec![
            Box::new(move || (0, c.dec_and_test())),
            Box::new(move || {
                assert!(c.try_get());
                (0, false)
            }),
            Box::new(move || (c.count(), c.try_get())),
        ],
    );
    assert_eq!(played, len, "script not played to its end");
    // Free run: drop whatever G and H hold; exactly one of these frees.
    let g_put = c.dec_and_test();
    let h_put = r[2].1 && c.dec_and_test();
    assert!(g_put != h_put || !r[2].1, "not exactly one free");
    (r[2].0, r[2].1, r[0].1, g_put || h_put)
}

/// The shipped code: H's count reports the revived count, not 0, so its get
/// may succeed; the stalled D does not free, the last of G and H does.
#[test]
fn sticky_revival_beats_help() {
    let (n, got, d, last) = revived_before_help::<pageref::AcquireFinal>();
    assert_eq!(n, 1, "count() reports the revived count");
    assert!(got && !d && last);
}

/// Scenario 9 of `docs/races.md` (the seed's race), on every scheme with a transient
/// zero: D puts 1 -> 0 and stalls; G gets 0 -> 1, puts 1 -> 0 and wins the
/// final CAS; D's CAS fails. Returns (D's put, G's put, frozen at the end,
/// whether the whole script was played: a planted bug that skips the CAS
/// leaves its steps unplayed).
fn seed_race<R: PageRef>() -> (bool, bool, bool, bool) {
    let c = R::new(1);
    let script = vec![
        (D, Op::FetchSub), // D: 1 -> 0
        (G, Op::FetchAdd), // G: try_get revives 0 -> 1
        (G, Op::FetchSub), // G: 1 -> 0
        (G, Op::Cas),      // G: 0 -> dead, wins
        (D, Op::Cas),      // D: fails
    ];
    let len = script.len();
    let c = &c;
    let (r, played) = replay(
        script,
        vec![
            Box::new(move || c.dec_and_test()),
            Box::new(move || {
                assert!(c.try_get());
                c.dec_and_test()
            }),
        ],
    );
    (r[0], r[1], c.is_frozen(), played == len)
}

/// Scenario 7 of `docs/races.md` ("different zeros"), on every scheme with a
/// transient zero: D puts 1 -> 0 and stalls; G revives, puts, wins and
/// frees; the counter is re-allocated (init 1) to G, who puts it to 0 and
/// stalls; D's stale CAS now succeeds on the new incarnation, and G's fails.
/// One free per incarnation. Returns (D's put, G's first put, G's second).
fn different_zeros<R: PageRef>() -> (bool, bool, bool) {
    let c = R::new(1);
    let mut script = vec![
        (D, Op::FetchSub), // D: 1 -> 0
        (G, Op::FetchAdd), // G: revives 0 -> 1
        (G, Op::FetchSub), // G: 1 -> 0
        (G, Op::Cas),      // G: wins, frees incarnation 1
    ];
    script.extend(check_load(G));
    script.extend([
        (G, Op::Store),    // G: init, incarnation 2
        (G, Op::FetchSub), // G: 1 -> 0
        (D, Op::Cas),      // D: 0 -> dead succeeds: frees incarnation 2
        (G, Op::Cas),      // G: fails
    ]);
    let len = script.len();
    let c = &c;
    let (r, played) = replay(
        script,
        vec![
            Box::new(move || (c.dec_and_test(), false)),
            Box::new(move || {
                assert!(c.try_get());
                let first = c.dec_and_test();
                assert!(first, "G's first put frees");
                c.init();
                (first, c.dec_and_test())
            }),
        ],
    );
    assert_eq!(played, len, "script not played to its end");
    assert!(c.is_frozen());
    (r[0].0, r[1].0, r[1].1)
}

/// The two replays on every scheme of the registry whose put passes through a
/// transient zero that a get revives (`PageRef::REVIVES_ZERO`); the others
/// have no such interleaving (a get cannot revive their zero).
macro_rules! transient_zero_replays {
    ([] $($id:ident $name:literal ($ty:ty) $info:tt)*) => {
        #[test]
        fn seed_race_frees_once() {
            let mut ran = Vec::new();
            $(if <$ty as PageRef>::REVIVES_ZERO {
                assert_eq!(seed_race::<$ty>(), (false, true, true, true), "{}", $name);
                ran.push($name);
            })*
            println!("seed race replayed on {ran:?}");
            assert!(ran.len() >= 6, "too few schemes revive a transient zero: {ran:?}");
        }

        #[test]
        fn different_zeros_free_once_per_incarnation() {
            let mut ran = Vec::new();
            $(if <$ty as PageRef>::REVIVES_ZERO {
                assert_eq!(different_zeros::<$ty>(), (true, true, false), "{}", $name);
                ran.push($name);
            })*
            println!("different zeros replayed on {ran:?}");
            assert!(ran.len() >= 6, "too few schemes revive a transient zero: {ran:?}");
        }
    };
}
pageref::for_each_scheme!(
    transient_zero_replays,
    Scripted<std::sync::atomic::AtomicU32>,
    Scripted<std::sync::atomic::AtomicU64>
);

/// Planted bugs break the replays above.
#[cfg(feature = "mutants")]
mod planted {
    use super::*;
    use pageref::policy::mutants::{
        SkipFinalCas, StickyClaimBySwap, StickyIgnoresHelp, StickyUncheckedHelp,
    };

    /// Without the final CAS, both puts of the seed's race report zero: a
    /// double free (frozen bit and low bit alike).
    #[test]
    fn skipping_the_final_cas_frees_twice() {
        let (d, g, _, _) = seed_race::<pageref::LowBitRef<Scripted, SkipFinalCas>>();
        assert!(d && g, "both puts free");
        let (d, g, _, _) = seed_race::<pageref::RcuRef<Scripted, SkipFinalCas>>();
        assert!(d && g, "both puts free");
        let (d, g, _, _) = seed_race::<pageref::FrozenRef<Scripted, SkipFinalCas>>();
        assert!(d && g, "both puts free");
    }

    /// The paper's exchange: D's late claim swaps `ZERO` over the new
    /// incarnation's live count, which is lost (its owner's put would then
    /// trip "put on a frozen counter"; without the checks, a leak or worse).
    #[test]
    fn claim_by_swap_clobbers_reallocated_counter() {
        let (d, g, h, end) = reuse_race::<StickyClaimBySwap>();
        assert_eq!((d, g, h), (false, true, 0));
        assert_eq!(end, 0, "the swap wiped the new incarnation's reference");
    }

    /// Ignoring the help flag: nobody is told the count reached zero.
    #[test]
    fn ignoring_help_leaks() {
        let (freed, n, frozen, claimed) = helped_put::<StickyIgnoresHelp>();
        assert_eq!((n, frozen), (0, true));
        assert!(!claimed, "the flag stays unclaimed");
        assert!(!freed, "the only put was not told it reached zero: a leak");
    }

    /// An unchecked helping CAS: count() reports 0, and the same thread's
    /// next get succeeds.
    #[test]
    fn unchecked_help_reports_a_zero_that_is_not_final() {
        let (n, got, _, _) = revived_before_help::<StickyUncheckedHelp>();
        assert_eq!(n, 0);
        assert!(got, "a get succeeded after count() returned 0");
    }
}
