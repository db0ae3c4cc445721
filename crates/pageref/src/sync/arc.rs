//! `Arc` and `Weak`: the allocation, the two counts, and every operation
//! that touches them. The trait impls that only forward to `T` are in
//! `traits.rs`.
//!
//! Written from the documented behaviour of std's `Arc`
//! (<https://doc.rust-lang.org/std/sync/struct.Arc.html>, source file
//! `library/alloc/src/sync.rs`), with the strong count of the frozen-bit
//! protocol. The weak count, its `usize::MAX` lock and its orderings follow
//! std's design.

use core::alloc::Layout;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::words::{ArcWords, CoreWords};
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
const DANGLING: usize = usize::MAX;

/// Whether the misuse checks (over-release through `from_raw`, a drop of a
/// dead count) run: debug builds, or the crate's `strict` feature.
const CHECKS: bool = cfg!(any(debug_assertions, feature = "strict"));

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

/// The ids of the planted bugs (see `words::mutants`); without the
/// `mutants` feature they are all 0, "never", so every mutated branch folds
/// away at compile time.
#[cfg(feature = "mutants")]
use super::words::mutants as bug;
#[cfg(not(feature = "mutants"))]
mod bug {
    pub const UPGRADE_IGNORES_DEAD: u8 = 0;
    pub const DROP_WITHOUT_CAS: u8 = 0;
    pub const RELAXED_FINAL_CAS: u8 = 0;
    pub const INTO_INNER_TWO_WINNERS: u8 = 0;
    pub const GET_MUT_NO_WEAK_LOCK: u8 = 0;
    pub const CYCLIC_RELAXED_PUBLISH: u8 = 0;
    pub const MAKE_MUT_REVIVES: u8 = 0;
}

/// Whether planted bug `id` is on for `W` (only `Planted` words set one).
#[inline(always)]
fn planted<W: ArcWords>(id: u8) -> bool {
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
    strong: W::Atomic,
    /// Weak references, plus one for all the strong ones together (std's
    /// design). `WEAK_LOCKED` while `get_mut` checks uniqueness.
    weak: W::Atomic,
    token: W::Token,
    data: T,
}

