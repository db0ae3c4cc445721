//! The low-bit dead flag: the count stored shifted left by one, bit 0 marks
//! dead, and a speculative get is one `fetch_add(2 * nr)`.
//!
//! Source: M. Parkinson, S. Clebsch, B. Simner, "Wait-Free Weak Reference
//! Counting", ISMM 2023; tried for Rust's `Weak::upgrade` in rust-lang/rust
//! PR #116173 ("New atomic reference counting algorithm",
//! <https://github.com/rust-lang/rust/pull/116173>), BRIEF §4 variant 5.
//! Adding an even number never changes bit 0, so a get on a dead word cannot
//! make it look live, however often it is repeated.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check::{self, misuse};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::{AtomicWord, PageRef};

const NAME: &str = "LowBitRef";

/// The capacity: `i32::MAX / 2 = 2^30 - 1`, so that the raw word of a legal
/// live count (`2 * count <= 2^31 - 2`) keeps bit 31 clear.
const MAX: u32 = (i32::MAX as u32) / 2;
/// The dead flag.
const DEAD: u32 = 1;

const NR_RANGE: &str = "nr must be in 1..=MAX_COUNT (2^30 - 1)";
const COUNT_RANGE: &str = "count must be in 1..=MAX_COUNT (2^30 - 1)";
const TOO_MANY: &str = "count would exceed MAX_COUNT (2^30 - 1)";

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
///   put does the final transition (as with the frozen bit, BRIEF §5
///   scenarios 7 and 9).
/// * freeze: CAS `2 * expected -> 1`. unfreeze(c): release store `2 * c`.
///   init: release store `2`. set_frozen: store `1`. No operation stores a
///   plain 0 (the review's request (b)).
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
/// `A` is the atomic word; `P` selects the ordering of the final `0 -> 1`
/// CAS ([`AcquireFinal`] by default; see [`Policy::FINAL_CAS`]).
pub struct LowBitRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> LowBitRef<A, P> {
    /// The dead flag, bit 0 of the raw word.
    pub const DEAD_BIT: u32 = DEAD;

    #[inline]
    fn with_raw(raw: u32) -> Self {
        LowBitRef {
            word: A::new(raw),
            policy: PhantomData,
        }
    }

    /// A counter holding an arbitrary raw value (e.g. a dead word about to
    /// wrap around). For the verification crate only (feature `mutants`).
    ///
    /// # Safety
    ///
    /// Any raw value is memory-safe, but values outside the protocol's
    /// reachable states (a plain 0 outside a final put, an even value above
    /// `2 * MAX_COUNT`) break the refcount's guarantees: the caller takes
    /// responsibility for them.
    #[cfg(feature = "mutants")]
    #[doc(hidden)]
    pub unsafe fn from_raw(raw: u32) -> Self {
        Self::with_raw(raw)
    }

    #[inline]
    const fn is_dead(raw: u32) -> bool {
        raw & DEAD != 0
    }

