//! loom models of the shipped `pageref::sync::{Arc, Weak}`: the very code
//! that users link, instantiated with loom's atomics through its hidden
//! second type parameter (`Arc<T, Words>`; `pageref` feature `loom`).
//!
//! Every model checks, in every explored execution:
//!
//! * the value is dropped exactly once: it counts its drops (checked after
//!   the threads are joined), and its destructor asserts that the value was
//!   still alive (a second drop fails);
//! * never while held: every holder reads the value's contents, a
//!   `loom::cell::UnsafeCell`, which the destructor writes, so a read after
//!   the drop sees the dropped marker and a read concurrent with it is a
//!   data race that loom reports;
//! * the memory is freed exactly once: `LoomWords` keeps every allocation
//!   in quarantine (its memory is never reused during a run, so a buggy use
//!   after free reads intact memory and is reported, not performed), panics
//!   on a second free, and counts the allocations not freed, which must be
//!   none at the end of each execution (a leak fails the model).
//!
//! Bounds: no preemption bound (every interleaving loom's C11 model has,
//! including loads of older values). Two model threads (the body and one
//! spawned thread) in six models, three in `two_upgrades_vs_last_drop` and
//! `into_inner_three_ways`. The models that can revive a last drop's
//! transient 0 assert that some execution did. Executions and run times on
//! the 2-vCPU AMD EPYC development VM (test profile, optimised), from `--nocapture`:
//!
//! | model | threads | executions | time |
//! |---|---|---|---|
//! | `upgrade_vs_last_drop` | 2 | 32 | 1 ms |
//! | `two_upgrades_vs_last_drop` | 3 | 39 875 | 3.7 s |
//! | `upgrade_vs_try_unwrap` | 2 | 19 | 1 ms |
//! | `upgrade_vs_into_inner` | 2 | 26 | 1 ms |
//! | `into_inner_three_ways` | 3 | 9 628 | 1.0 s |
//! | `make_mut_with_live_weak` | 2 | 43 | 40 ms |
//! | `get_mut_vs_weak_count` | 2 | 54 | 2 ms |
//! | `new_cyclic_vs_upgrade` | 2 | 60 | 14 ms |
//!
//! The whole binary, planted bugs included, runs in ~5 s (plus its build).
//!
//! Layout: `checked.rs` (the checking atomic and the loom runner),
//! `models.rs` (the checked value and the eight models), `planted.rs` (the
//! planted bugs); the passing models' tests are here.
//!
//! The planted bugs (`pageref::sync::mutants`, feature `mutants`) each make
//! at least one model fail; the tests `planted_*` (`planted.rs`) assert
//! that, with the failure each bug causes, and print it.

mod checked;
mod models;
mod planted;

use checked::{Failed, Passed, Words};
use models::*;

type Model = fn() -> Result<Passed, Failed>;

/// Runs a model that must pass; prints its statistics.
fn pass(name: &str, m: Model) -> Passed {
    match m() {
        Ok(p) => {
            println!(
                "{name}: verified, {} executions ({} discarded as infeasible, {} with a revived 0) in {:.2?}",
                p.executions, p.discarded, p.revivals, p.elapsed
            );
            p
        }
        Err(f) => panic!("{name}: {f}"),
    }
}

/// [`upgrade_vs_last_drop`] passes and revives a transient 0. 2 threads,
/// no preemption bound (exhaustive).
#[test]
fn model_upgrade_vs_last_drop() {
    let p = pass("upgrade_vs_last_drop", upgrade_vs_last_drop::<Words>);
    assert!(p.revivals > 0, "the model never revived a transient 0");
}

/// [`two_upgrades_vs_last_drop`] passes and revives a transient 0.
/// 3 threads, no preemption bound (exhaustive).
#[test]
fn model_two_upgrades_vs_last_drop() {
    let p = pass(
        "two_upgrades_vs_last_drop",
        two_upgrades_vs_last_drop::<Words>,
    );
    assert!(p.revivals > 0, "the model never revived a transient 0");
}

/// [`upgrade_vs_try_unwrap`] passes. 2 threads, no preemption bound
/// (exhaustive).
#[test]
fn model_upgrade_vs_try_unwrap() {
    pass("upgrade_vs_try_unwrap", upgrade_vs_try_unwrap::<Words>);
}

/// [`upgrade_vs_into_inner`] passes. 2 threads, no preemption bound
/// (exhaustive).
#[test]
fn model_upgrade_vs_into_inner() {
    pass("upgrade_vs_into_inner", upgrade_vs_into_inner::<Words>);
}

/// [`into_inner_three_ways`] passes and revives a transient 0. 3 threads,
/// no preemption bound (exhaustive).
#[test]
fn model_into_inner_three_ways() {
    let p = pass("into_inner_three_ways", into_inner_three_ways::<Words>);
    assert!(p.revivals > 0, "the model never revived a transient 0");
}

/// [`make_mut_with_live_weak`] passes. 2 threads, no preemption bound
/// (exhaustive).
#[test]
fn model_make_mut_with_live_weak() {
    pass("make_mut_with_live_weak", make_mut_with_live_weak::<Words>);
}

/// [`get_mut_vs_weak_count`] passes. 2 threads, no preemption bound
/// (exhaustive).
#[test]
fn model_get_mut_vs_weak_count() {
    pass("get_mut_vs_weak_count", get_mut_vs_weak_count::<Words>);
}

/// [`new_cyclic_vs_upgrade`] passes. 2 threads, no preemption bound
/// (exhaustive).
#[test]
fn model_new_cyclic_vs_upgrade() {
    pass("new_cyclic_vs_upgrade", new_cyclic_vs_upgrade::<Words>);
}
