//! loom models of the shipped `pageref` code: every applicable scenario of
//! the race catalogue (BRIEF §5) on every scheme, and every planted bug
//! caught by at least one of them.
//!
//! Test names: `sNN_<scenario>::<scheme>` (must pass) and
//! `mutant_<bug>` (a planted bug that must make a model fail; its
//! counterexample is printed). Run with `--nocapture` to see execution
//! counts, run times and the counterexample tables.

mod scenarios;

use pageref::{GUARD_LIMIT, MAX_NR};
pub use pageref_model::loom_harness::LoomWord;
use pageref_model::loom_harness::{check, spawn, Failed, LoomPage, Passed};
use pageref_model::trace;

/// Every scheme under loom, as `(test name, type, revives)`: `revives` says
/// whether a getter can revive a transient zero (so the scenario 7 and 9
/// interleavings exist and their coverage is asserted). Adding a scheme is
/// one line here.
macro_rules! for_each_scheme {
    ($m:ident, $($args:tt)*) => {
        $m!(frozen, pageref::FrozenRef<$crate::LoomWord>, true, $($args)*);
        $m!(classic, pageref::ClassicRef<$crate::LoomWord>, false, $($args)*);
    };
}

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

macro_rules! scenario_for_scheme {
    ($scheme:ident, $ty:ty, $revives:expr, $scenario:ident) => {
        #[test]
        fn $scheme() {
            let what = concat!(stringify!($scenario), " on ", stringify!($scheme));
            super::pass(what, super::scenarios::$scenario::<$ty>());
        }
    };
    ($scheme:ident, $ty:ty, $revives:expr, $scenario:ident, $key:ident) => {
        #[test]
        fn $scheme() {
            let what = concat!(stringify!($scenario), " on ", stringify!($scheme));
            let p = super::pass(what, super::scenarios::$scenario::<$ty>());
            if $revives {
                assert!(
                    p.hits(super::scenarios::$key) > 0,
                    "{what}: the model never reached '{}': it is too weak",
                    super::scenarios::$key
                );
            }
        }
    };
}

/// One test module per scenario, one test per scheme; `covers KEY` also
/// asserts that the interesting interleaving was explored (on schemes that
/// can revive a transient zero).
macro_rules! scenario {
    ($scenario:ident) => {
        mod $scenario {
            for_each_scheme!(scenario_for_scheme, $scenario);
        }
    };
    ($scenario:ident, covers $key:ident) => {
        mod $scenario {
            for_each_scheme!(scenario_for_scheme, $scenario, $key);
        }
    };
}

// After the macros, so that it can use them.
mod mutants;

scenario!(s01_get_vs_last_put);
scenario!(s02_put_vs_put);
scenario!(s03_get_vs_freeze);
scenario!(s04_get_vs_unfreeze);
scenario!(s05_reuse_spurious_get, covers SPURIOUS);
scenario!(s06_request_b);
scenario!(s07_different_zeros, covers DIFFERENT_ZEROS);
scenario!(s09_seed, covers SEED_INTERLEAVING);
scenario!(s10_publish_lookup_ordering, covers REVIVED_READ);
scenario!(s11_count_never_garbage);

/// The frozen-bit scheme with policy `P` on loom.
pub type Frozen<P> = pageref::FrozenRef<LoomWord, P>;

/// Scenario 8, many failed gets with a large `nr` on a frozen page (frozen
/// bit only). Real states cannot get near the overflow guard within loom's
/// bounds, so the page starts frozen with garbage just below
/// [`GUARD_LIMIT`] (`FrozenRef::from_raw`, feature `mutants`). T0, T1 and
/// T2 each `add_unless_frozen(1024)` (a GUP pin), which must fail; at least
/// one of them crosses the limit and runs the guard, racing the others'
/// adds. Every get fails, every `count()` is 0, every value ever written
/// keeps the frozen bit, the garbage stays bounded, and the guard
/// terminates (loom would report a livelock as too many branches).
/// 3 threads, preemption bound 2.
pub fn s08_overflow_guard<P: pageref::Policy>() -> Result<Passed, Failed> {
    check(scenarios::BOUND_3_THREADS, || {
        // SAFETY: a frozen value with garbage, as failed gets leave it.
        let rc = unsafe { Frozen::<P>::from_raw(GUARD_LIMIT - 1) };
        let p = loom::sync::Arc::new(LoomPage::new_free(rc));
        let getter = |p: &LoomPage<Frozen<P>>| {
            assert!(!p.get(1024), "a get succeeded on a frozen page");
            let c = pageref::PageRef::count(&p.rc);
            assert_eq!(c, 0, "count() of a frozen page reported {c:#x}");
        };
        let others: Vec<_> = (1..=2)
            .map(|i| {
                let p = p.clone();
                spawn(i, move || getter(&p))
            })
            .collect();
        getter(&p);
        for t in others {
            t.join().unwrap();
        }
        for (t, op, before, after) in trace::writes(&trace::snapshot()) {
            assert!(
                after & pageref::FROZEN_BIT != 0,
                "T{t}: {op} cleared the frozen bit: {before:#010x} -> {after:#010x}"
            );
        }
        let raw = pageref::PageRef::raw(&p.rc);
        assert!(
            raw & pageref::FROZEN_BIT != 0 && raw < GUARD_LIMIT + 3 * MAX_NR,
            "garbage not bounded by the guard: {raw:#010x}"
        );
    })
}

mod s08_overflow_guard {
    #[test]
    fn frozen() {
        super::pass(
            "s08_overflow_guard on frozen",
            super::s08_overflow_guard::<pageref::AcquireFinal>(),
        );
    }
}
