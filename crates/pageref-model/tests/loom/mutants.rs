//! Planted bugs: each must make at least one model fail on the shipped code
//! built with a mutant policy (`pageref::policy::mutants`, feature
//! `mutants`), and the counterexample is printed as a thread-per-column
//! table. A checker that cannot fail would turn these tests red, and so
//! would a model that fails for another reason than the bug's: each test
//! asserts the failure message the bug produces (`docs/verification.md`,
//! "Planted bugs").
//!
//! Bounds: each test runs the loom models it names, with those models'
//! threads and preemption bounds (`scenarios.rs`, `ordering.rs`,
//! `overflow.rs`), stopping at the first one that fails.

use pageref::policy::mutants::*;
use pageref::{ClassicRef, FileRef, LowBitRef, OptimisticRef, RcuRef, RelaxedFinal, StickyRef};
use pageref_model::loom_harness::{search_for, Failed, LoomWord, LoomWord64, Passed};

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

/// [`caught`], and the failure's message must contain `expect`.
fn caught_with(mutant: &str, runs: &[Run], expect: &str) -> Failed {
    let f = caught(mutant, runs);
    assert!(
        f.message.contains(expect),
        "planted bug {mutant}: expected a failure containing {expect:?}, got: {}",
        f.message
    );
    f
}

macro_rules! runs {
    ($ty:ty: $($s:ident),+) => {
        &[$((stringify!($s), $s::<$ty> as fn() -> Result<Passed, Failed>)),+]
    };
}

/// Request (b) violated: freeing stores a plain 0. Scenario 6 must report a
/// double free (`docs/races.md`, scenario 6). Scenario 6: 2 threads, no
/// preemption bound (exhaustive).
#[test]
fn mutant_free_stores_zero() {
    caught_with(
        "FreeStoresZero",
        runs!(Frozen<FreeStoresZero>: s06_request_b),
        "double free of incarnation 1",
    );
}

/// The last put reports `true` at 0 without the `0 -> FROZEN` CAS: a getter
/// revives the freed page and reads it, racing with the free (loom's data
/// race). Scenarios 1 (3 threads) and 9 (2 threads), no preemption bound.
#[test]
fn mutant_skip_final_cas() {
    caught_with(
        "SkipFinalCas",
        runs!(Frozen<SkipFinalCas>: s01_get_vs_last_put, s09_seed),
        "Causality violation",
    );
}

/// try_get ignores the frozen bit: a get succeeds on the freed page and
/// its read races with the free (loom's data race). Scenario 1: 3 threads,
/// no preemption bound.
#[test]
fn mutant_ignore_frozen_bit() {
    caught_with(
        "IgnoreFrozenBit",
        runs!(Frozen<IgnoreFrozenBit>: s01_get_vs_last_put),
        "Causality violation",
    );
}

/// The overflow guard resets garbage to a plain 0: the next get on the
/// dead page succeeds. The property must be what fails, not the coverage
/// check of `s08_overflow_guard` (a model that passes without a limit
/// event is an error too: "never reached ... too weak"). Scenario 8:
/// 3 threads, preemption bound `S08_PREEMPTION_BOUND` (5).
#[test]
fn mutant_guard_clears_bit() {
    caught_with(
        "GuardClearsBit",
        runs!(Frozen<GuardClearsBit>: s08_overflow_guard),
        "a get succeeded on a dead page",
    );
}

/// The overflow guard never runs: garbage grows past the guard's limit and
/// stays there (scenario 8 starts just below it and checks that the word is
/// back below it at quiescence). Scenario 8: 3 threads, preemption bound
/// `S08_PREEMPTION_BOUND` (5).
#[test]
fn mutant_skip_overflow_guard() {
    caught_with(
        "SkipOverflowGuard",
        runs!(Frozen<SkipOverflowGuard>: s08_overflow_guard),
        "at quiescence the dead word is not back below its overflow limit",
    );
}

/// rcuref's last put without the acquire fence after its release CAS: the
/// freer does not synchronise with the other holders' puts, and loom
/// reports a holder's read racing with the free. Scenario 2 (3 threads)
/// and 10 (2 threads), no preemption bound.
#[test]
fn mutant_rcuref_no_fence() {
    caught_with(
        "RcuRefNoFence",
        runs!(RcuRef<LoomWord, RcuRefNoFence>: s02_put_vs_put, s10_publish_lookup_ordering),
        "Causality violation",
    );
}

