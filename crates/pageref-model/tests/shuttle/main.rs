//! shuttle (randomized PCT scheduling) on the shipped code: 7 model threads
//! and long histories — publish, lookups, GUP-sized pins, a PFN walker,
//! removal, freeing, re-allocation and reuse, migration (freeze/unfreeze),
//! and overflow-guard traffic — for every scheme of the registry
//! (`pageref::for_each_scheme!`), plus planted bugs that the histories must
//! catch.
//!
//! Shuttle is sequentially consistent (no weak-memory effects; loom covers
//! those) and samples schedules instead of enumerating them; PCT
//! (Burckhardt et al., ASPLOS 2010) gives every bug of depth `d` a known
//! lower bound on its probability per run. The seed is fixed, so CI runs are
//! reproducible. Every execution checks the page's shadow properties (see
//! `pageref_model::page`) at every step.
//!
//! The expected verdict comes from the registry. A history exercises the
//! scenarios of `docs/races.md` but scenario 8 (`history`), or all of them
//! (`history_near_limit`). A scheme that fails none of them must pass. A
//! scheme that fails one must fail the history, with the message that
//! `EXPECTED_FAILURES` gives for it, unless each of its failures
//! there is a data race, which shuttle cannot show: loom is then asked
//! (`sc.rs`) and must confirm that every counterexample of those scenarios
//! is a data race.

#[path = "../common/near_limit.rs"]
mod near_limit;
// The loom models, for `sc.rs`.
#[allow(dead_code)]
#[path = "../loom/ordering.rs"]
mod ordering;
#[allow(dead_code)]
#[path = "../loom/overflow.rs"]
mod overflow;
#[allow(dead_code)]
#[path = "../loom/scenarios.rs"]
mod scenarios;

mod history;
mod mutants;
mod sc;

use pageref_model::shuttle_harness::{check_pct, ShuttleWord, ShuttleWord64};

use history::history;
use near_limit::NearLimit;

/// PCT depth: bugs needing up to this many forced preemptions are found
/// with probability at least `1 / (n * k^(depth-1))` per run.
const DEPTH: usize = 3;
/// Runs per scheme and history. Sized for CI (see docs/verification.md).
const ITERATIONS: usize = 20_000;
/// Fixed seed: CI runs are reproducible.
const SEED: u64 = 0x5eed_0f9a_6e00;

type W = ShuttleWord;
type W64 = ShuttleWord64;

/// The scenarios a history exercises: every one but scenario 8, which needs
/// the near-limit start.
fn exercised(id: &str, near_limit: bool) -> bool {
    near_limit || id != "s08"
}

