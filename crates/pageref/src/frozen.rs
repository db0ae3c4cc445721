//! The frozen-bit scheme of the series "mm: implement page refcount locking
//! via dedicated bit" (RFC Dec 2025, v1 Feb 2026 ... v5), latest semantics.
//! See the state table in [`crate::state`].

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check::{self, misuse};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::state::{self, FROZEN_BIT, MAX_COUNT};
use crate::{AtomicWord, PageRef};

const NAME: &str = "FrozenRef";

/// The frozen-bit page refcount: `FROZEN_BIT = 1 << 31` marks dead/frozen,
/// the low 31 bits count.
///
/// * `try_get` is one unconditional `fetch_add`; it succeeded iff the result
///   does not have the bit. A failure leaves its `nr` as *garbage* under the
///   bit; a failure that sees the garbage reach [`GUARD_LIMIT`](crate::GUARD_LIMIT)
///   resets it to plain `FROZEN_BIT` (one CAS at a time, stopping at the first
///   success; never clearing the bit).
/// * the final put decrements to 0 ("transient zero") and then CASes
///   `0 -> FROZEN_BIT`; only the CAS winner frees. If a getter revived the
///   count in between, the CAS fails, the put returns `false`, and that
///   getter's own put does the final transition.
/// * no safe operation stores a plain 0 (the review's request (b)): once
///   freed, the bit stays set until `init` stores 1.
///
/// `A` is the atomic word (see [`AtomicWord`]); `P` selects the ordering of
/// the final CAS ([`AcquireFinal`], the default, or the posted
/// [`RelaxedFinal`](crate::RelaxedFinal)).
pub struct FrozenRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> FrozenRef<A, P> {
    #[inline]
    fn with_raw(raw: u32) -> Self {
        FrozenRef {
            word: A::new(raw),
            policy: PhantomData,
        }
    }

    /// A counter holding an arbitrary raw value (e.g. a frozen word with
    /// garbage near the guard limit, or a plain 0). For the verification
    /// crate only (feature `mutants`).
    ///
    /// # Safety
    ///
    /// Any raw value is memory-safe, but values outside the protocol's
    /// reachable states (notably a plain 0 outside a final put) break the
    /// refcount's guarantees: the caller takes responsibility for them.
    #[cfg(feature = "mutants")]
    #[doc(hidden)]
    pub unsafe fn from_raw(raw: u32) -> Self {
        Self::with_raw(raw)
    }

