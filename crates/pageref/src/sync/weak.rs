//! `Weak`: the non-owning references, and `upgrade`, which is one
//! `fetch_add` on the strong count.

use core::mem::{self};
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::arc::Arc;
use super::inner::*;
use super::words::{ArcWords, CoreWords};
use crate::atomic::AtomicWord;
use crate::check;

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
    pub(super) ptr: NonNull<ArcInner<T, W>>,
}

// SAFETY: as std's: a `Weak<T>` upgrades to an `Arc<T>`.
unsafe impl<T: Sync + Send, W: ArcWords> Send for Weak<T, W> {}
// SAFETY: as for `Send`.
unsafe impl<T: Sync + Send, W: ArcWords> Sync for Weak<T, W> {}

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
    pub(super) fn is_dangling(&self) -> bool {
        self.ptr.as_ptr() as usize == DANGLING
    }

    /// The strong count, unless dangling.
    #[inline(always)]
    pub(super) fn strong(&self) -> &W::Atomic {
        debug_assert!(
            !self.is_dangling(),
            "pageref::sync: Weak: strong count of a Weak::new()"
        );
        // SAFETY: a non-dangling weak reference keeps the allocation live.
        unsafe { strong(self.ptr) }
    }

    #[inline(always)]
    pub(super) fn weak(&self) -> &W::Atomic {
        debug_assert!(
            !self.is_dangling(),
            "pageref::sync: Weak: weak count of a Weak::new()"
        );
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
    pub(super) fn upgrade_failed(strong: &W::Atomic, old: usize) -> Option<Arc<T, W>> {
        if old & DEAD == 0 {
            // As clone's: abort on overflow. std's upgrade panics here
            // instead, but its CAS has not incremented; our fetch_add has.
            misuse::<W>("Weak::upgrade", "strong count overflow", old);
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
    pub(super) fn settled_strong(&self) -> usize {
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
            misuse::<W>("Weak::clone", "weak count overflow", old);
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
        } else if check::ENABLED && (old == 0 || old == WEAK_LOCKED) {
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
