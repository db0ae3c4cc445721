//! The optimistic compare-and-swap: the classic encoding, with a speculative
//! get that does not read the word first.
//!
//! Source: Linus Torvalds' suggestion in the review of the frozen-bit series,
//! <https://lkml.iu.edu/2603.0/00393.html>: instead of
//! `atomic_read()` followed by a `cmpxchg` loop, start with a `cmpxchg` that
//! assumes the count is 1 and loop on the value it returns. A load followed
//! by a CAS costs two coherence transactions on a contended line (the load
//! brings it in shared, the CAS must then upgrade it); a CAS alone costs one,
//! and when the guess is right (a page-cache page that only the cache holds)
//! it is the only operation.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check;
use crate::ops::{self, Encoding};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::zero_dead::{self, ZeroDead};
use crate::{AtomicWord, PageRef, MAX_NR};

type Enc = ZeroDead<true>;

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
/// Checked by every loom scenario of `docs/races.md`, shuttle and the stress
/// test (`docs/verification.md`); planted bug
/// [`Mutation::OptimisticSkipZeroCheck`]. Measured by `pageref bench` and the
/// divan benches (`benches/ops.rs`).
///
/// `P` only selects planted bugs in the verification crate; the final-CAS
/// ordering it carries does not apply (there is no final CAS).
pub struct OptimisticRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> OptimisticRef<A, P> {
    #[inline]
    fn from_word(word: A) -> Self {
        OptimisticRef {
            word,
            policy: PhantomData,
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for OptimisticRef<A, P> {
    const NAME: &'static str = "optimistic";
    const REVIVES_ZERO: bool = false;
    const ZERO_IS_FINAL: bool = true;
    ops::shared_page_ref_methods!(Enc);

    #[inline]
    fn count(&self) -> u32 {
        ops::count::<Enc, A>(&self.word)
    }

    #[inline]
    fn is_frozen(&self) -> bool {
        ops::is_frozen::<Enc, A>(&self.word)
    }

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        ops::put_zero_dead::<Enc, A>(&self.word, nr)
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::arg(Enc::TYPE, "add_unless_frozen", "nr", nr, MAX_NR);
        // No load first: guess that the count is 1 (one holder, e.g. the
        // page cache). A wrong guess costs nothing more than the load would
        // have: the failed CAS returns the actual value.
        let mut c = 1;
        loop {
            zero_dead::check_get::<true>(c, nr);
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
                    if now == 0 && !P::planted(Mutation::OptimisticSkipZeroCheck) {
                        return false;
                    }
                    c = now;
                }
            }
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for OptimisticRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<Enc>(self.raw(), f)
    }
}
