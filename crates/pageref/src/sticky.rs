//! The sticky counter with helping: a wait-free increment-if-not-zero whose
//! zero reads are exact.
//!
//! Source: D. Anderson, G. E. Blelloch, Y. Wei, "Turning manual concurrent
//! memory reclamation into automatic reference counting", PLDI 2022, Section 4.3
//! (the "sticky counter"); their C++ code is `StickyCounter` in
//! cmuparlay/concurrent_deferred_rc, `include/cdrc/internal/utils.h`; Rust
//! ports exist in powergee/cdrc-rs and aarc. Written here
//! from the paper's description, and extended to the whole `PageRef` contract
//! (freeze, unfreeze, init, set_frozen, an overflow guard), which the paper's
//! counter does not have: its objects are never re-initialised; pages are.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check::{self, misuse};
use crate::ops::{self, Encoding};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::{AtomicWord, PageRef, MAX_NR};

/// The zero flag: set = dead/frozen ("stuck at zero").
const ZERO: u32 = 1 << 31;
/// The help flag: set, together with `ZERO`, by a reader that found the
/// transient zero; cleared by the one decrementer that claims it.
const HELP: u32 = 1 << 30;
/// Both flags.
const FLAGS: u32 = ZERO | HELP;
/// The garbage (failed increments) under the flags of a dead word.
const GARBAGE: u32 = HELP - 1;
/// The capacity: `2^30 - 1`, the largest count below the help flag.
const MAX: u32 = HELP - 1;
/// The overflow guard's threshold on the garbage of a dead word.
const GUARD: u32 = 1 << 29;

/// The sticky encoding: the count in the low 30 bits, the flags above.
pub(crate) struct Sticky;

impl Encoding for Sticky {
    type Raw = u32;
    const TYPE: &'static str = "StickyRef";
    const MAX_COUNT: u32 = MAX;
    const SHIFT: u32 = 0;
    #[inline]
    fn bias() -> u32 {
        0
    }
    #[inline]
    fn dead() -> u32 {
        ZERO
    }
    #[inline]
    fn is_dead(raw: u32) -> bool {
        raw & ZERO != 0
    }
    fn state(raw: u32) -> (&'static str, Option<u64>) {
        if raw & HELP != 0 {
            ("frozen, helped", Some((raw & GARBAGE).into()))
        } else if raw & ZERO != 0 {
            ("frozen", Some((raw & GARBAGE).into()))
        } else if raw == 0 {
            ("transient zero", None)
        } else {
            ("live", None)
        }
    }
    #[inline]
    fn unclaimed(raw: u32) -> bool {
        raw & HELP != 0
    }
}

