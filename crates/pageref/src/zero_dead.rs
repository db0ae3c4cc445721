//! The operations shared by the two "zero means dead" schemes,
//! [`ClassicRef`](crate::ClassicRef) and [`OptimisticRef`](crate::OptimisticRef):
//! same encoding (`0` = dead/frozen, `1 ..= i32::MAX` = live), same put,
//! freeze, unfreeze and init; they differ only in how `try_get` reaches its
//! compare-and-swap. Each function takes the public type's name for its
//! misuse messages.

use core::sync::atomic::Ordering;

use crate::check::{self, misuse};
use crate::state::MAX_COUNT;
use crate::AtomicWord;

/// A live counter holding `count`; always checked (constructors are not hot).
pub(crate) fn new<A: AtomicWord<Value = u32>>(name: &str, count: u32) -> A {
    if count == 0 || count > MAX_COUNT {
        check::bad_arg(name, "new", "count must be in 1..=i32::MAX", "count", count)
    }
    A::new(count)
}

#[inline]
#[track_caller]
fn check_put(name: &str, op: &str, old: u32, nr: u32) {
    if check::ENABLED {
        if old == 0 {
            misuse(name, op, "put on a frozen counter", old)
        }
        if old < nr || old > MAX_COUNT {
            misuse(name, op, "count would drop below zero", old)
        }
    }
}

#[inline]
#[track_caller]
fn check_add_live(name: &str, op: &str, old: u32, nr: u32) {
    if check::ENABLED {
        if old == 0 {
            misuse(name, op, "increment of a frozen counter", old)
        }
        if old > MAX_COUNT - nr {
            misuse(name, op, "count would exceed i32::MAX", old)
        }
    }
}

/// Checks the value a get is about to CAS from (the overflow check).
#[inline]
#[track_caller]
pub(crate) fn check_get(name: &str, c: u32, nr: u32) {
    if check::ENABLED && c > MAX_COUNT - nr {
        misuse(name, "add_unless_frozen", "count would exceed i32::MAX", c)
    }
}

#[inline]
pub(crate) fn raw<A: AtomicWord<Value = u32>>(word: &A) -> u32 {
    // ORDERING: Relaxed, like atomic_read(): a snapshot that is stale at
    // once; callers that act on it hold a reference or a lock.
    word.load(Ordering::Relaxed)
}

#[track_caller]
pub(crate) fn init<A: AtomicWord<Value = u32>>(word: &A, name: &str) {
    if check::ENABLED {
        // ORDERING: Relaxed; debug-only plausibility read.
        let old = word.load(Ordering::Relaxed);
        if old != 0 {
            misuse(name, "init", "init of a live counter", old)
        }
    }
    // ORDERING: Release, for the same reason as FrozenRef::init: a stale
    // speculative getter that reads this 1 must see the reallocation's
    // history, or its re-validation could pass on stale data.
    word.store(1, Ordering::Release);
}

pub(crate) fn set_frozen<A: AtomicWord<Value = u32>>(word: &A) {
    // ORDERING: Relaxed; exclusive owner, a dead value publishes nothing.
    word.store(0, Ordering::Relaxed);
}

#[inline]
#[track_caller]
pub(crate) fn add<A: AtomicWord<Value = u32>>(word: &A, name: &str, nr: u32) {
    check::nr(name, "add", nr);
    // ORDERING: Relaxed; the caller holds a reference (as Arc::clone).
    let old = word.fetch_add(nr, Ordering::Relaxed);
    check_add_live(name, "add", old, nr);
}

#[inline]
#[track_caller]
pub(crate) fn sub<A: AtomicWord<Value = u32>>(word: &A, name: &str, nr: u32) {
    check::nr(name, "sub", nr);
    // ORDERING: Release (stronger than the kernel's unordered void op):
    // uses of the dropped references happen before the eventual free.
    let old = word.fetch_sub(nr, Ordering::Release);
    check_put(name, "sub", old, nr);
    if check::ENABLED && old == nr {
        misuse(
            name,
            "sub",
            "void op would drop the last reference (use sub_and_test)",
            old,
        )
    }
}

#[inline]
#[track_caller]
pub(crate) fn inc_return<A: AtomicWord<Value = u32>>(word: &A, name: &str) -> u32 {
    // ORDERING: AcqRel (kernel: fully ordered value-returning RMW).
    let old = word.fetch_add(1, Ordering::AcqRel);
    check_add_live(name, "inc_return", old, 1);
    old.wrapping_add(1)
}

