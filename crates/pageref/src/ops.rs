//! The operations every scheme shares, written once.
//!
//! A scheme is an [`Encoding`] of the count in its raw word, plus the few
//! operations that make it what it is (its get, its final put, its overflow
//! guard), which stay in its own file. Everything else here is parameterised
//! by the encoding: the raw value of a count is
//! `bias() + (count << SHIFT)` (wrapping), dead is the scheme's `is_dead`, and
//! freezing or freeing stores the scheme's `dead()`.
//!
//! | scheme | `SHIFT` | `bias()` (the transient zero) | `dead()` | dead when |
//! |---|---|---|---|---|
//! | frozen bit | 0 | `0` | `1 << 31` | bit 31 set |
//! | classic, optimistic | 0 | `0` (never transient: 0 is dead) | `0` | `== 0` |
//! | sticky | 0 | `0` | `1 << 31` | bit 31 set |
//! | low bit | 1 | `0` | `1` | bit 0 set |
//! | rcuref, file_ref | 0 | `!0` (`NOREF`) | `0b111 << (BITS - 3)` | in the released zone, not `NOREF` |
//!
//! Orderings are argued once, here, for every scheme; the scheme files argue
//! only their own.

use core::fmt;
use core::sync::atomic::Ordering;

use crate::atomic::{AtomicWord, Word};
use crate::check::{self, misuse};
use crate::policy::{Mutation, Policy};

