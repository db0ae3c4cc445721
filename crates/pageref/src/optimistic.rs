//! The optimistic compare-and-swap: the classic encoding, with a speculative
//! get that does not read the word first.
//!
//! Source: Linus Torvalds' suggestion in the review of the frozen-bit series,
//! <https://lkml.iu.edu/2603.0/00393.html> (BRIEF §4, variant 3): instead of
//! `atomic_read()` followed by a `cmpxchg` loop, start with a `cmpxchg` that
//! assumes the count is 1 and loop on the value it returns. A load followed
//! by a CAS costs two coherence transactions on a contended line (the load
//! brings it in shared, the CAS must then upgrade it); a CAS alone costs one,
//! and when the guess is right (a page-cache page that only the cache holds)
//! it is the only operation.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check::{self, misuse};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::state::MAX_COUNT;
use crate::{AtomicWord, PageRef};

const NAME: &str = "OptimisticRef";

/// The classic page refcount with Linus Torvalds' optimistic get: the first
/// compare-and-swap guesses that the count is 1.
///
/// # Encoding
///
/// The classic one ([`ClassicRef`](crate::ClassicRef)):
///
/// | state        | raw value        | meaning |
/// |--------------|------------------|---------|
/// | dead/frozen  | `0`              | free, or frozen by an exclusive owner |
/// | live         | `1 ..= i32::MAX` | owned by that many holders |
///
/// # Operations
///
/// * `try_get(nr)`: `CAS(1 -> 1 + nr)` without a prior load; on failure the
///   CAS returned the actual value `c`: fail if `c == 0`, else retry with
///   `CAS(c -> c + nr)`. Source: <https://lkml.iu.edu/2603.0/00393.html>.
/// * everything else exactly as [`ClassicRef`](crate::ClassicRef): a put is
///   one `fetch_sub`, the caller that reaches 0 frees; freeze is a CAS
///   `expected -> 0`; unfreeze and init are release stores.
///
/// # Capacity
///
/// `MAX_COUNT = i32::MAX` (`2^31 - 1`), as the kernel's `atomic_t`.
///
/// # Cost of the last put
///
/// No extra atomic operation: the `fetch_sub` that reaches 0 is the free.
///
/// # Differences from the kernel API
///
/// None observable: same encoding and results as upstream's
/// `page_ref_add_unless` (a read of 0 is final; nothing revives it but
/// `init`/`unfreeze`). Only the cost differs: when the guess is right the get
/// is a single CAS; when it is wrong, the failed CAS takes the place of
/// upstream's load (it returns the current value just the same, and leaves
/// the line held exclusively for the retry). Under contention both still
/// retry every time another CPU changes the count in between.
///
/// `P` only selects planted bugs in the verification crate; the final-CAS
/// ordering it carries does not apply (there is no final CAS).
pub struct OptimisticRef<A: AtomicWord = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord, P: Policy> OptimisticRef<A, P> {
    #[inline]
    fn with_raw(raw: u32) -> Self {
        OptimisticRef {
            word: A::new(raw),
            policy: PhantomData,
        }
    }

    /// A counter holding an arbitrary raw value. For the verification crate
    /// only (feature `mutants`).
    ///
    /// # Safety
    ///
    /// Any raw value is memory-safe, but values outside `0 ..= i32::MAX`
    /// break the refcount's guarantees: the caller takes responsibility.
    #[cfg(feature = "mutants")]
    #[doc(hidden)]
    pub unsafe fn from_raw(raw: u32) -> Self {
        Self::with_raw(raw)
    }

    #[inline]
    #[track_caller]
    fn check_put(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if old == 0 {
                misuse(NAME, op, "put on a frozen counter", old)
            }
            if old < nr || old > MAX_COUNT {
                misuse(NAME, op, "count would drop below zero", old)
            }
        }
    }

    #[inline]
    #[track_caller]
    fn check_add_live(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if old == 0 {
                misuse(NAME, op, "increment of a frozen counter", old)
            }
            if old > MAX_COUNT - nr {
                misuse(NAME, op, "count would exceed i32::MAX", old)
            }
        }
    }
}

impl<A: AtomicWord, P: Policy> PageRef for OptimisticRef<A, P> {
    const NAME: &'static str = "optimistic";
    const MAX_COUNT: u32 = MAX_COUNT;

    fn new(count: u32) -> Self {
        if count == 0 || count > MAX_COUNT {
            check::bad_arg(NAME, "new", "count must be in 1..=i32::MAX", "count", count)
        }
        Self::with_raw(count)
    }

    fn new_frozen() -> Self {
        Self::with_raw(0)
    }

    #[inline]
    fn raw(&self) -> u32 {
        // ORDERING: Relaxed; a diagnostic snapshot.
        self.word.load(Ordering::Relaxed)
    }

    #[inline]
    fn count(&self) -> u32 {
        // ORDERING: Relaxed, like atomic_read(): a snapshot.
        self.word.load(Ordering::Relaxed)
    }

    #[inline]
    fn is_frozen(&self) -> bool {
        // ORDERING: Relaxed snapshot.
        self.word.load(Ordering::Relaxed) == 0
    }

