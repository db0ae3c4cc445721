//! The upstream scheme: zero means dead (Linux `include/linux/page_ref.h`
//! before the series), the baseline every other scheme is compared with.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::check::{self, misuse};
use crate::policy::{AcquireFinal, Mutation, Policy};
use crate::state::MAX_COUNT;
use crate::{AtomicWord, PageRef};

const NAME: &str = "ClassicRef";

/// The classic page refcount: `0` = dead/frozen, `1 ..= i32::MAX` = live.
///
/// * `try_get` ("add unless zero") reads the count and compare-and-swaps it
///   from `c` to `c + nr` unless `c == 0`, retrying with the value a losing
///   CAS returns — the loop that serialises many CPUs on one hot page.
/// * a put is one `fetch_sub`; the caller that reaches 0 frees.
/// * freeze is a CAS `expected -> 0`; unfreeze a release store.
///
/// `P` only selects planted bugs in the verification crate; the final-CAS
/// ordering it carries does not apply (there is no final CAS).
pub struct ClassicRef<A: AtomicWord = AtomicU32, P: Policy = AcquireFinal> {
    word: A,
    policy: PhantomData<fn() -> P>,
}

impl<A: AtomicWord, P: Policy> ClassicRef<A, P> {
    #[inline]
    fn with_raw(raw: u32) -> Self {
        ClassicRef {
            word: A::new(raw),
            policy: PhantomData,
        }
    }

    #[inline]
    #[track_caller]
    fn check_put(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if old == 0 {
                misuse(NAME, op, "put on a frozen counter", old)
            }
            if old < nr || old > MAX_COUNT {
                misuse(NAME, op, "count would drop below zero", old)
            }
        }
    }

    #[inline]
    #[track_caller]
    fn check_add_live(op: &str, old: u32, nr: u32) {
        if check::ENABLED {
            if old == 0 {
                misuse(NAME, op, "increment of a frozen counter", old)
            }
            if old > MAX_COUNT - nr {
                misuse(NAME, op, "count would exceed i32::MAX", old)
            }
        }
    }
}

impl<A: AtomicWord, P: Policy> PageRef for ClassicRef<A, P> {
    const NAME: &'static str = "classic";
    const MAX_COUNT: u32 = MAX_COUNT;

    fn new(count: u32) -> Self {
        if count == 0 || count > MAX_COUNT {
            check::bad_arg(NAME, "new", "count must be in 1..=i32::MAX", "count", count)
        }
        Self::with_raw(count)
    }

    fn new_frozen() -> Self {
        Self::with_raw(0)
    }

    #[inline]
    fn raw(&self) -> u32 {
        // ORDERING: Relaxed; a diagnostic snapshot.
        self.word.load(Ordering::Relaxed)
    }

    #[inline]
    fn count(&self) -> u32 {
        // ORDERING: Relaxed, like atomic_read().
        self.word.load(Ordering::Relaxed)
    }

    #[inline]
    fn is_frozen(&self) -> bool {
        // ORDERING: Relaxed snapshot.
        self.word.load(Ordering::Relaxed) == 0
    }

    fn init(&self) {
        if check::ENABLED {
            // ORDERING: Relaxed; debug-only plausibility read.
            let old = self.word.load(Ordering::Relaxed);
            if old != 0 {
                misuse(NAME, "init", "init of a live counter", old)
            }
        }
        // ORDERING: Release, for the same reason as FrozenRef::init: a stale
        // speculative getter that reads this 1 must see the reallocation's
        // history, or its re-validation could pass on stale data.
        self.word.store(1, Ordering::Release);
    }

    fn set_frozen(&self) {
        // ORDERING: Relaxed; exclusive owner, a dead value publishes nothing.
        self.word.store(0, Ordering::Relaxed);
    }

    #[inline]
    fn add(&self, nr: u32) {
        check::nr(NAME, "add", nr);
        // ORDERING: Relaxed; the caller holds a reference (as Arc::clone).
        let old = self.word.fetch_add(nr, Ordering::Relaxed);
        Self::check_add_live("add", old, nr);
    }