#[inline]
#[track_caller]
pub(crate) fn sub_return<A: AtomicWord<Value = u32>>(word: &A, name: &str, nr: u32) -> u32 {
    check::nr(name, "sub_return", nr);
    // ORDERING: AcqRel (kernel: fully ordered value-returning RMW).
    let old = word.fetch_sub(nr, Ordering::AcqRel);
    check_put(name, "sub_return", old, nr);
    if check::ENABLED && old == nr {
        misuse(
            name,
            "sub_return",
            "would drop the last reference (use sub_and_test)",
            old,
        )
    }
    old.wrapping_sub(nr)
}

#[inline]
#[track_caller]
pub(crate) fn sub_and_test<A: AtomicWord<Value = u32>>(word: &A, name: &str, nr: u32) -> bool {
    check::nr(name, "sub_and_test", nr);
    // ORDERING: AcqRel (kernel: fully ordered). Release: our accesses
    // happen before the free. Acquire: the thread that reaches 0 frees,
    // and must see every other holder's accesses (their Release
    // decrements form one release sequence on this word).
    let old = word.fetch_sub(nr, Ordering::AcqRel);
    check_put(name, "sub_and_test", old, nr);
    old == nr
}

#[inline]
#[track_caller]
pub(crate) fn freeze<A: AtomicWord<Value = u32>>(word: &A, name: &str, expected: u32) -> bool {
    check::count_arg(name, "freeze", expected);
    // ORDERING: Acquire on success; the freezer becomes the exclusive owner
    // and must see the holders' accesses (their Release puts head release
    // sequences this CAS reads from). Relaxed on failure: nothing was gained.
    word.compare_exchange(expected, 0, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
}

#[inline]
#[track_caller]
pub(crate) fn unfreeze<A: AtomicWord<Value = u32>>(word: &A, name: &str, count: u32) {
    check::count_arg(name, "unfreeze", count);
    if check::ENABLED {
        // ORDERING: Relaxed; debug-only plausibility read.
        let old = word.load(Ordering::Relaxed);
        if old != 0 {
            misuse(name, "unfreeze", "unfreeze of a live counter", old)
        }
    }
    // ORDERING: Release (atomic_set_release): publishes the freezer's work
    // to later successful getters.
    word.store(count, Ordering::Release);
}

/// The `PageRef` methods both zero-means-dead schemes share, delegating to
/// the functions above; used inside each scheme's `impl PageRef`, which
/// adds only its own `add_unless_frozen`. `$name` is the type's name for
/// misuse messages; the type must have a `word: A` field and `with_raw`.
macro_rules! zero_dead_page_ref_methods {
    ($name:expr) => {
        const MAX_COUNT: u32 = $crate::state::MAX_COUNT;

        fn new(count: u32) -> Self {
            Self::from_word($crate::zero_dead::new($name, count))
        }
        fn new_frozen() -> Self {
            Self::from_word(A::new(0))
        }
        #[inline]
        fn raw(&self) -> u32 {
            $crate::zero_dead::raw(&self.word)
        }
        #[inline]
        fn count(&self) -> u32 {
            $crate::zero_dead::raw(&self.word)
        }
        #[inline]
        fn is_frozen(&self) -> bool {
            $crate::zero_dead::raw(&self.word) == 0
        }
        fn init(&self) {
            $crate::zero_dead::init(&self.word, $name)
        }
        fn set_frozen(&self) {
            $crate::zero_dead::set_frozen(&self.word)
        }
        #[inline]
        fn add(&self, nr: u32) {
            $crate::zero_dead::add(&self.word, $name, nr)
        }
        #[inline]
        fn sub(&self, nr: u32) {
            $crate::zero_dead::sub(&self.word, $name, nr)
        }
        #[inline]
        fn inc_return(&self) -> u32 {
            $crate::zero_dead::inc_return(&self.word, $name)
        }
        #[inline]
        fn sub_return(&self, nr: u32) -> u32 {
            $crate::zero_dead::sub_return(&self.word, $name, nr)
        }
        #[inline]
        fn sub_and_test(&self, nr: u32) -> bool {
            $crate::zero_dead::sub_and_test(&self.word, $name, nr)
        }
        #[inline]
        fn freeze(&self, expected: u32) -> bool {
            $crate::zero_dead::freeze(&self.word, $name, expected)
        }
        #[inline]
        fn unfreeze(&self, count: u32) {
            $crate::zero_dead::unfreeze(&self.word, $name, count)
        }
    };
}
pub(crate) use zero_dead_page_ref_methods;
