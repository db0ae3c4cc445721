//! loom counterparts of the LKMM litmus tests in `litmus/` that no scenario
//! of `scenarios.rs` covers, on the shipped `FrozenRef<LoomWord, P>`.
//!
//! The scenarios' free path and freezer only *write* the page. The litmus
//! tests also have a free path and a freezer that *read* what a holder
//! wrote (`frozen-final-cas-*-free-reads.litmus`,
//! `frozen-get-vs-freeze*.litmus`): under LKMM that is where a relaxed CAS
//! stops being enough, because a control dependency orders later stores but
//! not later loads. Here the holder writes a second page field ("flags", a
//! `loom::cell::UnsafeCell` through [`LoomCell`]) and the free path or the
//! freezer reads it; loom reports the read as a data race unless the
//! holder's write happens before it under C11.
//!
//! The rcuref_put() form of the final CAS (release CAS, then an acquire
//! fence on success; `frozen-final-cas-rcuref-put-free-reads.litmus`,
//! `frozen-final-cas-release-free-reads.litmus` without the fence) is not a
//! `FrozenRef` policy: its policy only chooses the final CAS's success
//! ordering. The shipped `RcuRef` (the kernel's `rcuref_t`) has exactly
//! that last put, and the same revival race (a get brings `NOREF` back to
//! 0), so the free-path model runs on it too, with and without its fence.
//!
//! Litmus cases with no C11 counterpart on the shipped code, and so none
//! here: relaxed or release decrements in `FrozenRef`'s put, relaxed
//! getters, relaxed freezes and plain unfreezes — the shipped code has none
//! of these forms, and the tests do not copy the algorithm to add them; the
//! free outside the CAS's `if` — C11 has no control dependencies, so the
//! verdict is the same with or without it; marked against plain page
//! accesses — the page cells here are plain (non-atomic) data, like LKMM's
//! plain accesses.

use loom::sync::Arc;
use pageref::policy::mutants::RcuRefNoFence;
use pageref::{AcquireFinal, PageRef, RcuRef, RelaxedFinal};
use pageref_model::loom_harness::{
    check, hit, spawn, Failed, LoomCell, LoomPage, LoomThreads, Passed,
};
use pageref_model::page::{Contents, DataCell};
use pageref_model::trace::note;

use crate::scenarios::BOUND_2_THREADS;
use crate::{pass, Frozen, LoomWord};

/// Coverage key: the last putter's free path read flags written by a getter
/// that had revived its transient zero.
const FREE_READ_REVIVER: &str = "free path read the reviver's write";
/// Coverage key: a freeze succeeded after a holder wrote flags and put.
const FREEZER_READ_HOLDER: &str = "freezer read the holder's write";

/// A second page field ("flags"): written by a holder, read by the free
/// path or a freezer. Plain data under loom's race detector.
fn flags() -> Arc<LoomCell> {
    Arc::new(LoomCell::new(Contents {
        gen: 1,
        freed: false,
        scribble: 0,
    }))
}

fn write_flags(f: &LoomCell) {
    note::<LoomThreads>("writes page->flags");
    f.write(|c| c.scribble = 1);
}

fn read_flags(f: &LoomCell) -> u32 {
    note::<LoomThreads>("reads page->flags");
    f.read().scribble
}

/// The free path reads what the transient holder wrote
/// (`frozen-final-cas-*-free-reads.litmus`). T0 holds the only reference
/// and puts it; if it wins the final CAS, its free path reads flags. T1
/// try_gets, writes flags, and puts (and, if it wins, reads flags in its own
/// free path). When T1 revives T0's transient zero and T0's CAS then reads
/// T1's zero, T1's write must happen before T0's read: with `Acquire` on
/// the CAS (or an Acquire fence after it) it does; with a relaxed or release
/// CAS alone loom reports the read racing with the write. 2 threads, no
/// preemption bound (exhaustive).
fn free_path_reads<R: PageRef + 'static>() -> Result<Passed, Failed> {
    check(BOUND_2_THREADS, || {
        let p = Arc::new(LoomPage::<R>::new(1));
        let fl = flags();
        let (q, g) = (p.clone(), fl.clone());
        let t1 = spawn(1, move || {
            if !q.get(1) {
                return false;
            }
            write_flags(&g);
            if q.put(1).is_some() {
                read_flags(&g);
            }
            true
        });
        let seen = p.put(1).map(|_| read_flags(&fl));
        let t1_got = t1.join().unwrap();
        if let (Some(seen), true) = (seen, t1_got) {
            // T0 freed although T1 got a reference: T1 revived T0's zero and
            // put it back to 0 before T0's CAS read it.
            assert_eq!(seen, 1, "the free path missed the reviver's write");
            hit(FREE_READ_REVIVER);
        }
        p.finish_all_dropped();
    })
}

