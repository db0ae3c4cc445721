//! The planted bugs of `pageref::sync::mutants` (feature `mutants`): each
//! must make its model fail, with the failure that bug causes.
//!
//! Every one of them shows first as a data race (loom's "Causality
//! violation"): a holder's access to the value, or to the allocation's
//! words, is not ordered with the drop or the `&mut` that the bug let
//! happen. So that a race from elsewhere cannot pass for the bug, each test
//! also asserts the steps of the failing execution that show the bug at
//! work, in order (lines of the execution's log; loom's exploration order
//! is deterministic, so the first counterexample is always the same).

use pageref::sync::mutants::{self, Planted};

use crate::checked::{Failed, Passed, Words};
use crate::models::*;

/// loom's message for a data race.
const RACE: &str = "Causality violation";

/// Runs `model` with planted bug `B`; it must fail with loom's data-race
/// report, in an execution whose log shows `steps` in this order (each a
/// substring of a later line than the previous one).
fn caught<const B: u8>(name: &str, model: fn() -> Result<Passed, Failed>, steps: &[&str]) {
    match model() {
        Ok(p) => panic!(
            "planted bug {name} went unnoticed by the model ({} executions)",
            p.executions
        ),
        Err(f) => {
            println!("planted bug {name} (id {B}): CAUGHT\n{f}");
            assert!(
                f.message.contains(RACE),
                "planted bug {name}: expected loom's data race, got: {f}"
            );
            let mut log = f.log.iter();
            for step in steps {
                assert!(
                    log.any(|l| l.contains(step)),
                    "planted bug {name}: the failing execution does not show {step:?} \
                     after the steps before it ({steps:?}): {f}"
                );
            }
        }
    }
}

type Bug<const B: u8> = Planted<Words, B>;

/// An upgrade that ignores the dead bit upgrades to a dropped value: it
/// adds to the dead word, and its read races with the drop.
/// `upgrade_vs_last_drop`: 2 threads, no preemption bound (exhaustive).
#[test]
fn planted_upgrade_ignores_dead() {
    const B: u8 = mutants::UPGRADE_IGNORES_DEAD;
    caught::<B>(
        "upgrade ignores the dead bit",
        upgrade_vs_last_drop::<Bug<B>>,
        &[
            "T0: drops the value",
            "T1: arc0.strong.fetch_add(1, Acquire): 0x8000000000000000 -> 0x8000000000000001",
            "T1: reads the value",
        ],
    );
}

/// A last drop without the `0 -> DEAD` CAS: an upgrade revives the freed
/// value (reads the 0 the drop left), and its read races with the drop.
/// `upgrade_vs_last_drop`: 2 threads, no preemption bound (exhaustive).
#[test]
fn planted_drop_without_cas() {
    const B: u8 = mutants::DROP_WITHOUT_CAS;
    caught::<B>(
        "last drop without the CAS",
        upgrade_vs_last_drop::<Bug<B>>,
        &[
            "T0: arc0.strong.fetch_sub(1, Release): 0x1 -> 0x0",
            "T0: drops the value",
            "T1: arc0.strong.fetch_add(1, Acquire): 0x0 -> 0x1",
            "T1: reads the value",
        ],
    );
}

/// A relaxed final CAS: the dropper reads the reviver's 0 without
/// synchronising with it, so its drop races the reviver's read (the C11
/// counterexample of the series' relaxed CAS, on the Arc).
/// `upgrade_vs_last_drop`: 2 threads, no preemption bound (exhaustive).
#[test]
fn planted_relaxed_final_cas() {
    const B: u8 = mutants::RELAXED_FINAL_CAS;
    caught::<B>(
        "relaxed final CAS",
        upgrade_vs_last_drop::<Bug<B>>,
        &[
            "T1: arc0.strong.fetch_add(1, Acquire): 0x0 -> 0x1",
            "T1: reads the value",
            "T1: arc0.strong.fetch_sub(1, Release): 0x1 -> 0x0",
            "T0: arc0.strong.compare_exchange(0x0, 0x8000000000000000, Relaxed, Relaxed): 0x0 -> 0x8000000000000000",
            "T0: drops the value",
        ],
    );
}

/// `into_inner` claiming with load + store: two winners; here the claim's
/// plain store lands after another thread took a reference, whose read
/// races with the claimant's `&mut` write. `upgrade_vs_into_inner`:
/// 2 threads, no preemption bound (exhaustive).
#[test]
fn planted_into_inner_two_winners() {
    const B: u8 = mutants::INTO_INNER_TWO_WINNERS;
    caught::<B>(
        "into_inner with two winners",
        upgrade_vs_into_inner::<Bug<B>>,
        &[
            "T0: arc0.strong.load(Acquire): 0x1",
            "T1: arc0.strong.fetch_add(1, Acquire): 0x1 -> 0x2",
            "T1: reads the value",
            "T0: arc0.strong.store(0x8000000000000000, Relaxed)",
            "T0: writes the value (&mut)",
        ],
    );
}

/// `get_mut` without the weak-count lock: a `Weak` made and upgraded
/// between its two loads holds the value during the `&mut`, and loom
/// reports the race. `get_mut_vs_weak_count`: 2 threads, no preemption
/// bound (exhaustive).
#[test]
fn planted_get_mut_without_weak_lock() {
    const B: u8 = mutants::GET_MUT_NO_WEAK_LOCK;
    caught::<B>(
        "get_mut without the weak lock",
        get_mut_vs_weak_count::<Bug<B>>,
        &[
            "T1: arc0.strong.fetch_add(1, Acquire): 0x1 -> 0x2",
            "T1: arc0.weak.fetch_sub(1, Release): 0x2 -> 0x1",
            "T1: reads the value",
            "T0: arc0.strong.load(Acquire): 0x1",
            "T0: arc0.weak.load(Acquire): 0x1",
            "T0: writes the value (&mut)",
        ],
    );
}

/// `new_cyclic` publishing with a relaxed store: an upgrader may read the
/// value before it is written. `new_cyclic_vs_upgrade`: 2 threads, no
/// preemption bound (exhaustive).
#[test]
fn planted_cyclic_relaxed_publish() {
    const B: u8 = mutants::CYCLIC_RELAXED_PUBLISH;
    caught::<B>(
        "new_cyclic relaxed publish",
        new_cyclic_vs_upgrade::<Bug<B>>,
        &[
            "T0: arc0.strong.store(0x1, Relaxed)",
            "T1: arc0.strong.fetch_add(1, Acquire): 0x1 -> 0x2",
            "T1: reads the value",
        ],
    );
}

/// `make_mut` re-opening the old allocation after moving the value out: a
/// `Weak` upgrades to the moved-from value. `make_mut_with_live_weak`:
/// 2 threads, no preemption bound (exhaustive).
#[test]
fn planted_make_mut_revives() {
    const B: u8 = mutants::MAKE_MUT_REVIVES;
    caught::<B>(
        "make_mut re-opens the old allocation",
        make_mut_with_live_weak::<Bug<B>>,
        &[
            "T0: arc0.weak.load(Relaxed): 0x2",
            "T0: arc0.strong.store(0x1, Release): 0x8000000000000000 -> 0x1",
            "T1: arc0.strong.fetch_add(1, Acquire): 0x1 -> 0x2",
            "T1: reads the value",
        ],
    );
}
