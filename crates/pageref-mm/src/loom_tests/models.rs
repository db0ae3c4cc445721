//! The loom models and the planted-bug tests (the harness is in `mod.rs`).

use super::*;

// ---------------------------------------------------------------------------
// The shipped code passes.
// ---------------------------------------------------------------------------

/// Fast reader against truncate plus reuse of the page by file 1.
/// Bound 3; 6 891 executions, 1.1 s.
#[test]
fn truncate_reuse_frozen() {
    pass(
        "truncate_reuse",
        model::<Frozen, LoomEnv>(BOUND, false, &[truncate_reuse], v1_or_refill),
    );
}

/// Fast reader against truncate on one thread and a fill of file 1 on a
/// third, which reuses the page if the truncate freed it first: the
/// truncate's bump reaches the reader only through the allocator. Three
/// threads.
/// Bound 3; 33 035 executions, 5.2 s.
#[test]
fn truncate_then_reuse_elsewhere_frozen() {
    pass(
        "truncate, reuse on a third thread",
        model::<Frozen, LoomEnv>(BOUND, false, &[truncate_only, fill_file1], v1_or_refill),
    );
}

/// The same on the classic scheme (its fallback's `try_get` is a CAS
/// loop).
/// Bound 3; 5 168 executions, 0.5 s.
#[test]
fn truncate_reuse_classic() {
    pass(
        "truncate_reuse (classic)",
        model::<ClassicRef<LoomWord>, LoomEnv>(BOUND, false, &[truncate_reuse], v1_or_refill),
    );
}

/// Fast reader against reclaim (freeze at the expected count, unpublish,
/// free) plus reuse.
/// Bound 3; 5 909 executions, 1.0 s.
#[test]
fn reclaim_reuse_frozen() {
    pass(
        "reclaim_reuse",
        model::<Frozen, LoomEnv>(BOUND, false, &[reclaim_reuse], v1_or_refill),
    );
}

/// Fast reader against migration (freeze, copy, replace the slot, free the
/// old page) plus reuse of the old page by file 1.
/// Bound 3; 3 668 executions, 0.6 s.
#[test]
fn migrate_reuse_frozen() {
    pass(
        "migrate_reuse",
        model::<Frozen, LoomEnv>(BOUND, false, &[migrate_reuse], v1_only),
    );
}

/// Fast reader against a zero range of both words.
/// Bound 3; 991 executions, 0.07 s.
#[test]
fn zero_range_frozen() {
    pass(
        "zero_range",
        model::<Frozen, LoomEnv>(BOUND, false, &[zero_both_words], before_or_after_zero),
    );
}

/// The refcounted read (`pread`: lookup, `try_get`, re-check, copy, put)
/// against truncate plus a refill of the same index that reuses the page,
/// so the slot holds the same value again (ABA): the re-check's Acquire
/// load must carry the refill's words.
/// Bound 3; 2 260 executions, 0.3 s.
#[test]
fn refcounted_read_against_same_index_refill() {
    pass(
        "pread vs truncate + refill of the same index",
        model_with::<Frozen, LoomEnv>(
            refcounted_read,
            BOUND,
            false,
            &[truncate_refill],
            any_of_three,
        ),
    );
}

/// Fast reader against the fill that publishes (0, 0).
/// Bound 3; 195 executions, 0.02 s.
#[test]
fn fill_publish_frozen() {
    pass(
        "fill_publish",
        model::<Frozen, LoomEnv>(BOUND, true, &[fill], any_fill),
    );
}

/// A reader that waits while the count is odd instead of giving up
/// (planted `FastWaitsOnOdd`) still returns only validated data: waiting
/// only delays its try-begin until the section ends; with a writer on
/// another thread it is only slower (its livelock needs a writer that cannot
/// run while the reader waits: see `tests_fast.rs`).
/// Bound 3; 930 executions, 0.09 s.
#[test]
fn zero_range_reader_waiting_on_odd_is_only_slower() {
    pass(
        "zero_range, reader waits on odd",
        model::<Frozen, Bugged<{ Bug::FastWaitsOnOdd as u8 }>>(
            BOUND,
            false,
            &[zero_both_words],
            before_or_after_zero,
        ),
    );
}

// ---------------------------------------------------------------------------
// Each planted bug fails a model, with its failing execution printed.
// ---------------------------------------------------------------------------

/// Migration without the bump (Hugh Dickins' case): the fast reader copies
/// the old page after it was freed and reused by file 1, and its re-check
/// passes.
#[test]
fn planted_migrate_no_bump() {
    caught(
        "migrate_reuse, migration without the bump",
        model::<Frozen, Bugged<{ Bug::MigrateNoBump as u8 }>>(
            BOUND,
            false,
            &[migrate_reuse],
            v1_only,
        ),
    );
}

/// Zero range without the bump (Dave Chinner's case): the fast reader
/// returns one old word and one zeroed word.
#[test]
fn planted_zero_range_no_bump() {
    caught(
        "zero_range, no bump",
        model::<Frozen, Bugged<{ Bug::ZeroRangeNoBump as u8 }>>(
            BOUND,
            false,
            &[zero_both_words],
            before_or_after_zero,
        ),
    );
}

