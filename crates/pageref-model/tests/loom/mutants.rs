//! Planted bugs: each must make at least one model fail on the shipped code
//! built with a mutant policy (`pageref::policy::mutants`, feature
//! `mutants`), and the counterexample is printed as a thread-per-column
//! table. A checker that cannot fail would turn these tests red.

use pageref::policy::mutants::*;
use pageref::{ClassicRef, RelaxedFinal};
use pageref_model::loom_harness::{Failed, LoomWord, Passed};

use crate::scenarios::*;
use crate::{s08_overflow_guard, Frozen};

type Run = (&'static str, fn() -> Result<Passed, Failed>);

/// Runs the models in order until one fails and returns that failure;
/// panics if every model passes (the planted bug went unnoticed).
fn caught(mutant: &str, runs: &[Run]) -> Failed {
    for (name, run) in runs {
        match run() {
            Ok(p) => println!(
                "{mutant}: {name} passes ({} executions) - not caught here",
                p.executions
            ),
            Err(f) => {
                println!("{mutant}: CAUGHT by {name}\n{f}");
                return f;
            }
        }
    }
    panic!("planted bug {mutant} was not caught by any model")
}

macro_rules! runs {
    ($ty:ty: $($s:ident),+) => {
        &[$((stringify!($s), $s::<$ty> as fn() -> Result<Passed, Failed>)),+]
    };
}

/// Request (b) violated: freeing stores a plain 0. Scenario 6 must report a
/// double free (BRIEF §5 scenario 6).
#[test]
fn mutant_free_stores_zero() {
    let f = caught(
        "FreeStoresZero",
        runs!(Frozen<FreeStoresZero>: s06_request_b),
    );
    assert!(f.message.contains("double free"), "{}", f.message);
}

/// The last put reports `true` at 0 without the `0 -> FROZEN` CAS: a getter
/// revives the freed page.
#[test]
fn mutant_skip_final_cas() {
    caught(
        "SkipFinalCas",
        runs!(Frozen<SkipFinalCas>: s01_get_vs_last_put, s09_seed),
    );
}

/// try_get ignores the frozen bit.
#[test]
fn mutant_ignore_frozen_bit() {
    caught(
        "IgnoreFrozenBit",
        runs!(Frozen<IgnoreFrozenBit>: s01_get_vs_last_put),
    );
}

/// The overflow guard resets garbage to a plain 0.
#[test]
fn mutant_guard_clears_bit() {
    caught(
        "GuardClearsBit",
        &[("s08_overflow_guard", s08_overflow_guard::<GuardClearsBit>)],
    );
}

/// A failed try_get undoes its add with a plain decrement (the RFC's shape):
/// sequentially indistinguishable, caught only by a getter racing unfreeze.
#[test]
fn mutant_undo_by_decrement() {
    caught(
        "UndoByDecrement",
        runs!(Frozen<UndoByDecrement>: s04_get_vs_unfreeze),
    );
}

/// freeze stores a plain 0: a getter succeeds on the frozen page.
#[test]
fn mutant_freeze_stores_zero() {
    caught(
        "FreezeStoresZero",
        runs!(Frozen<FreezeStoresZero>: s03_get_vs_freeze),
    );
}

/// Classic add-unless-zero done as one unconditional fetch_add.
#[test]
fn mutant_classic_fetch_add() {
    caught(
        "ClassicFetchAdd",
        runs!(ClassicRef<LoomWord, ClassicFetchAdd>: s06_request_b, s01_get_vs_last_put),
    );
}

/// The final CAS relaxed, as posted (scenario 10): loom must report the
/// reviving reader's access racing with the free.
#[test]
fn mutant_relaxed_final_cas() {
    let f = caught(
        "RelaxedFinal",
        runs!(Frozen<RelaxedFinal>: s10_publish_lookup_ordering),
    );
    assert!(f.message.contains("Causality violation"), "{}", f.message);
}