/// file_ref's failed get resets its garbage with a plain store of `DEAD`,
/// as rcuref does: a stale getter's store kills the re-allocated page
/// (the reason file_ref's own comment gives for not resetting): nobody
/// frees incarnation 2, a leak. Scenario 5: 2 threads, no preemption bound.
#[test]
fn mutant_fileref_resets_garbage() {
    caught_with(
        "FileRefResetsGarbage",
        runs!(FileRef<LoomWord64, FileRefResetsGarbage>: s05_reuse_spurious_get),
        "frees per incarnation: [1, 0] (0 = leak)",
    );
}

/// The void put `Relaxed` instead of `Release`: T1's read of the page need
/// not happen before T0's free, and loom reports the race. Scenario 2b:
/// 2 threads, no preemption bound (exhaustive).
#[test]
fn mutant_void_put_relaxed() {
    caught_with(
        "VoidPutRelaxed",
        runs!(Frozen<VoidPutRelaxed>: s02b_void_put_then_last_put),
        "Causality violation",
    );
}

/// `sub_return` `Acquire` instead of `AcqRel`: as the void put, for the
/// value-returning put. Scenario 2c: 2 threads, no preemption bound
/// (exhaustive).
#[test]
fn mutant_sub_return_no_release() {
    caught_with(
        "SubReturnNoRelease",
        runs!(Frozen<SubReturnNoRelease>: s02c_value_returning_then_last_put),
        "Causality violation",
    );
}

/// `count()` without its dead test (upstream's `page_ref_count()` left
/// unchanged): T2 reads the freed word's bit as a count, which scenario 11's
/// own check reports as garbage. Every scenario's final check also sees the
/// garbage count, so the search sets those executions aside and looks for
/// T2's report. Scenario 11: 3 threads, preemption bound 5
/// (`BOUND_3_THREADS_LARGE`).
#[test]
fn mutant_count_shows_garbage() {
    let r = search_for(
        |m| m.contains(": garbage"),
        s11_count_never_garbage::<Frozen<CountShowsGarbage>>,
    );
    let f = r.expect_err("planted bug CountShowsGarbage: scenario 11's garbage check never fired");
    println!("CountShowsGarbage: CAUGHT by s11_count_never_garbage\n{f}");
    assert!(
        f.message.contains("count() reported 0x80000000: garbage"),
        "planted bug CountShowsGarbage: {}",
        f.message
    );
}

/// A failed try_get undoes its add with a plain decrement (the RFC's shape):
/// sequentially indistinguishable, caught only by a getter racing unfreeze:
/// the count reads 0 while the owner holds its reference. Scenario 4:
/// 3 threads, no preemption bound.
#[test]
fn mutant_undo_by_decrement() {
    caught_with(
        "UndoByDecrement",
        runs!(Frozen<UndoByDecrement>: s04_get_vs_unfreeze),
        "1 references held but the counter says count 0",
    );
}

/// freeze stores a plain 0: a getter succeeds on the frozen page, and the
/// owner's unfreeze then finds a live counter (the core crate's misuse
/// check). Scenario 3: 2 threads, no preemption bound.
#[test]
fn mutant_freeze_stores_zero() {
    caught_with(
        "FreezeStoresZero",
        runs!(Frozen<FreezeStoresZero>: s03_get_vs_freeze),
        "unfreeze of a live counter",
    );
}

/// Classic add-unless-zero done as one unconditional fetch_add: a failed
/// get on the dead page leaves it at count 1. Scenario 6 (2 threads) and 1
/// (3 threads), no preemption bound.
#[test]
fn mutant_classic_fetch_add() {
    caught_with(
        "ClassicFetchAdd",
        runs!(ClassicRef<LoomWord, ClassicFetchAdd>: s06_request_b, s01_get_vs_last_put),
        "all references dropped but the counter is not frozen/0 (raw 0x00000001, count 1)",
    );
}

/// The final CAS relaxed, as posted (scenario 10): loom must report the
/// reviving reader's access racing with the free. Scenario 10: 2 threads,
/// no preemption bound.
#[test]
fn mutant_relaxed_final_cas() {
    caught_with(
        "RelaxedFinal",
        runs!(Frozen<RelaxedFinal>: s10_publish_lookup_ordering),
        "Causality violation",
    );
}