    /// Resets garbage to plain `FROZEN_BIT` while the observed value is at or
    /// above the guard limit; stops at its first successful CAS (v5).
    fn run_overflow_guard(&self, mut seen: u32) {
        // Never clear the bit: the target is FROZEN_BIT itself (the mutant
        // clears it, to show the checkers notice).
        let target = if P::MUTATION == Mutation::GuardClearsBit {
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
    /// overflow guard once the garbage reaches [`GUARD_LIMIT`](crate::GUARD_LIMIT).
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_failed(&self, old: u32, nr: u32) {
        if check::ENABLED && !state::is_frozen(old) {
            // Live count grew into the bit: the object now reads as frozen
            // while it has holders. Unchecked, this get reports failure, the
            // object can never be freed (leak), and the holders' puts trip
            // nothing but keep it frozen.
            misuse(
                NAME,
                "add_unless_frozen",
                "count would exceed i32::MAX",
                old,
            )
        }
        if P::MUTATION == Mutation::UndoByDecrement {
            // ORDERING: Relaxed; the mutant's undo, as in the RFC's shape.
            self.word.fetch_sub(nr, Ordering::Relaxed);
            return;
        }
        let new = old.wrapping_add(nr);
        if state::guard_fires(new) {
            self.run_overflow_guard(new);
        }
    }

    /// Checks the old value of a decrement of `nr`: not frozen, not below `nr`.
    #[inline]
    #[track_caller]
    fn check_put(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if state::is_frozen(old) {
                misuse(NAME, op, "put on a frozen counter", old)
            }
            if old < nr {
                misuse(NAME, op, "count would drop below zero", old)
            }
        }
    }

    /// Checks the old value of an increment of `nr` on a counter that must be live.
    #[inline]
    #[track_caller]
    fn check_add_live(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if state::is_frozen(old) || old == 0 {
                misuse(NAME, op, "increment of a frozen counter", old)
            }
            if old > MAX_COUNT - nr {
                misuse(NAME, op, "count would exceed i32::MAX", old)
            }
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for FrozenRef<A, P> {
    const NAME: &'static str = "frozen";
    const MAX_COUNT: u32 = MAX_COUNT;

    fn new(count: u32) -> Self {
        // Always checked: constructors are not hot, and new(0) would create a
        // plain 0 (request (b)).
        if count == 0 || count > MAX_COUNT {
            check::bad_arg(NAME, "new", "count must be in 1..=i32::MAX", "count", count)
        }
        Self::with_raw(count)
    }

    fn new_frozen() -> Self {
        Self::with_raw(FROZEN_BIT)
    }

    #[inline]
    fn raw(&self) -> u32 {
        // ORDERING: Relaxed; a diagnostic snapshot, synchronises with nothing.
        self.word.load(Ordering::Relaxed)
    }

    #[inline]
    fn count(&self) -> u32 {
        // ORDERING: Relaxed, like the kernel's atomic_read(): a snapshot that
        // is stale at once; callers that act on it hold a reference or a lock.
        state::visible_count(self.word.load(Ordering::Relaxed))
    }

    #[inline]
    fn is_frozen(&self) -> bool {
        // ORDERING: Relaxed snapshot, as count().
        state::is_frozen(self.word.load(Ordering::Relaxed))
    }

    fn init(&self) {
        if check::ENABLED {
            // ORDERING: Relaxed; a debug-only plausibility read.
            let old = self.word.load(Ordering::Relaxed);
            if !state::is_frozen(old) {
                misuse(NAME, "init", "init of a live counter", old)
            }
        }
        // ORDERING: Release (the kernel's set_page_count is a plain store).
        // A stale speculative getter may find this page through an old
        // pointer; its Acquire fetch_add reads this 1 and must then see
        // everything done before the reallocation (e.g. the old slot's
        // unpublish), so that its re-validation cannot pass on stale data. In
        // the kernel the getter's fully ordered RMW and the allocator's locks
        // give this; in C11 only a release store here does.
        self.word.store(1, Ordering::Release);
    }

    fn set_frozen(&self) {
        let raw = if P::MUTATION == Mutation::FreeStoresZero {
            0
        } else {
            FROZEN_BIT
        };
        // ORDERING: Relaxed. The caller owns the object exclusively; a frozen
        // value grants nothing to whoever reads it (a try_get fails, a freeze
        // fails), so there is nothing to publish.
        self.word.store(raw, Ordering::Relaxed);
    }

    #[inline]
    fn add(&self, nr: u32) {
        check::nr(NAME, "add", nr);
        // ORDERING: Relaxed (kernel: void RMW, unordered). The caller already
        // holds a reference, so the object cannot be freed or change identity
        // meanwhile; as with Arc::clone, new references need no ordering.
        let old = self.word.fetch_add(nr, Ordering::Relaxed);
        Self::check_add_live("add", old, nr);
    }

    #[inline]
    fn sub(&self, nr: u32) {
        check::nr(NAME, "sub", nr);
        // ORDERING: Release, stronger than the kernel's unordered void
        // atomic_sub: the dropped references may have been used, and those
        // uses must happen before the eventual free by whoever puts last. It
        // costs nothing on x86 (every RMW is a full barrier there).
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
        // ORDERING: AcqRel (kernel: value-returning RMW, fully ordered). The
        // caller may act on the value it returns, so it observes, and is
        // observed by, the other holders' operations on this word.
        let old = self.word.fetch_add(1, Ordering::AcqRel);
        Self::check_add_live("inc_return", old, 1);
        old.wrapping_add(1)
    }

    #[inline]
    fn sub_return(&self, nr: u32) -> u32 {
        check::nr(NAME, "sub_return", nr);
        // ORDERING: AcqRel (kernel: fully ordered): Release for the same
        // reason as sub(); Acquire because the caller acts on the value.
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
        // ORDERING: AcqRel (kernel: fully ordered). Release: our accesses to
        // the object must happen before its free by whoever wins the final
        // CAS. Acquire: if we reach zero ourselves, the other holders'
        // release decrements are ours to see before we free. (With the
        // default Acquire final CAS, Release alone would do; keeping AcqRel
        // makes AcquireFinal and RelaxedFinal differ in exactly one ordering,
        // which is what the verification of scenario 10 compares.)
        let old = self.word.fetch_sub(nr, Ordering::AcqRel);
        Self::check_put("sub_and_test", old, nr);
        if old != nr {
            return false;
        }
        // Transient zero: a concurrent try_get may revive the count now.
        if P::MUTATION == Mutation::SkipFinalCas {
            return true;
        }
        let dead = if P::MUTATION == Mutation::FreeStoresZero {
            0
        } else {
            FROZEN_BIT
        };
        // ORDERING: P::FINAL_CAS on success, Relaxed on failure.
        // Success with Acquire: the 0 we replace may have been written by
        // another thread's put (we decremented to 0, a getter revived and put
        // back to 0); acquiring it makes that thread's accesses happen before
        // our free. Relaxed (as posted) lacks this under C11: see
        // `AcquireFinal`. Failure: a getter revived the count; the object is
        // not ours, we touch nothing, so no ordering is needed.
        self.word
            .compare_exchange(0, dead, P::FINAL_CAS, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::get_nr(NAME, "add_unless_frozen", nr);
        if P::MUTATION == Mutation::IgnoreFrozenBit {
            // ORDERING: as below.
            self.word.fetch_add(nr, Ordering::Acquire);
            return true;
        }
        // ORDERING: Acquire (kernel: fully ordered on success). On success we
        // must see the incarnation we pinned: the Release store of init() or
        // unfreeze() and the release decrements of earlier holders (this RMW
        // extends their release sequences). Nobody needs to acquire from
        // *our* add: a successful get is balanced by a Release put, and a
        // failed one only changes garbage under the bit.
        let old = self.word.fetch_add(nr, Ordering::Acquire);
        if state::add_succeeds(old, nr) {
            if check::ENABLED && state::is_frozen(old) {
                misuse(
                    NAME,
                    "add_unless_frozen",
                    "frozen word wrapped around into live (overflow guard outrun)",
                    old,
                )
            }
            return true;
        }
        // Out of line: the fast path is the fetch_add and one sign test.
        self.get_failed(old, nr);
        false
    }

    #[inline]
    fn freeze(&self, expected: u32) -> bool {
        check::count_arg(NAME, "freeze", expected);
        let frozen = if P::MUTATION == Mutation::FreezeStoresZero {
            0
        } else {
            FROZEN_BIT
        };
        // ORDERING: Acquire on success (kernel: fully ordered). The freezer
        // becomes the exclusive owner; every holder whose reference it
        // replaces put with Release, and this CAS continues their release
        // sequence. Nothing needs publishing by the freeze itself: a failed
        // try_get on the frozen word acquires nothing, and unfreeze() is a
        // Release store. Relaxed on failure: nothing was gained.
        self.word
            .compare_exchange(expected, frozen, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    fn unfreeze(&self, count: u32) {
        check::count_arg(NAME, "unfreeze", count);
        if check::ENABLED {
            // ORDERING: Relaxed; a debug-only plausibility read (the kernel's
            // VM_BUG_ON_PAGE(page_count(page) != 0)).
            let old = self.word.load(Ordering::Relaxed);
            if !state::is_frozen(old) {
                misuse(NAME, "unfreeze", "unfreeze of a live counter", old)
            }
        }
        // ORDERING: Release (kernel: atomic_set_release). Publishes what the
        // freezer did to the object to every later successful try_get, whose
        // Acquire fetch_add reads this value. The store also wipes garbage.
        self.word.store(count, Ordering::Release);
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for FrozenRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = self.raw();
        f.debug_struct("FrozenRef")
            .field("raw", &format_args!("{raw:#010x}"))
            .field("state", &state::decode(raw))
            .finish()
    }
}
