//! loom models of the shipped `pageref` code: every scenario of the race
//! catalogue (`docs/races.md`) on every scheme of the registry
//! (`pageref::for_each_scheme!`), and every planted bug caught by at least
//! one of them.
//!
//! Test names: `sNN_<scenario>::<scheme>` and `mutant_<bug>`. The expected
//! verdict of `sNN_...::<scheme>` comes from the registry: a scheme whose
//! `fails` list has `sNN` must FAIL the model, with the message that
//! `EXPECTED_FAILURES` gives for it (the test asserts both and prints the
//! counterexample table); every other scheme must pass.
//! Scenario 13 (a `count()` of 0 is final) is expected to fail on the
//! schemes that do not promise it (`PageRef::ZERO_IS_FINAL`), and the
//! coverage of the subtle interleavings is asserted on the schemes whose
//! final put passes a transient zero (`PageRef::REVIVES_ZERO`). A planted
//! bug must make a model fail. Run with `--nocapture` to see execution
//! counts, run times and the counterexample tables.

mod lkmm_counterparts;
#[path = "../common/near_limit.rs"]
mod near_limit;
mod ordering;
mod overflow;
mod scenarios;

use pageref::PageRef;
use pageref_model::loom_harness::{Failed, Passed};
pub use pageref_model::loom_harness::{LoomWord, LoomWord64};

/// Runs a model that must pass; prints its statistics.
pub fn pass(what: &str, r: Result<Passed, Failed>) -> Passed {
    match r {
        Ok(p) => {
            println!(
                "{what}: verified, {} executions ({} discarded as infeasible) in {:.2?}",
                p.executions, p.discarded, p.elapsed
            );
            p
        }
        Err(f) => panic!("{what}: {f}"),
    }
}

/// loom's message for a data race on the page contents.
const RACE: &str = "Causality violation";

/// Every failure the registry lists (`fails`), with what the model must
/// report: (scheme, scenario, a substring of the failure message). A listed
/// failure must fail with its message, so that a model failing for another
/// reason does not pass as the registry's finding.
const EXPECTED_FAILURES: &[(&str, &str, &str)] = &[
    // The relaxed final CAS reads a reviver's zero without synchronising
    // with it: the reviver's page access races with the free.
    ("frozen-posted", "s01", RACE),
    ("frozen-posted", "s03", RACE),
    ("frozen-posted", "s05", RACE),
    ("frozen-posted", "s07", RACE),
    ("frozen-posted", "s09", RACE),
    ("frozen-posted", "s10", RACE),
    // rcuref's get is relaxed: a getter that takes the page from a freezer
    // (s03, s04) or an allocator (s05) reads it unsynchronised with their
    // writes.
    ("rcuref", "s03", RACE),
    ("rcuref", "s04", RACE),
    ("rcuref", "s05", RACE),
    // No garbage reset on a 32-bit word: failed gets wrap it into live (the
    // core crate's check).
    ("fileref32", "s08", "dead word wrapped around into live"),
];

/// The message the registry's failure `id` of scheme `name` must produce.
fn expected_failure(name: &str, id: &str) -> &'static str {
    EXPECTED_FAILURES
        .iter()
        .find(|(n, s, _)| *n == name && *s == id)
        .map(|(_, _, m)| *m)
        .unwrap_or_else(|| {
            panic!("the registry lists {id} for {name}: add its message to EXPECTED_FAILURES")
        })
}

/// The scenario id of a model's name: `s02b_void_put_then_last_put` ->
/// `s02b`.
fn scenario_id(test: &str) -> &str {
    test.split('_').next().unwrap_or(test)
}

/// Every entry of [`EXPECTED_FAILURES`] is a failure the registry lists (an
/// entry the registry dropped would never be checked).
#[test]
fn expected_failures_are_listed() {
    for (name, id, _) in EXPECTED_FAILURES {
        let info = pageref::info(name).expect("a scheme of the registry");
        assert!(info.fails(id), "{name} does not list {id}");
    }
    for info in pageref::SCHEMES {
        for id in info.fails {
            expected_failure(info.name, id);
        }
    }
}

