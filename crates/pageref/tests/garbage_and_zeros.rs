//! Scheme-specific properties of the dead word and of the transient zero:
//!
//! * frozen bit: the shipped overflow guard resets garbage every time it
//!   reaches the limit, never clearing the bit, and a failed get leaves
//!   exactly its `nr` below the limit (planted bugs show these tests fail
//!   without the guard, with a guard that clears the bit, or with an undo);
//! * low bit: failed gets wrap the garbage around `u32::MAX` harmlessly;
//! * sticky: the overflow guard keeps garbage below `2^29` and never touches
//!   the flags, on a plain dead word and on a helped one;
//! * the kernel's three answers to the same garbage: rcuref stores `DEAD`
//!   back after every failed get, file_ref leaves it, and on 32 bits that
//!   lets `2^29 / nr` failed gets walk a dead word into live;
//! * zero reads (scenario 13 of `docs/races.md`, which distinguishes the
//!   sticky counter): a `count()` of 0 read at the transient zero is final for
//!   the sticky counter, and is not for the frozen bit and the low bit.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use pageref::state::{FROZEN_BIT, GUARD_LIMIT};
use pageref::{AtomicWord, FileRef, FrozenRef, LowBitRef, PageRef, RcuRef, StickyRef, MAX_NR};

/// The raw word of a 32-bit scheme.
fn raw32<R: PageRef>(r: &R) -> u32 {
    u32::try_from(r.raw()).expect("a 32-bit word")
}

/// Drives failed gets of `nr` on a dead frozen-bit word across the guard
/// limit `rounds` times; returns how often the guard reset the garbage.
/// Checks after every get: the bit is set, garbage is below the limit, and it
/// is exactly the previous garbage plus `nr` unless the guard reset it.
fn frozen_guard_rounds<R: PageRef>(nr: u32, rounds: u32) -> u32 {
    let p = R::new_frozen();
    let mut resets = 0;
    let mut prev = raw32(&p);
    while resets < rounds {
        assert!(!p.add_unless_frozen(nr), "a get succeeded on a dead word");
        let raw = raw32(&p);
        assert!(raw & FROZEN_BIT != 0, "the bit was cleared: {raw:#x}");
        assert!(
            raw < GUARD_LIMIT,
            "garbage at or above the guard limit: {raw:#x}"
        );
        if raw < prev {
            // The guard fired: it resets to plain FROZEN_BIT.
            assert_eq!(raw, FROZEN_BIT, "the guard left {raw:#x}");
            resets += 1;
        } else {
            assert_eq!(raw, prev + nr, "a failed get left other than its nr");
        }
        prev = raw;
    }
    resets
}

/// The shipped guard, single-threaded, past its limit many times: with the
/// largest `nr` (4096 gets per round) and with 1024 (a GUP pin).
#[test]
fn frozen_guard_resets_garbage_every_time() {
    assert_eq!(frozen_guard_rounds::<FrozenRef>(MAX_NR, 8), 8);
    assert_eq!(frozen_guard_rounds::<FrozenRef>(1024, 2), 2);
}

/// Two threads of failed gets race with each other's guard CASes: the bit
/// never clears and garbage stays within one `nr` per thread of the limit.
#[test]
fn frozen_guard_threaded() {
    let p: FrozenRef = PageRef::new_frozen();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..8 * ((1 << 30) / MAX_NR) {
                    assert!(!p.add_unless_frozen(MAX_NR));
                    let raw = raw32(&p);
                    assert!(raw & FROZEN_BIT != 0, "the bit was cleared: {raw:#x}");
                    assert!(raw < GUARD_LIMIT + 2 * MAX_NR, "{raw:#x}");
                }
            });
        }
    });
    assert!(p.is_frozen() && p.count() == 0);
}

/// Failed gets with the largest `nr` wrap a dead low-bit word around
/// `u32::MAX` several times (each adds `2^19`; `2^13` of them wrap once):
/// it stays odd, dead, reports 0, and `init` revives it normally.
#[test]
fn lowbit_garbage_wraps_harmlessly() {
    let p: LowBitRef = PageRef::new_frozen();
    let mut wraps = 0;
    let mut prev = raw32(&p);
    for _ in 0..100_000 {
        assert!(!p.add_unless_frozen(MAX_NR));
        let raw = raw32(&p);
        assert_eq!(raw & 1, 1, "dead bit lost at {raw:#x}");
        assert!(p.is_frozen() && p.count() == 0);
        if raw < prev {
            wraps += 1;
        }
        prev = raw;
    }
    assert!(wraps >= 3, "only {wraps} wrap-arounds");
    p.init();
    assert_eq!((p.count(), raw32(&p)), (1, 2));
}

