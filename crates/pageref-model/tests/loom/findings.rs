//! The mechanisms behind rcuref's failures, each shown on its own.
//!
//! rcuref's get is a *relaxed* `fetch_add` (the kernel's
//! `atomic_add_negative_relaxed`, which assumes RCU keeps the object
//! stable). In scenarios 3, 4 and 5 loom therefore first reports a
//! successful getter's read of the page racing with the owner's or the
//! allocator's write: the get acquires nothing. These tests run scenarios 4
//! and 5 with getters that do not read the page, so that the count's own
//! logic is checked, and show that it fails too: rcuref's slow path
//! re-reads the word after a failed add, and acts on what it reads then.
//! The control: the frozen bit passes the same models.

use pageref::{FrozenRef, RcuRef};
use pageref_model::loom_harness::{search_for, Failed, LoomWord, Passed};

use crate::scenarios::{s04_counts_only, s05_counts_only};

fn must_fail(what: &str, r: Result<Passed, Failed>, expect: &str) {
    match r {
        Ok(p) => panic!(
            "{what}: expected a counterexample, loom verified {} executions",
            p.executions
        ),
        Err(f) => {
            assert!(f.message.contains(expect), "{what}: {}", f.message);
            println!("{what}: FAILS\n{f}");
        }
    }
}

/// Scenario 4, counts only: a failed getter's slow path read the frozen
/// word before the unfreeze and stores `DEAD` after it: the unfrozen page,
/// which its owner holds, is dead again (the owner's reference reads as
/// count 0). 3 threads, no preemption bound; the counterexample within the
/// first few executions; the frozen bit passes all 3 204 (0.3 s on the 2-vCPU AMD EPYC development VM).
#[test]
fn rcuref_s04_dead_zone_store_kills_the_unfrozen_page() {
    must_fail(
        "s04 (counts only) on rcuref",
        s04_counts_only::<RcuRef<LoomWord>>(),
        "a lost or phantom increment",
    );
    crate::pass(
        "s04 (counts only) on frozen",
        s04_counts_only::<FrozenRef<LoomWord>>(),
    );
}

/// Scenario 4, counts only, the other mechanism: a getter whose add lands
/// on the frozen word re-reads it *after* the unfreeze, finds it live and
/// reports success, although the unfreeze's store wiped its increment; its
/// put then drops the owner's reference and frees a page the owner still
/// holds (the failure the core crate's threaded freeze storm showed). The
/// search skips the counterexamples of the dead-zone store above. Same
/// bound; the whole model (about 3 000 executions).
#[test]
fn rcuref_s04_get_reports_a_wiped_increment_and_frees_a_held_page() {
    let r = search_for(
        |m| m.contains("while 1 reference(s) are held"),
        s04_counts_only::<RcuRef<LoomWord>>,
    );
    must_fail(
        "s04 (counts only) on rcuref, wiped increment",
        r,
        "while 1 reference(s) are held",
    );
}

/// Scenario 5, counts only: a stale getter's add lands on the dead word of
/// incarnation 1; before its slow path stores `DEAD` back, the page is
/// re-allocated; the store marks incarnation 2 dead behind its owner's
/// back, whose put then finds a frozen counter. 2 threads, no preemption
/// bound; a few hundred executions.
#[test]
fn rcuref_s05_dead_zone_store_kills_the_new_incarnation() {
    must_fail(
        "s05 (counts only) on rcuref",
        s05_counts_only::<RcuRef<LoomWord>>(),
        "(0 = leak)",
    );
    crate::pass(
        "s05 (counts only) on frozen",
        s05_counts_only::<FrozenRef<LoomWord>>(),
    );
}
