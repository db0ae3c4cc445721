//! The atomic word under every scheme, made pluggable so that model checkers
//! drive the same code that users link.
//!
//! Every scheme in this crate is generic over [`AtomicWord`] and defaults to
//! [`core::sync::atomic::AtomicU32`]. The verification crate instantiates the
//! very same types with `loom`'s or `shuttle`'s atomics (features `loom` and
//! `shuttle` of this crate provide those impls), or with its own tracing
//! wrapper, so that a model check never runs a copy of the algorithm.
//!
//! This is the crossbeam/tokio "primitive shim" idea expressed as a trait
//! instead of a `cfg(loom)` switch: no special `RUSTFLAGS`, and one test binary
//! can check both the real and the mutated code.

use core::sync::atomic::Ordering;

/// A 32-bit atomic cell with the subset of operations the refcount schemes use.
///
/// Implementations must behave like [`core::sync::atomic::AtomicU32`]: every
/// method is one atomic operation with the given C11 ordering, and arithmetic
/// wraps around on overflow.
pub trait AtomicWord: Send + Sync {
    /// Creates a cell holding `v`.
    fn new(v: u32) -> Self;
    /// Atomic load.
    fn load(&self, order: Ordering) -> u32;
    /// Atomic store.
    fn store(&self, v: u32, order: Ordering);
    /// Atomic exchange; returns the previous value.
    fn swap(&self, v: u32, order: Ordering) -> u32;
    /// Wrapping atomic add; returns the previous value.
    fn fetch_add(&self, v: u32, order: Ordering) -> u32;
    /// Wrapping atomic subtract; returns the previous value.
    fn fetch_sub(&self, v: u32, order: Ordering) -> u32;
    /// Atomic bitwise or; returns the previous value.
    fn fetch_or(&self, v: u32, order: Ordering) -> u32;
    /// Atomic bitwise and; returns the previous value.
    ///
    /// Used by [`StickyRef`](crate::StickyRef) to claim its help flag. The
    /// default is a compare-and-swap loop (equivalent, only not wait-free), so
    /// that wrappers written before this method existed keep compiling; the
    /// impls for `core`'s, `loom`'s and `shuttle`'s `AtomicU32` forward to the
    /// native operation, and a wrapper should too.
    fn fetch_and(&self, v: u32, order: Ordering) -> u32 {
        // The failure ordering must not be Release/AcqRel; take the strongest
        // load ordering that `order` contains.
        let failure = match order {
            Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
            Ordering::SeqCst => Ordering::SeqCst,
            _ => Ordering::Acquire,
        };
        // ORDERING: Relaxed; only a first guess, the CAS re-reads atomically.
        let mut cur = self.load(Ordering::Relaxed);
        loop {
            // ORDERING: `order` on success, as the caller asked of the RMW;
            // a failure only retries with the value it read.
            match self.compare_exchange_weak(cur, cur & v, order, failure) {
                Ok(prev) => return prev,
                Err(now) => cur = now,
            }
        }
    }
    /// Strong compare-and-swap; `Ok(previous)` on success, `Err(actual)` on failure.
    fn compare_exchange(
        &self,
        current: u32,
        new: u32,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u32, u32>;
    /// Weak compare-and-swap (may fail spuriously); same results as
    /// [`compare_exchange`](Self::compare_exchange).
    fn compare_exchange_weak(
        &self,
        current: u32,
        new: u32,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u32, u32>;
}

macro_rules! forward_atomic_word {
    ($ty:ty) => {
        impl AtomicWord for $ty {
            #[inline]
            fn new(v: u32) -> Self {
                <$ty>::new(v)
            }
            #[inline]
            fn load(&self, order: Ordering) -> u32 {
                <$ty>::load(self, order)
            }
            #[inline]
            fn store(&self, v: u32, order: Ordering) {
                <$ty>::store(self, v, order)
            }
            #[inline]
            fn swap(&self, v: u32, order: Ordering) -> u32 {
                <$ty>::swap(self, v, order)
            }
            #[inline]
            fn fetch_add(&self, v: u32, order: Ordering) -> u32 {
                <$ty>::fetch_add(self, v, order)
            }
            #[inline]
            fn fetch_sub(&self, v: u32, order: Ordering) -> u32 {
                <$ty>::fetch_sub(self, v, order)
            }
            #[inline]
            fn fetch_or(&self, v: u32, order: Ordering) -> u32 {
                <$ty>::fetch_or(self, v, order)
            }
            #[inline]
            fn fetch_and(&self, v: u32, order: Ordering) -> u32 {
                <$ty>::fetch_and(self, v, order)
            }
            #[inline]
            fn compare_exchange(
                &self,
                current: u32,
                new: u32,
                success: Ordering,
                failure: Ordering,
            ) -> Result<u32, u32> {
                <$ty>::compare_exchange(self, current, new, success, failure)
            }
            #[inline]
            fn compare_exchange_weak(
                &self,
                current: u32,
                new: u32,
                success: Ordering,
                failure: Ordering,
            ) -> Result<u32, u32> {
                <$ty>::compare_exchange_weak(self, current, new, success, failure)
            }
        }
    };
}

forward_atomic_word!(core::sync::atomic::AtomicU32);

#[cfg(feature = "loom")]
forward_atomic_word!(loom::sync::atomic::AtomicU32);

#[cfg(feature = "shuttle")]
forward_atomic_word!(shuttle::sync::atomic::AtomicU32);