/// The same from two threads at once (no guard exists to race with).
#[test]
fn lowbit_garbage_wraps_harmlessly_threaded() {
    let p: LowBitRef = PageRef::new_frozen();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..60_000 {
                    assert!(!p.add_unless_frozen(MAX_NR));
                    assert!(!p.try_get());
                }
            });
        }
    });
    // 2 * 60_000 * (2^19 + 2) is about 14.6 wraps of the 32-bit word.
    assert!(p.is_frozen() && p.count() == 0 && raw32(&p) & 1 == 1);
    let expect = 1u32.wrapping_add(120_000u32.wrapping_mul(2 * MAX_NR + 2));
    assert_eq!(
        raw32(&p),
        expect,
        "every failed get left exactly its garbage"
    );
}

const ZERO: u32 = <StickyRef>::ZERO_FLAG;
const HELP: u32 = <StickyRef>::HELP_FLAG;
const GUARD: u32 = <StickyRef>::GUARD_LIMIT;

/// Sequential failed gets: garbage climbs to the guard, which resets it to
/// the bare flags; the zero flag stays, the help flag never appears.
#[test]
fn sticky_guard_resets_garbage_and_keeps_flags() {
    let p: StickyRef = PageRef::new_frozen();
    let mut resets = 0;
    let mut prev = raw32(&p);
    for _ in 0..3 * (GUARD / MAX_NR) {
        assert!(!p.add_unless_frozen(MAX_NR));
        let raw = raw32(&p);
        assert_eq!(raw & (ZERO | HELP), ZERO, "flags changed: {raw:#x}");
        assert!(
            raw & (HELP - 1) < GUARD,
            "garbage above the guard: {raw:#x}"
        );
        if raw < prev {
            resets += 1;
        }
        prev = raw;
    }
    assert!(resets >= 2, "the guard fired {resets} times");
    p.init();
    assert_eq!(p.count(), 1);
}

/// Two threads of failed gets race with each other's guard CASes: the flags
/// never change and garbage stays within one `nr` per thread of the guard.
#[test]
fn sticky_guard_threaded() {
    let p: StickyRef = PageRef::new_frozen();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..4 * (GUARD / MAX_NR) {
                    assert!(!p.add_unless_frozen(MAX_NR));
                    let raw = raw32(&p);
                    assert_eq!(raw & (ZERO | HELP), ZERO, "flags changed: {raw:#x}");
                    assert!(raw & (HELP - 1) < GUARD + 2 * MAX_NR, "{raw:#x}");
                }
            });
        }
    });
    assert!(p.is_frozen() && p.count() == 0);
}

thread_local! {
    /// The value that the next compare-exchange of an [`Interfering`] word
    /// finds: stored just before it, once.
    static INTERFERE: Cell<Option<u32>> = const { Cell::new(None) };
}

/// `AtomicU32` whose next compare-exchange finds the word changed: it first
/// stores the value in [`INTERFERE`], as another CPU's write landing between
/// the caller's read and its CAS. Single-threaded, so deterministic.
#[derive(Debug)]
struct Interfering(AtomicU32);

impl AtomicWord for Interfering {
    type Value = u32;
    fn new(v: u32) -> Self {
        Interfering(AtomicU32::new(v))
    }
    // ORDERING (every method): the caller's, forwarded; one thread.
    fn load(&self, o: Ordering) -> u32 {
        self.0.load(o)
    }
    fn store(&self, v: u32, o: Ordering) {
        self.0.store(v, o)
    }
    fn swap(&self, v: u32, o: Ordering) -> u32 {
        self.0.swap(v, o)
    }
    fn fetch_add(&self, v: u32, o: Ordering) -> u32 {
        self.0.fetch_add(v, o)
    }
    fn fetch_sub(&self, v: u32, o: Ordering) -> u32 {
        self.0.fetch_sub(v, o)
    }
    fn fetch_and(&self, v: u32, o: Ordering) -> u32 {
        self.0.fetch_and(v, o)
    }
    fn compare_exchange(&self, c: u32, n: u32, s: Ordering, f: Ordering) -> Result<u32, u32> {
        if let Some(v) = INTERFERE.with(|i| i.take()) {
            self.0.store(v, Ordering::Relaxed);
        }
        self.0.compare_exchange(c, n, s, f)
    }
    fn compare_exchange_weak(&self, c: u32, n: u32, s: Ordering, f: Ordering) -> Result<u32, u32> {
        self.compare_exchange(c, n, s, f)
    }
    fn fence(o: Ordering) {
        std::sync::atomic::fence(o)
    }
}