/// Offset of `data` in `ArcInner<T, W>`: the `repr(C)` layout computed with
/// `Layout::extend`, which is documented to follow it.
#[inline]
fn data_offset<T, W: ArcWords>() -> usize {
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
unsafe fn strong<'a, T, W: ArcWords>(p: NonNull<ArcInner<T, W>>) -> &'a W::Atomic {
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
unsafe fn weak<'a, T, W: ArcWords>(p: NonNull<ArcInner<T, W>>) -> &'a W::Atomic {
    // SAFETY: as in `strong`.
    unsafe { &*ptr::addr_of!((*p.as_ptr()).weak) }
}

/// Allocates an `ArcInner` with the given counts and uninitialised data.
fn allocate<T, W: ArcWords>(strong: usize, weak: usize) -> NonNull<ArcInner<T, W>> {
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
unsafe fn free<T, W: ArcWords>(p: NonNull<ArcInner<T, W>>) {
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

/// A thread-safe reference-counting pointer, with the API and the
/// semantics of [`std::sync::Arc`], whose [`Weak::upgrade`] is one
/// `fetch_add` instead of a compare-and-swap loop.
///
/// Switching is a `use` line: `use pageref::sync::{Arc, Weak};`. See the
/// [module documentation](super) for the protocol, the measured speed, and
/// the (few) differences from std. The second type parameter is for the
/// verification crate (model checking); leave it at its default.
///
/// [`std::sync::Arc`]: https://doc.rust-lang.org/std/sync/struct.Arc.html
pub struct Arc<T, W: ArcWords = CoreWords> {
    ptr: NonNull<ArcInner<T, W>>,
    phantom: PhantomData<ArcInner<T, W>>,
}

/// A version of [`Arc`] that holds a non-owning reference to the managed
/// allocation, as [`std::sync::Weak`]: [`upgrade`](Weak::upgrade) gives an
/// `Option<Arc<T>>`, `None` once the value has been dropped.
///
/// `upgrade` is one `fetch_add` on the strong count (std's is a load and a
/// compare-and-swap loop).
///
/// [`std::sync::Weak`]: https://doc.rust-lang.org/std/sync/struct.Weak.html
pub struct Weak<T, W: ArcWords = CoreWords> {
    /// `DANGLING` for `Weak::new()`: no allocation.
    ptr: NonNull<ArcInner<T, W>>,
}

// SAFETY: as std's: an `Arc<T>` gives `&T` to every thread that holds a
// clone (so `T: Sync`) and may drop or hand out `T` on whichever thread
// releases the last reference (so `T: Send`). The counts are atomic.
unsafe impl<T: Sync + Send, W: ArcWords> Send for Arc<T, W> {}
// SAFETY: as for `Send`: `&Arc<T>` can be cloned into an `Arc<T>`.
unsafe impl<T: Sync + Send, W: ArcWords> Sync for Arc<T, W> {}
// SAFETY: as std's: a `Weak<T>` upgrades to an `Arc<T>`.
unsafe impl<T: Sync + Send, W: ArcWords> Send for Weak<T, W> {}
// SAFETY: as for `Send`.
unsafe impl<T: Sync + Send, W: ArcWords> Sync for Weak<T, W> {}

// As std's: moving an `Arc` never moves the value.
impl<T, W: ArcWords> Unpin for Arc<T, W> {}
// As std's: `Arc<T>` only gives shared access to `T`.
impl<T: core::panic::RefUnwindSafe, W: ArcWords> core::panic::UnwindSafe for Arc<T, W> {}

impl<T> Arc<T> {
    /// Constructs a new `Arc<T>` (strong count 1, weak count 0).
    ///
    /// ```
    /// use pageref::sync::Arc;
    /// let five = Arc::new(5);
    /// assert_eq!(*five, 5);
    /// ```
    #[inline]
    pub fn new(data: T) -> Arc<T> {
        Self::new_with_words(data)
    }

    /// Constructs a new `Arc<T>` while giving you a `Weak<T>` to the
    /// allocation, to build a `T` that holds a weak pointer to itself.
    ///
    /// Upgrading the weak pointer before this function returns gives `None`;
    /// it may be cloned and stored for later. As std's, with one internal
    /// difference: the strong count starts dead (not 0) and is published by
    /// a `Release` store of 1 once `T` is written.
    ///
    /// ```
    /// use pageref::sync::{Arc, Weak};
    /// struct Gadget { me: Weak<Gadget> }
    /// let g = Arc::new_cyclic(|me| {
    ///     assert!(me.upgrade().is_none());
    ///     Gadget { me: me.clone() }
    /// });
    /// assert!(Arc::ptr_eq(&g, &g.me.upgrade().unwrap()));
    /// ```
    #[inline]
    pub fn new_cyclic<F>(data_fn: F) -> Arc<T>
    where
        F: FnOnce(&Weak<T>) -> T,
    {
        Self::new_cyclic_with_words(data_fn)
    }

    /// Constructs a new `Pin<Arc<T>>`.
    #[inline]
    pub fn pin(data: T) -> Pin<Arc<T>> {
        // SAFETY: an `Arc` never moves its value while pinned: the only
        // ways to move it out (`try_unwrap`, `into_inner`, `make_mut`,
        // `get_mut`) need the `Arc` itself, which `Pin` does not give out
        // for a `T: !Unpin`.
        unsafe { Pin::new_unchecked(Arc::new(data)) }
    }

    /// Constructs an `Arc<T>` from a pointer returned by
    /// [`Arc::into_raw`], taking over its strong reference.
    ///
    /// # Safety
    ///
    /// As std's: `ptr` must come from `Arc::<T>::into_raw` (same `T`), and
    /// its reference must not have been reclaimed already. With debug
    /// assertions (or the `strict` feature), a pointer whose strong count is
    /// not live trips a check.
    #[inline]
    pub unsafe fn from_raw(ptr: *const T) -> Arc<T> {
        // SAFETY: forwarded.
        unsafe { Self::from_raw_with_words(ptr) }
    }

    /// Increments the strong count of the `Arc` behind `ptr` (from
    /// [`Arc::into_raw`]), as std's.
    ///
    /// # Safety
    ///
    /// `ptr` comes from `Arc::<T>::into_raw`, and that reference is still
    /// held (its count is at least 1) for the whole call.
    #[inline]
    pub unsafe fn increment_strong_count(ptr: *const T) {
        // SAFETY: the caller holds the reference `ptr` stands for; we do not
        // release it (ManuallyDrop).
        let arc = ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
        let _clone: ManuallyDrop<Arc<T>> = ManuallyDrop::new(Arc::clone(&arc));
    }

    /// Decrements the strong count of the `Arc` behind `ptr` (from
    /// [`Arc::into_raw`]), dropping the value if it was the last, as std's.
    ///
    /// # Safety
    ///
    /// `ptr` comes from `Arc::<T>::into_raw`, and the caller gives up one
    /// reference it holds.
    #[inline]
    pub unsafe fn decrement_strong_count(ptr: *const T) {
        // SAFETY: the caller hands over one reference.
        drop(unsafe { Arc::from_raw(ptr) });
    }
}

impl<T, W: ArcWords> Arc<T, W> {
    #[inline(always)]
    fn strong(&self) -> &W::Atomic {
        // SAFETY: we hold a strong reference, so the allocation is live.
        unsafe { strong(self.ptr) }
    }

    #[inline(always)]
    fn weak(&self) -> &W::Atomic {
        // SAFETY: as in `strong`.
        unsafe { weak(self.ptr) }
    }

    #[inline(always)]
    fn data(&self) -> &T {
        // SAFETY: we hold a strong reference: the value is initialised and
        // not dropped, and only shared references to it exist (a `&mut`
        // needs uniqueness, which `&self` rules out).
        unsafe { &*ptr::addr_of!((*self.ptr.as_ptr()).data) }
    }

    #[inline(always)]
    fn from_inner(ptr: NonNull<ArcInner<T, W>>) -> Self {
        Arc {
            ptr,
            phantom: PhantomData,
        }
    }

    /// `new` for any words (the verification crate's entry point).
    #[doc(hidden)]
    pub fn new_with_words(data: T) -> Self {
        let p = allocate::<T, W>(1, 1);
        // SAFETY: fresh allocation, not shared yet.
        unsafe { ptr::addr_of_mut!((*p.as_ptr()).data).write(data) };
        Self::from_inner(p)
    }

    /// `new_cyclic` for any words (the verification crate's entry point).
    #[doc(hidden)]
    pub fn new_cyclic_with_words<F>(data_fn: F) -> Self
    where
        F: FnOnce(&Weak<T, W>) -> T,
    {
        // Dead from the start: an upgrade through the weak pointer fails
        // (and leaves garbage that the store below overwrites). The weak
        // count's 1 is `weak` below, which becomes the strongs' implicit
        // weak reference once published.
        let p = allocate::<T, W>(DEAD, 1);
        let weak = Weak { ptr: p };
        // If `data_fn` panics, `weak` is dropped: the memory is freed once
        // the last clone of it goes, and the value was never written.
        let data = data_fn(&weak);
        // SAFETY: the allocation is live (we hold `weak`); nobody reads
        // `data` while the count is dead.
        unsafe { ptr::addr_of_mut!((*p.as_ptr()).data).write(data) };
        let order = if planted::<W>(bug::CYCLIC_RELAXED_PUBLISH) {
            Relaxed
        } else {
            Release
        };
        // ORDERING: Release, paired with the `Acquire` of `Weak::upgrade`:
        // an upgrade that reads this 1 (or a later value of its release
        // sequence: every later change is a read-modify-write) sees the
        // value written above. Overwriting the garbage of failed upgrades is
        // right: a failed upgrade takes nothing and gives nothing back.
        weak.strong().store(1, order);
        mem::forget(weak);
        Self::from_inner(p)
    }

    /// `from_raw` for any words (the verification crate's entry point).
    ///
    /// # Safety
    ///
    /// As [`Arc::from_raw`].
    #[doc(hidden)]
    pub unsafe fn from_raw_with_words(ptr: *const T) -> Self {
        // SAFETY: `ptr` points at the `data` field of an `ArcInner<T, W>`
        // (caller); stepping back by its offset stays in that allocation.
        let inner = unsafe { (ptr as *const u8).sub(data_offset::<T, W>()) } as *mut ArcInner<T, W>;
        // SAFETY: derived from a non-null pointer into an allocation.
        let arc = Self::from_inner(unsafe { NonNull::new_unchecked(inner) });
        if CHECKS {
            // ORDERING: Relaxed; a diagnostic of the caller's reference.
            let s = arc.strong().load(Relaxed);
            if s == 0 || s > MAX_STRONG {
                misuse::<W>("from_raw", "the pointer's strong count is not live", s);
            }
        }
        arc
    }

    /// Returns the inner value if this is the only strong reference;
    /// otherwise gives the `Arc` back, as std's.
    ///
    /// Weak pointers do not count: on success they can no longer upgrade.
    /// Claims uniqueness with a CAS `1 -> DEAD`.
    ///
    /// ```
    /// use pageref::sync::Arc;
    /// let x = Arc::new(3);
    /// assert_eq!(Arc::try_unwrap(x), Ok(3));
    /// let x = Arc::new(4);
    /// let _y = Arc::clone(&x);
    /// assert_eq!(*Arc::try_unwrap(x).unwrap_err(), 4);
    /// ```
    #[inline]
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        // ORDERING: Acquire on success: the other strong references were
        // released with `Release` decrements, and their uses of the value
        // must happen before we move it out (std: Relaxed CAS + acquire
        // fence; the same). Relaxed on failure: we take nothing.
        if this
            .strong()
            .compare_exchange(1, DEAD, Acquire, Relaxed)
            .is_err()
        {
            return Err(this);
        }
        // SAFETY: the count is dead and was 1 (ours): no other strong
        // reference exists or can appear.
        Ok(unsafe { Self::take_claimed(this) })
    }

    /// Moves the value out of an `Arc` whose strong count we turned dead,
    /// and releases the strongs' implicit weak reference.
    ///
    /// # Safety
    ///
    /// The caller's reference was the last strong one, and the count is
    /// dead.
    #[inline]
    unsafe fn take_claimed(this: Self) -> T {
        let this = ManuallyDrop::new(this);
        // SAFETY: the value is initialised and no one else can reach it;
        // it is never dropped in place (the count is dead).
        let data = unsafe { ptr::read(ptr::addr_of!((*this.ptr.as_ptr()).data)) };
        drop(Weak { ptr: this.ptr });
        data
    }

    /// Returns the inner value if this is the only strong reference, and
    /// otherwise drops this reference and returns `None`, as std's.
    ///
    /// If `into_inner` is called on every clone of an `Arc`, exactly one of
    /// the calls returns `Some` (even when they race, and even when
    /// upgrades race them).
    ///
    /// ```
    /// use pageref::sync::Arc;
    /// let x = Arc::new(3);
    /// let y = Arc::clone(&x);
    /// let a = std::thread::spawn(move || Arc::into_inner(x));
    /// let b = std::thread::spawn(move || Arc::into_inner(y));
    /// let (a, b) = (a.join().unwrap(), b.join().unwrap());
    /// assert_eq!(a.or(b), Some(3));
    /// assert!(a.is_none() || b.is_none());
    /// ```
    #[inline]
    pub fn into_inner(this: Self) -> Option<T> {
        if planted::<W>(bug::INTO_INNER_TWO_WINNERS) {
            // ORDERING: as the real fast path below.
            if this.strong().load(Acquire) == 1 {
                // ORDERING: Relaxed (the bug is the missing atomicity).
                this.strong().store(DEAD, Relaxed);
                // SAFETY: not safe: this is the planted bug.
                return Some(unsafe { Self::take_claimed(this) });
            }
        } else if this
            .strong()
            // ORDERING: Acquire on success, as in `try_unwrap`; Relaxed on
            // failure (we go on to release our reference below).
            .compare_exchange(1, DEAD, Acquire, Relaxed)
            .is_ok()
        {
            // SAFETY: the count was 1 (ours) and is now dead.
            return Some(unsafe { Self::take_claimed(this) });
        }
        // Not unique when we looked: release our reference exactly as
        // `drop` does. If that release turns out to be the last (the
        // others let go meanwhile), we are the one caller that gets `T`.
        let this = ManuallyDrop::new(this);
        if this.release() {
            // SAFETY: `release` returned true: we won the `0 -> DEAD` CAS,
            // so the count is dead and no strong reference remains.
            Some(unsafe { Self::take_claimed(ManuallyDrop::into_inner(this)) })
        } else {
            None
        }
    }

    /// Releases one strong reference; `true` iff it was the last one and
    /// we won the `0 -> DEAD` CAS, so that the caller must drop the value.
    #[inline(always)]
    fn release(&self) -> bool {
        // ORDERING: Release, as std's: our uses of the value must happen
        // before whoever drops it. The thread that ends up dropping it gets
        // them through the `Acquire` of its final CAS below: every change
        // of the count after our decrement is a read-modify-write, so the
        // value it reads is in our decrement's release sequence.
        let old = self.strong().fetch_sub(1, Release);
        if old != 1 {
            if CHECKS && (old == 0 || old > MAX_STRONG) {
                misuse::<W>(
                    "drop",
                    "strong count was not live (double drop or from_raw misuse)",
                    old,
                );
            }
            return false;
        }
        self.final_cas()
    }

    /// The last release's claim: `0 -> DEAD`. Out of line: a drop that is
    /// not the last should cost one `fetch_sub` and one branch.
    #[inline(never)]
    fn final_cas(&self) -> bool {
        if planted::<W>(bug::DROP_WITHOUT_CAS) {
            // ORDERING: Acquire fence, as std's last drop (the planted bug
            // is the missing CAS, not the ordering).
            W::Atomic::fence(Acquire);
            return true;
        }
        let success = if planted::<W>(bug::RELAXED_FINAL_CAS) {
            Relaxed
        } else {
            Acquire
        };
        // ORDERING: Acquire on success. The 0 we replace may have been
        // written by another thread: one whose upgrade revived our 0 to 1
        // and whose drop took it back to 0 (its CAS then lost to ours).
        // Only an acquire read of that 0 makes its uses of the value happen
        // before our drop of it; a relaxed CAS would race them (the C11
        // counterexample of the kernel series' relaxed final CAS, which
        // the loom model `relaxed_final_cas_is_caught` replays).
        // Relaxed on failure: a revived count is someone else's to release.
        self.strong()
            .compare_exchange(0, DEAD, success, Relaxed)
            .is_ok()
    }

    /// Drops the value and the strongs' implicit weak reference.
    ///
    /// # Safety
    ///
    /// The caller won the final CAS (or claimed the count otherwise).
    #[inline(never)]
    unsafe fn drop_slow(&mut self) {
        // SAFETY: the value is initialised, no strong reference remains and
        // none can appear (the count is dead); it is dropped once, here.
        unsafe { ptr::drop_in_place(ptr::addr_of_mut!((*self.ptr.as_ptr()).data)) };
        drop(Weak { ptr: self.ptr });
    }

    /// Consumes the `Arc`, returning the pointer to its value; the strong
    /// reference is kept for a later [`Arc::from_raw`].
    #[inline]
    #[must_use = "losing the pointer will leak memory"]
    pub fn into_raw(this: Self) -> *const T {
        let p = Self::as_ptr(&this);
        mem::forget(this);
        p
    }

    /// A pointer to the value, valid while a strong reference exists.
    #[inline]
    #[must_use]
    pub fn as_ptr(this: &Self) -> *const T {
        // SAFETY: in bounds of a live allocation; no reference is created.
        unsafe { ptr::addr_of!((*this.ptr.as_ptr()).data) }
    }

    /// Creates a new [`Weak`] pointer to this allocation.
    ///
    /// ```
    /// use pageref::sync::Arc;
    /// let five = Arc::new(5);
    /// let weak_five = Arc::downgrade(&five);
    /// assert_eq!(*weak_five.upgrade().unwrap(), 5);
    /// ```
    #[inline]
    #[must_use = "this returns a new `Weak` pointer, without modifying the original `Arc`"]
    pub fn downgrade(this: &Self) -> Weak<T, W> {
        // ORDERING: Relaxed, as std's: a stale value only costs a retry of
        // the CAS below.
        let mut cur = this.weak().load(Relaxed);
        loop {
            // `get_mut` holds the weak count locked for a moment: wait.
            if cur == WEAK_LOCKED {
                W::spin();
                // ORDERING: Relaxed, as above.
                cur = this.weak().load(Relaxed);
                continue;
            }
            // As std: nothing has been incremented yet, so a panic is safe.
            assert!(cur <= MAX_WEAK, "pageref::sync: weak count overflow");
            // ORDERING: Acquire on success, as std's: synchronises with the
            // `Release` unlock in `is_unique`, so that its check happens
            // before our weak reference exists. Relaxed on failure (retry).
            match this
                .weak()
                .compare_exchange_weak(cur, cur + 1, Acquire, Relaxed)
            {
                Ok(_) => return Weak { ptr: this.ptr },
                Err(old) => cur = old,
            }
        }
    }

    /// The number of [`Weak`] pointers to this allocation. A snapshot: other
    /// threads may change it at once.
    #[inline]
    #[must_use]
    pub fn weak_count(this: &Self) -> usize {
        // ORDERING: Relaxed, as std's: a snapshot.
        let cnt = this.weak().load(Relaxed);
        // As std: while `get_mut` holds the lock, the count was 0 just
        // before (it locks only a weak count of 1, the implicit one).
        if cnt == WEAK_LOCKED {
            0
        } else {
            cnt - 1
        }
    }

    /// The number of strong (`Arc`) pointers to this allocation. A
    /// snapshot: other threads may change it at once.
    #[inline]
    #[must_use]
    pub fn strong_count(this: &Self) -> usize {
        // ORDERING: Relaxed, as std's: a snapshot. We hold a reference, so
        // the count is live (never 0, never dead).
        this.strong().load(Relaxed)
    }

    /// Whether two `Arc`s point to the same allocation.
    #[inline]
    #[must_use]
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        this.ptr == other.ptr
    }

    /// Whether this is the only reference of either kind, as std's
    /// `is_unique`: locks the weak count (`1 -> WEAK_LOCKED`) so that no
    /// `Weak` can appear while the strong count is checked.
    fn is_unique(&mut self) -> bool {
        if planted::<W>(bug::GET_MUT_NO_WEAK_LOCK) {
            // ORDERING: as below; the bug is the missing lock.
            return self.strong().load(Acquire) == 1 && self.weak().load(Acquire) == 1;
        }
        // ORDERING: Acquire on success, as std's: synchronises with the
        // `Release` decrement of `Weak::drop`, so that an upgrade made
        // through a `Weak` that was then dropped happens before our load of
        // the strong count below. Relaxed on failure: not unique.
        if self
            .weak()
            .compare_exchange(1, WEAK_LOCKED, Acquire, Relaxed)
            .is_ok()
        {
            // ORDERING: Acquire, as std's: synchronises with the `Release`
            // decrements of other strong references, so that their uses of
            // the value happen before our `&mut`.
            let unique = self.strong().load(Acquire) == 1;
            // ORDERING: Release, as std's: synchronises with `downgrade`'s
            // acquire CAS, so that our check happens before any new weak.
            self.weak().store(1, Release);
            unique
        } else {
            false
        }
    }

    /// A mutable reference to the value if there is no other `Arc` or
    /// `Weak` to it, as std's.
    ///
    /// ```
    /// use pageref::sync::Arc;
    /// let mut x = Arc::new(3);
    /// *Arc::get_mut(&mut x).unwrap() = 4;
    /// let _y = Arc::clone(&x);
    /// assert!(Arc::get_mut(&mut x).is_none());
    /// ```
    #[inline]
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        if this.is_unique() {
            // SAFETY: no other reference of either kind exists, and none can
            // be made without `this`, which we borrow mutably.
            Some(unsafe { &mut *ptr::addr_of_mut!((*this.ptr.as_ptr()).data) })
        } else {
            None
        }
    }

    /// The strong count's atomic, for the tests of the overflow guard.
    #[cfg(feature = "mutants")]
    #[doc(hidden)]
    pub fn __strong_word(this: &Self) -> &W::Atomic {
        this.strong()
    }
}

impl<T: Clone, W: ArcWords> Arc<T, W> {
    /// A mutable reference to the value, cloning it first into a new
    /// allocation if other `Arc`s share it (clone-on-write), as std's.
    ///
    /// If only `Weak`s share it, the value is moved to a new allocation and
    /// those `Weak`s are disassociated (they can no longer upgrade), without
    /// a clone.
    ///
    /// ```
    /// use pageref::sync::Arc;
    /// let mut data = Arc::new(5);
    /// *Arc::make_mut(&mut data) += 1; // no clone
    /// let other = Arc::clone(&data);
    /// *Arc::make_mut(&mut data) += 1; // clones
    /// assert_eq!((*data, *other), (7, 6));
    /// ```
    #[inline]
    pub fn make_mut(this: &mut Self) -> &mut T {
        // ORDERING: Acquire on success, as std's: the other strong
        // references' `Release` decrements must happen before our `&mut`
        // (a revived or published count is never 1 here: we hold it).
        // Relaxed on failure: we clone instead. Success makes the count dead,
        // so concurrent upgrades fail while we hold the lock.
        if this
            .strong()
            .compare_exchange(1, DEAD, Acquire, Relaxed)
            .is_err()
        {
            // Another strong reference exists: clone the value.
            *this = Arc::new_with_words(this.data().clone());
        } else {
            // ORDERING: Relaxed, as std's: an optimisation; we race weak
            // pointers being dropped, and the worst case is a needless move.
            // It cannot read WEAK_LOCKED: only a strong holder locks it.
            let weaks = this.weak().load(Relaxed) != 1;
            if weaks {
                // We removed the last strong reference but `Weak`s remain:
                // move the value to a new allocation and leave this one
                // dead, so that they can no longer upgrade. Our implicit
                // weak reference goes with it.
                let old = this.ptr;
                let _weak = Weak { ptr: old };
                // SAFETY: the count is dead and was ours alone: the value is
                // initialised and nobody else can reach it; it is moved once.
                let data = unsafe { ptr::read(ptr::addr_of!((*old.as_ptr()).data)) };
                let fresh = Arc::new_with_words(data);
                if planted::<W>(bug::MAKE_MUT_REVIVES) {
                    // ORDERING: as the re-open below (the bug is re-opening).
                    // SAFETY: `_weak` keeps the allocation live.
                    unsafe { strong(old) }.store(1, Release);
                }
                // SAFETY: `this` gave up its reference above (the count is
                // dead and `_weak` owns the implicit weak): overwrite it
                // without a drop.
                unsafe { ptr::write(this, fresh) };
            } else {
                // ORDERING: Release, as std's: we were the only reference of
                // either kind; re-open the count. Pairs with the acquires of
                // whoever later gets a reference from us.
                this.strong().store(1, Release);
            }
        }
        // SAFETY: `this` is now the only reference of either kind to its
        // allocation (or the only strong one to a fresh clone).
        unsafe { &mut *ptr::addr_of_mut!((*this.ptr.as_ptr()).data) }
    }

    /// The inner value if this is the only strong reference, and a clone of
    /// it otherwise, as std's (`try_unwrap` or clone).
    #[inline]
    pub fn unwrap_or_clone(this: Self) -> T {
        Arc::try_unwrap(this).unwrap_or_else(|arc| (*arc).clone())
    }
}

impl<T, W: ArcWords> Clone for Arc<T, W> {
    /// Another strong pointer to the same allocation (one `fetch_add`).
    #[inline]
    fn clone(&self) -> Self {
        // ORDERING: Relaxed, as std's: holding a reference keeps the value
        // alive, and a new reference is only passed to other threads
        // through something that synchronises on its own.
        let old = self.strong().fetch_add(1, Relaxed);
        // As std: abort on overflow (a leak of `mem::forget`ed clones), since
        // other threads may already rely on the too-large count. The
        // headroom above MAX_STRONG keeps the racing increments below DEAD.
        if old > MAX_STRONG {
            W::fatal(&"strong count overflow");
        }
        Self::from_inner(self.ptr)
    }
}

impl<T, W: ArcWords> Drop for Arc<T, W> {
    /// Releases this strong reference: one `fetch_sub`; the last one (the
    /// one that takes the count to 0 and then wins the `0 -> DEAD` CAS)
    /// drops the value, and the memory goes with the last weak reference.
    #[inline]
    fn drop(&mut self) {
        if self.release() {
            // SAFETY: we won the final CAS.
            unsafe { self.drop_slow() }
        }
    }
}

impl<T, W: ArcWords> Deref for Arc<T, W> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.data()
    }
}