/// The sticky page refcount: top bit = zero flag, next bit = help flag, and a
/// read of exactly 0 *helps* by installing both, so that a returned 0 is
/// final.
///
/// # Encoding
///
/// | state          | raw value                         | meaning |
/// |----------------|-----------------------------------|---------|
/// | live           | `1 ..= 2^30 - 1`                  | owned by that many holders |
/// | transient zero | `0`                               | only inside a final put, between its decrement and its CAS |
/// | dead/frozen    | `ZERO_FLAG \| garbage`            | dead or frozen; garbage (`< 2^30`) left by failed gets |
/// | dead, helped   | `ZERO_FLAG \| HELP_FLAG \| garbage` | a reader found the transient zero and made it final; the decrementer that claims the help flag frees |
///
/// # Operations
///
/// * `try_get(nr)`: `fetch_add(nr)`; success iff the *old* value lacks the
///   zero flag. A failure leaves `nr` as garbage under the flags; a failure
///   that sees the garbage reach `2^29` resets it to 0, keeping both flags
///   (one CAS at a time, stopping at the first success), so garbage never
///   carries into the help flag (which would let a stale decrementer claim a
///   phantom help flag: a double free) nor clears the zero flag.
/// * put: `fetch_sub(nr)`; on reaching 0, CAS `0 -> ZERO_FLAG`; the winner
///   frees. If the CAS fails and the value it read carries the help flag, a
///   reader made this zero final; the decrementer then *claims* the flag by
///   clearing it with `fetch_and(!HELP_FLAG)`, and frees iff the flag was
///   still set, so exactly one decrementer is told it reached zero even when
///   a getter revived the count and both the reviver and the first
///   decrementer see the help flag. If the CAS read a live value (revived, no
///   help), the put returns `false` and the reviver's put finishes.
/// * `count()` (and `is_frozen()`): a load; if it reads exactly 0, CAS
///   `0 -> ZERO_FLAG | HELP_FLAG` and report 0 if that CAS succeeded (the
///   count is then dead for good), else decode the value the CAS read. A 0
///   returned by `count()` is therefore linearizable: no later `try_get`
///   succeeds on that incarnation.
/// * freeze: CAS `expected -> ZERO_FLAG`. unfreeze(c): release store `c`.
///   init: release store `1`. set_frozen: store `ZERO_FLAG`. No operation
///   stores a plain 0 (the kernel review's request (b),
///   <https://lkml.iu.edu/2603.1/01083.html>).
///
/// # Capacity
///
/// `MAX_COUNT = 2^30 - 1 = 1_073_741_823` (the paper's `max_value`: two bits
/// are flags). The guard keeps dead garbage below `2^29`, so between the
/// guard and the help flag there is room for `2^29 / MAX_NR = 2048` failing
/// gets of the largest `nr` ([`MAX_NR`] `= 2^18`) in flight at once between
/// their add and a landing guard CAS; the misuse checks report a failed get
/// that outran the guard.
///
/// # Cost of the last put
///
/// One extra atomic operation, the `0 -> ZERO_FLAG` CAS; a second one, the
/// claiming `fetch_and`, only when a reader helped in between.
///
/// # Differences from the paper and from the kernel API
///
/// * `count()` and `is_frozen()` may *write* (the helping CAS), once per
///   transient zero they read; the kernel's `page_ref_count()` is a plain
///   read. They stay `&self` and lock-free.
/// * The paper claims the help flag with an exchange to `ZERO_FLAG`. Here a
///   counter is re-initialised after it is freed, and a claimant that stalls
///   between its failed CAS and the exchange could then overwrite the next
///   incarnation's live count; clearing only the flag (`fetch_and`) is a
///   no-op on a live word. (The exchange is kept as the planted bug
///   `StickyClaimBySwap`.)
/// * Capacity `2^30 - 1` instead of `i32::MAX`.
/// * The paper's counter has no freeze/unfreeze/init/set_frozen and no
///   overflow guard; they are defined here as for the frozen bit.
///
/// Checked by every loom scenario of `docs/races.md` (and scenario 13, a
/// `count()` of 0 is final), shuttle and the stress test
/// (`docs/verification.md`); planted bugs `Mutation::StickyIgnoresHelp`,
/// `Mutation::StickyUncheckedHelp`, `Mutation::StickyClaimBySwap`.
/// Measured by `pageref bench` and the divan benches (`cargo bench -p pageref-bench --bench ops`).
///
/// `A` is the atomic word; `P` selects the ordering of the final `0 ->
/// ZERO_FLAG` CAS and of the claim ([`AcquireFinal`] by default; see
/// [`Policy::FINAL_CAS`]).
pub struct StickyRef<A: AtomicWord<Value = u32> = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy> StickyRef<A, P> {
    /// The zero (dead/frozen) flag, bit 31.
    pub const ZERO_FLAG: u32 = ZERO;
    /// The help flag, bit 30.
    pub const HELP_FLAG: u32 = HELP;
    /// The overflow guard's threshold on the garbage below the flags.
    pub const GUARD_LIMIT: u32 = GUARD;

    #[inline]
    const fn is_dead(raw: u32) -> bool {
        raw & ZERO != 0
    }

    /// The count of a raw value: 0 if dead.
    #[inline]
    const fn visible(raw: u32) -> u32 {
        if Self::is_dead(raw) {
            0
        } else {
            raw
        }
    }

    /// The paper's load: a read of exactly 0 helps, making the zero final.
    #[inline]
    fn load_helping(&self) -> u32 {
        // ORDERING: Relaxed, like atomic_read(): a snapshot.
        let raw = self.word.load(Ordering::Relaxed);
        if raw != 0 {
            return Self::visible(raw);
        }
        self.help()
    }

    /// Tries to turn the transient zero into "dead, helped"; returns the
    /// count to report.
    #[cold]
    fn help(&self) -> u32 {
        // ORDERING: Relaxed. The CAS needs only its atomicity: either it
        // replaces the transient zero, and every later fetch_add (later in
        // this word's modification order) sees the zero flag, or a getter
        // revived the count first and the CAS fails. It publishes nothing:
        // the claiming decrementer acquires through the release sequence of
        // the last put, which this RMW continues.
        let r = self
            .word
            .compare_exchange(0, ZERO | HELP, Ordering::Relaxed, Ordering::Relaxed);
        if P::planted(Mutation::StickyUncheckedHelp) {
            return 0;
        }
        match r {
            Ok(_) => 0,
            Err(now) => Self::visible(now),
        }
    }

