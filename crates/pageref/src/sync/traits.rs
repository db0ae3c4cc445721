//! The trait impls of [`Arc`] that forward to `T` (or build an `Arc`), with
//! the same bounds as std's.

use alloc::boxed::Box;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};

use super::{Arc, ArcWords};

impl<T: Default> Default for Arc<T> {
    /// `Arc::new(T::default())`.
    #[inline]
    fn default() -> Arc<T> {
        Arc::new(T::default())
    }
}

impl<T> From<T> for Arc<T> {
    /// `Arc::new(t)`.
    #[inline]
    fn from(t: T) -> Arc<T> {
        Arc::new(t)
    }
}

impl<T> From<Box<T>> for Arc<T> {
    /// Moves the boxed value into a new `Arc` allocation.
    #[inline]
    fn from(b: Box<T>) -> Arc<T> {
        Arc::new(*b)
    }
}

impl<T: PartialEq, W: ArcWords> PartialEq for Arc<T, W> {
    /// Compares the values, as std's. (std's skips the comparison when
    /// `T: Eq` and both point to the same allocation; for a lawful `Eq`
    /// the result is the same.)
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
    #[allow(clippy::partialeq_ne_impl)]
    #[inline]
    fn ne(&self, other: &Self) -> bool {
        **self != **other
    }
}

impl<T: Eq, W: ArcWords> Eq for Arc<T, W> {}

impl<T: PartialOrd, W: ArcWords> PartialOrd for Arc<T, W> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
    #[inline]
    fn lt(&self, other: &Self) -> bool {
        **self < **other
    }
    #[inline]
    fn le(&self, other: &Self) -> bool {
        **self <= **other
    }
    #[inline]
    fn gt(&self, other: &Self) -> bool {
        **self > **other
    }
    #[inline]
    fn ge(&self, other: &Self) -> bool {
        **self >= **other
    }
}

impl<T: Ord, W: ArcWords> Ord for Arc<T, W> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash, W: ArcWords> Hash for Arc<T, W> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl<T: fmt::Display, W: ArcWords> fmt::Display for Arc<T, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: fmt::Debug, W: ArcWords> fmt::Debug for Arc<T, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T, W: ArcWords> fmt::Pointer for Arc<T, W> {
    /// The address of the value, as std's.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Arc::as_ptr(self), f)
    }
}

impl<T, W: ArcWords> Borrow<T> for Arc<T, W> {
    #[inline]
    fn borrow(&self) -> &T {
        self
    }
}

impl<T, W: ArcWords> AsRef<T> for Arc<T, W> {
    #[inline]
    fn as_ref(&self) -> &T {
        self
    }
}
