//! The atomic word under every scheme, made pluggable so that model checkers
//! drive the same code that users link.
//!
//! Every scheme in this crate is generic over an [`AtomicWord`] and defaults
//! to one of `core`'s atomics ([`AtomicU32`](core::sync::atomic::AtomicU32)
//! for the page schemes, [`AtomicU64`](core::sync::atomic::AtomicU64) for
//! [`FileRef`](crate::FileRef), [`AtomicUsize`](core::sync::atomic::AtomicUsize)
//! for `sync::Arc`). The verification crate instantiates the
//! very same types with `loom`'s or `shuttle`'s atomics (features `loom` and
//! `shuttle` of this crate provide those impls), or with its own tracing
//! wrapper, so that a model check never runs a copy of the algorithm.
//!
//! This is the crossbeam/tokio "primitive shim" idea expressed as a trait
//! instead of a `cfg(loom)` switch: no special `RUSTFLAGS`, and one test binary
//! can check both the real and the mutated code.

use core::fmt;
use core::hash::Hash;
use core::ops::{BitAnd, BitOr, Not};
use core::sync::atomic::Ordering;

mod sealed {
    pub trait Sealed {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
    impl Sealed for usize {}
}

/// The value of an [`AtomicWord`]: `u32`, `u64` or `usize`. Sealed.
pub trait Word:
    sealed::Sealed
    + Copy
    + Eq
    + Ord
    + Hash
    + Default
    + fmt::Debug
    + fmt::Display
    + fmt::LowerHex
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
    + Not<Output = Self>
    + Send
    + Sync
    + 'static
{
    /// Width in bits.
    const BITS: u32;
    /// `0`.
    const ZERO: Self;
    /// All bits set.
    const MAX: Self;
    /// `v`, zero-extended. (`usize` is at least 32 bits on every target
    /// this crate builds for.)
    fn from_u32(v: u32) -> Self;
    /// The value, zero-extended to 64 bits (for traces and diagnostics).
    fn to_u64(self) -> u64;
    /// The low bits of `v` (truncating; for raw constructors of tests).
    fn truncate_u64(v: u64) -> Self;
    /// Wrapping addition.
    fn wrapping_add(self, rhs: Self) -> Self;
    /// Wrapping subtraction.
    fn wrapping_sub(self, rhs: Self) -> Self;
    /// Wrapping multiplication.
    fn wrapping_mul(self, rhs: Self) -> Self;
    /// `1 << n` (`n < BITS`).
    fn bit(n: u32) -> Self;
    /// `pattern` in the top `n` bits, the rest zero (`n <= 32`): e.g.
    /// `top_bits(0b111, 3)` is `0xe000_0000` for `u32`.
    fn top_bits(pattern: u32, n: u32) -> Self;
}

macro_rules! word {
    ($t:ty) => {
        impl Word for $t {
            const BITS: u32 = <$t>::BITS;
            const ZERO: Self = 0;
            const MAX: Self = <$t>::MAX;
            #[inline]
            fn from_u32(v: u32) -> Self {
                v as $t
            }
            #[inline]
            fn to_u64(self) -> u64 {
                self as u64
            }
            #[inline]
            fn truncate_u64(v: u64) -> Self {
                v as $t
            }
            #[inline]
            fn wrapping_add(self, rhs: Self) -> Self {
                <$t>::wrapping_add(self, rhs)
            }
            #[inline]
            fn wrapping_sub(self, rhs: Self) -> Self {
                <$t>::wrapping_sub(self, rhs)
            }
            #[inline]
            fn wrapping_mul(self, rhs: Self) -> Self {
                <$t>::wrapping_mul(self, rhs)
            }
            #[inline]
            fn bit(n: u32) -> Self {
                1 << n
            }
            #[inline]
            fn top_bits(pattern: u32, n: u32) -> Self {
                (pattern as $t) << (<$t>::BITS - n)
            }
        }
    };
}
word!(u32);
word!(u64);
word!(usize);

/// An atomic cell with the operations the refcount schemes use.
///
/// Implementations must behave like `core`'s atomic of the same width: every
/// method is one atomic operation with the given C11 ordering, and arithmetic
/// wraps around on overflow. [`fence`](Self::fence) is the memory fence of
/// the same memory model (`core::sync::atomic::fence`, or loom's, or
/// shuttle's), so that a scheme that needs a fence stays checkable.
pub trait AtomicWord: Send + Sync {
    /// The value type (`u32`, `u64` or `usize`).
    type Value: Word;
    /// Creates a cell holding `v`.
    fn new(v: Self::Value) -> Self;
    /// Atomic load.
    fn load(&self, order: Ordering) -> Self::Value;
    /// Atomic store.
    fn store(&self, v: Self::Value, order: Ordering);
    /// Atomic exchange; returns the previous value.
    fn swap(&self, v: Self::Value, order: Ordering) -> Self::Value;
    /// Wrapping atomic add; returns the previous value.
    fn fetch_add(&self, v: Self::Value, order: Ordering) -> Self::Value;
    /// Wrapping atomic subtract; returns the previous value.
    fn fetch_sub(&self, v: Self::Value, order: Ordering) -> Self::Value;
    /// Atomic bitwise and; returns the previous value.
    fn fetch_and(&self, v: Self::Value, order: Ordering) -> Self::Value;
    /// Strong compare-and-swap; `Ok(previous)` on success, `Err(actual)` on failure.
    fn compare_exchange(
        &self,
        current: Self::Value,
        new: Self::Value,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Self::Value, Self::Value>;
    /// Weak compare-and-swap (may fail spuriously); same results as
    /// [`compare_exchange`](Self::compare_exchange).
    fn compare_exchange_weak(
        &self,
        current: Self::Value,
        new: Self::Value,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Self::Value, Self::Value>;
    /// A memory fence of the memory model these atomics belong to.
    fn fence(order: Ordering)
    where
        Self: Sized;
}

macro_rules! forward_atomic_word {
    ($ty:ty, $v:ty, $fence:path) => {
        impl AtomicWord for $ty {
            type Value = $v;
            #[inline]
            fn new(v: $v) -> Self {
                <$ty>::new(v)
            }
            #[inline]
            fn load(&self, order: Ordering) -> $v {
                <$ty>::load(self, order)
            }
            #[inline]
            fn store(&self, v: $v, order: Ordering) {
                <$ty>::store(self, v, order)
            }
            #[inline]
            fn swap(&self, v: $v, order: Ordering) -> $v {
                <$ty>::swap(self, v, order)
            }
            #[inline]
            fn fetch_add(&self, v: $v, order: Ordering) -> $v {
                <$ty>::fetch_add(self, v, order)
            }
            #[inline]
            fn fetch_sub(&self, v: $v, order: Ordering) -> $v {
                <$ty>::fetch_sub(self, v, order)
            }
            #[inline]
            fn fetch_and(&self, v: $v, order: Ordering) -> $v {
                <$ty>::fetch_and(self, v, order)
            }
            #[inline]
            fn compare_exchange(
                &self,
                current: $v,
                new: $v,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$v, $v> {
                <$ty>::compare_exchange(self, current, new, success, failure)
            }
            #[inline]
            fn compare_exchange_weak(
                &self,
                current: $v,
                new: $v,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$v, $v> {
                <$ty>::compare_exchange_weak(self, current, new, success, failure)
            }
            #[inline]
            fn fence(order: Ordering) {
                $fence(order)
            }
        }
    };
}

/// The three widths of one atomics module (`core`'s, loom's, shuttle's).
macro_rules! forward_atomic_module {
    ($($m:ident)::+) => {
        forward_atomic_word!($($m)::+::AtomicU32, u32, $($m)::+::fence);
        forward_atomic_word!($($m)::+::AtomicU64, u64, $($m)::+::fence);
        forward_atomic_word!($($m)::+::AtomicUsize, usize, $($m)::+::fence);
    };
}

forward_atomic_module!(core::sync::atomic);

#[cfg(feature = "loom")]
forward_atomic_module!(loom::sync::atomic);

#[cfg(feature = "shuttle")]
forward_atomic_module!(shuttle::sync::atomic);