/// The expected verdict of model `test` (named `sNN_...`) on the registry's
/// scheme `name` (type `R`), checked against the result `r`; `key` is the
/// coverage key the model must reach when it passes on a scheme that
/// revives a transient zero.
pub fn verdict<R: PageRef>(name: &str, test: &str, r: Result<Passed, Failed>, key: Option<&str>) {
    let id = scenario_id(test);
    let info = pageref::info(name).expect("a scheme of the registry");
    let listed = info.fails(id);
    let not_promised = id == "s13" && !R::ZERO_IS_FINAL;
    let what = format!("{test} on {name}");
    match r {
        Ok(p) if !listed && !not_promised => {
            let p = pass(&what, Ok(p));
            if let (true, Some(key)) = (R::REVIVES_ZERO, key) {
                assert!(
                    p.hits(key) > 0,
                    "{what}: the model never reached '{key}': it is too weak"
                );
            }
        }
        Ok(p) => panic!(
            "{what}: expected to FAIL ({}), but loom verified {} executions: \
             correct the registry's `fails` list or the model",
            if listed {
                format!("the registry lists {id} for {name}")
            } else {
                "a count() of 0 is not final on this scheme".to_string()
            },
            p.executions
        ),
        Err(f) if listed => {
            let expect = expected_failure(name, id);
            assert!(
                f.message.contains(expect),
                "{what}: the registry lists {id}, whose failure must contain {expect:?}; \
                 the model failed otherwise: {f}"
            );
            println!("{what}: FAILS, as the registry says ({name} fails {id})\n{f}")
        }
        Err(f) if not_promised => {
            assert!(
                f.message
                    .contains("count() returned 0, then a try_get succeeded"),
                "{what}: {}",
                f.message
            );
            println!("{what}: as documented, a transient-zero count() is not final\n{f}");
        }
        Err(f) => panic!("{what}: {f}"),
    }
}

/// One test module per scenario, one test per scheme of the registry.
macro_rules! scenario_tests {
    ([$m:ident $f:ident $key:tt]
     $($id:ident $name:literal ($ty:ty) $info:tt)*) => {
        mod $f {
            use super::*;
            $(
                #[test]
                fn $id() {
                    verdict::<$ty>(
                        $name,
                        stringify!($f),
                        $m::$f::<$ty>(),
                        $key,
                    );
                }
            )*
        }
    };
}

/// `scenario!(module::function)` runs the model on every scheme;
/// `covers KEY` also asserts that the interesting interleaving `KEY` was
/// explored (on the schemes that revive a transient zero). Scenario 8
/// asserts its own coverage (`NearLimit::LIMIT_EVENTS`).
macro_rules! scenario {
    ($module:ident :: $f:ident) => {
        pageref::for_each_scheme!(scenario_tests, LoomWord, LoomWord64, $module $f (None));
    };
    ($module:ident :: $f:ident, covers $key:ident) => {
        pageref::for_each_scheme!(
            scenario_tests,
            LoomWord,
            LoomWord64,
            $module $f (Some($module::$key))
        );
    };
}

/// The frozen-bit scheme with policy `P` on loom (planted bugs).
pub type Frozen<P> = pageref::FrozenRef<LoomWord, P>;

// After the macros, so that it can use them.
mod findings;
mod mutants;

scenario!(scenarios::s01_get_vs_last_put);
scenario!(scenarios::s02_put_vs_put);
scenario!(ordering::s02b_void_put_then_last_put);
scenario!(ordering::s02c_value_returning_then_last_put);
scenario!(scenarios::s03_get_vs_freeze);
scenario!(scenarios::s04_get_vs_unfreeze);
scenario!(scenarios::s05_reuse_spurious_get, covers SPURIOUS);
scenario!(scenarios::s06_request_b);
scenario!(scenarios::s07_different_zeros, covers DIFFERENT_ZEROS);
scenario!(overflow::s08_overflow_guard);
scenario!(scenarios::s09_seed, covers SEED_INTERLEAVING);
scenario!(ordering::s10_publish_lookup_ordering, covers REVIVED_READ);
scenario!(scenarios::s11_count_never_garbage);
scenario!(scenarios::s13_zero_is_final);