    #[inline]
    fn sub(&self, nr: u32) {
        check::nr(NAME, "sub", nr);
        // ORDERING: Release (stronger than the kernel's unordered void op):
        // uses of the dropped references happen before the eventual free.
        let old = self.word.fetch_sub(nr, Ordering::Release);
        Self::check_put("sub", old, nr);
        if check::ENABLED && old == nr {
            misuse(
                NAME,
                "sub",
                "void op would drop the last reference (use sub_and_test)",
                old,
            )
        }
    }

    #[inline]
    fn inc_return(&self) -> u32 {
        // ORDERING: AcqRel (kernel: fully ordered value-returning RMW).
        let old = self.word.fetch_add(1, Ordering::AcqRel);
        Self::check_add_live("inc_return", old, 1);
        old.wrapping_add(1)
    }

    #[inline]
    fn sub_return(&self, nr: u32) -> u32 {
        check::nr(NAME, "sub_return", nr);
        // ORDERING: AcqRel (kernel: fully ordered value-returning RMW).
        let old = self.word.fetch_sub(nr, Ordering::AcqRel);
        Self::check_put("sub_return", old, nr);
        if check::ENABLED && old == nr {
            misuse(
                NAME,
                "sub_return",
                "would drop the last reference (use sub_and_test)",
                old,
            )
        }
        old.wrapping_sub(nr)
    }

    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        check::nr(NAME, "sub_and_test", nr);
        // ORDERING: AcqRel (kernel: fully ordered). Release: our accesses
        // happen before the free. Acquire: the thread that reaches 0 frees,
        // and must see every other holder's accesses (their Release
        // decrements form one release sequence on this word).
        let old = self.word.fetch_sub(nr, Ordering::AcqRel);
        Self::check_put("sub_and_test", old, nr);
        old == nr
    }

    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        check::get_nr(NAME, "add_unless_frozen", nr);
        if P::MUTATION == Mutation::ClassicFetchAdd {
            // ORDERING: as below; the mutant adds unconditionally.
            return self.word.fetch_add(nr, Ordering::Acquire) != 0;
        }
        // ORDERING: Relaxed. Only a first guess for the CAS; the CAS below
        // re-reads the word atomically.
        let mut c = self.word.load(Ordering::Relaxed);
        loop {
            if c == 0 {
                return false;
            }
            if check::ENABLED && c > MAX_COUNT - nr {
                misuse(NAME, "add_unless_frozen", "count would exceed i32::MAX", c)
            }
            // ORDERING: Acquire on success (kernel: fully ordered on
            // success): we must see the incarnation we pinned (init/unfreeze
            // Release stores, earlier holders' Release puts). Relaxed on
            // failure (kernel: unordered): we only retry with the new value.
            match self
                .word
                .compare_exchange_weak(c, c + nr, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
    }

    #[inline]
    fn freeze(&self, expected: u32) -> bool {
        check::count_arg(NAME, "freeze", expected);
        // ORDERING: Acquire on success; the freezer becomes the exclusive
        // owner and must see the holders' accesses (see FrozenRef::freeze).
        self.word
            .compare_exchange(expected, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    fn unfreeze(&self, count: u32) {
        check::count_arg(NAME, "unfreeze", count);
        if check::ENABLED {
            // ORDERING: Relaxed; debug-only plausibility read.
            let old = self.word.load(Ordering::Relaxed);
            if old != 0 {
                misuse(NAME, "unfreeze", "unfreeze of a live counter", old)
            }
        }
        // ORDERING: Release (atomic_set_release): publishes the freezer's
        // work to later successful getters.
        self.word.store(count, Ordering::Release);
    }
}

impl<A: AtomicWord, P: Policy> fmt::Debug for ClassicRef<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClassicRef")
            .field("raw", &self.raw())
            .finish()
    }
}
