//! Planted bugs: each must make at least one model fail on the shipped code
//! built with a mutant policy (`pageref::policy::mutants`, feature
//! `mutants`), and the counterexample is printed as a thread-per-column
//! table. A checker that cannot fail would turn these tests red.

use pageref::policy::mutants::*;
use pageref::{ClassicRef, FileRef, LowBitRef, OptimisticRef, RcuRef, RelaxedFinal, StickyRef};
use pageref_model::loom_harness::{Failed, LoomWord, LoomWord64, Passed};

use crate::ordering::*;
use crate::overflow::s08_overflow_guard;
use crate::scenarios::*;
use crate::Frozen;

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
/// double free (`docs/races.md`, scenario 6).
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
        runs!(Frozen<GuardClearsBit>: s08_overflow_guard),
    );
}

/// The overflow guard never runs: garbage grows past the guard's limit and
/// stays there (scenario 8 starts just below it and checks that the word is
/// back below it at quiescence).
#[test]
fn mutant_skip_overflow_guard() {
    let f = caught(
        "SkipOverflowGuard",
        runs!(Frozen<SkipOverflowGuard>: s08_overflow_guard),
    );
    assert!(f.message.contains("not back below"), "{}", f.message);
}

/// rcuref's last put without the acquire fence after its release CAS: the
/// freer does not synchronise with the other holders' puts, and loom
/// reports a holder's read racing with the free.
#[test]
fn mutant_rcuref_no_fence() {
    let f = caught(
        "RcuRefNoFence",
        runs!(RcuRef<LoomWord, RcuRefNoFence>: s02_put_vs_put, s10_publish_lookup_ordering),
    );
    assert!(f.message.contains("Causality violation"), "{}", f.message);
}

