//! Compile-time protocol choices: the ordering of the final compare-and-swap
//! that turns a transient zero into "dead" (frozen bit, sticky counter, low
//! bit), and (for the verification crate only) planted bugs.
//!
//! Every scheme takes a policy type parameter that defaults to
//! [`AcquireFinal`]. The choice is made at compile time through associated
//! constants, so it costs nothing at run time.

use core::sync::atomic::Ordering;

mod sealed {
    pub trait Sealed {}
}

/// A compile-time protocol policy. Sealed: the set of policies is fixed by
/// this crate.
pub trait Policy: sealed::Sealed + Send + Sync + 'static {
    /// Success ordering of the final compare-and-swap from the transient zero
    /// to "dead": the frozen-bit scheme's `0 -> FROZEN`, the low-bit scheme's
    /// `0 -> 1`, the sticky counter's `0 -> ZERO` (and its help-flag claim).
    /// Schemes without such a CAS (classic, optimistic) and the kernel's own
    /// schemes, whose orderings the kernel fixes (rcuref, file_ref), ignore
    /// it.
    const FINAL_CAS: Ordering;
    /// Ordering of the decrement of a put (`sub_and_test`) in the schemes
    /// with a final CAS. With an `Acquire` final CAS, `Release` is enough:
    /// the CAS (or the sticky counter's claim) is an RMW that reads from the
    /// release sequence of every earlier holder's decrement, so whoever frees
    /// synchronises with all of them; a put that does not free needs to see
    /// nothing. With a `Relaxed` final CAS the decrement must acquire for
    /// itself, so [`RelaxedFinal`] keeps the posted fully ordered `AcqRel`.
    const PUT: Ordering;
    /// Short name used in reports ("acquire", "relaxed", or a mutant's name).
    const NAME: &'static str;
    #[doc(hidden)]
    const MUTATION: Mutation = Mutation::None;
    /// Whether planted bug `m` is switched on. Every mutation point of the
    /// crate is one `P::planted(Mutation::...)` line, so that a grep lists
    /// them all; it folds to `false` at compile time for real policies.
    #[doc(hidden)]
    #[inline(always)]
    fn planted(m: Mutation) -> bool {
        Self::MUTATION == m
    }
}

/// The default and the safe choice: the final `0 -> FROZEN` CAS is `Acquire`
/// on success, and the put's decrement only `Release` (see [`Policy::PUT`]).
///
/// The CAS may read the `0` written by *another* thread's put (the revival
/// race of scenarios 7 and 9 in `docs/races.md`: we decrement to 0, a getter
/// revives 1, puts back to 0, and our CAS wins). Only an acquire CAS then
/// synchronises with that thread's release decrement, so that its accesses
/// to the page happen before our free. The verification crate shows the race
/// that `RelaxedFinal` allows under the C11 model (scenario 10).
#[derive(Debug, Clone, Copy, Default)]
pub struct AcquireFinal;

/// The final CAS as posted in the series (v1–v5): relaxed, after a fully
/// ordered decrement (`AcqRel`).
///
/// Under C11 this is a data race (scenario 10 in `docs/races.md`): the CAS
/// may read another thread's 0 without synchronising with it. Under the
/// kernel's own memory model (LKMM, herd7) the CAS's control dependency
/// orders only *marked* stores inside the `if` on its result: a free path
/// that reads the page, plain C stores, or a store after the `if` race there
/// too (`docs/lkmm.md`, `litmus/`). Use this only to reproduce the posted
/// code; see [`AcquireFinal`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RelaxedFinal;

impl sealed::Sealed for AcquireFinal {}
impl Policy for AcquireFinal {
    const FINAL_CAS: Ordering = Ordering::Acquire;
    const PUT: Ordering = Ordering::Release;
    const NAME: &'static str = "acquire";
}

