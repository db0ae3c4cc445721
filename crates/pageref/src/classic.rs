//! The upstream scheme: zero means dead (Linux `include/linux/page_ref.h`
//! before the series), the baseline every other scheme is compared with.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check;
use crate::ops::{self, Encoding};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::zero_dead::{self, ZeroDead};
use crate::{AtomicWord, PageRef, MAX_NR};

type Enc = ZeroDead<false>;

/// The classic page refcount: `0` = dead/frozen, `1 ..= i32::MAX` = live.
///
/// | state        | raw value        | meaning |
/// |--------------|------------------|---------|
/// | dead/frozen  | `0`              | free, or frozen by an exclusive owner |
/// | live         | `1 ..= i32::MAX` | owned by that many holders |
///
/// * `try_get` ("add unless zero") reads the count and compare-and-swaps it
///   from `c` to `c + nr` unless `c == 0`, retrying with the value a losing
///   CAS returns — the loop that serialises many CPUs on one hot page.
/// * a put is one `fetch_sub`; the caller that reaches 0 frees.
/// * freeze is a CAS `expected -> 0`; unfreeze a release store.
///
/// Capacity `i32::MAX`; no extra operation on the last put; a `count()` of 0
/// is final (nothing but `init`/`unfreeze` revives it).
///
/// Checked by every loom scenario of `docs/races.md`, shuttle and the stress
/// test (`docs/verification.md`); planted bug [`Mutation::ClassicFetchAdd`].
/// Measured by `pageref bench` and the divan benches (`benches/ops.rs`).
///
/// `P` only selects planted bugs in the verification crate; the final-CAS
/// ordering it carries does not apply (there is no final CAS).
pub struct ClassicRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> ClassicRef<A, P> {
    #[inline]
    fn from_word(word: A) -> Self {
        ClassicRef {
            word,
            policy: PhantomData,
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for ClassicRef<A, P> {
    const NAME: &'static str = "classic";
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
        if P::planted(Mutation::ClassicFetchAdd) {
            // ORDERING: as below; the mutant adds unconditionally.
            return self.word.fetch_add(nr, Ordering::Acquire) != 0;
        }
        // ORDERING: Relaxed. Only a first guess for the CAS; the CAS below
        // re-reads the word atomically.
        let mut c = self.word.load(Ordering::Relaxed);
        loop {
            if c == 0 {
                return false;
            }
            zero_dead::check_get::<false>(c, nr);
            // ORDERING: Acquire on success (kernel: fully ordered on
            // success): we must see the incarnation we pinned (init/unfreeze
            // Release stores, earlier holders' Release puts). Relaxed on
            // failure (kernel: unordered): we only retry with the new value.
            match self
                .word
                .compare_exchange_weak(c, c + nr, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for ClassicRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<Enc>(self.raw(), f)
    }
}
