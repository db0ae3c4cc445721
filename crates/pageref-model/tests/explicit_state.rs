//! The abstract explicit-state model (stateright): exhaustive search
//! (breadth-first, or depth-first with symmetry reduction) over every
//! interleaving of 3-4 threads on a 5-bit counter (4 count bits + the
//! frozen bit; guard at `FROZEN | 8`). This checks a model of the
//! frozen-bit and classic protocols, written from the protocol in
//! `docs/races.md`, NOT the shipped code (loom and shuttle do that); it
//! exists to reach the overflow guard and the wrap-around exhaustively. See
//! `pageref_model::abstract_model` for the properties.

use pageref_model::abstract_model::{Bug, Outcome, PageModel, Role, Scheme, Start, SOMETIMES};

fn model(scheme: Scheme, bug: Bug, start: Start, roles: Vec<Role>) -> PageModel {
    PageModel {
        scheme,
        bug,
        roles,
        start,
    }
}

/// An owner that migrates (freeze/unfreeze) then puts, a getter of 1 (two
/// rounds) and a getter of 2: 3 threads from a live page. Freed pages are
/// re-allocated once by their freer.
fn live(scheme: Scheme, bug: Bug) -> PageModel {
    model(
        scheme,
        bug,
        Start::Live,
        vec![
            Role::Owner { migrate: true },
            Role::Getter { nr: 1, rounds: 2 },
            Role::Getter { nr: 2, rounds: 1 },
        ],
    )
}

/// Two owners (count 2, both put, one migrates first), a getter of 1 (three
/// rounds) and a getter of 2 (two rounds): 4 threads from a live page.
fn live4(scheme: Scheme) -> PageModel {
    model(
        scheme,
        Bug::None,
        Start::Live,
        vec![
            Role::Owner { migrate: true },
            Role::Owner { migrate: false },
            Role::Getter { nr: 1, rounds: 3 },
            Role::Getter { nr: 2, rounds: 2 },
        ],
    )
}

/// Frozen bit, 4 threads from a live page with two owners.
#[test]
fn frozen_live_4_threads() {
    verified("frozen, live start, 4 threads", live4(Scheme::Frozen));
}

/// Classic, 4 threads from a live page with two owners.
#[test]
fn classic_live_4_threads() {
    verified("classic, live start, 4 threads", live4(Scheme::Classic));
}

/// A free page with garbage just below the guard: an allocator and three
/// getters pinning `nr` each (two rounds): 4 threads.
fn near_guard(bug: Bug, nr: u8) -> PageModel {
    model(
        Scheme::Frozen,
        bug,
        Start::NearGuard,
        vec![
            Role::Allocator,
            Role::Getter { nr, rounds: 2 },
            Role::Getter { nr, rounds: 2 },
            Role::Getter { nr, rounds: 2 },
        ],
    )
}

fn verified(what: &str, m: PageModel) -> Outcome {
    let o = m.check(false);
    println!(
        "{what}: {} states in {:.2?}; coverage reached: {:?}",
        o.states, o.elapsed, o.reached
    );
    if let Some((name, table)) = o.violations.first() {
        panic!("{what}: violates '{name}':\n{table}");
    }
    o
}

/// Checks a model that must be rejected, stopping at the first violations
/// found.
fn rejected(what: &str, m: PageModel) -> Outcome {
    let o = m.check(true);
    assert!(
        !o.violations.is_empty(),
        "{what}: the planted bug was not rejected ({} states)",
        o.states
    );
    println!("{what}: REJECTED ({} states, {:.2?})", o.states, o.elapsed);
    for (name, table) in &o.violations {
        println!("violates '{name}':\n{table}");
    }
    o
}