/// How a scheme encodes a count in its raw word. See the module docs.
pub(crate) trait Encoding {
    /// The raw word.
    type Raw: Word;
    /// The public type's name, for misuse messages and `Debug`.
    const TYPE: &'static str;
    /// The largest legal live count.
    const MAX_COUNT: u32;
    /// A reference is `1 << SHIFT` raw units.
    const SHIFT: u32;
    /// The raw value of a count of zero: the transient zero of a final put.
    fn bias() -> Self::Raw;
    /// What freezing and freeing store.
    fn dead() -> Self::Raw;
    /// Whether `raw` is dead or frozen (the transient zero is not).
    fn is_dead(raw: Self::Raw) -> bool;
    /// The name of the state of `raw` for `Debug` ("live", "frozen", ...),
    /// and the garbage that failed gets left in it, if any.
    fn state(raw: Self::Raw) -> (&'static str, Option<u64>);
    /// Whether a dead `raw` still waits for a put to claim it (only the
    /// sticky counter's help flag): reviving it then is misuse.
    #[inline]
    fn unclaimed(_raw: Self::Raw) -> bool {
        false
    }
}

/// The raw units of `nr` references.
#[inline]
pub(crate) fn delta<E: Encoding>(nr: u32) -> E::Raw {
    E::Raw::from_u32(nr).wrapping_mul(E::Raw::bit(E::SHIFT))
}

/// The raw value of a live count.
#[inline]
pub(crate) fn raw_of<E: Encoding>(count: u32) -> E::Raw {
    E::bias().wrapping_add(delta::<E>(count))
}

/// The count of a raw value that is neither dead nor the transient zero
/// (capped at `u32::MAX`, for a 64-bit word whose count ran past it).
#[inline]
fn live_count<E: Encoding>(raw: E::Raw) -> u32 {
    let units = raw.wrapping_sub(E::bias()).to_u64() >> E::SHIFT;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// The count a reader may see: 0 when dead or at the transient zero (never
/// garbage, never negative).
#[inline]
pub(crate) fn visible<E: Encoding>(raw: E::Raw) -> u32 {
    if E::is_dead(raw) || raw == E::bias() {
        0
    } else {
        live_count::<E>(raw)
    }
}

// ---------------------------------------------------------------------------
// Checks (the series' debug checks; see `check`)
// ---------------------------------------------------------------------------

/// Checks the old value of an increment of `nr` on a counter that must be
/// live.
#[inline]
#[track_caller]
pub(crate) fn check_add_live<E: Encoding>(op: &str, old: E::Raw, nr: u32) {
    if check::ENABLED {
        if E::is_dead(old) || old == E::bias() {
            misuse(E::TYPE, op, "increment of a frozen counter", old)
        }
        check_room::<E>(op, old, nr);
    }
}

/// Checks that a live `old` has room for `nr` more references.
#[inline]
#[track_caller]
pub(crate) fn check_room<E: Encoding>(op: &str, old: E::Raw, nr: u32) {
    if check::ENABLED && live_count::<E>(old) > E::MAX_COUNT - nr {
        too_many::<E>(op, old)
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn too_many<E: Encoding>(op: &str, old: E::Raw) -> ! {
    // One source for this message in every scheme: MAX_COUNT with its value.
    misuse(
        E::TYPE,
        op,
        format_args!("count would exceed MAX_COUNT ({})", E::MAX_COUNT),
        old,
    )
}

/// Checks that a get which found `old` and succeeded did not find it dead:
/// garbage of failed gets wrapped the word around into live.
#[inline]
#[track_caller]
pub(crate) fn check_no_wrap<E: Encoding>(old: E::Raw) {
    if check::ENABLED && E::is_dead(old) {
        let what = "dead word wrapped around into live (garbage outran its headroom)";
        misuse(E::TYPE, "add_unless_frozen", what, old)
    }
}

/// Checks the old value of a decrement of `nr`: live, and at least `nr`.
#[inline]
#[track_caller]
pub(crate) fn check_put<E: Encoding>(op: &str, old: E::Raw, nr: u32) {
    if check::ENABLED {
        if E::is_dead(old) {
            misuse(E::TYPE, op, "put on a frozen counter", old)
        }
        if live_count::<E>(old) > E::MAX_COUNT {
            misuse(E::TYPE, op, "count above MAX_COUNT (a saturated word)", old)
        }
        if old == E::bias() || live_count::<E>(old) < nr {
            misuse(E::TYPE, op, "count would drop below zero", old)
        }
    }
}

/// Checks that a void or value-returning decrement did not drop the last
/// reference (only `sub_and_test` may).
#[inline]
#[track_caller]
fn check_not_last<E: Encoding>(op: &str, old: E::Raw, nr: u32, what: &str) {
    if check::ENABLED && old == raw_of::<E>(nr) {
        misuse(E::TYPE, op, what, old)
    }
}

/// Checks that a word about to be revived by `op` (init, unfreeze) is dead
/// and claimed.
#[inline]
#[track_caller]
fn check_revive<E: Encoding, A: AtomicWord<Value = E::Raw>>(word: &A, op: &str, live: &str) {
    if check::ENABLED {
        // ORDERING: Relaxed; a debug-only plausibility read (the kernel's
        // VM_BUG_ON_PAGE(page_count(page) != 0)).
        let old = word.load(Ordering::Relaxed);
        if !E::is_dead(old) {
            misuse(E::TYPE, op, live, old)
        }
        if E::unclaimed(old) {
            // Only the put that claims the zero owns the object.
            misuse(
                E::TYPE,
                op,
                "its last put has not claimed the zero yet",
                old,
            )
        }
    }
}

// ---------------------------------------------------------------------------
// The shared operations
// ---------------------------------------------------------------------------

/// A live counter holding `count`; always checked (constructors are not hot,
/// and `new(0)` would create a plain zero, which no operation may leave).
#[track_caller]
pub(crate) fn new<E: Encoding, A: AtomicWord<Value = E::Raw>>(count: u32) -> A {
    check::arg_always(E::TYPE, "new", "count", count, E::MAX_COUNT);
    A::new(raw_of::<E>(count))
}

/// A dead counter, as a free page in the allocator.
pub(crate) fn new_frozen<E: Encoding, A: AtomicWord<Value = E::Raw>>() -> A {
    A::new(E::dead())
}

/// The raw word, zero-extended.
#[inline]
pub(crate) fn raw<A: AtomicWord>(word: &A) -> u64 {
    // ORDERING: Relaxed; a diagnostic snapshot, synchronises with nothing.
    word.load(Ordering::Relaxed).to_u64()
}

/// `page_ref_count`.
#[inline]
pub(crate) fn count<E: Encoding, A: AtomicWord<Value = E::Raw>, P: Policy>(word: &A) -> u32 {
    // ORDERING: Relaxed, like the kernel's atomic_read(): a snapshot that is
    // stale at once; callers that act on it hold a reference or a lock.
    let raw = word.load(Ordering::Relaxed);
    if P::planted(Mutation::CountShowsGarbage) {
        return live_count::<E>(raw);
    }
    visible::<E>(raw)
}

/// Whether the counter is dead or frozen.
#[inline]
pub(crate) fn is_frozen<E: Encoding, A: AtomicWord<Value = E::Raw>>(word: &A) -> bool {
    // ORDERING: Relaxed snapshot, as count().
    E::is_dead(word.load(Ordering::Relaxed))
}

/// `init_page_count`: dead -> 1.
#[track_caller]
pub(crate) fn init<E: Encoding, A: AtomicWord<Value = E::Raw>>(word: &A) {
    check_revive::<E, A>(word, "init", "init of a live counter");
    // ORDERING: Release (the kernel's set_page_count is a plain store). A
    // stale speculative getter may find this page through an old pointer;
    // its Acquire get reads this 1 and must then see everything done before
    // the reallocation (e.g. the old slot's unpublish), so that its
    // re-validation cannot pass on stale data. In the kernel the getter's
    // fully ordered RMW and the allocator's locks give this; in C11 only a
    // release store here does. The store also wipes any garbage.
    word.store(raw_of::<E>(1), Ordering::Release);
}

/// `set_page_count_frozen`: dead, from any state; the caller owns the
/// object exclusively.
pub(crate) fn set_frozen<E: Encoding, A: AtomicWord<Value = E::Raw>, P: Policy>(word: &A) {
    let dead = if P::planted(Mutation::FreeStoresZero) {
        E::Raw::ZERO
    } else {
        E::dead()
    };
    // ORDERING: Relaxed. The caller owns the object exclusively; a dead value
    // grants nothing to whoever reads it (a get fails, a freeze fails), so
    // there is nothing to publish.
    word.store(dead, Ordering::Relaxed);
}

/// `page_ref_add`.
#[inline]
#[track_caller]
pub(crate) fn add<E: Encoding, A: AtomicWord<Value = E::Raw>>(word: &A, nr: u32) {
    check::arg(E::TYPE, "add", "nr", nr, E::MAX_COUNT);
    // ORDERING: Relaxed (kernel: void RMW, unordered). The caller already
    // holds a reference, so the object cannot be freed or change identity
    // meanwhile; as with Arc::clone, new references need no ordering.
    let old = word.fetch_add(delta::<E>(nr), Ordering::Relaxed);
    check_add_live::<E>("add", old, nr);
}

/// `page_ref_sub`.
#[inline]
#[track_caller]
pub(crate) fn sub<E: Encoding, A: AtomicWord<Value = E::Raw>, P: Policy>(word: &A, nr: u32) {
    check::arg(E::TYPE, "sub", "nr", nr, E::MAX_COUNT);
    // ORDERING: Release, stronger than the kernel's unordered void
    // atomic_sub: the dropped references may have been used, and those uses
    // must happen before the eventual free by whoever puts last (whose
    // Acquire reads this RMW's release sequence). Free on x86; on arm64 it
    // is ldaddl instead of ldadd.
    let order = if P::planted(Mutation::VoidPutRelaxed) {
        Ordering::Relaxed
    } else {
        Ordering::Release
    };
    let old = word.fetch_sub(delta::<E>(nr), order);
    check_put::<E>("sub", old, nr);
    check_not_last::<E>(
        "sub",
        old,
        nr,
        "void op would drop the last reference (use sub_and_test)",
    );
}

/// `page_ref_inc_return`: the new count.
#[inline]
#[track_caller]
pub(crate) fn inc_return<E: Encoding, A: AtomicWord<Value = E::Raw>>(word: &A) -> u32 {
    // ORDERING: AcqRel (kernel: value-returning RMW, fully ordered). The
    // caller may act on the value it returns, so it observes, and is
    // observed by, the other holders' operations on this word.
    let old = word.fetch_add(delta::<E>(1), Ordering::AcqRel);
    check_add_live::<E>("inc_return", old, 1);
    live_count::<E>(old).wrapping_add(1)
}

/// `page_ref_sub_return`: the new count (must stay live).
#[inline]
#[track_caller]
pub(crate) fn sub_return<E: Encoding, A: AtomicWord<Value = E::Raw>, P: Policy>(
    word: &A,
    nr: u32,
) -> u32 {
    check::arg(E::TYPE, "sub_return", "nr", nr, E::MAX_COUNT);
    // ORDERING: AcqRel (kernel: fully ordered): Release for the same reason
    // as sub(); Acquire because the caller acts on the value.
    let order = if P::planted(Mutation::SubReturnNoRelease) {
        Ordering::Acquire
    } else {
        Ordering::AcqRel
    };
    let old = word.fetch_sub(delta::<E>(nr), order);
    check_put::<E>("sub_return", old, nr);
    check_not_last::<E>(
        "sub_return",
        old,
        nr,
        "would drop the last reference (use sub_and_test)",
    );
    live_count::<E>(old).wrapping_sub(nr)
}

/// `page_ref_sub_and_test` of the schemes where a count of zero is dead at
/// once (classic, optimistic): one decrement, no final CAS.
#[inline]
#[track_caller]
pub(crate) fn put_zero_dead<E: Encoding, A: AtomicWord<Value = E::Raw>>(word: &A, nr: u32) -> bool {
    check::arg(E::TYPE, "sub_and_test", "nr", nr, E::MAX_COUNT);
    // ORDERING: AcqRel (kernel: fully ordered). Release: our accesses happen
    // before the free. Acquire: the thread that reaches 0 frees, and must
    // see every other holder's accesses (their Release decrements form one
    // release sequence on this word). Nothing else acquires for it.
    let old = word.fetch_sub(delta::<E>(nr), Ordering::AcqRel);
    check_put::<E>("sub_and_test", old, nr);
    old == raw_of::<E>(nr)
}

/// The orderings of a put with a final CAS (see [`put_final_cas`]).
#[derive(Clone, Copy)]
pub(crate) struct FinalPut {
    /// The decrement.
    pub(crate) put: Ordering,
    /// The final CAS, on success.
    pub(crate) cas: Ordering,
    /// A fence after a successful final CAS, if the scheme has one.
    pub(crate) fence: Option<Ordering>,
}

/// `page_ref_sub_and_test` of the schemes whose put passes through a
/// transient zero that a getter may revive (frozen bit, low bit, rcuref,
/// file_ref): decrement; if that reached the transient zero, CAS it to
/// dead; only the CAS winner frees. If a getter revived the count in
/// between, the CAS fails, the put returns `false`, and that getter's own
/// put does the final transition. The orderings are the scheme's, argued in
/// its file.
#[inline]
#[track_caller]
pub(crate) fn put_final_cas<E: Encoding, A: AtomicWord<Value = E::Raw>, P: Policy>(
    word: &A,
    nr: u32,
    o: FinalPut,
) -> bool {
    check::arg(E::TYPE, "sub_and_test", "nr", nr, E::MAX_COUNT);
    // ORDERING: the scheme's `o.put` (see the caller).
    let old = word.fetch_sub(delta::<E>(nr), o.put);
    check_put::<E>("sub_and_test", old, nr);
    if old != raw_of::<E>(nr) {
        return false;
    }
    // The transient zero: a concurrent get may revive the count now.
    if P::planted(Mutation::SkipFinalCas) {
        return true;
    }
    let dead = if P::planted(Mutation::FreeStoresZero) {
        E::Raw::ZERO
    } else {
        E::dead()
    };
    // ORDERING: `o.cas` on success (see the caller); Relaxed on failure: a
    // getter revived the count, the object is not ours, we touch nothing.
    let won = word
        .compare_exchange(E::bias(), dead, o.cas, Ordering::Relaxed)
        .is_ok();
    if let (true, Some(fence)) = (won, o.fence) {
        // ORDERING: the scheme's fence (see the caller).
        A::fence(fence);
    }
    won
}

/// The final put of the frozen bit and the low bit, whose orderings the
/// policy `P` picks: the decrement is `P::PUT` (Release by default, the
/// posted AcqRel with `RelaxedFinal`): Release so that our accesses to the
/// object happen before its free by whoever wins the final CAS. The final CAS
/// is `P::FINAL_CAS` on success (Acquire by default): the transient zero it
/// replaces may have been written by another thread's put (we decremented to
/// zero, a getter revived and put back to zero); acquiring it makes that
/// thread's accesses happen before our free, and since it reads the release
/// sequence of every earlier holder's decrement, it also makes theirs.
/// Relaxed (as posted) lacks this under C11: see `AcquireFinal`. No fence.
#[inline]
#[track_caller]
pub(crate) fn put_policy_final_cas<E: Encoding, A: AtomicWord<Value = E::Raw>, P: Policy>(
    word: &A,
    nr: u32,
) -> bool {
    let o = FinalPut {
        put: P::PUT,
        cas: P::FINAL_CAS,
        fence: None,
    };
    put_final_cas::<E, A, P>(word, nr, o)
}

/// `page_ref_freeze`: freeze if the count is exactly `expected`.
#[inline]
#[track_caller]
pub(crate) fn freeze<E: Encoding, A: AtomicWord<Value = E::Raw>, P: Policy>(
    word: &A,
    expected: u32,
) -> bool {
    check::arg(E::TYPE, "freeze", "count", expected, E::MAX_COUNT);
    let dead = if P::planted(Mutation::FreezeStoresZero) {
        E::Raw::ZERO
    } else {
        E::dead()
    };
    // ORDERING: Acquire on success (kernel: fully ordered). The freezer
    // becomes the exclusive owner; every holder whose reference it replaces
    // put with Release, and this CAS continues their release sequence.
    // Nothing needs publishing by the freeze itself: a failed get on the dead
    // word acquires nothing, and unfreeze() is a Release store. Relaxed on
    // failure: nothing was gained.
    word.compare_exchange(
        raw_of::<E>(expected),
        dead,
        Ordering::Acquire,
        Ordering::Relaxed,
    )
    .is_ok()
}

/// `page_ref_unfreeze`: dead -> `count` live references.
#[inline]
#[track_caller]
pub(crate) fn unfreeze<E: Encoding, A: AtomicWord<Value = E::Raw>>(word: &A, count: u32) {
    check::arg(E::TYPE, "unfreeze", "count", count, E::MAX_COUNT);
    check_revive::<E, A>(word, "unfreeze", "unfreeze of a live counter");
    // ORDERING: Release (kernel: atomic_set_release). Publishes what the
    // freezer did to the object to every later successful get, whose Acquire
    // RMW reads this value. The store also wipes garbage.
    word.store(raw_of::<E>(count), Ordering::Release);
}

/// The one `Debug` shape of every scheme: the raw word in hex, its decoded
/// state (with the garbage of a dead word), and the count a reader sees.
pub(crate) fn debug<E: Encoding>(raw: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let raw = E::Raw::truncate_u64(raw);
    let width = 2 + E::Raw::BITS as usize / 4;
    let (state, garbage) = E::state(raw);
    let mut d = f.debug_struct(E::TYPE);
    d.field("raw", &format_args!("{raw:#0width$x}"));
    match garbage {
        Some(g) => d.field("state", &format_args!("{state} (garbage {g:#x})")),
        None => d.field("state", &format_args!("{state}")),
    };
    d.field("count", &visible::<E>(raw)).finish()
}

/// Implements the `PageRef` methods every scheme shares by delegating to
/// this module; used inside each scheme's `impl PageRef`, which adds its own
/// `NAME`, `REVIVES_ZERO`, `ZERO_IS_FINAL`, `add_unless_frozen` and
/// `sub_and_test`. `$enc` is the scheme's [`Encoding`]; the type must be a
/// struct `{ word: A, policy: PhantomData<fn() -> P> }` with a policy `P`.
/// With `own count`, the scheme writes `count` and `is_frozen` itself (the
/// sticky counter's helping reads).
macro_rules! shared_page_ref_methods {
    ($enc:ty) => {
        $crate::ops::shared_page_ref_methods!($enc, own count);

        #[inline]
        fn count(&self) -> u32 {
            $crate::ops::count::<$enc, A, P>(&self.word)
        }
        #[inline]
        fn is_frozen(&self) -> bool {
            $crate::ops::is_frozen::<$enc, A>(&self.word)
        }
    };
    ($enc:ty, own count) => {
        const MAX_COUNT: u32 = <$enc as $crate::ops::Encoding>::MAX_COUNT;
        const WORD_BITS: u32 = <A::Value as $crate::atomic::Word>::BITS;

        #[track_caller]
        fn new(count: u32) -> Self {
            Self {
                word: $crate::ops::new::<$enc, A>(count),
                policy: core::marker::PhantomData,
            }
        }
        fn new_frozen() -> Self {
            Self {
                word: $crate::ops::new_frozen::<$enc, A>(),
                policy: core::marker::PhantomData,
            }
        }
        fn from_raw(raw: u64) -> Self {
            Self {
                word: A::new(<A::Value as $crate::atomic::Word>::truncate_u64(raw)),
                policy: core::marker::PhantomData,
            }
        }
        #[inline]
        fn raw(&self) -> u64 {
            $crate::ops::raw(&self.word)
        }
        #[track_caller]
        fn init(&self) {
            $crate::ops::init::<$enc, A>(&self.word)
        }
        fn set_frozen(&self) {
            $crate::ops::set_frozen::<$enc, A, P>(&self.word)
        }
        #[inline]
        #[track_caller]
        fn add(&self, nr: u32) {
            $crate::ops::add::<$enc, A>(&self.word, nr)
        }
        #[inline]
        #[track_caller]
        fn sub(&self, nr: u32) {
            $crate::ops::sub::<$enc, A, P>(&self.word, nr)
        }
        #[inline]
        #[track_caller]
        fn inc_return(&self) -> u32 {
            $crate::ops::inc_return::<$enc, A>(&self.word)
        }
        #[inline]
        #[track_caller]
        fn sub_return(&self, nr: u32) -> u32 {
            $crate::ops::sub_return::<$enc, A, P>(&self.word, nr)
        }
        #[inline]
        #[track_caller]
        fn freeze(&self, expected: u32) -> bool {
            $crate::ops::freeze::<$enc, A, P>(&self.word, expected)
        }
        #[inline]
        #[track_caller]
        fn unfreeze(&self, count: u32) {
            $crate::ops::unfreeze::<$enc, A>(&self.word, count)
        }
    };
}
pub(crate) use shared_page_ref_methods;
