//! What an [`Arc`](super::Arc) is built from: the atomic type of its two
//! counts, and (hidden) the hooks that let a model checker watch the
//! allocation.
//!
//! Users never name this: `Arc<T>` is `Arc<T, CoreWords>`, exactly as std's
//! `Arc<T>` is `Arc<T, Global>`. The second parameter exists so that the
//! verification crate runs loom on the very code that users link
//! ([`LoomWords`], feature `loom`), and so that planted bugs can be switched
//! on at compile time (`Planted`, feature `mutants`) without a run-time
//! branch in the shipped code. A `cfg(feature = "loom")` switch would not do:
//! cargo unifies features across a workspace, so it would also change the
//! `Arc` that the benchmark measures.

use core::alloc::Layout;

use crate::atomic::AtomicWord;

mod sealed {
    pub trait Sealed {}
}

/// The counts' atomic type and the allocation hooks of an
/// [`Arc`](super::Arc). Sealed: [`CoreWords`] (the default) and, for model
/// checking, `LoomWords` (feature `loom`), `ShuttleWords` (feature
/// `shuttle`) and the planted bugs' `Planted` (feature `mutants`).
///
/// # Safety
///
/// Implementations must behave like `core`'s `AtomicUsize` and the global
/// allocator. The trait is sealed, so only this crate implements it.
pub unsafe trait ArcWords: sealed::Sealed + Send + Sync + Sized + 'static {
    /// The atomic type of the strong and the weak count.
    type Atomic: AtomicWord<Value = usize>;

    /// Per-allocation bookkeeping (`()` except under a model checker).
    #[doc(hidden)]
    type Token: Send + Sync;

    /// The bookkeeping of a new allocation.
    #[doc(hidden)]
    fn token() -> Self::Token;

    /// Frees an allocation of `layout` at `block`, whose header fields
    /// (counts and token) are still in place and whose data is dropped or
    /// was never written.
    ///
    /// # Safety
    ///
    /// `block` came from [`alloc`](Self::alloc) with `layout`, and
    /// `token` points into it; neither is used again.
    #[doc(hidden)]
    unsafe fn free(token: *mut Self::Token, block: *mut u8, layout: Layout);

    /// Allocates `layout` (never zero-sized here); never returns null.
    ///
    /// # Safety
    ///
    /// `layout` has a non-zero size.
    #[doc(hidden)]
    unsafe fn alloc(layout: Layout) -> *mut u8;

    /// One step of a spin-wait (a CPU hint, or a yield to the model checker).
    #[doc(hidden)]
    fn spin();

    /// A failed check of the counts (overflow, misuse): the process aborts.
    /// A model checker's words panic instead, so that it reports the
    /// failing execution, and return while a panic is already unwinding
    /// (the caller then leaves the counts as they are).
    #[doc(hidden)]
    #[cold]
    fn fatal(msg: &dyn core::fmt::Display) {
        abort(msg)
    }

    /// The planted bug, `0` for none (see `mutants`). Only the `Planted`
    /// words of the `mutants` feature set it.
    #[doc(hidden)]
    const BUG: u8 = 0;
}

/// `core::sync::atomic::AtomicUsize` and the global allocator: what every
/// `Arc<T>` uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoreWords;

impl sealed::Sealed for CoreWords {}

// SAFETY: core's atomic and the global allocator.
unsafe impl ArcWords for CoreWords {
    type Atomic = core::sync::atomic::AtomicUsize;
    type Token = ();

    #[inline(always)]
    fn token() {}

    #[inline]
    unsafe fn free(_token: *mut (), block: *mut u8, layout: Layout) {
        // SAFETY: `block` was allocated by `Self::alloc` (the global
        // allocator) with this layout, per the caller's contract.
        unsafe { alloc::alloc::dealloc(block, layout) }
    }

    #[inline]
    unsafe fn alloc(layout: Layout) -> *mut u8 {
        // SAFETY: non-zero size, per the caller's contract.
        let p = unsafe { alloc::alloc::alloc(layout) };
        if p.is_null() {
            alloc::alloc::handle_alloc_error(layout)
        }
        p
    }

    #[inline(always)]
    fn spin() {
        core::hint::spin_loop()
    }
}

