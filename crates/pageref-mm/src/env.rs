//! The synchronisation primitives under the page cache, made pluggable so
//! that a randomized scheduler (shuttle) can drive the same code.
//!
//! [`PageCache`](crate::PageCache) is generic over an [`Env`] that supplies
//! its 32- and 64-bit atomics and its lock. [`StdEnv`] (the default) uses
//! `core`'s atomics and `std::sync::Mutex`; the crate's shuttle test plugs in
//! shuttle's, so that every atomic access of the model (slots, page
//! metadata, page data words, and the refcount itself through
//! [`pageref::AtomicWord`], of either width) is a scheduling point of the checker.

use core::ops::DerefMut;
use core::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Mutex, MutexGuard, PoisonError};

use pageref::AtomicWord;

/// A mutual-exclusion lock (the kernel's `xa_lock` and `zone->lock`). Only
/// the update paths take it; the read path never does.
pub trait Lock<T: Send>: Send + Sync {
    /// The guard; the lock is held while it lives.
    type Guard<'a>: DerefMut<Target = T>
    where
        Self: 'a;
    /// A new, unlocked lock protecting `value`.
    fn new(value: T) -> Self;
    /// Acquires the lock. A lock whose holder panicked (a refcount misuse
    /// check firing inside a critical section) is taken over as is: the
    /// stress harness reports the panic and keeps checking.
    fn lock(&self) -> Self::Guard<'_>;
}

impl<T: Send> Lock<T> for Mutex<T> {
    type Guard<'a>
        = MutexGuard<'a, T>
    where
        T: 'a;
    fn new(value: T) -> Self {
        Mutex::new(value)
    }
    fn lock(&self) -> MutexGuard<'_, T> {
        Mutex::lock(self).unwrap_or_else(PoisonError::into_inner)
    }
}

/// The primitives a [`PageCache`](crate::PageCache) is built from.
pub trait Env: Send + Sync + 'static {
    /// 32-bit atomics: slots, page generation/state/version words. The
    /// refcount scheme `R` brings its own word (pick `R` over the same
    /// atomics, e.g. `FrozenRef<shuttle::sync::atomic::AtomicU32>`).
    type U32: AtomicWord<Value = u32>;
    /// 64-bit atomics: page owner and page data words.
    type U64: AtomicWord<Value = u64>;
    /// The lock of the update paths.
    type Lock<T: Send>: Lock<T>;
    /// Whether the speculative lookup re-checks the slot after its
    /// `try_get` (`xas_reload`). Only [`mutants::NoRecheck`](crate::mutants::NoRecheck)
    /// turns it off, to show the stress checks catch the resulting
    /// use-after-free.
    #[doc(hidden)]
    const LOOKUP_RECHECK: bool = true;
    /// Called in retry loops of the read path (`cpu_relax`).
    fn relax();
}

/// The real primitives: `core` atomics and `std::sync::Mutex`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdEnv;

impl Env for StdEnv {
    type U32 = AtomicU32;
    type U64 = AtomicU64;
    type Lock<T: Send> = Mutex<T>;
    #[inline]
    fn relax() {
        core::hint::spin_loop()
    }
}
