//! Claiming uniqueness: `try_unwrap`, `into_inner`, `unwrap_or_clone`,
//! `get_mut`, `make_mut`. Each claims with a CAS on a count (strong
//! `1 -> DEAD`, or std's weak-count lock), so that exactly one of racing
//! claimants wins.

use core::mem::ManuallyDrop;
use core::ptr;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::arc::Arc;
use super::inner::*;
use super::weak::Weak;
use super::words::ArcWords;
use crate::atomic::AtomicWord;

impl<T, W: ArcWords> Arc<T, W> {
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
    pub(super) unsafe fn take_claimed(this: Self) -> T {
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

    /// Whether this is the only reference of either kind, as std's
    /// `is_unique`: locks the weak count (`1 -> WEAK_LOCKED`) so that no
    /// `Weak` can appear while the strong count is checked.
    pub(super) fn is_unique(&mut self) -> bool {
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
