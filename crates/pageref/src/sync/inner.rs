//! The allocation behind `Arc` and `Weak`: its layout, its two counts and
//! their limits, allocation and freeing, the planted-bug switches, and the
//! misuse report. The operations are in `arc.rs`, `unique.rs` and
//! `weak.rs`.

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use super::words::ArcWords;
use crate::atomic::AtomicWord;

/// The dead bit of the strong count: the top bit of `usize`.
pub(crate) const DEAD: usize = 1 << (usize::BITS - 1);
/// The largest live strong count: `2^62 - 1` on 64-bit targets, `2^30 - 1`
/// on 32-bit ones. A clone or upgrade that finds more aborts; the quarter of
/// the word above it is headroom for the increments that other threads make
/// before the abort, so that no increment ever reaches [`DEAD`].
pub(crate) const MAX_STRONG: usize = (1 << (usize::BITS - 2)) - 1;
/// A failed upgrade that leaves the garbage under [`DEAD`] at or above this
/// resets it to `DEAD` (one CAS, stops at its first success): the guard of
/// the kernel series, for 32-bit targets where `2^31` failed upgrades
/// (seconds of work) would otherwise wrap the word to 0.
pub(crate) const GUARD: usize = DEAD | (1 << (usize::BITS - 2));
/// The largest weak count, as std's (`isize::MAX`); room above it for the
/// lock value and for the increments racing an abort.
pub(crate) const MAX_WEAK: usize = isize::MAX as usize;
/// The weak count while `get_mut` checks uniqueness (std's lock value).
pub(crate) const WEAK_LOCKED: usize = usize::MAX;
/// The address of a `Weak::new()`: never a real allocation (an `ArcInner` is
/// at least two words, aligned to one).
pub(super) const DANGLING: usize = usize::MAX;

/// The ids of the planted bugs (see `words::mutants`); without the
/// `mutants` feature they are all 0, "never", so every mutated branch folds
/// away at compile time.
#[cfg(feature = "mutants")]
pub(super) use super::words::mutants as bug;
#[cfg(not(feature = "mutants"))]
pub(super) mod bug {
    pub(crate) const UPGRADE_IGNORES_DEAD: u8 = 0;
    pub(crate) const DROP_WITHOUT_CAS: u8 = 0;
    pub(crate) const RELAXED_FINAL_CAS: u8 = 0;
    pub(crate) const INTO_INNER_TWO_WINNERS: u8 = 0;
    pub(crate) const GET_MUT_NO_WEAK_LOCK: u8 = 0;
    pub(crate) const CYCLIC_RELAXED_PUBLISH: u8 = 0;
    pub(crate) const MAKE_MUT_REVIVES: u8 = 0;
}

/// Whether planted bug `id` is on for `W` (only `Planted` words set one).
#[inline(always)]
pub(super) fn planted<W: ArcWords>(id: u8) -> bool {
    id != 0 && W::BUG == id
}

/// The allocation: both counts, the model checker's token (zero-sized
/// normally), then the value. `repr(C)` so that `from_raw` can step back
/// from the value to the counts with [`data_offset`].
#[repr(C)]
pub(crate) struct ArcInner<T, W: ArcWords> {
    /// Live: `1 ..= MAX_STRONG` strong references. `0`: only inside a last
    /// drop, between its decrement and its `0 -> DEAD` CAS (a concurrent
    /// upgrade may revive it). Dead: `DEAD | garbage` (the garbage is left
    /// by failed upgrades), forever, except that `new_cyclic` publishes and
    /// `make_mut` re-opens with a store of 1.
    pub(super) strong: W::Atomic,
    /// Weak references, plus one for all the strong ones together (std's
    /// design). `WEAK_LOCKED` while `get_mut` checks uniqueness.
    pub(super) weak: W::Atomic,
    pub(super) token: W::Token,
    pub(super) data: T,
}

/// Offset of `data` in `ArcInner<T, W>`: the `repr(C)` layout computed with
/// `Layout::extend`, which is documented to follow it.
#[inline]
pub(super) fn data_offset<T, W: ArcWords>() -> usize {
    let word = Layout::new::<W::Atomic>();
    let (l, _) = word.extend(word).expect("tiny layout");
    let (l, _) = l.extend(Layout::new::<W::Token>()).expect("tiny layout");
    let (_, offset) = l.extend(Layout::new::<T>()).expect("layout of T");
    offset
}

/// Counts of an allocation, reached without a reference to its `data`
/// (which may be uninitialised or dropped when only weak references remain).
///
/// # Safety
///
/// `p` points to a live (not yet freed) `ArcInner`.
#[inline(always)]
pub(super) unsafe fn strong<'a, T, W: ArcWords>(p: NonNull<ArcInner<T, W>>) -> &'a W::Atomic {
    // SAFETY: `p` is live (caller), and the header fields are initialised
    // at allocation and never moved.
    unsafe { &*ptr::addr_of!((*p.as_ptr()).strong) }
}

/// See [`strong`].
///
/// # Safety
///
/// As [`strong`].
#[inline(always)]
pub(super) unsafe fn weak<'a, T, W: ArcWords>(p: NonNull<ArcInner<T, W>>) -> &'a W::Atomic {
    // SAFETY: as in `strong`.
    unsafe { &*ptr::addr_of!((*p.as_ptr()).weak) }
}

/// Allocates an `ArcInner` with the given counts and uninitialised data.
pub(super) fn allocate<T, W: ArcWords>(strong: usize, weak: usize) -> NonNull<ArcInner<T, W>> {
    let layout = Layout::new::<ArcInner<T, W>>();
    // SAFETY: the layout holds two atomics, so it is not zero-sized.
    let p = unsafe { W::alloc(layout) } as *mut ArcInner<T, W>;
    // SAFETY: `p` is a fresh allocation of the right layout (non-null:
    // `alloc` never returns null); the header fields are written in place
    // without reading the uninitialised memory.
    unsafe {
        ptr::addr_of_mut!((*p).strong).write(W::Atomic::new(strong));
        ptr::addr_of_mut!((*p).weak).write(W::Atomic::new(weak));
        ptr::addr_of_mut!((*p).token).write(W::token());
        NonNull::new_unchecked(p)
    }
}

/// Frees an allocation whose data is dropped (or was never written).
///
/// # Safety
///
/// The caller is the last user of `p` (its weak count reached 0).
pub(super) unsafe fn free<T, W: ArcWords>(p: NonNull<ArcInner<T, W>>) {
    let p = p.as_ptr();
    // SAFETY: we are the last user; the header fields are initialised;
    // `W::free` gets the block and layout that `allocate` used.
    unsafe {
        ptr::drop_in_place(ptr::addr_of_mut!((*p).strong));
        ptr::drop_in_place(ptr::addr_of_mut!((*p).weak));
        W::free(
            ptr::addr_of_mut!((*p).token),
            p as *mut u8,
            Layout::new::<ArcInner<T, W>>(),
        );
    }
}

/// A use of the API that no correct program makes (found only where the
/// counts show it): the state is corrupt, so abort rather than unwind.
#[cold]
#[inline(never)]
pub(super) fn misuse<W: ArcWords>(op: &str, what: &str, raw: usize) {
    // Format without allocating: the message goes through `abort`'s panic.
    struct Msg<'a>(&'a str, &'a str, usize);
    impl core::fmt::Display for Msg<'_> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "{}: {} (raw = {:#x})", self.0, self.1, self.2)
        }
    }
    W::fatal(&Msg(op, what, raw))
}