/// Checks a planted bug's model, which must violate `invariant`, the
/// property the bug breaks (not merely some property).
fn rejected_by(what: &str, m: PageModel, invariant: &str) -> Outcome {
    let o = rejected(what, m);
    assert!(
        o.violations.iter().any(|(n, _)| *n == invariant),
        "{what}: must violate '{invariant}'; violates {:?}",
        o.violations.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    o
}

/// Frozen bit, 3 threads from a live page: every property holds, and the
/// "different zeros" interleaving (a final CAS freeing the re-allocated
/// incarnation) is reached.
#[test]
fn frozen_live() {
    let o = verified("frozen, live start", live(Scheme::Frozen, Bug::None));
    assert!(
        o.reached.contains(&SOMETIMES[1]),
        "different zeros not reached"
    );
}

/// Frozen bit, 4 threads from a free page with garbage at `GUARD - 1`, pins
/// of 2 (at most 3 in flight: 6 < the 8 of headroom): the guard fires, the
/// bit is never cleared, nothing wraps, the allocator's page is freed once.
#[test]
fn frozen_near_guard() {
    let o = verified("frozen, near the guard, nr 2", near_guard(Bug::None, 2));
    assert!(o.reached.contains(&SOMETIMES[0]), "the guard never fired");
}

/// The guard's sizing condition, found by the model: with pins of 4, three
/// failed gets in flight add 12 > 8 of headroom before any guard CAS lands,
/// and the word wraps around into "live". (The real word keeps 2^30 of
/// headroom for pins of at most MAX_NR = 2^18: 2^12 = 4096 failed gets of
/// the largest `nr` in flight.) 4 threads from a free page near the guard.
#[test]
fn frozen_guard_headroom_is_needed() {
    let o = rejected("frozen, near the guard, nr 4", near_guard(Bug::None, 4));
    assert!(o
        .violations
        .iter()
        .any(|(n, _)| *n == "count() never reports garbage" || *n == "no holder after a free"));
}

/// Classic, 3 threads from a live page: every property holds.
#[test]
fn classic_live() {
    verified("classic, live start", live(Scheme::Classic, Bug::None));
}

/// Request (b): the final CAS stores plain 0, so a getter revives the
/// freed page and its put frees it again: a double free. 3 threads from a
/// live page.
#[test]
fn mutant_free_stores_zero() {
    rejected_by(
        "FreeStoresZero",
        live(Scheme::Frozen, Bug::FreeStoresZero),
        "at most one free per incarnation",
    );
}

/// The guard resets garbage to plain 0. 4 threads from a free page near
/// the guard.
#[test]
fn mutant_guard_clears_bit() {
    rejected_by(
        "GuardClearsBit",
        near_guard(Bug::GuardClearsBit, 2),
        "the frozen bit is cleared only by init/unfreeze",
    );
}

/// A failed get undoes its add with a decrement: after the owner's
/// unfreeze, the decrement takes away a reference the owner holds (loom's
/// s04: count 0 with 1 reference held). 3 threads from a live page.
#[test]
fn mutant_undo_by_decrement() {
    rejected_by(
        "UndoByDecrement",
        live(Scheme::Frozen, Bug::UndoByDecrement),
        "count() never reports garbage",
    );
}

/// freeze stores plain 0: a get succeeds on the frozen page, and the
/// owner's unfreeze finds a live counter (the core crate's misuse check, as
/// in loom's s03). 3 threads from a live page.
#[test]
fn mutant_freeze_stores_zero() {
    rejected_by(
        "FreezeStoresZero",
        live(Scheme::Frozen, Bug::FreezeStoresZero),
        "no debug misuse check fires",
    );
}

/// The last put frees at 0 without the final CAS: a getter revives the
/// freed page and holds it (loom's s01). 3 threads from a live page.
#[test]
fn mutant_skip_final_cas() {
    rejected_by(
        "SkipFinalCas",
        live(Scheme::Frozen, Bug::SkipFinalCas),
        "no holder after a free",
    );
}

/// Classic add-unless-zero as a fetch_add: a failed get leaves the dead
/// page at a live-looking count (loom's s06: count 1 with no reference
/// held). 3 threads from a live page.
#[test]
fn mutant_classic_fetch_add() {
    rejected_by(
        "ClassicFetchAdd",
        live(Scheme::Classic, Bug::ClassicFetchAdd),
        "count() never reports garbage",
    );
}