impl sealed::Sealed for RelaxedFinal {}
impl Policy for RelaxedFinal {
    const FINAL_CAS: Ordering = Ordering::Relaxed;
    const PUT: Ordering = Ordering::AcqRel;
    const NAME: &'static str = "relaxed";
}

/// A planted bug, selected at compile time by a mutant policy.
///
/// Only meaningful with the `mutants` feature; `None` everywhere else, and
/// every check of it folds away at compile time.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// The faithful code.
    None,
    /// Freeing (`set_frozen` and the final CAS) stores a plain zero instead
    /// of the dead value — the kernel review's request (b)
    /// (<https://lkml.iu.edu/2603.1/01083.html>) violated (any scheme
    /// whose dead value is not 0).
    FreeStoresZero,
    /// The last put reports `true` on reaching the transient zero without the
    /// final CAS to dead (frozen bit, low bit, rcuref, file_ref).
    SkipFinalCas,
    /// Frozen bit: try_get ignores the bit and always succeeds.
    IgnoreFrozenBit,
    /// Frozen bit: the overflow guard resets garbage to plain 0 (clears the bit).
    GuardClearsBit,
    /// Frozen bit: a failed get never runs the overflow guard, so garbage
    /// grows without bound.
    SkipOverflowGuard,
    /// Frozen bit: a failed try_get undoes its add with a plain decrement
    /// (the RFC's shape) instead of leaving garbage under the bit.
    UndoByDecrement,
    /// Freeze stores a plain zero instead of the dead value.
    FreezeStoresZero,
    /// Classic: add-unless-zero done as one unconditional `fetch_add`.
    ClassicFetchAdd,
    /// Optimistic CAS: after a failed CAS, retry with the value it returned
    /// without checking it for 0, so a get on a dead counter revives it
    /// (`CAS(1, 1+nr)` fails with 0, then `CAS(0, nr)` succeeds).
    OptimisticSkipZeroCheck,
    /// Sticky counter: a decrementer whose `0 -> ZERO` CAS lost to a helping
    /// `count()` ignores the help flag and returns `false`, so nobody is told
    /// it reached zero (a leak).
    StickyIgnoresHelp,
    /// Sticky counter: `count()` reports 0 after reading 0 without checking
    /// that its helping CAS succeeded; a concurrent try_get may have revived
    /// the count meanwhile, so a reported 0 is followed by a successful get.
    StickyUncheckedHelp,
    /// Sticky counter: the help flag is claimed with an exchange to `ZERO`,
    /// literally as in the paper, instead of clearing only the flag. A
    /// claimant that stalls between its failed CAS and the exchange, while
    /// the other claimant frees and `init` re-allocates, overwrites the new
    /// incarnation's live count with `ZERO` (the paper's objects are never
    /// re-initialised; pages are).
    StickyClaimBySwap,
    /// Low bit: try_get adds `nr` unshifted (an odd amount for odd `nr`),
    /// so it flips the dead bit: a get on a dead counter revives it.
    LowBitOddIncrement,
    /// rcuref: the last put's release CAS is not followed by the acquire
    /// fence (`smp_acquire__after_ctrl_dep()`), so the freer does not
    /// synchronise with a reviver's put.
    RcuRefNoFence,
    /// file_ref: a failed get resets dead-zone garbage with a plain store of
    /// `DEAD`, as rcuref does, which file_ref's own comment rules out for
    /// recycled objects.
    FileRefResetsGarbage,
    /// The void put (`sub`/`dec`) decrements with `Relaxed` instead of
    /// `Release`: a holder's uses of the page need not happen before the
    /// free by the thread that puts last (scenario s02b).
    VoidPutRelaxed,
    /// `sub_return` decrements with `Acquire` instead of `AcqRel`: as
    /// `VoidPutRelaxed`, for the value-returning put (scenario s02c).
    SubReturnNoRelease,
    /// `count()` decodes the word without its dead test, as upstream's
    /// `page_ref_count()` would if left unchanged: a frozen word's bit and
    /// garbage show as a count (scenario s11).
    CountShowsGarbage,
}

