//! The "zero means dead" schemes, [`ClassicRef`](crate::ClassicRef) and
//! [`OptimisticRef`](crate::OptimisticRef): one type, [`ZeroDeadRef`], with
//! one encoding (`0` = dead/frozen, `1 ..= i32::MAX` = live) and one get
//! loop ("add unless zero"). They differ only in the first value the loop
//! tries: classic reads the word, optimistic guesses 1. Everything else is
//! the shared operations of every scheme.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::Ordering;

use crate::check;
use crate::ops::{self, Encoding};
use crate::policy::{Mutation, Policy};
use crate::{AtomicWord, PageRef, MAX_NR};

/// The zero-means-dead encoding; `OPTIMISTIC` only picks the type name of
/// the misuse messages.
pub(crate) struct ZeroDead<const OPTIMISTIC: bool>;

impl<const OPTIMISTIC: bool> Encoding for ZeroDead<OPTIMISTIC> {
    type Raw = u32;
    const TYPE: &'static str = if OPTIMISTIC {
        "OptimisticRef"
    } else {
        "ClassicRef"
    };
    /// `i32::MAX`, as the kernel's `atomic_t`.
    const MAX_COUNT: u32 = i32::MAX as u32;
    const SHIFT: u32 = 0;
    #[inline]
    fn bias() -> u32 {
        0
    }
    #[inline]
    fn dead() -> u32 {
        0
    }
    #[inline]
    fn is_dead(raw: u32) -> bool {
        raw == 0
    }
    fn state(raw: u32) -> (&'static str, Option<u64>) {
        (if raw == 0 { "frozen" } else { "live" }, None)
    }
}

/// A "zero means dead" page refcount: [`ClassicRef`](crate::ClassicRef)
/// (`OPTIMISTIC = false`) and [`OptimisticRef`](crate::OptimisticRef)
/// (`OPTIMISTIC = true`); see those for the documentation.
pub struct ZeroDeadRef<A: AtomicWord<Value = u32>, P: Policy, const OPTIMISTIC: bool> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord<Value = u32>, P: Policy, const OPTIMISTIC: bool> PageRef
    for ZeroDeadRef<A, P, OPTIMISTIC>
{
    const NAME: &'static str = if OPTIMISTIC { "optimistic" } else { "classic" };
    const REVIVES_ZERO: bool = false;
    const ZERO_IS_FINAL: bool = true;
    ops::shared_page_ref_methods!(ZeroDead<OPTIMISTIC>);

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        ops::put_zero_dead::<ZeroDead<OPTIMISTIC>, A>(&self.word, nr)
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::arg(
            ZeroDead::<OPTIMISTIC>::TYPE,
            "add_unless_frozen",
            "nr",
            nr,
            MAX_NR,
        );
        if P::planted(Mutation::ClassicFetchAdd) {
            // ORDERING: as the loop's CAS; the mutant adds unconditionally.
            return self.word.fetch_add(nr, Ordering::Acquire) != 0;
        }
        let first = if OPTIMISTIC {
            // No load first: guess that the count is 1 (one holder, e.g. the
            // page cache). A wrong guess costs nothing more than the load
            // would have: the failed CAS returns the actual value.
            1
        } else {
            // ORDERING: Relaxed. Only a first guess for the CAS; the CAS
            // re-reads the word atomically.
            self.word.load(Ordering::Relaxed)
        };
        add_unless_zero::<OPTIMISTIC, A, P>(&self.word, nr, first)
    }
}

impl<A: AtomicWord<Value = u32>, P: Policy, const OPTIMISTIC: bool> fmt::Debug
    for ZeroDeadRef<A, P, OPTIMISTIC>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ops::debug::<ZeroDead<OPTIMISTIC>>(self.raw(), f)
    }
}

/// `page_ref_add_unless` (zero): CAS `c -> c + nr` unless `c == 0`,
/// starting from the guess `c` and retrying with the value each losing CAS
/// returns — the loop that serialises many CPUs on one hot page.
#[inline]
#[track_caller]
fn add_unless_zero<const OPTIMISTIC: bool, A, P>(word: &A, nr: u32, mut c: u32) -> bool
where
    A: AtomicWord<Value = u32>,
    P: Policy,
{
    loop {
        // 0 is final: nothing but init/unfreeze revives it. (The planted bug
        // retries with it anyway, and revives a dead counter.)
        if c == 0 && !P::planted(Mutation::OptimisticSkipZeroCheck) {
            return false;
        }
        ops::check_room::<ZeroDead<OPTIMISTIC>>("add_unless_frozen", c, nr);
        // ORDERING: Acquire on success (kernel: fully ordered on success):
        // we must see the incarnation we pinned (init/unfreeze Release
        // stores, earlier holders' Release puts, whose release sequences this
        // RMW reads from). Relaxed on failure (kernel: unordered): we only
        // decide on, or retry with, the value read.
        match word.compare_exchange_weak(
            c,
            c.wrapping_add(nr),
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => return true,
            Err(now) => c = now,
        }
    }
}