impl<T> Weak<T> {
    /// A `Weak` that points to nothing (no allocation): `upgrade` always
    /// gives `None`, as std's.
    #[inline]
    #[must_use]
    pub const fn new() -> Weak<T> {
        Self::new_with_words()
    }

    /// Converts a pointer from [`Weak::into_raw`] back into a `Weak`.
    ///
    /// # Safety
    ///
    /// As std's: `ptr` comes from `Weak::<T>::into_raw` and its weak
    /// reference was not reclaimed already.
    #[inline]
    pub unsafe fn from_raw(ptr: *const T) -> Weak<T> {
        // SAFETY: forwarded.
        unsafe { Self::from_raw_with_words(ptr) }
    }
}

impl<T, W: ArcWords> Weak<T, W> {
    /// `Weak::new` for any words (the verification crate's entry point).
    #[doc(hidden)]
    #[must_use]
    pub const fn new_with_words() -> Self {
        // SAFETY: not null. Never dereferenced: every access checks for it.
        Weak {
            ptr: unsafe { NonNull::new_unchecked(DANGLING as *mut ArcInner<T, W>) },
        }
    }

    /// `from_raw` for any words.
    ///
    /// # Safety
    ///
    /// As [`Weak::from_raw`].
    #[doc(hidden)]
    pub unsafe fn from_raw_with_words(ptr: *const T) -> Self {
        let inner = if ptr as usize == DANGLING {
            DANGLING as *mut ArcInner<T, W>
        } else {
            // SAFETY: `ptr` points at the `data` field of a live allocation
            // (caller); stepping back stays in it.
            unsafe { (ptr as *const u8).sub(data_offset::<T, W>()) as *mut ArcInner<T, W> }
        };
        // SAFETY: non-null (either the sentinel or inside an allocation).
        Weak {
            ptr: unsafe { NonNull::new_unchecked(inner) },
        }
    }

