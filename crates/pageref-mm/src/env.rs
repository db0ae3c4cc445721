//! The synchronisation primitives under the page cache, made pluggable so
//! that model checkers drive the same code.
//!
//! [`PageCache`](crate::PageCache) is generic over an [`Env`] that supplies
//! its 32- and 64-bit atomics (with their fence) and its lock. [`StdEnv`]
//! (the default) uses `core`'s atomics and `std::sync::Mutex`; the crate's
//! tests plug in shuttle's (a randomized scheduler, sequentially consistent)
//! and loom's (an exhaustive checker of the C11 memory model), so that every
//! atomic access of the model (slots, seqcounts, page metadata, page data
//! words, and the refcount itself through [`pageref::AtomicWord`]) is a
//! point where the checker may switch threads or return an older value.

use core::ops::DerefMut;
use core::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Mutex, MutexGuard, PoisonError};

use pageref::AtomicWord;

/// A mutual-exclusion lock (the kernel's `xa_lock` and `zone->lock`). Only
/// the update paths take it; the read paths never do.
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
    /// 32-bit atomics: slots, seqcounts, page generation/state/version
    /// words; its [`AtomicWord::fence`] is the fence of the seqcount. The
    /// refcount scheme `R` brings its own word (pick `R` over the same
    /// atomics, e.g. `FrozenRef<shuttle::sync::atomic::AtomicU32>`).
    type U32: AtomicWord<Value = u32>;
    /// 64-bit atomics: page owner and page data words.
    type U64: AtomicWord<Value = u64>;
    /// The lock of the update paths.
    type Lock<T: Send>: Lock<T>;
    /// Called in retry loops of the read path (`cpu_relax`).
    fn relax();
    /// Whether the planted bug `bug` is on. Only [`mutants::Planted`]
    /// turns one on, to show that a checker catches it; everywhere else
    /// this is `false` and the branch compiles away.
    #[doc(hidden)]
    #[inline(always)]
    fn planted(bug: Bug) -> bool {
        let _ = bug;
        false
    }
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

/// The page cache's planted bugs (refcount bugs are planted through
/// `pageref::policy::mutants` instead). Each is one `E::planted(Bug::X)`
/// line in the cache (grep `planted(`), and each is caught by a test named
/// after it (see `docs/verification.md`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Bug {
    /// The speculative lookup does not re-check the slot after its
    /// `try_get` (no `xas_reload`).
    LookupNoRecheck = 1,
    /// Migration replaces the slot and frees the old page without bumping
    /// the delete seqcount (Hugh Dickins' case).
    MigrateNoBump,
    /// Zero range zeroes a cached page in place without bumping the delete
    /// seqcount (Dave Chinner's case).
    ZeroRangeNoBump,
    /// Truncate empties the slot and drops the cache's reference (which
    /// frees the page) without bumping the delete seqcount.
    TruncateNoBump,
    /// Reclaim freezes the page, empties the slot and frees the page without
    /// bumping the delete seqcount (the freeze stops refcounted readers, not
    /// a fast one).
    ReclaimNoBump,
    /// `pread_fast` returns its copy without re-checking the seqcount.
    FastNoRecheck,
    /// `pread_fast` re-reads the seqcount without the Acquire fence.
    FastNoFence,
    /// `pread_fast` re-reads the seqcount before copying, not after.
    FastRecheckBeforeCopy,
    /// `pread_fast` waits while the seqcount is odd instead of giving up.
    FastWaitsOnOdd,
    /// A writer moves the seqcount from even to even (one `+2` at the end
    /// of its section), never making it odd.
    WriterEvenToEven,
    /// A writer's odd store is not followed by the Release fence.
    WriterNoFence,
    /// A fill publishes its page with a Relaxed slot store, not Release.
    PublishRelaxed,
    /// The allocator hands out a page without its Release fence, so the
    /// new owner's writes do not carry what happened before the page's free.
    AllocNoFence,
}

#[doc(hidden)]
pub mod mutants {
    //! Environments with one planted bug of the page cache, for the tests.

    use core::marker::PhantomData;

    use super::{Bug, Env, StdEnv};

    /// `E` with the planted bug whose discriminant is `BUG` (a
    /// [`Bug`] `as u8`).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Planted<E, const BUG: u8>(PhantomData<E>);

    impl<E: Env, const BUG: u8> Env for Planted<E, BUG> {
        type U32 = E::U32;
        type U64 = E::U64;
        type Lock<T: Send> = E::Lock<T>;
        #[inline]
        fn relax() {
            E::relax()
        }
        #[inline(always)]
        fn planted(bug: Bug) -> bool {
            bug as u8 == BUG
        }
    }

    /// [`StdEnv`] with a lookup that does not re-check the slot after its
    /// `try_get` (no `xas_reload`): a reader may keep a spurious reference
    /// to a page that was freed and reused, and copy another file's data.
    pub type NoRecheck = Planted<StdEnv, { Bug::LookupNoRecheck as u8 }>;
}
