//! `Arc`: the strong references, and every operation that only needs them
//! (construction, clone, the last drop with its final CAS, raw pointers,
//! counts). Claiming uniqueness (`try_unwrap`, `into_inner`, `get_mut`,
//! `make_mut`) is in `unique.rs`, `Weak` in `weak.rs`, the allocation in
//! `inner.rs`, the trait impls that only forward to `T` in `traits.rs`.
//!
//! Written from the documented behaviour of std's `Arc`
//! (<https://doc.rust-lang.org/std/sync/struct.Arc.html>, source file
//! `library/alloc/src/sync.rs`), with the strong count of the frozen-bit
//! protocol. The weak count, its `usize::MAX` lock and its orderings follow
//! std's design.

use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::inner::*;
use super::weak::Weak;
use super::words::{ArcWords, CoreWords};
use crate::atomic::AtomicWord;
use crate::check;

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
    pub(super) ptr: NonNull<ArcInner<T, W>>,
    pub(super) phantom: PhantomData<ArcInner<T, W>>,
}

// SAFETY: as std's: an `Arc<T>` gives `&T` to every thread that holds a
// clone (so `T: Sync`) and may drop or hand out `T` on whichever thread
// releases the last reference (so `T: Send`). The counts are atomic.
unsafe impl<T: Sync + Send, W: ArcWords> Send for Arc<T, W> {}
// SAFETY: as for `Send`: `&Arc<T>` can be cloned into an `Arc<T>`.
unsafe impl<T: Sync + Send, W: ArcWords> Sync for Arc<T, W> {}

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
    pub(super) fn strong(&self) -> &W::Atomic {
        // SAFETY: we hold a strong reference, so the allocation is live.
        unsafe { strong(self.ptr) }
    }

    #[inline(always)]
    pub(super) fn weak(&self) -> &W::Atomic {
        // SAFETY: as in `strong`.
        unsafe { weak(self.ptr) }
    }

    #[inline(always)]
    pub(super) fn data(&self) -> &T {
        // SAFETY: we hold a strong reference: the value is initialised and
        // not dropped, and only shared references to it exist (a `&mut`
        // needs uniqueness, which `&self` rules out).
        unsafe { &*ptr::addr_of!((*self.ptr.as_ptr()).data) }
    }

    #[inline(always)]
    pub(super) fn from_inner(ptr: NonNull<ArcInner<T, W>>) -> Self {
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
        if check::ENABLED {
            // ORDERING: Relaxed; a diagnostic of the caller's reference.
            let s = arc.strong().load(Relaxed);
            if s == 0 || s > MAX_STRONG {
                misuse::<W>("from_raw", "the pointer's strong count is not live", s);
            }
        }
        arc
    }

    /// Releases one strong reference; `true` iff it was the last one and
    /// we won the `0 -> DEAD` CAS, so that the caller must drop the value.
    #[inline(always)]
    pub(super) fn release(&self) -> bool {
        // ORDERING: Release, as std's: our uses of the value must happen
        // before whoever drops it. The thread that ends up dropping it gets
        // them through the `Acquire` of its final CAS below: every change
        // of the count after our decrement is a read-modify-write, so the
        // value it reads is in our decrement's release sequence.
        let old = self.strong().fetch_sub(1, Release);
        if old != 1 {
            if check::ENABLED && (old == 0 || old > MAX_STRONG) {
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
    pub(super) fn final_cas(&self) -> bool {
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
        // the loom model `planted_relaxed_final_cas` replays).
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
    pub(super) unsafe fn drop_slow(&mut self) {
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
            assert!(
                cur <= MAX_WEAK,
                "pageref::sync: Arc::downgrade: weak count overflow (raw = {cur:#x})"
            );
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
            misuse::<W>("Arc::clone", "strong count overflow", old);
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