    #[inline(always)]
    fn is_dangling(&self) -> bool {
        self.ptr.as_ptr() as usize == DANGLING
    }

    /// The strong count, unless dangling.
    #[inline(always)]
    fn strong(&self) -> &W::Atomic {
        debug_assert!(!self.is_dangling());
        // SAFETY: a non-dangling weak reference keeps the allocation live.
        unsafe { strong(self.ptr) }
    }

    #[inline(always)]
    fn weak(&self) -> &W::Atomic {
        debug_assert!(!self.is_dangling());
        // SAFETY: as in `strong`.
        unsafe { weak(self.ptr) }
    }

    /// Attempts to upgrade to an [`Arc`], delaying the drop of the value;
    /// `None` if it has been dropped (or if this `Weak` is dangling).
    ///
    /// One `fetch_add` on the strong count; it succeeded iff the old value
    /// does not have the dead bit. A failure leaves its increment under the
    /// dead bit, as garbage that nothing reads.
    ///
    /// ```
    /// use pageref::sync::Arc;
    /// let five = Arc::new(5);
    /// let weak_five = Arc::downgrade(&five);
    /// assert!(weak_five.upgrade().is_some());
    /// drop(five);
    /// assert!(weak_five.upgrade().is_none());
    /// ```
    #[inline]
    #[must_use = "this returns a new `Arc`, without modifying the original weak pointer"]
    pub fn upgrade(&self) -> Option<Arc<T, W>> {
        if self.is_dangling() {
            return None;
        }
        // ORDERING: Acquire, as std's upgrade: an upgrade that succeeds must
        // see the value as published: by `new_cyclic`'s Release store of 1,
        // or by `make_mut`'s re-opening store (every later change is a
        // read-modify-write, so any value we read is in their release
        // sequence). It also pairs with a last drop's `Release` decrement
        // when we revive the transient 0: the dropper's uses of the value
        // happen before ours (though the value stays ours to read, not to
        // drop: the dropper's CAS now fails).
        let old = self.strong().fetch_add(1, Acquire);
        if old <= MAX_STRONG || planted::<W>(bug::UPGRADE_IGNORES_DEAD) {
            return Some(Arc::from_inner(self.ptr));
        }
        Self::upgrade_failed(self.strong(), old)
    }