/// The sticky guard's CAS fails when the word changed under it; the guard
/// then re-examines what it found and rewrites it only if that is dead with
/// garbage at or above the guard. Here the failed get that reaches the guard
/// finds: a live word whose count reaches the guard's threshold (legal: the
/// capacity is `2^30 - 1`), and dead words whose garbage another guard
/// already reset (with and without the help flag). Each must be left as
/// found: a guard that rewrote the first would wipe a live count.
#[test]
fn sticky_guard_rechecks_the_word_it_finds() {
    for found in [GUARD + 5, ZERO | 3, ZERO | HELP | 3] {
        let p = <StickyRef<Interfering> as PageRef>::from_raw(u64::from(ZERO | (GUARD - 1)));
        INTERFERE.with(|i| i.set(Some(found)));
        assert!(!p.add_unless_frozen(1));
        assert!(
            INTERFERE.with(|i| i.get()).is_none(),
            "the guard did not run"
        );
        assert_eq!(raw32(&p), found, "the guard rewrote {found:#x}");
    }
}

/// The headroom the sticky counter's docs state: from the highest garbage
/// the guard leaves, `2^29 / MAX_NR = 2048` failing gets with the largest
/// `nr`, all adding before any guard CAS lands, still stay below the help
/// flag; one more could reach it. And the capacity sits just below the help
/// flag.
#[test]
fn sticky_guard_headroom() {
    let worst = (GUARD - 1) as u64 + (1u64 << 29) / MAX_NR as u64 * MAX_NR as u64;
    assert!(worst < HELP as u64);
    assert!(worst + MAX_NR as u64 >= HELP as u64);
    assert_eq!(<StickyRef as PageRef>::MAX_COUNT, HELP - 1);
    assert_eq!(<LowBitRef as PageRef>::MAX_COUNT, i32::MAX as u32 / 2);
    // The low bit's largest live raw word keeps bit 31 clear.
    assert_eq!(
        raw32(&LowBitRef::<AtomicU32>::new(i32::MAX as u32 / 2)) >> 31,
        0
    );
}

/// rcuref: every failed get stores `DEAD` (0xe000_0000) back, so garbage
/// never accumulates (the plain store that scenario 5 shows to be unsafe on
/// reused memory).
#[test]
fn rcuref_failed_get_stores_dead_back() {
    let p: RcuRef = PageRef::new_frozen();
    assert_eq!(raw32(&p), 0xe000_0000);
    for nr in [1, 1024, MAX_NR, MAX_NR] {
        assert!(!p.add_unless_frozen(nr));
        assert_eq!(raw32(&p), 0xe000_0000, "garbage kept after a get of {nr}");
    }
}

/// file_ref: failed gets leave their garbage; on 64 bits, `2^11` gets of
/// the largest `nr`, enough to wrap the 32-bit word, are far from it.
#[test]
fn fileref_keeps_garbage() {
    let p: FileRef = PageRef::new_frozen();
    let dead = 0xe000_0000_0000_0000u64;
    for i in 1..=2048u64 {
        assert!(!p.add_unless_frozen(MAX_NR));
        assert_eq!(p.raw(), dead + i * u64::from(MAX_NR));
    }
    assert!(p.is_frozen() && p.count() == 0);
}

/// The 32-bit file_ref walks from `DEAD` into live after `2^29 / MAX_NR =
/// 2048` failed gets of the largest `nr`: the 2048th wraps the word to 0,
/// one reference, and the get succeeds on a dead page (the misuse check
/// reports it). This is the state loom's scenario 8 starts next to.
#[test]
#[should_panic(expected = "add_unless_frozen: dead word wrapped around into live")]
fn fileref32_wraps_into_live() {
    let p: FileRef<AtomicU32> = PageRef::new_frozen();
    for _ in 1..2048 {
        assert!(!p.add_unless_frozen(MAX_NR));
    }
    assert_eq!(raw32(&p), 0xfffc_0000, "one get short of the wrap");
    p.add_unless_frozen(MAX_NR);
}

