//! The kernel's `rcuref_t` (`include/linux/rcuref.h`, `lib/rcuref.c`;
//! Thomas Gleixner, 2023: <https://lore.kernel.org/all/20230328084534.412027525@linutronix.de/>),
//! written here from its documented behaviour and mapped onto the page API.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check;
use crate::ops::{self, Encoding, FinalPut};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::zones::{self, Zoned};

type Rcu = Zoned<u32, true>;
use crate::{AtomicWord, PageRef, MAX_NR};

/// The kernel's `rcuref_t` on a page: a biased count whose get is one
/// relaxed `fetch_add`, and whose failed get *stores* `DEAD` back.
///
/// | state          | raw value                     | meaning |
/// |----------------|-------------------------------|---------|
/// | live           | `0 ..= 0x7fff_ffff`           | raw + 1 holders |
/// | saturated      | `0x8000_0000 ..= 0xbfff_ffff` | past the capacity (misuse here; the kernel leaks the object) |
/// | dead           | `0xc000_0000 ..= 0xffff_fffe` | dead or frozen; `DEAD = 0xe000_0000` plus garbage |
/// | transient zero | `0xffff_ffff` (`NOREF`)       | only inside a final put, between its decrement and its CAS |
///
/// * get (`rcuref_get`): `fetch_add(nr)`, **relaxed** (the kernel's
///   `atomic_add_negative_relaxed`); success iff the result is
///   non-negative. Otherwise the slow path (`rcuref_get_slowpath`) *re-reads*
///   the word (`atomic_read`): if it is in the dead zone, it **stores
///   `DEAD`** (`atomic_set`, a plain store: "undo the increment so it stays
///   in the middle of the dead zone") and fails; else it succeeds (and
///   restores `SATURATED` if the count is saturated).
/// * put (`rcuref_put`): `fetch_sub(nr)`, **release** (`atomic_sub_return_release`
///   / `atomic_add_negative_release`); if that reached `NOREF`, CAS
///   `NOREF -> DEAD` with **release** (`atomic_try_cmpxchg_release`), then
///   an **acquire fence** (`smp_acquire__after_ctrl_dep()`) before the
///   caller may free. Only the CAS winner frees.
/// * init, unfreeze: release store of `count - 1`; freeze: CAS
///   `expected - 1 -> DEAD`; set_frozen: store `DEAD`; count: raw + 1, or 0
///   in the dead zone and at `NOREF` (`rcuref_read`).
///
/// # Mapping onto the page API
///
/// `rcuref_t` has get, put and read only. `add(nr)`, `sub(nr)`, the
/// `*_return` operations, `add_unless_frozen(nr)` and `sub_and_test(nr)`
/// add or subtract `nr` in the same single RMW (the kernel has no
/// `rcuref_get_many`); `freeze`/`unfreeze`/`init`/`set_frozen` are the
/// ones every scheme shares, with `DEAD` as the frozen value. The
/// kernel's repair paths for misuse (a put in the dead zone stores `DEAD`
/// back, a put on a saturated count restores `SATURATED`) are replaced by
/// the misuse checks, as for every scheme here.
///
/// # Why it is here
///
/// `rcuref_t` protects RCU-freed objects that are never reused in place, so
/// a stale getter can only ever find the same object, dead. Pages are
/// reused: a stale getter's `DEAD` store can land on the *next* incarnation
/// and kill it behind its owner's back. That is scenario 5 of
/// `docs/races.md`; the verification crate shows it (see
/// `docs/verification.md`). The series' answer is a CAS reset that stops at
/// its first success ([`FrozenRef`](crate::FrozenRef)); `file_ref_t`'s is no
/// reset and a 64-bit word ([`FileRef`](crate::FileRef)).
///
/// Capacity `2^31`; one extra CAS and a fence on the last put; a `count()`
/// of 0 may be `NOREF`, which a getter can revive: it is not final.
///
/// Checked by every loom scenario, shuttle and the stress test
/// (`docs/verification.md`); planted bug `Mutation::RcuRefNoFence`.
/// Measured by `pageref bench` and the divan benches (`cargo bench -p pageref-bench --bench ops`).
///
/// `P` selects planted bugs only: the orderings are the kernel's.
pub struct RcuRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> RcuRef<A, P> {
    /// `rcuref_get_slowpath`: the get's result was negative.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_slow(&self) -> bool {
        // ORDERING: Relaxed (the kernel's atomic_read). A fresh look at the
        // word; what it decides is the kernel's, right or wrong.
        let cnt = self.word.load(Ordering::Relaxed);
        if cnt >= zones::released::<u32>() {
            // ORDERING: Relaxed (atomic_set, a plain store): "stays in the
            // middle of the dead zone". Nothing is published by a dead value.
            self.word.store(zones::dead(), Ordering::Relaxed);
            return false;
        }
        if zones::negative(cnt) {
            // Saturated: only without the misuse checks, which report the
            // count growing past MAX_COUNT before it gets here.
            // ORDERING: Relaxed (atomic_set): keep it in the middle of the
            // saturation zone; the object is leaked, as in the kernel.
            self.word.store(zones::saturated(), Ordering::Relaxed);
        }
        // The kernel succeeds here: the word is live (or saturated) now.
        true
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for RcuRef<A, P> {
    const NAME: &'static str = "rcuref";
    const REVIVES_ZERO: bool = true;
    const ZERO_IS_FINAL: bool = false;
    ops::shared_page_ref_methods!(Rcu);

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        // ORDERING, the kernel's, mapped to C11: the decrement is Release
        // (atomic_add_negative_release): our accesses happen before the free.
        // The final CAS is Release on success (atomic_try_cmpxchg_release),
        // then an Acquire fence (smp_acquire__after_ctrl_dep). LKMM gets the
        // acquire from the control dependency of the CAS plus a read barrier;
        // C11 has no control dependencies, so its form is the fence: the CAS
        // read the transient zero from some holder's Release decrement (ours,
        // or a reviver's), and an Acquire fence after a read from a release
        // sequence synchronises with its head, so every earlier holder's
        // accesses happen before the free. On x86 the fence is free; on
        // arm64 it is a `dmb ishld`.
        let fence = if P::planted(Mutation::RcuRefNoFence) {
            None
        } else {
            Some(Ordering::Acquire)
        };
        let o = FinalPut {
            put: Ordering::Release,
            cas: Ordering::Release,
            fence,
        };
        ops::put_final_cas::<Rcu, A, P>(&self.word, nr, o)
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::arg(Rcu::TYPE, "add_unless_frozen", "nr", nr, MAX_NR);
        // ORDERING: Relaxed, the kernel's (atomic_add_negative_relaxed:
        // "provides no memory ordering, it is assumed the caller has
        // guaranteed the object memory to be stable (RCU, etc.)"). On pages
        // that are reused that assumption does not hold: the verification
        // crate shows what it costs.
        let old = self.word.fetch_add(nr, Ordering::Relaxed);
        if !zones::negative(old) {
            ops::check_room::<Rcu>("add_unless_frozen", old, nr);
        }
        if !zones::negative(old.wrapping_add(nr)) {
            ops::check_no_wrap::<Rcu>(old);
            return true;
        }
        self.get_slow()
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for RcuRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<Rcu>(self.raw(), f)
    }
}