    fn init(&self) {
        if check::ENABLED {
            // ORDERING: Relaxed; debug-only plausibility read.
            let old = self.word.load(Ordering::Relaxed);
            if old != 0 {
                misuse(NAME, "init", "init of a live counter", old)
            }
        }
        // ORDERING: Release, as ClassicRef::init: a stale speculative getter
        // whose Acquire CAS reads this 1 must see the reallocation's history,
        // or its re-validation could pass on stale data.
        self.word.store(1, Ordering::Release);
    }

    fn set_frozen(&self) {
        // ORDERING: Relaxed; exclusive owner, a dead value publishes nothing.
        self.word.store(0, Ordering::Relaxed);
    }

    #[inline]
    fn add(&self, nr: u32) {
        check::nr(NAME, "add", nr);
        // ORDERING: Relaxed; the caller holds a reference (as Arc::clone).
        let old = self.word.fetch_add(nr, Ordering::Relaxed);
        Self::check_add_live("add", old, nr);
    }

    #[inline]
    fn sub(&self, nr: u32) {
        check::nr(NAME, "sub", nr);
        // ORDERING: Release (stronger than the kernel's unordered void op):
        // uses of the dropped references happen before the eventual free.
        let old = self.word.fetch_sub(nr, Ordering::Release);
        Self::check_put("sub", old, nr);
        if check::ENABLED && old == nr {
            misuse(
                NAME,
                "sub",
                "void op would drop the last reference (use sub_and_test)",
                old,
            )
        }
    }

    #[inline]
    fn inc_return(&self) -> u32 {
        // ORDERING: AcqRel (kernel: fully ordered value-returning RMW).
        let old = self.word.fetch_add(1, Ordering::AcqRel);
        Self::check_add_live("inc_return", old, 1);
        old.wrapping_add(1)
    }

    #[inline]
    fn sub_return(&self, nr: u32) -> u32 {
        check::nr(NAME, "sub_return", nr);
        // ORDERING: AcqRel (kernel: fully ordered value-returning RMW).
        let old = self.word.fetch_sub(nr, Ordering::AcqRel);
        Self::check_put("sub_return", old, nr);
        if check::ENABLED && old == nr {
            misuse(
                NAME,
                "sub_return",
                "would drop the last reference (use sub_and_test)",
                old,
            )
        }
        old.wrapping_sub(nr)
    }

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        check::nr(NAME, "sub_and_test", nr);
        // ORDERING: AcqRel (kernel: fully ordered). Release: our accesses
        // happen before the free. Acquire: the thread that reaches 0 frees
        // and must see every other holder's accesses (their Release
        // decrements form one release sequence on this word).
        let old = self.word.fetch_sub(nr, Ordering::AcqRel);
        Self::check_put("sub_and_test", old, nr);
        old == nr
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::get_nr(NAME, "add_unless_frozen", nr);
        // No load first: guess that the count is 1 (one holder, e.g. the
        // page cache). A wrong guess costs nothing more than the load would
        // have: the failed CAS returns the actual value.
        let mut c = 1;
        loop {
            if check::ENABLED && c > MAX_COUNT - nr {
                misuse(NAME, "add_unless_frozen", "count would exceed i32::MAX", c)
            }
            // ORDERING: Acquire on success (kernel: fully ordered on
            // success): we must see the incarnation we pinned (init/unfreeze
            // Release stores, earlier holders' Release puts, whose release
            // sequences this RMW reads from). Relaxed on failure (kernel:
            // unordered): we only decide on, or retry with, the value read.
            match self.word.compare_exchange_weak(
                c,
                c.wrapping_add(nr),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => {
                    // 0 is final: nothing but init/unfreeze revives it.
                    if now == 0 && P::MUTATION != Mutation::OptimisticSkipZeroCheck {
                        return false;
                    }
                    c = now;
                }
            }
        }
    }

    #[inline]
    fn freeze(&self, expected: u32) -> bool {
        check::count_arg(NAME, "freeze", expected);
        // ORDERING: Acquire on success; the freezer becomes the exclusive
        // owner and must see the holders' accesses (their Release puts head
        // release sequences this CAS reads from). Relaxed on failure:
        // nothing was gained.
        self.word
            .compare_exchange(expected, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    fn unfreeze(&self, count: u32) {
        check::count_arg(NAME, "unfreeze", count);
        if check::ENABLED {
            // ORDERING: Relaxed; debug-only plausibility read.
            let old = self.word.load(Ordering::Relaxed);
            if old != 0 {
                misuse(NAME, "unfreeze", "unfreeze of a live counter", old)
            }
        }
        // ORDERING: Release (atomic_set_release): publishes the freezer's
        // work to later successful getters, whose Acquire CAS reads it.
        self.word.store(count, Ordering::Release);
    }
}

impl<A: AtomicWord, P: Policy> fmt::Debug for OptimisticRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = self.raw();
        f.debug_struct("OptimisticRef")
            .field("raw", &format_args!("{raw:#010x}"))
            .field("count", &raw)
            .field("frozen", &(raw == 0))
            .finish()
    }
}