#[cfg(feature = "mutants")]
pub mod mutants {
    //! Planted bugs for the verification crate (feature `mutants`).
    //!
    //! Each type is a [`Policy`](super::Policy) that switches on one
    //! [`Mutation`](super::Mutation) in the real code. The orderings stay
    //! those of [`AcquireFinal`](super::AcquireFinal), so each mutant differs
    //! from the default in exactly one way.
    use super::{sealed, Mutation, Policy};
    use core::sync::atomic::Ordering;

    macro_rules! mutant {
        ($(#[$doc:meta])* $name:ident) => {
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, Default)]
            pub struct $name;
            impl sealed::Sealed for $name {}
            impl Policy for $name {
                const FINAL_CAS: Ordering = Ordering::Acquire;
                const PUT: Ordering = Ordering::Release;
                const NAME: &'static str = stringify!($name);
                const MUTATION: Mutation = Mutation::$name;
            }
        };
    }

    mutant!(
        /// See [`Mutation::FreeStoresZero`](super::Mutation::FreeStoresZero).
        FreeStoresZero
    );
    mutant!(
        /// See [`Mutation::SkipFinalCas`](super::Mutation::SkipFinalCas).
        SkipFinalCas
    );
    mutant!(
        /// See [`Mutation::IgnoreFrozenBit`](super::Mutation::IgnoreFrozenBit).
        IgnoreFrozenBit
    );
    mutant!(
        /// See [`Mutation::GuardClearsBit`](super::Mutation::GuardClearsBit).
        GuardClearsBit
    );
    mutant!(
        /// See [`Mutation::UndoByDecrement`](super::Mutation::UndoByDecrement).
        UndoByDecrement
    );
    mutant!(
        /// See [`Mutation::FreezeStoresZero`](super::Mutation::FreezeStoresZero).
        FreezeStoresZero
    );
    mutant!(
        /// See [`Mutation::ClassicFetchAdd`](super::Mutation::ClassicFetchAdd).
        ClassicFetchAdd
    );
    mutant!(
        /// See [`Mutation::OptimisticSkipZeroCheck`](super::Mutation::OptimisticSkipZeroCheck).
        OptimisticSkipZeroCheck
    );
    mutant!(
        /// See [`Mutation::StickyIgnoresHelp`](super::Mutation::StickyIgnoresHelp).
        StickyIgnoresHelp
    );
    mutant!(
        /// See [`Mutation::StickyUncheckedHelp`](super::Mutation::StickyUncheckedHelp).
        StickyUncheckedHelp
    );
    mutant!(
        /// See [`Mutation::StickyClaimBySwap`](super::Mutation::StickyClaimBySwap).
        StickyClaimBySwap
    );
    mutant!(
        /// See [`Mutation::LowBitOddIncrement`](super::Mutation::LowBitOddIncrement).
        LowBitOddIncrement
    );
    mutant!(
        /// See [`Mutation::SkipOverflowGuard`](super::Mutation::SkipOverflowGuard).
        SkipOverflowGuard
    );
    mutant!(
        /// See [`Mutation::RcuRefNoFence`](super::Mutation::RcuRefNoFence).
        RcuRefNoFence
    );
    mutant!(
        /// See [`Mutation::FileRefResetsGarbage`](super::Mutation::FileRefResetsGarbage).
        FileRefResetsGarbage
    );
    mutant!(
        /// See [`Mutation::VoidPutRelaxed`](super::Mutation::VoidPutRelaxed).
        VoidPutRelaxed
    );
    mutant!(
        /// See [`Mutation::SubReturnNoRelease`](super::Mutation::SubReturnNoRelease).
        SubReturnNoRelease
    );
    mutant!(
        /// See [`Mutation::CountShowsGarbage`](super::Mutation::CountShowsGarbage).
        CountShowsGarbage
    );
}
