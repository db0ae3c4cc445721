//! Which of a scheme's failures can shuttle show at all? Shuttle runs every
//! atomic operation sequentially consistently: a failure that is only a
//! data race under C11 (an ordering too weak) cannot appear in its
//! histories. This asks loom, on the same shipped code, whether a listed
//! scenario has a counterexample that is *not* a data race.

use pageref_model::loom_harness::{search_for, Failed, LoomWord, Passed};

use crate::{ordering, overflow, scenarios};

/// loom's message for a data race on the page contents.
const RACE: &str = "Causality violation";

/// The loom model of scenario `id` ("s05", "s02b": the registry's ids) for
/// scheme type `R`.
macro_rules! model_of {
    ($id:expr, $ty:ty) => {
        match $id {
            "s01" => scenarios::s01_get_vs_last_put::<$ty>(),
            "s02" => scenarios::s02_put_vs_put::<$ty>(),
            "s02b" => ordering::s02b_void_put_then_last_put::<$ty>(),
            "s02c" => ordering::s02c_value_returning_then_last_put::<$ty>(),
            "s03" => scenarios::s03_get_vs_freeze::<$ty>(),
            "s04" => scenarios::s04_get_vs_unfreeze::<$ty>(),
            "s05" => scenarios::s05_reuse_spurious_get::<$ty>(),
            "s06" => scenarios::s06_request_b::<$ty>(),
            "s07" => scenarios::s07_different_zeros::<$ty>(),
            "s08" => overflow::s08_overflow_guard::<$ty>(),
            "s09" => scenarios::s09_seed::<$ty>(),
            "s10" => ordering::s10_publish_lookup_ordering::<$ty>(),
            "s11" => scenarios::s11_count_never_garbage::<$ty>(),
            "s13" => scenarios::s13_zero_is_final::<$ty>(),
            other => panic!("no loom model for scenario {other}"),
        }
    };
}

/// For every scheme that fails some scenario, the function that runs a
/// scenario's loom model searching only for failures that are not data
/// races (generated from the registry, for the failing schemes only).
macro_rules! sc_models {
    ([] $($id:ident $name:literal ($ty:ty) { fails: [$($f:literal),*] $($rest:tt)* })*) => {
        fn non_race_failure(name: &str, id: &str) -> Result<Passed, Failed> {
            $(sc_models!(@one name id $name ($ty) [$($f),*]);)*
            panic!("{name} does not list {id}")
        }
    };
    (@one $n:ident $i:ident $name:literal ($ty:ty) []) => {};
    (@one $n:ident $i:ident $name:literal ($ty:ty) [$($f:literal),+]) => {
        if $n == $name {
            return search_for(|m| !m.contains(RACE), || model_of!($i, $ty));
        }
    };
}
// (The 64-bit word only types fileref, which fails nothing.)
pageref::for_each_scheme!(sc_models, LoomWord, pageref_model::loom_harness::LoomWord64);

/// Whether loom finds, in the model of scenario `id`, a failure of scheme
/// `name` that is not a data race (one sequential consistency can show).
pub(crate) fn shows_under_sc(name: &str, id: &str) -> bool {
    match non_race_failure(name, id) {
        Ok(p) => {
            println!(
                "{id} on {name}: every failing execution of the loom model is a data race \
                 ({} of {} executions), which sequential consistency cannot show",
                p.other_failures, p.executions
            );
            assert!(
                p.other_failures > 0,
                "{id} on {name}: loom found no failure at all"
            );
            false
        }
        Err(f) => {
            println!(
                "{id} on {name}: loom shows a failure that is not a data race: {}",
                f.message
            );
            true
        }
    }
}