    /// A failed upgrade (the old value was dead), or a strong count past
    /// `MAX_STRONG` (abort). Out of line: it is the unusual path.
    #[cold]
    #[inline(never)]
    fn upgrade_failed(strong: &W::Atomic, old: usize) -> Option<Arc<T, W>> {
        if old & DEAD == 0 {
            // As clone's: abort on overflow. std's upgrade panics here
            // instead, but its CAS has not incremented; our fetch_add has.
            W::fatal(&"strong count overflow");
        }
        if old >= GUARD {
            // The garbage has grown to a quarter of the word: reset it to
            // DEAD, as the series' guard does. The CAS expects the value we
            // left, so it only succeeds on a dead word, which stays dead:
            // harmless even if the word was published or re-opened and died
            // again meanwhile. Needed on 32-bit targets, where 2^30 failed
            // upgrades take seconds; on 64-bit ones 2^62 take centuries.
            // ORDERING: Relaxed: a dead count guards no data, so the reset
            // publishes nothing and needs nothing published.
            let _ = strong.compare_exchange(old.wrapping_add(1), DEAD, Relaxed, Relaxed);
        }
        None
    }

    /// The number of strong pointers to the allocation; 0 if the value has
    /// been dropped or this `Weak` is dangling.
    ///
    /// A 0 from here is final, as in std (except inside `new_cyclic`'s
    /// closure, where the value is not published yet): a read of the
    /// transient 0 of a last drop in progress waits (spins) until that drop
    /// has either marked the count dead or been overtaken by an upgrade.
    #[inline]
    #[must_use]
    pub fn strong_count(&self) -> usize {
        if self.is_dangling() {
            return 0;
        }
        let s = self.settled_strong();
        if s & DEAD != 0 {
            0
        } else {
            s
        }
    }

