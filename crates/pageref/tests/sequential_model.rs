//! Random operation sequences on every scheme of the registry
//! (`pageref::for_each_scheme!`), against a simple sequential reference
//! model of the `PageRef` contract (10,000 sequences per scheme, up to 63
//! operations each, counts near 1 and near each scheme's capacity).
//!
//! Only legal operations are applied (an operation the model says is illegal
//! in the current state is skipped), so this also shows that legal use never
//! trips a misuse check.

use core::sync::atomic::{AtomicU32, AtomicU64};

use pageref::state::FROZEN_BIT;
use pageref::{FrozenRef, PageRef, StickyRef};
use proptest::prelude::*;

/// The contract, sequentially: live with a count, or frozen.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Model {
    Live(u32),
    Frozen,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Init,
    SetFrozen,
    Add(u32),
    Sub(u32),
    Inc,
    Dec,
    IncReturn,
    DecReturn,
    SubReturn(u32),
    SubAndTest(u32),
    DecAndTest,
    AddUnlessFrozen(u32),
    TryGet,
    Freeze(u32),
    Unfreeze(u32),
}

/// Operations for a scheme of capacity `max` (its `MAX_COUNT`).
fn op(max: u32) -> impl Strategy<Value = Op> {
    let nr = prop_oneof![4 => 1u32..=4, 1 => Just(1024u32), 1 => Just(pageref::MAX_NR)];
    let count = prop_oneof![4 => 1u32..=4, 1 => (max - 4)..=max];
    prop_oneof![
        1 => Just(Op::Init),
        1 => Just(Op::SetFrozen),
        1 => nr.clone().prop_map(Op::Add),
        1 => nr.clone().prop_map(Op::Sub),
        1 => Just(Op::Inc),
        1 => Just(Op::Dec),
        1 => Just(Op::IncReturn),
        1 => Just(Op::DecReturn),
        1 => nr.clone().prop_map(Op::SubReturn),
        3 => nr.clone().prop_map(Op::SubAndTest),
        3 => Just(Op::DecAndTest),
        3 => nr.prop_map(Op::AddUnlessFrozen),
        3 => Just(Op::TryGet),
        1 => count.clone().prop_map(Op::Freeze),
        1 => count.prop_map(Op::Unfreeze),
    ]
}

/// Applies `op` to the model of a scheme of capacity `max`; `None` if it is
/// illegal in this state. Otherwise the new state and the expected result
/// (as u32; bools as 0/1).
fn step(m: Model, op: Op, max: u32) -> Option<(Model, Option<u32>)> {
    use Model::*;
    let grow = |n: u32, nr: u32| (n as u64 + nr as u64 <= max as u64).then(|| n + nr);
    Some(match (m, op) {
        (Frozen, Op::Init) => (Live(1), None),
        (_, Op::SetFrozen) => (Frozen, None),
        (Live(n), Op::Add(nr)) => (Live(grow(n, nr)?), None),
        (Live(n), Op::Inc) => (Live(grow(n, 1)?), None),
        (Live(n), Op::IncReturn) => (Live(grow(n, 1)?), Some(n + 1)),
        (Live(n), Op::Sub(nr)) if n > nr => (Live(n - nr), None),
        (Live(n), Op::Dec) if n > 1 => (Live(n - 1), None),
        (Live(n), Op::DecReturn) if n > 1 => (Live(n - 1), Some(n - 1)),
        (Live(n), Op::SubReturn(nr)) if n > nr => (Live(n - nr), Some(n - nr)),
        (Live(n), Op::SubAndTest(nr)) if n > nr => (Live(n - nr), Some(0)),
        (Live(n), Op::SubAndTest(nr)) if n == nr => (Frozen, Some(1)),
        (Live(n), Op::DecAndTest) if n > 1 => (Live(n - 1), Some(0)),
        (Live(1), Op::DecAndTest) => (Frozen, Some(1)),
        (Live(n), Op::AddUnlessFrozen(nr)) => (Live(grow(n, nr)?), Some(1)),
        (Live(n), Op::TryGet) => (Live(grow(n, 1)?), Some(1)),
        (Frozen, Op::AddUnlessFrozen(_) | Op::TryGet) => (Frozen, Some(0)),
        (Live(n), Op::Freeze(e)) if n == e => (Frozen, Some(1)),
        (Live(_), Op::Freeze(_)) => (m, Some(0)),
        (Frozen, Op::Freeze(_)) => (Frozen, Some(0)),
        (Frozen, Op::Unfreeze(c)) => (Live(c), None),
        _ => return None,
    })
}