/// Optimistic CAS: after a failed guess, retries with the value returned
/// without checking it for 0, reviving a dead counter, which is then freed
/// twice. Scenario 6 (2 threads) and 1 (3 threads), no preemption bound.
#[test]
fn mutant_optimistic_skip_zero_check() {
    caught_with(
        "OptimisticSkipZeroCheck",
        runs!(OptimisticRef<LoomWord, OptimisticSkipZeroCheck>: s06_request_b, s01_get_vs_last_put),
        "double free of incarnation 1",
    );
}

/// Sticky counter: a decrementer that lost its CAS to a helping count()
/// ignores the help flag: nobody frees (a leak). Scenario 13 and 11,
/// 3 threads; no preemption bound for 13, 5 for 11.
#[test]
fn mutant_sticky_ignores_help() {
    caught_with(
        "StickyIgnoresHelp",
        runs!(StickyRef<LoomWord, StickyIgnoresHelp>: s13_zero_is_final, s11_count_never_garbage),
        "frees per incarnation: [0] (0 = leak)",
    );
}

/// Sticky counter: count() reports 0 without checking that its helping CAS
/// succeeded: a reported 0 is followed by a successful get. Scenario 13:
/// 3 threads, no preemption bound.
#[test]
fn mutant_sticky_unchecked_help() {
    caught_with(
        "StickyUncheckedHelp",
        runs!(StickyRef<LoomWord, StickyUncheckedHelp>: s13_zero_is_final),
        "count() returned 0, then a try_get succeeded",
    );
}

/// Sticky counter: the help flag claimed by an exchange to ZERO (as in the
/// paper): a stalled claimant overwrites the re-allocated page's count,
/// and nobody frees incarnation 2. Scenario 7: 3 threads, no preemption
/// bound.
#[test]
fn mutant_sticky_claim_by_swap() {
    caught_with(
        "StickyClaimBySwap",
        runs!(StickyRef<LoomWord, StickyClaimBySwap>: s07_different_zeros),
        "frees per incarnation: [1, 0] (0 = leak)",
    );
}

/// Low bit: try_get adds nr unshifted, flipping the dead bit: a failed get
/// leaves the dead page at count 1. Scenario 6 (2 threads) and 1
/// (3 threads), no preemption bound.
#[test]
fn mutant_lowbit_odd_increment() {
    caught_with(
        "LowBitOddIncrement",
        runs!(LowBitRef<LoomWord, LowBitOddIncrement>: s06_request_b, s01_get_vs_last_put),
        "all references dropped but the counter is not frozen/0 (raw 0x00000002, count 1)",
    );
}

/// Low bit: the last put reports true at 0 without the 0 -> 1 CAS: a getter
/// revives the freed page and its read races with the free. Scenario 1:
/// 3 threads, no preemption bound.
#[test]
fn mutant_lowbit_skip_final_cas() {
    caught_with(
        "LowBitSkipFinalCas",
        runs!(LowBitRef<LoomWord, SkipFinalCas>: s01_get_vs_last_put),
        "Causality violation",
    );
}

/// Every scheme with the posted relaxed final CAS, where it has one: the
/// reviving reader's access races with the free (scenario 10: 2 threads,
/// no preemption bound).
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
        caught_with(
            name,
            &[("s10_publish_lookup_ordering", run)],
            "Causality violation",
        );
    }
}

/// Every planted bug against every loom scenario, printed as a matrix for
/// docs/verification.md (`caught` / `passes`). Scenario 13 only where the
/// scheme promises it (`PageRef::ZERO_IS_FINAL`). Not part of CI (it runs
/// the passing models of each mutant in full, about 4 minutes on the 2-vCPU AMD EPYC development VM):
/// `cargo test -p pageref-model --test loom -- --ignored --nocapture mutant_matrix`.
/// Bounds: those of each scenario (2-3 threads; no preemption bound, but 5
/// for s08 and s11, 4 for rcuref's s08).
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
    row::<Frozen<VoidPutRelaxed>>("VoidPutRelaxed");
    row::<Frozen<SubReturnNoRelease>>("SubReturnNoRelease");
    row::<Frozen<CountShowsGarbage>>("CountShowsGarbage");
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
