//! The low-bit dead flag: the count stored shifted left by one, bit 0 marks
//! dead, and a speculative get is one `fetch_add(2 * nr)`.
//!
//! Source: M. Parkinson, S. Clebsch, B. Simner, "Wait-Free Weak Reference
//! Counting", ISMM 2023; tried for Rust's `Weak::upgrade` in rust-lang/rust
//! PR #116173 ("New atomic reference counting algorithm",
//! <https://github.com/rust-lang/rust/pull/116173>).
//! Adding an even number never changes bit 0, so a get on a dead word cannot
//! make it look live, however often it is repeated.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check;
use crate::ops::{self, Encoding};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::{AtomicWord, PageRef, MAX_NR};

/// The capacity: `i32::MAX / 2 = 2^30 - 1`, so that the raw word of a legal
/// live count (`2 * count <= 2^31 - 2`) keeps bit 31 clear.
const MAX: u32 = (i32::MAX as u32) / 2;
/// The dead flag.
const DEAD: u32 = 1;

/// The low-bit encoding: `raw = 2 * count`, bit 0 = dead.
pub(crate) struct LowBit;

impl Encoding for LowBit {
    type Raw = u32;
    const TYPE: &'static str = "LowBitRef";
    const MAX_COUNT: u32 = MAX;
    const SHIFT: u32 = 1;
    #[inline]
    fn bias() -> u32 {
        0
    }
    #[inline]
    fn dead() -> u32 {
        DEAD
    }
    #[inline]
    fn is_dead(raw: u32) -> bool {
        raw & DEAD != 0
    }
    fn state(raw: u32) -> (&'static str, Option<u64>) {
        if raw & DEAD != 0 {
            ("frozen", Some((raw >> 1).into()))
        } else if raw == 0 {
            ("transient zero", None)
        } else {
            ("live", None)
        }
    }
}

/// The low-bit page refcount: `raw = 2 * count`, bit 0 = dead.
///
/// # Encoding
///
/// | state          | raw value                         | meaning |
/// |----------------|-----------------------------------|---------|
/// | live           | `2 * count`, `count in 1 ..= 2^30 - 1` (`2 ..= 0x7fff_fffe`, even) | owned by `count` holders |
/// | transient zero | `0`                               | only inside a final put, between its decrement and its CAS |
/// | dead/frozen    | any odd value                     | dead or frozen; bits 1..=31 are garbage left by failed gets |
///
/// # Operations
///
/// * `try_get(nr)`: `fetch_add(2 * nr)`; success iff bit 0 of the result is
///   clear. A failure leaves `2 * nr` of garbage on the dead word. Garbage
///   needs no overflow guard: it may wrap around `u32::MAX` any number of
///   times, since an even addend never carries into bit 0 (only out of bit
///   31), so a dead word stays odd. (Compare [`FrozenRef`](crate::FrozenRef),
///   whose flag is the top bit, which garbage can reach.)
/// * put: `fetch_sub(2 * nr)`; on reaching 0 (the *transient zero*), CAS
///   `0 -> 1`; only the CAS winner frees. If a getter revived the count
///   meanwhile, the CAS fails, the put returns `false`, and the getter's own
///   put does the final transition (as with the frozen bit; scenarios 7
///   and 9 of `docs/races.md`).
/// * freeze: CAS `2 * expected -> 1`. unfreeze(c): release store `2 * c`.
///   init: release store `2`. set_frozen: store `1`. No operation stores a
///   plain 0 (the kernel review's request (b),
///   <https://lkml.iu.edu/2603.1/01083.html>).
/// * count: `raw / 2`, or 0 if bit 0 is set.
///
/// # Capacity
///
/// `MAX_COUNT = i32::MAX / 2 = 2^30 - 1 = 1_073_741_823`. The word could
/// hold counts up to `2^31 - 1`, but then a live count could wrap around to a
/// small even value with no trace; keeping bit 31 of a live word clear leaves
/// the same overflow headroom that the sign bit gives `atomic_t`, and the
/// misuse checks report a count that would grow past it.
///
/// # Cost of the last put
///
/// One extra atomic operation: the `0 -> 1` CAS after the decrement (the
/// price of a `fetch_add` get, as for the frozen bit; PR #116173 noted the
/// same extra operation on `Arc::drop`).
///
/// # Differences from the kernel API
///
/// * The raw word is twice the count (diagnostics only; `count()` decodes).
/// * As with the frozen bit, `count()` may read the transient zero and
///   report 0 for a count that a concurrent get then revives: a 0 read is not
///   final.
/// * Capacity `2^30 - 1` instead of `i32::MAX`.
///
/// Checked by every loom scenario of `docs/races.md`, shuttle and the stress
/// test (`docs/verification.md`); planted bugs `Mutation::LowBitOddIncrement`
/// and the generic `Mutation::SkipFinalCas`. Measured by `pageref bench` and
/// the divan benches (`cargo bench -p pageref-bench --bench ops`).
///
/// `A` is the atomic word; `P` selects the ordering of the final `0 -> 1`
/// CAS ([`AcquireFinal`] by default; see [`Policy::FINAL_CAS`]).
pub struct LowBitRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> LowBitRef<A, P> {
    /// The dead flag, bit 0 of the raw word.
    pub const DEAD_BIT: u32 = DEAD;
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for LowBitRef<A, P> {
    const NAME: &'static str = "lowbit";
    const REVIVES_ZERO: bool = true;
    const ZERO_IS_FINAL: bool = false;
    ops::shared_page_ref_methods!(LowBit);

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        // ORDERING: exactly FrozenRef's, argued in `ops::put_policy_final_cas`
        // (the final CAS is `0 -> 1` here).
        ops::put_policy_final_cas::<LowBit, A, P>(&self.word, nr)
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::arg(LowBit::TYPE, "add_unless_frozen", "nr", nr, MAX_NR);
        let step = if P::planted(Mutation::LowBitOddIncrement) {
            nr
        } else {
            nr.wrapping_mul(2)
        };
        // ORDERING: Acquire (kernel: fully ordered on success). On success we
        // must see the incarnation we pinned: the Release store of init() or
        // unfreeze() and the release decrements of earlier holders (this RMW
        // extends their release sequences). A failed get only adds garbage
        // to a dead word and acquires nothing it uses.
        let old = self.word.fetch_add(step, Ordering::Acquire);
        if LowBit::is_dead(old) {
            // Bit 0 was set and an even addend kept it set: garbage only.
            return false;
        }
        ops::check_room::<LowBit>("add_unless_frozen", old, nr);
        true
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for LowBitRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<LowBit>(self.raw(), f)
    }
}