    /// The strong count, past any transient 0 (see `strong_count`).
    #[inline]
    fn settled_strong(&self) -> usize {
        loop {
            // ORDERING: Relaxed, as std's strong_count: a snapshot.
            let s = self.strong().load(Relaxed);
            if s != 0 {
                return s;
            }
            W::spin();
        }
    }

    /// The number of `Weak` pointers to the allocation, as std's: 0 if
    /// dangling or if no strong pointer remains; otherwise possibly off by
    /// one while other threads drop or create pointers.
    #[inline]
    #[must_use]
    pub fn weak_count(&self) -> usize {
        if self.is_dangling() {
            return 0;
        }
        // ORDERING: Acquire, as std's: reads the weak count before the
        // strong count below.
        let weak = self.weak().load(Acquire);
        let strong = self.settled_strong();
        if strong & DEAD != 0 {
            0
        } else {
            // As std: a strong pointer existed after we read the weak count,
            // so the implicit weak reference was in it: subtract it.
            weak - 1
        }
    }

    /// Whether two `Weak`s point to the same allocation (two dangling ones
    /// are equal), as std's.
    #[inline]
    #[must_use]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }

    /// A pointer to the value, as std's: valid only while a strong
    /// reference exists; for a dangling `Weak`, a sentinel that must not be
    /// dereferenced.
    #[inline]
    #[must_use]
    pub fn as_ptr(&self) -> *const T {
        if self.is_dangling() {
            DANGLING as *const T
        } else {
            // SAFETY: in bounds of a live allocation; no reference created.
            unsafe { ptr::addr_of!((*self.ptr.as_ptr()).data) }
        }
    }

