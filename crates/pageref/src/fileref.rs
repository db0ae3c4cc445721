//! The kernel's `file_ref_t` (`include/linux/file_ref.h`, `fs/file.c`;
//! Christian Brauner, 2024: <https://lore.kernel.org/all/20241007-brauner-file-rcuref-v2-0-387e24dc9163@kernel.org/>),
//! written here from its documented behaviour and mapped onto the page API,
//! on a word of either width.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::atomic::Word;
use crate::check;
use crate::ops::{self, Encoding, FinalPut};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::zones::{self, Zoned};
use crate::{AtomicWord, PageRef, MAX_NR};

/// The kernel's `file_ref_t` on a page: rcuref's zones on a 64-bit word,
/// fully ordered, and a failed get that leaves its garbage alone.
///
/// | state          | raw value (64 bits)                            | meaning |
/// |----------------|------------------------------------------------|---------|
/// | live           | `0 ..= 0x7fff_ffff_ffff_ffff`                  | raw + 1 holders |
/// | saturated      | `0x8000_0000_0000_0000 ..= 0xbfff_ffff_ffff_ffff` | past the capacity (misuse here) |
/// | dead           | `0xc000_0000_0000_0000 ..= 0xffff_ffff_ffff_fffe` | dead or frozen; `DEAD = 0xe000_0000_0000_0000` plus garbage |
/// | transient zero | `0xffff_ffff_ffff_ffff` (`NOREF`)              | only inside a final put, between its decrement and its CAS |
///
/// * get (`file_ref_get`): `fetch_add(nr)`, fully ordered (the kernel's
///   `atomic_long_add_negative`; C11 `AcqRel`); success iff the result is
///   non-negative. A failure does **nothing more**: the kernel's comment
///   explains that resetting the garbage (as `rcuref_t` does) could mark a
///   *recycled* file dead behind its new owner's back, and that `2^61`
///   failed gets would be needed to walk from `DEAD` to live.
/// * put (`file_ref_put`): `fetch_sub(nr)`, fully ordered
///   (`atomic_long_dec_return`; C11 `AcqRel`); if that reached `NOREF`, CAS
///   `NOREF -> DEAD` with release (`atomic_long_try_cmpxchg_release`), then
///   an acquire fence (`smp_acquire__after_ctrl_dep()`). Only the CAS winner
///   frees.
/// * init, unfreeze: release store of `count - 1`; freeze: CAS
///   `expected - 1 -> DEAD`; set_frozen: store `DEAD`; count: raw + 1, or 0
///   in the dead zone and at `NOREF` (`file_ref_read`).
///
/// # Widths
///
/// `FileRef` (the default, `A = AtomicU64`) is the kernel's. `FileRef<AtomicU32>`
/// is the same code on a 32-bit word, as `page->_refcount` would need: with
/// no reset, `2^29` failed gets of 1 (`2^11` GUP-sized ones of `2^18`) walk
/// a dead word from `DEAD` through `NOREF` into live, and a get then
/// succeeds on a dead page. That is scenario 8 of `docs/races.md`; the
/// verification crate shows it. The 64-bit word passes, at twice the
/// memory: 8 bytes per `struct page` refcount instead of 4.
///
/// # Mapping onto the page API
///
/// As for [`RcuRef`](crate::RcuRef): `nr` references in one RMW, the
/// shared freeze/unfreeze/init/set_frozen with `DEAD` as the frozen value,
/// misuse checks instead of the kernel's repair paths. The page API's
/// counts are `u32`, so the 64-bit word's capacity is `u32::MAX` here.
///
/// Capacity: `u32::MAX` (64 bits), `2^31` (32 bits). One extra CAS and a
/// fence on the last put. A `count()` of 0 may be `NOREF`: not final.
///
/// Checked by every loom scenario, shuttle and the stress test
/// (`docs/verification.md`); planted bug `Mutation::FileRefResetsGarbage`.
/// Measured by `pageref bench` and the divan benches (`cargo bench -p pageref-bench --bench ops`).
///
/// `P` selects planted bugs only: the orderings are the kernel's.
pub struct FileRef<A: AtomicWord = AtomicU64, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord, P: Policy> FileRef<A, P> {
    /// A failed get: nothing to do (the planted bug resets as rcuref does).
    #[cold]
    #[inline(never)]
    fn get_failed(&self) {
        if P::planted(Mutation::FileRefResetsGarbage) {
            // ORDERING: Relaxed, as RcuRef's slow path (the mutant copies it).
            let cnt = self.word.load(Ordering::Relaxed);
            if cnt >= zones::released::<A::Value>() {
                // ORDERING: Relaxed, as RcuRef's.
                self.word.store(zones::dead(), Ordering::Relaxed);
            }
        }
    }
}

impl<A: AtomicWord, P: Policy> PageRef for FileRef<A, P> {
    const NAME: &'static str = if <A::Value as Word>::BITS >= 64 {
        "fileref"
    } else {
        "fileref32"
    };
    const REVIVES_ZERO: bool = true;
    const ZERO_IS_FINAL: bool = false;
    ops::shared_page_ref_methods!(Zoned<A::Value, false>);

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        // ORDERING, the kernel's, mapped to C11: the decrement is fully
        // ordered (atomic_long_dec_return), AcqRel here as for every fully
        // ordered RMW of this crate; then, as RcuRef, a Release CAS
        // (atomic_long_try_cmpxchg_release) and an Acquire fence
        // (smp_acquire__after_ctrl_dep), which makes the freer synchronise
        // with every holder whose Release decrement heads the release
        // sequence the CAS read from (see RcuRef::sub_and_test).
        let o = FinalPut {
            put: Ordering::AcqRel,
            cas: Ordering::Release,
            fence: Some(Ordering::Acquire),
        };
        ops::put_final_cas::<Zoned<A::Value, false>, A, P>(&self.word, nr, o)
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::arg(
            Zoned::<A::Value, false>::TYPE,
            "add_unless_frozen",
            "nr",
            nr,
            MAX_NR,
        );
        // ORDERING: AcqRel, the kernel's fully ordered atomic_long_add_negative.
        // Acquire is what a successful get needs (it must see the incarnation
        // it pinned: init/unfreeze Release stores, earlier Release puts);
        // the Release half is the kernel's, and costs nothing on x86.
        let old = self
            .word
            .fetch_add(ops::delta::<Zoned<A::Value, false>>(nr), Ordering::AcqRel);
        if !zones::negative(old) {
            ops::check_room::<Zoned<A::Value, false>>("add_unless_frozen", old, nr);
        }
        if !zones::negative(old.wrapping_add(ops::delta::<Zoned<A::Value, false>>(nr))) {
            ops::check_no_wrap::<Zoned<A::Value, false>>(old);
            return true;
        }
        self.get_failed();
        false
    }
}

impl<A: AtomicWord, P: Policy> fmt::Debug for FileRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<Zoned<A::Value, false>>(self.raw(), f)
    }
}