fn apply<R: PageRef>(r: &R, op: Op) -> Option<u32> {
    match op {
        Op::Init => r.init(),
        Op::SetFrozen => r.set_frozen(),
        Op::Add(nr) => r.add(nr),
        Op::Sub(nr) => r.sub(nr),
        Op::Inc => r.inc(),
        Op::Dec => r.dec(),
        Op::IncReturn => return Some(r.inc_return()),
        Op::DecReturn => return Some(r.dec_return()),
        Op::SubReturn(nr) => return Some(r.sub_return(nr)),
        Op::SubAndTest(nr) => return Some(r.sub_and_test(nr) as u32),
        Op::DecAndTest => return Some(r.dec_and_test() as u32),
        Op::AddUnlessFrozen(nr) => return Some(r.add_unless_frozen(nr) as u32),
        Op::TryGet => return Some(r.try_get() as u32),
        Op::Freeze(e) => return Some(r.freeze(e) as u32),
        Op::Unfreeze(c) => r.unfreeze(c),
    }
    None
}

/// The raw word of a live count `n`.
type LiveRaw = fn(u32) -> u64;
/// Whether a raw word is a legal frozen value (garbage included).
type FrozenRaw = fn(u64) -> bool;

/// The raw encoding each scheme documents (written out here, independently
/// of the code under test).
fn encoding<R: PageRef>() -> (LiveRaw, FrozenRaw) {
    match R::NAME {
        "frozen" => (|n| n.into(), |raw| raw & u64::from(FROZEN_BIT) != 0),
        "classic" | "optimistic" => (|n| n.into(), |raw| raw == 0),
        // Sequentially nobody helps, so the help flag stays clear.
        "sticky" => (
            |n| n.into(),
            |raw| {
                raw & u64::from(<StickyRef>::ZERO_FLAG) != 0
                    && raw & u64::from(<StickyRef>::HELP_FLAG) == 0
            },
        ),
        "lowbit" => (|n| 2 * u64::from(n), |raw| raw & 1 != 0),
        // Biased: raw = count - 1; dead from 0xc000_0000 up, NOREF excluded.
        "rcuref" | "fileref32" => (
            |n| u64::from(n) - 1,
            |raw| (0xc000_0000..0xffff_ffff).contains(&raw),
        ),
        "fileref" => (
            |n| u64::from(n) - 1,
            |raw| (0xc000_0000_0000_0000..u64::MAX).contains(&raw),
        ),
        other => panic!("no encoding for scheme {other}"),
    }
}

/// Runs one sequence; returns how many operations were legal and applied.
fn run<R: PageRef>(start: Option<u32>, ops: &[Op]) -> Result<usize, TestCaseError> {
    let (live_raw, frozen_raw) = encoding::<R>();
    let (r, mut m) = match start {
        Some(n) => (R::new(n), Model::Live(n)),
        None => (R::new_frozen(), Model::Frozen),
    };
    let mut applied = 0;
    for &op in ops {
        let Some((next, expect)) = step(m, op, R::MAX_COUNT) else {
            continue;
        };
        let got = apply(&r, op);
        prop_assert_eq!(got, expect, "{:?} on {:?}", op, m);
        m = next;
        applied += 1;
        match m {
            Model::Live(n) => {
                prop_assert_eq!(r.count(), n);
                prop_assert!(!r.is_frozen());
                prop_assert_eq!(r.raw(), live_raw(n), "live raw encodes the count");
            }
            Model::Frozen => {
                prop_assert_eq!(r.count(), 0);
                prop_assert!(r.is_frozen());
                prop_assert!(
                    frozen_raw(r.raw()),
                    "not a frozen raw value: {:#x}",
                    r.raw()
                );
            }
        }
    }
    Ok(applied)
}

/// A starting state for a scheme of capacity `max`.
fn start(max: u32) -> impl Strategy<Value = Option<u32>> {
    prop_oneof![
        4 => (1u32..=3).prop_map(Some),
        1 => Just(None),
        1 => ((max - 3)..=max).prop_map(Some),
    ]
}