/// file_ref's failed get resets its garbage with a plain store of `DEAD`,
/// as rcuref does: a stale getter's store kills the re-allocated page
/// (the reason file_ref's own comment gives for not resetting).
#[test]
fn mutant_fileref_resets_garbage() {
    caught(
        "FileRefResetsGarbage",
        runs!(FileRef<LoomWord64, FileRefResetsGarbage>: s05_reuse_spurious_get),
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

/// Optimistic CAS: after a failed guess, retries with the value returned
/// without checking it for 0, reviving a dead counter.
#[test]
fn mutant_optimistic_skip_zero_check() {
    caught(
        "OptimisticSkipZeroCheck",
        runs!(OptimisticRef<LoomWord, OptimisticSkipZeroCheck>: s06_request_b, s01_get_vs_last_put),
    );
}

/// Sticky counter: a decrementer that lost its CAS to a helping count()
/// ignores the help flag: nobody frees (a leak).
#[test]
fn mutant_sticky_ignores_help() {
    caught(
        "StickyIgnoresHelp",
        runs!(StickyRef<LoomWord, StickyIgnoresHelp>: s13_zero_is_final, s11_count_never_garbage),
    );
}

/// Sticky counter: count() reports 0 without checking that its helping CAS
/// succeeded: a reported 0 is followed by a successful get.
#[test]
fn mutant_sticky_unchecked_help() {
    caught(
        "StickyUncheckedHelp",
        runs!(StickyRef<LoomWord, StickyUncheckedHelp>: s13_zero_is_final),
    );
}

/// Sticky counter: the help flag claimed by an exchange to ZERO (as in the
/// paper): a stalled claimant overwrites the re-allocated page's count.
#[test]
fn mutant_sticky_claim_by_swap() {
    caught(
        "StickyClaimBySwap",
        runs!(StickyRef<LoomWord, StickyClaimBySwap>: s07_different_zeros),
    );
}

/// Low bit: try_get adds nr unshifted, flipping the dead bit.
#[test]
fn mutant_lowbit_odd_increment() {
    caught(
        "LowBitOddIncrement",
        runs!(LowBitRef<LoomWord, LowBitOddIncrement>: s06_request_b, s01_get_vs_last_put),
    );
}

/// Low bit: the last put reports true at 0 without the 0 -> 1 CAS.
#[test]
fn mutant_lowbit_skip_final_cas() {
    caught(
        "LowBitSkipFinalCas",
        runs!(LowBitRef<LoomWord, SkipFinalCas>: s01_get_vs_last_put),
    );
}

/// Every scheme with the posted relaxed final CAS, where it has one: the
/// reviving reader's access races with the free (scenario 10).
#[test]
fn mutant_relaxed_final_cas_sticky_lowbit() {
    for (name, run) in [
        (
            "sticky",
            s10_publish_lookup_ordering::<StickyRef<LoomWord, RelaxedFinal>> as fn() -> _,
        ),
        (
            "lowbit",
            s10_publish_lookup_ordering::<LowBitRef<LoomWord, RelaxedFinal>>,
        ),
    ] {
        let f = caught(name, &[("s10_publish_lookup_ordering", run)]);
        assert!(f.message.contains("Causality violation"), "{}", f.message);
    }
}

/// Every planted bug against every loom scenario, printed as a matrix for
/// docs/verification.md (`caught` / `passes`). Scenario 13 only where the
/// scheme promises it (`PageRef::ZERO_IS_FINAL`). Not part of CI (it runs
/// the passing models of each mutant in full, about 4 minutes):
/// `cargo test -p pageref-model --test loom -- --ignored --nocapture mutant_matrix`.
#[test]
#[ignore]
fn mutant_matrix() {
    fn row<R: crate::near_limit::NearLimit>(name: &str) {
        let mut runs: Vec<Run> = runs!(R: s01_get_vs_last_put, s02_put_vs_put,
            s02b_void_put_then_last_put, s02c_value_returning_then_last_put,
            s03_get_vs_freeze, s04_get_vs_unfreeze, s05_reuse_spurious_get, s06_request_b,
            s07_different_zeros, s08_overflow_guard, s09_seed, s10_publish_lookup_ordering,
            s11_count_never_garbage)
        .to_vec();
        if R::ZERO_IS_FINAL {
            runs.push(("s13_zero_is_final", s13_zero_is_final::<R>));
        }
        let caught: Vec<_> = runs
            .iter()
            .filter_map(|(s, run)| {
                run().err().map(|f| {
                    format!(
                        "{} ({})",
                        &s[..4].trim_end_matches('_'),
                        f.message.lines().next().unwrap_or("")
                    )
                })
            })
            .collect();
        println!(
            "| {name} | {} |",
            if caught.is_empty() {
                "NOT CAUGHT".to_string()
            } else {
                caught.join("; ")
            }
        );
    }
    row::<Frozen<FreeStoresZero>>("FreeStoresZero");
    row::<Frozen<SkipFinalCas>>("SkipFinalCas");
    row::<Frozen<IgnoreFrozenBit>>("IgnoreFrozenBit");
    row::<Frozen<GuardClearsBit>>("GuardClearsBit");
    row::<Frozen<SkipOverflowGuard>>("SkipOverflowGuard");
    row::<Frozen<UndoByDecrement>>("UndoByDecrement");
    row::<Frozen<FreezeStoresZero>>("FreezeStoresZero");
    row::<Frozen<RelaxedFinal>>("RelaxedFinal (frozen)");
    row::<ClassicRef<LoomWord, ClassicFetchAdd>>("ClassicFetchAdd");
    row::<OptimisticRef<LoomWord, OptimisticSkipZeroCheck>>("OptimisticSkipZeroCheck");
    row::<StickyRef<LoomWord, StickyIgnoresHelp>>("StickyIgnoresHelp");
    row::<StickyRef<LoomWord, StickyUncheckedHelp>>("StickyUncheckedHelp");
    row::<StickyRef<LoomWord, StickyClaimBySwap>>("StickyClaimBySwap");
    row::<StickyRef<LoomWord, RelaxedFinal>>("RelaxedFinal (sticky)");
    row::<LowBitRef<LoomWord, LowBitOddIncrement>>("LowBitOddIncrement");
    row::<LowBitRef<LoomWord, SkipFinalCas>>("SkipFinalCas (lowbit)");
    row::<LowBitRef<LoomWord, RelaxedFinal>>("RelaxedFinal (lowbit)");
    row::<RcuRef<LoomWord, RcuRefNoFence>>("RcuRefNoFence");
    row::<RcuRef<LoomWord, SkipFinalCas>>("SkipFinalCas (rcuref)");
    row::<FileRef<LoomWord64, FileRefResetsGarbage>>("FileRefResetsGarbage");
    row::<FileRef<LoomWord64, SkipFinalCas>>("SkipFinalCas (fileref)");
}