thread_local! {
    /// Limit events seen in this test's runs: coverage of the near-limit
    /// histories. Shuttle runs every model thread on the test's OS thread,
    /// so a `std` thread-local is per test.
    static LIMIT_EVENTS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The failures that shuttle's histories show for the schemes the registry
/// lists as failing: (scheme, near-limit history?, a substring of the
/// failure message). A listed scheme whose history fails must fail with
/// its message, so that a failure of another kind cannot pass as the
/// registry's finding. (frozen-posted's failures are data races, which
/// shuttle cannot show: its histories pass and `sc.rs` asks loom.)
const EXPECTED_FAILURES: &[(&str, bool, &str)] = &[
    // A get whose add lands on the frozen word, or a failed get's DEAD
    // store, leaves a put facing a dead word (s04, s05).
    ("rcuref", false, "sub_and_test: put on a frozen counter"),
    // A failed get's DEAD store wipes a live count: a put finds 0.
    ("rcuref", true, "sub_and_test: count would drop below zero"),
    // Failed gets walk the dead word into live: a get revives it, and its
    // put frees the page the allocator holds (s08).
    (
        "fileref32",
        true,
        "free of incarnation 1 while 1 reference(s) are held",
    ),
];

/// Runs the history of scheme `name` (type `R`) and checks the verdict the
/// registry expects (see the module docs). Bounds: 7 threads, PCT depth
/// `DEPTH` (3), `ITERATIONS` (20 000) runs from the fixed `SEED`.
fn verdict<R: NearLimit>(name: &str, near_limit: bool) {
    let info = pageref::info(name).expect("a scheme of the registry");
    let listed: Vec<&str> = info
        .fails
        .iter()
        .copied()
        .filter(|id| exercised(id, near_limit))
        .collect();
    let what = format!(
        "{} on {name}",
        if near_limit {
            "near-limit history"
        } else {
            "history"
        }
    );
    LIMIT_EVENTS.with(|c| c.set(0));
    let body = move || {
        let n = history::<R>(near_limit);
        LIMIT_EVENTS.with(|c| c.set(c.get() + n));
    };
    match check_pct(SEED, DEPTH, ITERATIONS, body) {
        Ok((n, t)) => {
            let limit = LIMIT_EVENTS.with(|c| c.get());
            println!(
                "{what}: {n} PCT runs (depth {DEPTH}) passed in {t:.2?}; {limit} limit events"
            );
            assert_eq!(n, ITERATIONS as u64, "{what}: shuttle ran fewer executions");
            for id in &listed {
                assert!(
                    !sc::shows_under_sc(name, id),
                    "{what}: the registry lists {id}, loom shows it without a data race, \
                     but {ITERATIONS} PCT runs did not find it"
                );
            }
            if near_limit && listed.is_empty() && R::LIMIT_EVENTS {
                assert!(limit > 0, "{what}: the overflow limit was never reached");
            }
        }
        Err(f) if !listed.is_empty() => {
            let expect = EXPECTED_FAILURES
                .iter()
                .find(|(n, near, _)| *n == name && *near == near_limit)
                .map(|(_, _, m)| *m)
                .unwrap_or_else(|| {
                    panic!("{what}: failed, but EXPECTED_FAILURES has no message for it: {f}")
                });
            assert!(
                f.message.contains(expect),
                "{what}: the registry lists {listed:?}, whose failure here must contain \
                 {expect:?}; the history failed otherwise: {f}"
            );
            println!("{what}: FAILS, as the registry says ({name} fails {listed:?})\n{f}")
        }
        Err(f) => panic!("{what}: {f}"),
    }
}

/// Runs a history with a planted bug, which must fail with a message that
/// contains `expect` (the failure the bug causes; not any failure). PCT
/// depth `DEPTH` (3), at most `ITERATIONS` (20 000) runs from the fixed
/// `SEED`.
fn must_catch(what: &str, body: fn(), expect: &str) {
    match check_pct(SEED, DEPTH, ITERATIONS, body) {
        Ok(_) => panic!("{what}: planted bug not caught in {ITERATIONS} PCT runs"),
        Err(f) => {
            println!("{what}: CAUGHT\n{f}");
            assert!(
                f.message.contains(expect),
                "{what}: expected a failure containing {expect:?}, got: {f}"
            );
        }
    }
}

/// One test per scheme of the registry and history.
macro_rules! histories {
    ([] $($id:ident $name:literal ($ty:ty) $info:tt)*) => {
        /// 7 threads x 3 rounds, from a live published page. PCT depth 3,
        /// 20 000 runs per scheme.
        mod history_live {
            use super::*;
            $(
            /// The live history on this scheme: 7 threads x 3 rounds, PCT
            /// depth 3, 20 000 runs (fixed seed).
            #[test]
            fn $id() {
                verdict::<$ty>($name, false);
            })*
        }
        /// 7 threads x 3 rounds, from a free page with garbage just below
        /// the scheme's overflow limit. PCT depth 3, 20 000 runs per scheme.
        mod history_near_limit {
            use super::*;
            $(
            /// The near-limit history on this scheme: 7 threads x 3 rounds,
            /// PCT depth 3, 20 000 runs (fixed seed).
            #[test]
            fn $id() {
                verdict::<$ty>($name, true);
            })*
        }
    };
}
pageref::for_each_scheme!(histories, W, W64);