    /// Consumes the `Weak`, returning [`as_ptr`](Self::as_ptr); the weak
    /// reference is kept for a later [`Weak::from_raw`].
    #[inline]
    #[must_use = "losing the pointer will leak memory"]
    pub fn into_raw(self) -> *const T {
        let p = self.as_ptr();
        mem::forget(self);
        p
    }
}

impl<T, W: ArcWords> Clone for Weak<T, W> {
    #[inline]
    fn clone(&self) -> Self {
        if self.is_dangling() {
            return Weak { ptr: self.ptr };
        }
        // ORDERING: Relaxed, as std's: we hold a weak reference; it cannot
        // be the locked value (only a count of 1, the implicit weak, is ever
        // locked, and ours is counted too).
        let old = self.weak().fetch_add(1, Relaxed);
        // As std: abort on overflow.
        if old > MAX_WEAK {
            W::fatal(&"weak count overflow");
        }
        Weak { ptr: self.ptr }
    }
}

impl<T, W: ArcWords> Drop for Weak<T, W> {
    /// Releases this weak reference; the last one frees the memory.
    #[inline]
    fn drop(&mut self) {
        if self.is_dangling() {
            return;
        }
        // ORDERING: Release, as std's: our uses of the allocation happen
        // before its free; the freer's acquire fence below pairs with it.
        let old = self.weak().fetch_sub(1, Release);
        if old == 1 {
            // ORDERING: Acquire fence, as std's: synchronises with every
            // other weak (and the strongs' implicit weak) reference's
            // Release decrement, so that all their uses happen before the free.
            W::Atomic::fence(Acquire);
            // SAFETY: the last reference of either kind is gone.
            unsafe { free(self.ptr) }
        } else if CHECKS && (old == 0 || old == WEAK_LOCKED) {
            misuse::<W>(
                "Weak::drop",
                "weak count was not live (double drop or from_raw misuse)",
                old,
            );
        }
    }
}

impl<T> Default for Weak<T> {
    /// [`Weak::new`].
    #[inline]
    fn default() -> Weak<T> {
        Weak::new()
    }
}

impl<T, W: ArcWords> core::fmt::Debug for Weak<T, W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("(Weak)")
    }
}

/// A use of the API that no correct program makes (found only where the
/// counts show it): the state is corrupt, so abort rather than unwind.
#[cold]
#[inline(never)]
fn misuse<W: ArcWords>(op: &str, what: &str, raw: usize) {
    // Format without allocating: the message goes through `abort`'s panic.
    struct Msg<'a>(&'a str, &'a str, usize);
    impl core::fmt::Display for Msg<'_> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "{}: {} (raw = {:#x})", self.0, self.1, self.2)
        }
    }
    W::fatal(&Msg(op, what, raw))
}