    /// Resets garbage to 0, keeping both flags, while the observed value is
    /// dead with garbage at or above the guard; stops at its first success.
    #[cold]
    fn run_overflow_guard(&self, mut seen: u32) {
        while Self::is_dead(seen) && seen & GARBAGE >= GUARD {
            // ORDERING: Relaxed, as FrozenRef's guard: the CAS only rewrites
            // garbage of a dead word into another dead value with the same
            // flags; it publishes nothing and nobody acquires from it (a
            // claimant's fetch_and still reads within the release sequence,
            // which this RMW continues). It fails harmlessly if the word
            // changed (the loop re-examines the new value).
            match self.word.compare_exchange(
                seen,
                seen & FLAGS,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => seen = now,
            }
        }
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> PageRef for StickyRef<A, P> {
    const NAME: &'static str = "sticky";
    const REVIVES_ZERO: bool = true;
    const ZERO_IS_FINAL: bool = true;
    ops::shared_page_ref_methods!(Sticky, own count);

    /// The count; 0 when dead. Unlike the other schemes this may write: a
    /// read of the transient zero helps (see the type's docs), so that a
    /// returned 0 is final.
    #[inline]
    fn count(&self) -> u32 {
        self.load_helping()
    }

    /// Whether the counter is dead: `count() == 0`, so it helps as well, and
    /// `true` is final for this incarnation.
    #[inline]
    fn is_frozen(&self) -> bool {
        // A live count is never 0; the helping load reports 0 only for a
        // dead word.
        self.load_helping() == 0
    }

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        check::arg(Sticky::TYPE, "sub_and_test", "nr", nr, MAX);
        // ORDERING: P::PUT (Release by default), as FrozenRef: Release so
        // that our accesses happen before the free by whoever ends up
        // freeing; whoever frees acquires (the final CAS or the claim below),
        // reading this RMW's release sequence.
        let old = self.word.fetch_sub(nr, P::PUT);
        ops::check_put::<Sticky>("sub_and_test", old, nr);
        if old != nr {
            return false;
        }
        // Transient zero: a getter may revive it, a reader may help.
        // ORDERING: P::FINAL_CAS on success (Acquire by default), Relaxed on
        // failure, as FrozenRef's final CAS: the 0 we replace may have been
        // written by another thread's put after a revival, and only an
        // acquire makes that thread's accesses happen before our free. On
        // failure we decide only on the flags of the value read; the claim
        // below acquires for itself.
        let seen = match self
            .word
            .compare_exchange(0, ZERO, P::FINAL_CAS, Ordering::Relaxed)
        {
            Ok(_) => return true,
            Err(seen) => seen,
        };
        if seen & HELP == 0 || P::planted(Mutation::StickyIgnoresHelp) {
            // Revived (live), or already dead and claimed by someone else.
            return false;
        }
        // A reader made a zero final. We and possibly a reviver who also put
        // to zero both saw the flag: exactly one of us clears it.
        // ORDERING: P::FINAL_CAS (Acquire by default). The winner frees: it
        // must see the accesses of the holder whose put wrote the 0 the
        // helper replaced; that put was Release, and the helper's CAS and any
        // failed gets since are RMWs continuing its release sequence, which
        // this RMW reads from.
        let before = if P::planted(Mutation::StickyClaimBySwap) {
            self.word.swap(ZERO, P::FINAL_CAS)
        } else {
            self.word.fetch_and(!HELP, P::FINAL_CAS)
        };
        before & HELP != 0
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::arg(Sticky::TYPE, "add_unless_frozen", "nr", nr, MAX_NR);
        // ORDERING: Acquire (kernel: fully ordered on success). On success we
        // must see the incarnation we pinned: the Release store of init() or
        // unfreeze() and the release decrements of earlier holders (this RMW
        // extends their release sequences). A failed get only adds garbage
        // under the flags and acquires nothing it uses.
        let old = self.word.fetch_add(nr, Ordering::Acquire);
        if !Self::is_dead(old) {
            // Live, or the transient zero, which this get revives (the
            // reviver's own put then finishes the count).
            ops::check_room::<Sticky>("add_unless_frozen", old, nr);
            return true;
        }
        let new = old.wrapping_add(nr);
        if check::ENABLED && (old ^ new) & FLAGS != 0 {
            misuse(
                Sticky::TYPE,
                "add_unless_frozen",
                "garbage carried into the flags (overflow guard outrun)",
                old,
            )
        }
        if new & GARBAGE >= GUARD {
            self.run_overflow_guard(new);
        }
        false
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy> fmt::Debug for StickyRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<Sticky>(self.raw(), f)
    }
}