    /// Checks the old value of a decrement of `nr`: not dead, not below `nr`.
    #[inline]
    #[track_caller]
    fn check_put(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if Self::is_dead(old) {
                misuse(NAME, op, "put on a frozen counter", old)
            }
            if old < 2 * nr {
                misuse(NAME, op, "count would drop below zero", old)
            }
        }
    }

    /// Checks the old value of an increment of `nr` on a counter that must be live.
    #[inline]
    #[track_caller]
    fn check_add_live(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if Self::is_dead(old) || old == 0 {
                misuse(NAME, op, "increment of a frozen counter", old)
            }
            if old > 2 * (MAX - nr) {
                misuse(NAME, op, TOO_MANY, old)
            }
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for LowBitRef<A, P> {
    const NAME: &'static str = "lowbit";
    const MAX_COUNT: u32 = MAX;

    fn new(count: u32) -> Self {
        // Always checked: constructors are not hot.
        if count == 0 || count > MAX {
            check::bad_arg(NAME, "new", COUNT_RANGE, "count", count)
        }
        Self::with_raw(2 * count)
    }

    fn new_frozen() -> Self {
        Self::with_raw(DEAD)
    }

    #[inline]
    fn raw(&self) -> u32 {
        // ORDERING: Relaxed; a diagnostic snapshot.
        self.word.load(Ordering::Relaxed)
    }

    #[inline]
    fn count(&self) -> u32 {
        // ORDERING: Relaxed, like atomic_read(): a snapshot.
        let raw = self.word.load(Ordering::Relaxed);
        if Self::is_dead(raw) {
            0
        } else {
            raw >> 1
        }
    }

    #[inline]
    fn is_frozen(&self) -> bool {
        // ORDERING: Relaxed snapshot.
        Self::is_dead(self.word.load(Ordering::Relaxed))
    }

    fn init(&self) {
        if check::ENABLED {
            // ORDERING: Relaxed; debug-only plausibility read.
            let old = self.word.load(Ordering::Relaxed);
            if !Self::is_dead(old) {
                misuse(NAME, "init", "init of a live counter", old)
            }
        }
        // ORDERING: Release, as FrozenRef::init: a stale speculative getter
        // whose Acquire fetch_add reads this value must see the
        // reallocation's history, or its re-validation could pass on stale
        // data. The store also wipes the garbage.
        self.word.store(2, Ordering::Release);
    }

    fn set_frozen(&self) {
        // ORDERING: Relaxed; exclusive owner, a dead value grants nothing to
        // whoever reads it, so there is nothing to publish.
        self.word.store(DEAD, Ordering::Relaxed);
    }

    #[inline]
    fn add(&self, nr: u32) {
        check::nr_up_to(NAME, "add", nr, MAX, NR_RANGE);
        // ORDERING: Relaxed; the caller holds a reference (as Arc::clone).
        let old = self.word.fetch_add(nr.wrapping_mul(2), Ordering::Relaxed);
        Self::check_add_live("add", old, nr);
    }

    #[inline]
    fn sub(&self, nr: u32) {
        check::nr_up_to(NAME, "sub", nr, MAX, NR_RANGE);
        // ORDERING: Release (stronger than the kernel's unordered void op):
        // uses of the dropped references happen before the eventual free.
        let old = self.word.fetch_sub(nr.wrapping_mul(2), Ordering::Release);
        Self::check_put("sub", old, nr);
        if check::ENABLED && old == nr.wrapping_mul(2) {
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
        let old = self.word.fetch_add(2, Ordering::AcqRel);
        Self::check_add_live("inc_return", old, 1);
        (old >> 1).wrapping_add(1)
    }

    #[inline]
    fn sub_return(&self, nr: u32) -> u32 {
        check::nr_up_to(NAME, "sub_return", nr, MAX, NR_RANGE);
        // ORDERING: AcqRel (kernel: fully ordered value-returning RMW).
        let old = self.word.fetch_sub(nr.wrapping_mul(2), Ordering::AcqRel);
        Self::check_put("sub_return", old, nr);
        if check::ENABLED && old == nr.wrapping_mul(2) {
            misuse(
                NAME,
                "sub_return",
                "would drop the last reference (use sub_and_test)",
                old,
            )
        }
        (old >> 1).wrapping_sub(nr)
    }

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        check::nr_up_to(NAME, "sub_and_test", nr, MAX, NR_RANGE);
        // ORDERING: AcqRel (kernel: fully ordered), as FrozenRef: Release so
        // that our accesses happen before the free by whoever wins the final
        // CAS; Acquire so that, reaching zero ourselves, we see the other
        // holders' release decrements.
        let old = self.word.fetch_sub(nr.wrapping_mul(2), Ordering::AcqRel);
        Self::check_put("sub_and_test", old, nr);
        if old != nr.wrapping_mul(2) {
            return false;
        }
        // Transient zero: a concurrent try_get may revive the count now.
        if P::MUTATION == Mutation::LowBitSkipFinalCas {
            return true;
        }
        // ORDERING: P::FINAL_CAS on success (Acquire by default), Relaxed on
        // failure, exactly as FrozenRef's `0 -> FROZEN`: the 0 we replace may
        // have been written by another thread's put after a revival, and only
        // an acquire CAS makes that thread's accesses happen before our free.
        // On failure the count was revived; we touch nothing.
        self.word
            .compare_exchange(0, DEAD, P::FINAL_CAS, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::get_nr(NAME, "add_unless_frozen", nr);
        let step = if P::MUTATION == Mutation::LowBitOddIncrement {
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
        if Self::is_dead(old) {
            // Bit 0 was set and an even addend kept it set: garbage only.
            return false;
        }
        if check::ENABLED && old > 2 * (MAX - nr) {
            misuse(NAME, "add_unless_frozen", TOO_MANY, old)
        }
        true
    }

    #[inline]
    fn freeze(&self, expected: u32) -> bool {
        check::count_arg_up_to(NAME, "freeze", expected, MAX, COUNT_RANGE);
        // ORDERING: Acquire on success (kernel: fully ordered): the freezer
        // becomes the exclusive owner and must see the holders' accesses,
        // whose Release puts head release sequences this CAS reads from.
        // Relaxed on failure: nothing was gained.
        self.word
            .compare_exchange(
                expected.wrapping_mul(2),
                DEAD,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    #[inline]
    fn unfreeze(&self, count: u32) {
        check::count_arg_up_to(NAME, "unfreeze", count, MAX, COUNT_RANGE);
        if check::ENABLED {
            // ORDERING: Relaxed; debug-only plausibility read.
            let old = self.word.load(Ordering::Relaxed);
            if !Self::is_dead(old) {
                misuse(NAME, "unfreeze", "unfreeze of a live counter", old)
            }
        }
        // ORDERING: Release (atomic_set_release): publishes the freezer's
        // work to later successful getters, whose Acquire fetch_add reads
        // this value. The store also wipes the garbage.
        self.word.store(count.wrapping_mul(2), Ordering::Release);
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for LowBitRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = self.raw();
        let mut d = f.debug_struct("LowBitRef");
        d.field("raw", &format_args!("{raw:#010x}"));
        if Self::is_dead(raw) {
            d.field("state", &"dead").field("garbage", &(raw >> 1));
        } else if raw == 0 {
            d.field("state", &"transient zero");
        } else {
            d.field("state", &"live").field("count", &(raw >> 1));
        }
        d.finish()
    }
}