/// A whole test case (start state and operations) for scheme `R`.
fn case<R: PageRef>() -> impl Strategy<Value = (Option<u32>, Vec<Op>)> {
    (
        start(R::MAX_COUNT),
        prop::collection::vec(op(R::MAX_COUNT), 1..64),
    )
}

/// One proptest per scheme of the registry.
macro_rules! model_tests {
    ([] $($id:ident $name:literal ($ty:ty) $info:tt)*) => {
        mod matches_model {
            use super::*;
            $(proptest! {
                #![proptest_config(ProptestConfig::with_cases(10_000))]
                #[test]
                fn $id((start, ops) in case::<$ty>()) {
                    run::<$ty>(start, &ops)?;
                }
            })*
        }
    };
}
pageref::for_each_scheme!(model_tests, AtomicU32, AtomicU64);

/// The generator is not vacuous: typical sequences apply most of their ops.
#[test]
fn sequences_are_mostly_legal() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut total, mut applied) = (0, 0);
    for _ in 0..1000 {
        let ops = prop::collection::vec(op(pageref::state::MAX_COUNT), 32..33)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        total += ops.len();
        applied += run::<FrozenRef>(Some(2), &ops).unwrap();
    }
    assert!(applied * 3 > total, "only {applied} of {total} ops applied");
}

/// The model test can fail: on planted bugs it finds a counterexample.
#[cfg(feature = "mutants")]
#[test]
fn model_catches_planted_bugs() {
    use pageref::policy::mutants::{
        ClassicFetchAdd, CountShowsGarbage, FileRefResetsGarbage, FreeStoresZero, FreezeStoresZero,
        LowBitOddIncrement, OptimisticSkipZeroCheck, RcuRefNoFence, SkipFinalCas,
        SkipOverflowGuard, StickyClaimBySwap, StickyIgnoresHelp, StickyUncheckedHelp,
        SubReturnNoRelease, UndoByDecrement, VoidPutRelaxed,
    };
    use pageref::{ClassicRef, FileRef, LowBitRef, OptimisticRef, RcuRef};
    use proptest::test_runner::{Config, TestRunner};
    fn caught<R: PageRef>() -> bool {
        let mut runner = TestRunner::new(Config {
            cases: 2_000,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&case::<R>(), |(s, ops)| run::<R>(s, &ops).map(|_| ()))
            .is_err()
    }
    assert!(caught::<FrozenRef<AtomicU32, FreezeStoresZero>>());
    assert!(caught::<FrozenRef<AtomicU32, FreeStoresZero>>());
    assert!(caught::<ClassicRef<AtomicU32, ClassicFetchAdd>>());
    assert!(caught::<OptimisticRef<AtomicU32, OptimisticSkipZeroCheck>>());
    assert!(caught::<LowBitRef<AtomicU32, LowBitOddIncrement>>());
    assert!(caught::<LowBitRef<AtomicU32, SkipFinalCas>>());
    assert!(caught::<RcuRef<AtomicU32, FreeStoresZero>>());
    assert!(caught::<FileRef<AtomicU64, FreezeStoresZero>>());
    assert!(caught::<FrozenRef<AtomicU32, CountShowsGarbage>>());
    // A failed get undone by a decrement is sequentially indistinguishable
    // from the real thing: only the concurrent checkers can catch it.
    assert!(!caught::<FrozenRef<AtomicU32, UndoByDecrement>>());
    // The sticky counter's bugs are in its helping, which needs a reader
    // that finds the transient zero: never, sequentially.
    assert!(!caught::<StickyRef<AtomicU32, StickyIgnoresHelp>>());
    assert!(!caught::<StickyRef<AtomicU32, StickyUncheckedHelp>>());
    assert!(!caught::<StickyRef<AtomicU32, StickyClaimBySwap>>());
    // Orderings, and a reset of garbage to the value it already decodes as,
    // are invisible sequentially too; 63 failed gets never reach the guard.
    assert!(!caught::<RcuRef<AtomicU32, RcuRefNoFence>>());
    assert!(!caught::<FrozenRef<AtomicU32, VoidPutRelaxed>>());
    assert!(!caught::<FrozenRef<AtomicU32, SubReturnNoRelease>>());
    assert!(!caught::<FileRef<AtomicU64, FileRefResetsGarbage>>());
    assert!(!caught::<FrozenRef<AtomicU32, SkipOverflowGuard>>());
}
