//! The frozen-bit scheme of the series "mm: implement page refcount locking
//! via dedicated bit" (RFC Dec 2025, v1 Feb 2026 ... v5), latest semantics.
//! See the state table in [`crate::state`].

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check;
use crate::ops::{self, Encoding};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::state::{self, FROZEN_BIT};
use crate::{AtomicWord, PageRef, MAX_NR};

/// The frozen-bit encoding (see [`crate::state`]).
pub(crate) struct Frozen;

impl Encoding for Frozen {
    type Raw = u32;
    const TYPE: &'static str = "FrozenRef";
    const MAX_COUNT: u32 = state::MAX_COUNT;
    const SHIFT: u32 = 0;
    #[inline]
    fn bias() -> u32 {
        0
    }
    #[inline]
    fn dead() -> u32 {
        FROZEN_BIT
    }
    #[inline]
    fn is_dead(raw: u32) -> bool {
        state::is_frozen(raw)
    }
    fn state(raw: u32) -> (&'static str, Option<u64>) {
        match state::decode(raw) {
            state::State::Live(_) => ("live", None),
            state::State::TransientZero => ("transient zero", None),
            state::State::Frozen { garbage } => ("frozen", Some(garbage.into())),
        }
    }
}

/// The frozen-bit page refcount: `FROZEN_BIT = 1 << 31` marks dead/frozen,
/// the low 31 bits count.
///
/// | state          | raw value                  | meaning |
/// |----------------|----------------------------|---------|
/// | live           | `1 ..= i32::MAX`           | owned by that many holders |
/// | transient zero | `0`                        | only inside a final put, between its decrement and its CAS |
/// | frozen         | `FROZEN_BIT ..= u32::MAX`  | dead or frozen; low bits are garbage left by failed gets |
///
/// * `try_get` is one unconditional `fetch_add`; it succeeded iff the result
///   does not have the bit. A failure leaves its `nr` as *garbage* under the
///   bit; a failure that sees the garbage reach [`GUARD_LIMIT`](crate::state::GUARD_LIMIT)
///   resets it to plain `FROZEN_BIT` (one CAS at a time, stopping at the first
///   success; never clearing the bit).
/// * the final put decrements to 0 ("transient zero") and then CASes
///   `0 -> FROZEN_BIT`; only the CAS winner frees. If a getter revived the
///   count in between, the CAS fails, the put returns `false`, and that
///   getter's own put does the final transition.
/// * no safe operation stores a plain 0 (the kernel review's request (b),
///   <https://lkml.iu.edu/2603.1/01083.html>, race s06): once
///   freed, the bit stays set until `init` stores 1.
///
/// Capacity: [`MAX_COUNT`](crate::state::MAX_COUNT) `= i32::MAX`. Cost of the
/// last put: one extra CAS. A `count()` of 0 may be the transient zero, which
/// a getter can still revive: it is not final.
///
/// Checked by (see `docs/verification.md`): every loom scenario of
/// `docs/races.md`, the shuttle histories, the page-cache stress test; its
/// planted bugs are the frozen-bit entries of `Mutation`. Measured by:
/// `pageref bench` (`getput`, `pread`, ...) and the divan benches
/// (`cargo bench -p pageref-bench --bench ops`).
///
/// `A` is the atomic word (see [`AtomicWord`]); `P` selects the ordering of
/// the final CAS ([`AcquireFinal`], the default, or the posted
/// [`RelaxedFinal`](crate::RelaxedFinal)).
pub struct FrozenRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> FrozenRef<A, P> {
    /// Resets garbage to plain `FROZEN_BIT` while the observed value is at or
    /// above the guard limit; stops at its first successful CAS (v5).
    fn run_overflow_guard(&self, mut seen: u32) {
        // Never clear the bit: the target is FROZEN_BIT itself (the mutant
        // clears it, to show the checkers notice).
        let target = if P::planted(Mutation::GuardClearsBit) {
            0
        } else {
            FROZEN_BIT
        };
        while state::guard_fires(seen) {
            // ORDERING: Relaxed (as posted). The CAS only rewrites garbage of
            // a frozen word to another frozen value; it publishes nothing and
            // nobody acquires from a frozen value. It fails harmlessly if the
            // word was unfrozen/initialised meanwhile (the loop then sees a
            // live value and stops).
            match self
                .word
                .compare_exchange(seen, target, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => seen = now,
            }
        }
    }

    /// The rest of a failed try_get, kept out of line so that a successful
    /// get is one `fetch_add` and one sign test: the overflow check, and the
    /// overflow guard once the garbage reaches [`GUARD_LIMIT`](crate::state::GUARD_LIMIT).
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_failed(&self, old: u32, nr: u32) {
        if check::ENABLED && !state::is_frozen(old) {
            // Live count grew into the bit: the object now reads as frozen
            // while it has holders. Unchecked, this get reports failure, the
            // object can never be freed (leak), and the holders' puts trip
            // nothing but keep it frozen.
            ops::check_room::<Frozen>("add_unless_frozen", old, nr);
        }
        if P::planted(Mutation::UndoByDecrement) {
            // ORDERING: Relaxed; the mutant's undo, as in the RFC's shape.
            self.word.fetch_sub(nr, Ordering::Relaxed);
            return;
        }
        let new = old.wrapping_add(nr);
        if state::guard_fires(new) && !P::planted(Mutation::SkipOverflowGuard) {
            self.run_overflow_guard(new);
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for FrozenRef<A, P> {
    const NAME: &'static str = "frozen";
    const REVIVES_ZERO: bool = true;
    const ZERO_IS_FINAL: bool = false;
    ops::shared_page_ref_methods!(Frozen);

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        // ORDERING: the policy's, argued in `ops::put_policy_final_cas`.
        ops::put_policy_final_cas::<Frozen, A, P>(&self.word, nr)
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::arg(Frozen::TYPE, "add_unless_frozen", "nr", nr, MAX_NR);
        // ORDERING: Acquire (kernel: fully ordered on success). On success we
        // must see the incarnation we pinned: the Release store of init() or
        // unfreeze() and the release decrements of earlier holders (this RMW
        // extends their release sequences). Nobody needs to acquire from
        // *our* add: a successful get is balanced by a Release put, and a
        // failed one only changes garbage under the bit.
        let old = self.word.fetch_add(nr, Ordering::Acquire);
        if P::planted(Mutation::IgnoreFrozenBit) {
            return true;
        }
        if state::add_succeeds(old, nr) {
            ops::check_no_wrap::<Frozen>(old);
            return true;
        }
        // Out of line: the fast path is the fetch_add and one sign test.
        self.get_failed(old, nr);
        false
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for FrozenRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<Frozen>(self.raw(), f)
    }
}