/// Truncate without the bump: the fast reader loaded the slot, the truncate
/// empties it and its put frees the page, the fill of (1, 0) reuses it, and
/// the reader returns a word of file 1's fill: its re-check passes (the count
/// never moved). Bound: 2 threads (reader; truncate then the fill),
/// preemption bound 3; caught at execution 2 of the first of [`model`]'s two
/// thread orders (reader on T1).
#[test]
fn planted_truncate_no_bump() {
    caught_returning_file1(
        "truncate_reuse, truncate without the bump",
        model::<Frozen, Bugged<{ Bug::TruncateNoBump as u8 }>>(
            BOUND,
            false,
            &[truncate_reuse],
            v1_or_refill,
        ),
    );
}

/// Reclaim without the bump: the freeze at the expected count stops every
/// refcounted reader but not the fast one, which loaded the slot before the
/// reclaim emptied it and freed the page; the fill of (1, 0) reuses it, and
/// the reader returns a word of file 1's fill. Bound: 2 threads (reader;
/// reclaim then the fill), preemption bound 3; caught at execution 2 of the
/// first of [`model`]'s two thread orders (reader on T1).
#[test]
fn planted_reclaim_no_bump() {
    caught_returning_file1(
        "reclaim_reuse, reclaim without the bump",
        model::<Frozen, Bugged<{ Bug::ReclaimNoBump as u8 }>>(
            BOUND,
            false,
            &[reclaim_reuse],
            v1_or_refill,
        ),
    );
}

/// A writer that moves the count even -> even: a reader that begins inside
/// the section sees an even count, copies a half-zeroed page, and its
/// re-check passes.
#[test]
fn planted_writer_even_to_even() {
    caught(
        "zero_range, writer even -> even",
        model::<Frozen, Bugged<{ Bug::WriterEvenToEven as u8 }>>(
            BOUND,
            false,
            &[zero_both_words],
            before_or_after_zero,
        ),
    );
}

/// The writer's Release fence after its odd store removed: the reader reads
/// a zeroed word, fences, and may still read the old even count (C11 only;
/// x86 cannot show it).
#[test]
fn planted_writer_without_fence() {
    caught(
        "zero_range, writer without its Release fence",
        model::<Frozen, Bugged<{ Bug::WriterNoFence as u8 }>>(
            BOUND,
            false,
            &[zero_both_words],
            before_or_after_zero,
        ),
    );
}

/// A reader without the re-check returns file 1's words as (0, 0)'s.
#[test]
fn planted_fast_no_recheck() {
    caught(
        "truncate_reuse, reader without the re-check",
        model::<Frozen, Bugged<{ Bug::FastNoRecheck as u8 }>>(
            BOUND,
            false,
            &[truncate_reuse],
            v1_or_refill,
        ),
    );
}

/// A reader that re-reads the count before its copy instead of after.
#[test]
fn planted_fast_recheck_before_copy() {
    caught(
        "truncate_reuse, re-check before the copy",
        model::<Frozen, Bugged<{ Bug::FastRecheckBeforeCopy as u8 }>>(
            BOUND,
            false,
            &[truncate_reuse],
            v1_or_refill,
        ),
    );
}

/// A reader without the Acquire fence before its re-read: its copy reads
/// file 1's words and its re-read the old count (C11 only).
#[test]
fn planted_fast_no_fence() {
    caught(
        "truncate_reuse, reader without the Acquire fence",
        model::<Frozen, Bugged<{ Bug::FastNoFence as u8 }>>(
            BOUND,
            false,
            &[truncate_reuse],
            v1_or_refill,
        ),
    );
}

/// The allocator without its Release fence: the new owner's stamps reach
/// the reader without the truncate's bump (C11 only: the store that makes
/// the count even reaches the reader through a third party, and a Relaxed
/// store is not cumulative).
#[test]
fn planted_alloc_no_fence() {
    caught(
        "truncate, reuse on a third thread, allocator without its Release fence",
        model::<Frozen, Bugged<{ Bug::AllocNoFence as u8 }>>(
            BOUND,
            false,
            &[truncate_only, fill_file1],
            v1_or_refill,
        ),
    );
}

/// The fill's slot publish weakened to Relaxed: the fast reader sees the
/// page and copies its words from before the fill (C11 only).
#[test]
fn planted_publish_relaxed() {
    caught(
        "fill_publish, Relaxed publish",
        model::<Frozen, Bugged<{ Bug::PublishRelaxed as u8 }>>(BOUND, true, &[fill], any_fill),
    );
}

/// The models' harness catches a panic in a model thread as a failure (so
/// that a misuse check firing inside the cache is reported, not lost).
#[test]
fn harness_reports_a_failing_thread() {
    let r = catch_unwind(AssertUnwindSafe(|| {
        model::<Frozen, LoomEnv>(1, false, &[|_| panic!("boom")], v1_only)
    }));
    assert!(matches!(r, Ok(Err(ref f)) if f.message.contains("boom")));
}