/// An atomic that a model checker's words may count with: the checker's own
/// `AtomicUsize`, or a wrapper of it (a checking or tracing atomic of the
/// verification crate).
///
/// # Safety
///
/// Every [`AtomicWord`] method must perform the checker's atomic operation
/// with the ordering it was given, and return what that operation returned:
/// a wrapper may watch and record, never change a value or an ordering.
/// `Arc`'s memory safety rests on its counts, so an atomic that lies could
/// free memory that is still in use; hence this `unsafe` marker instead of
/// accepting any [`AtomicWord`].
#[cfg(any(feature = "loom", feature = "shuttle"))]
#[doc(hidden)]
pub unsafe trait ModelAtomic: AtomicWord<Value = usize> + 'static {}

// SAFETY: loom's own atomic.
#[cfg(feature = "loom")]
unsafe impl ModelAtomic for loom::sync::atomic::AtomicUsize {}

// SAFETY: shuttle's own atomic.
#[cfg(feature = "shuttle")]
unsafe impl ModelAtomic for shuttle::sync::atomic::AtomicUsize {}

/// The words of one model checker (`loom` or `shuttle`): its atomic (or a
/// `ModelAtomic` wrapper of it), quarantined allocations, a leak count, and
/// panics instead of aborts. One definition for both checkers, so that the
/// two cannot drift.
macro_rules! model_words {
    (
        $(#[$doc:meta])*
        feature = $feature:literal, module = $module:ident, checker = $checker:ident,
        words = $words:ident, token = $token:ident,
    ) => {
        #[cfg(feature = $feature)]
        pub use $module::$words;

        #[cfg(feature = $feature)]
        mod $module {
            extern crate std;

            use super::*;
            use core::marker::PhantomData;

            $(#[$doc])*
            pub struct $words<A = $checker::sync::atomic::AtomicUsize>(PhantomData<fn() -> A>);

            impl<A> core::fmt::Debug for $words<A> {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str(stringify!($words))
                }
            }

            std::thread_local! {
                static LIVE: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
            }

            impl<A> $words<A> {
                /// Allocations made and not yet freed on this OS thread (the
                /// checker runs every model thread on the thread that runs
                /// the model).
                pub fn live() -> usize {
                    LIVE.with(|l| l.get())
                }
            }

            /// Whether the allocation was freed.
            #[derive(Debug)]
            pub struct $token {
                freed: core::sync::atomic::AtomicBool,
            }

            impl<A> sealed::Sealed for $words<A> {}

            // SAFETY: the checker's atomic or a `ModelAtomic` wrapper of it
            // (see that trait's contract); memory from the global allocator.
            unsafe impl<A: ModelAtomic> ArcWords for $words<A> {
                type Atomic = A;
                type Token = $token;

                fn token() -> $token {
                    LIVE.with(|l| l.set(l.get() + 1));
                    $token {
                        freed: core::sync::atomic::AtomicBool::new(false),
                    }
                }

                unsafe fn free(token: *mut $token, _block: *mut u8, _layout: Layout) {
                    // SAFETY: the token lives in the (quarantined, never
                    // released) block, so it is readable even on a buggy
                    // second free.
                    let t = unsafe { &*token };
                    // ORDERING: bookkeeping outside the model (plain `core`
                    // atomic; the checker runs one thread at a time), not
                    // part of the protocol.
                    if t.freed.swap(true, core::sync::atomic::Ordering::Relaxed) {
                        panic!("pageref::sync model: double free of an Arc allocation");
                    }
                    LIVE.with(|l| l.set(l.get() - 1));
                    // The block itself stays allocated: quarantine (see the
                    // type doc).
                }

                unsafe fn alloc(layout: Layout) -> *mut u8 {
                    // SAFETY: as `CoreWords::alloc`.
                    unsafe { CoreWords::alloc(layout) }
                }

                fn spin() {
                    $checker::thread::yield_now()
                }

                fn fatal(msg: &dyn core::fmt::Display) {
                    if !std::thread::panicking() {
                        panic!("pageref::sync: {msg}")
                    }
                }
            }
        }
    };
}

model_words! {
    /// loom's `AtomicUsize` (or `A`, a [`ModelAtomic`] wrapper of it, such
    /// as a checker's checking atomic), for the verification crate (feature
    /// `loom`).
    ///
    /// An allocation's memory is never returned during a model run
    /// (quarantine): freeing only marks its token. So a buggy variant that
    /// uses an `Arc` after the free reads intact memory, and the model
    /// reports the use (a dropped value, a race) instead of the process
    /// crashing. A second free panics with "double free"; the allocations
    /// not yet freed are counted ([`live`](Self::live)), so that a model can
    /// check for leaks. (Not with `loom::alloc::Track`: a model must be able
    /// to discard an execution that loom should not have produced, leaks
    /// included.) Failed checks of the counts panic, so that the model
    /// reports them, instead of aborting.
    ///
    /// loom 0.7 can let a plain store squeeze into a read-modify-write
    /// (tokio-rs/loom issues #254 and #389), which `make_mut`'s and
    /// `new_cyclic`'s stores meet; a model should therefore use an `A` that
    /// detects and discards such executions, as the verification crate's
    /// `loom_arc` test does.
    feature = "loom", module = loom_words, checker = loom,
    words = LoomWords, token = LoomToken,
}

model_words! {
    /// shuttle's `AtomicUsize` (or `A`, a [`ModelAtomic`] wrapper of it),
    /// for the verification crate's randomized tests with many threads
    /// (feature `shuttle`). As `LoomWords`: allocations are quarantined
    /// (never returned during a run), a second free panics, the allocations
    /// not yet freed are counted ([`live`](Self::live)), and failed checks of
    /// the counts panic.
    feature = "shuttle", module = shuttle_words, checker = shuttle,
    words = ShuttleWords, token = ShuttleToken,
}

/// Planted bugs for the verification crate (feature `mutants`): never
/// enable outside tests.
#[cfg(feature = "mutants")]
pub mod mutants {
    use super::*;
    use core::marker::PhantomData;

    /// `Weak::upgrade` succeeds whatever the old value (ignores the dead bit).
    pub const UPGRADE_IGNORES_DEAD: u8 = 1;
    /// The last strong drop frees at 0 without the `0 -> DEAD` CAS.
    pub const DROP_WITHOUT_CAS: u8 = 2;
    /// The last strong drop's `0 -> DEAD` CAS is `Relaxed` on success.
    pub const RELAXED_FINAL_CAS: u8 = 3;
    /// `into_inner` claims uniqueness with a load of 1 and a plain store of
    /// `DEAD` instead of the CAS `1 -> DEAD`: an upgrade in between makes two
    /// winners (the caller gets `T` while the upgrader holds an `Arc`).
    pub const INTO_INNER_TWO_WINNERS: u8 = 4;
    /// `get_mut` checks `strong == 1` without locking the weak count, so a
    /// concurrent `upgrade` + `downgrade` pair can hold the value meanwhile.
    pub const GET_MUT_NO_WEAK_LOCK: u8 = 5;
    /// `new_cyclic` publishes the count with a `Relaxed` store, so an
    /// upgrader may see the count before the value.
    pub const CYCLIC_RELAXED_PUBLISH: u8 = 6;
    /// `make_mut` with a live `Weak` re-opens the old allocation (stores 1)
    /// after moving the value out, instead of leaving it dead.
    pub const MAKE_MUT_REVIVES: u8 = 7;

    /// `W` with planted bug `BUG` switched on.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Planted<W, const BUG: u8>(PhantomData<fn() -> W>);

    impl<W: ArcWords, const BUG: u8> sealed::Sealed for Planted<W, BUG> {}

    // SAFETY: forwards to `W`.
    unsafe impl<W: ArcWords, const BUG: u8> ArcWords for Planted<W, BUG> {
        type Atomic = W::Atomic;
        type Token = W::Token;
        const BUG: u8 = BUG;

        #[track_caller]
        fn token() -> W::Token {
            W::token()
        }
        unsafe fn free(token: *mut W::Token, block: *mut u8, layout: Layout) {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { W::free(token, block, layout) }
        }
        unsafe fn alloc(layout: Layout) -> *mut u8 {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { W::alloc(layout) }
        }
        fn spin() {
            W::spin()
        }
        fn fatal(msg: &dyn core::fmt::Display) {
            W::fatal(msg)
        }
    }
}

/// Ends the process: a reference count overflowed or was misused, and
/// continuing could free memory that is still in use.
///
/// With the `std` feature this is `std::process::abort`. Without it (`no_std`
/// has no stable abort), it panics while a guard whose destructor panics is
/// alive: the second panic, during unwinding, aborts (and with
/// `panic = "abort"` the first one already does). It never returns either way.
#[cold]
#[inline(never)]
pub(crate) fn abort(msg: &dyn core::fmt::Display) -> ! {
    #[cfg(feature = "std")]
    {
        extern crate std;
        std::eprintln!("pageref::sync: {msg}; aborting");
        std::process::abort()
    }
    #[cfg(not(feature = "std"))]
    {
        struct Abort;
        impl Drop for Abort {
            fn drop(&mut self) {
                panic!("pageref::sync: aborting (a panic during a panic aborts)");
            }
        }
        let _guard = Abort;
        panic!("pageref::sync: {msg}; aborting")
    }
}