/// The freezer reads what a holder wrote (`frozen-get-vs-freeze.litmus`).
/// T0 holds one reference and tries `freeze(1)`; on success it reads flags,
/// unfreezes, and puts. T1 try_gets, writes flags, and puts. A freeze that
/// succeeds after T1's put must see T1's write (loom reports the read as a
/// race otherwise); a get after the unfreeze writes after T0's read, ordered
/// by the unfreeze's Release and the get's Acquire. 2 threads, no preemption
/// bound (exhaustive).
fn freezer_reads() -> Result<Passed, Failed> {
    check(BOUND_2_THREADS, || {
        let p = Arc::new(LoomPage::<Frozen<AcquireFinal>>::new(1));
        let fl = flags();
        let (q, g) = (p.clone(), fl.clone());
        let t1 = spawn(1, move || {
            if q.get(1) {
                write_flags(&g);
                q.put(1);
            }
        });
        if p.freeze(1) {
            if read_flags(&fl) == 1 {
                hit(FREEZER_READ_HOLDER);
            }
            p.unfreeze(1);
        }
        p.put(1);
        t1.join().unwrap();
        p.finish_all_dropped();
    })
}

/// The free path reads the reviver's write: passes on the shipped default
/// (`AcquireFinal`), and reaches the revival interleaving. 2 threads, no
/// preemption bound (exhaustive).
#[test]
fn free_path_reads_what_the_reviver_wrote() {
    let p = pass(
        "free path reads what the reviver wrote (AcquireFinal)",
        free_path_reads::<Frozen<AcquireFinal>>(),
    );
    assert!(
        p.hits(FREE_READ_REVIVER) > 0,
        "the model never reached '{FREE_READ_REVIVER}': it is too weak"
    );
}

/// The same model on the posted relaxed final CAS (`RelaxedFinal`): loom
/// must report the free path's read racing with the reviver's write — the
/// C11 side of `frozen-final-cas-relaxed-free-reads.litmus` (LKMM:
/// Sometimes). 2 threads, no preemption bound (exhaustive).
#[test]
fn relaxed_final_cas_free_path_read_races() {
    expect_race("RelaxedFinal", free_path_reads::<Frozen<RelaxedFinal>>());
}

/// The model must fail with loom's data-race report.
fn expect_race(what: &str, r: Result<Passed, Failed>) {
    match r {
        Ok(p) => panic!(
            "{what}: the free path's read did not race ({} executions)",
            p.executions
        ),
        Err(f) => {
            assert!(f.message.contains("Causality violation"), "{}", f.message);
            println!("{what}: the free path's read races, as expected\n{f}");
        }
    }
}

/// The rcuref_put() form on the shipped `RcuRef`: release decrement, release
/// CAS `NOREF -> DEAD`, then an Acquire fence (`smp_acquire__after_ctrl_dep()`)
/// — passes, and reaches the revival interleaving. The C11 side of
/// `frozen-final-cas-rcuref-put-free-reads.litmus` (LKMM: Never). 2 threads,
/// no preemption bound (exhaustive).
#[test]
fn rcuref_form_free_path_reads_what_the_reviver_wrote() {
    let p = pass(
        "free path reads what the reviver wrote (RcuRef: release CAS + acquire fence)",
        free_path_reads::<RcuRef<LoomWord>>(),
    );
    assert!(
        p.hits(FREE_READ_REVIVER) > 0,
        "the model never reached '{FREE_READ_REVIVER}': it is too weak"
    );
}

/// The same without the fence (`RcuRefNoFence`: a release CAS alone): loom
/// must report the race — the C11 side of
/// `frozen-final-cas-release-free-reads.litmus` (LKMM: Sometimes). 2 threads,
/// no preemption bound (exhaustive).
#[test]
fn rcuref_form_without_fence_free_path_read_races() {
    expect_race(
        "RcuRefNoFence",
        free_path_reads::<RcuRef<LoomWord, RcuRefNoFence>>(),
    );
}

/// The freezer reads a holder's write: passes on the shipped freeze (an
/// Acquire CAS), and reaches a freeze after the holder's put. The shipped
/// code has no weaker freeze to show this model failing; the race detector
/// it relies on is the one that `relaxed_final_cas_free_path_read_races`
/// shows failing. 2 threads, no preemption bound (exhaustive).
#[test]
fn freezer_reads_what_the_holder_wrote() {
    let p = pass(
        "freezer reads what the holder wrote (AcquireFinal)",
        freezer_reads(),
    );
    assert!(
        p.hits(FREEZER_READ_HOLDER) > 0,
        "the model never reached '{FREEZER_READ_HOLDER}': it is too weak"
    );
}