/// The frozen-bit tests above catch a missing or broken guard, and an undo:
/// each planted bug fails `frozen_guard_rounds`.
#[cfg(feature = "mutants")]
#[test]
fn frozen_guard_tests_catch_planted_bugs() {
    use pageref::policy::mutants::{GuardClearsBit, SkipOverflowGuard, UndoByDecrement};
    fn caught<R: PageRef + std::panic::RefUnwindSafe>() -> bool {
        std::panic::catch_unwind(|| frozen_guard_rounds::<R>(MAX_NR, 2)).is_err()
    }
    assert!(!caught::<FrozenRef>());
    assert!(caught::<FrozenRef<AtomicU32, SkipOverflowGuard>>());
    assert!(caught::<FrozenRef<AtomicU32, GuardClearsBit>>());
    assert!(caught::<FrozenRef<AtomicU32, UndoByDecrement>>());
}

/// The fileref32 wrap needs no reset to be missing: the 64-bit word with the
/// same code does not wrap (above); with rcuref's reset planted, the 32-bit
/// word does not wrap either (the reset is what file_ref gave up).
#[cfg(feature = "mutants")]
#[test]
fn fileref32_with_a_reset_does_not_wrap() {
    use pageref::policy::mutants::FileRefResetsGarbage;
    let p: FileRef<AtomicU32, FileRefResetsGarbage> = PageRef::new_frozen();
    for _ in 0..4096 {
        assert!(!p.add_unless_frozen(MAX_NR));
        assert_eq!(raw32(&p), 0xe000_0000);
    }
}

mod raw_states {
    use super::*;

    /// The guard on a helped word (its decrementer has not claimed the help
    /// flag yet) keeps both flags, so the claim still finds it.
    #[test]
    fn sticky_guard_keeps_help_flag() {
        // A helped word; its (absent) decrementer never claims it.
        let p = StickyRef::<AtomicU32>::from_raw((ZERO | HELP).into());
        for _ in 0..3 * (GUARD / MAX_NR) {
            assert!(!p.add_unless_frozen(MAX_NR));
            let raw = raw32(&p);
            assert_eq!(raw & (ZERO | HELP), ZERO | HELP, "flags changed: {raw:#x}");
            assert!(raw & (HELP - 1) < GUARD);
        }
    }

    /// Sticky: a reader that finds the transient zero helps; its 0 is final
    /// and no get succeeds afterwards.
    #[test]
    fn sticky_zero_read_is_final() {
        // Raw 0 is the transient zero, a reachable state (a final put
        // between its decrement and its CAS); no decrementer follows.
        let p = StickyRef::<AtomicU32>::from_raw(0);
        assert_eq!(p.count(), 0);
        assert_eq!(raw32(&p), ZERO | HELP, "the read helped");
        assert!(!p.try_get());
        assert!(p.is_frozen());
        assert_eq!(p.count(), 0);
    }

    /// `is_frozen` helps as well.
    #[test]
    fn sticky_is_frozen_helps() {
        // The transient zero, as above.
        let p = StickyRef::<AtomicU32>::from_raw(0);
        assert!(p.is_frozen());
        assert!(!p.try_get());
    }

    /// Frozen bit, low bit, rcuref, file_ref: the same read reports 0, and a
    /// get then revives the count (legal: the getter re-validates; the
    /// stalled decrementer's CAS will fail and the getter's put frees).
    #[test]
    fn transient_zero_reads_are_not_final() {
        fn revives<R: PageRef>(transient_zero: u64) {
            let r = R::from_raw(transient_zero);
            assert_eq!(r.count(), 0, "{}", R::NAME);
            assert!(!r.is_frozen(), "{}", R::NAME);
            assert!(r.try_get(), "{}", R::NAME);
            assert_eq!(r.count(), 1, "{}", R::NAME);
        }
        revives::<FrozenRef>(0);
        revives::<LowBitRef>(0);
        revives::<RcuRef>(0xffff_ffff);
        revives::<FileRef>(u64::MAX);
        revives::<FileRef<AtomicU32>>(0xffff_ffff);
    }
}
