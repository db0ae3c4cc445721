//! Scheme-specific properties of the dead word and of the transient zero:
//!
//! * low bit: failed gets wrap the garbage around `u32::MAX` harmlessly;
//! * sticky: the overflow guard keeps garbage below `2^29` and never touches
//!   the flags, on a plain dead word and on a helped one;
//! * zero reads (BRIEF §4, the scenario that distinguishes the sticky
//!   counter): a `count()` of 0 read at the transient zero is final for the
//!   sticky counter, and is not for the frozen bit and the low bit.

use pageref::{LowBitRef, PageRef, StickyRef, MAX_NR};

/// Failed gets with the largest `nr` wrap a dead low-bit word around
/// `u32::MAX` several times (each adds `2^17`; `2^15` of them wrap once):
/// it stays odd, dead, reports 0, and `init` revives it normally.
#[test]
fn lowbit_garbage_wraps_harmlessly() {
    let p: LowBitRef = PageRef::new_frozen();
    let mut wraps = 0;
    let mut prev = p.raw();
    for _ in 0..100_000 {
        assert!(!p.add_unless_frozen(MAX_NR));
        let raw = p.raw();
        assert_eq!(raw & 1, 1, "dead bit lost at {raw:#x}");
        assert!(p.is_frozen() && p.count() == 0);
        if raw < prev {
            wraps += 1;
        }
        prev = raw;
    }
    assert!(wraps >= 3, "only {wraps} wrap-arounds");
    p.init();
    assert_eq!((p.count(), p.raw()), (1, 2));
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
    // 2 * 60_000 * (2^17 + 2) is about 3.7 wraps of the 32-bit word.
    assert!(p.is_frozen() && p.count() == 0 && p.raw() & 1 == 1);
    let expect = 1u32.wrapping_add(120_000u32.wrapping_mul(2 * MAX_NR + 2));
    assert_eq!(p.raw(), expect, "every failed get left exactly its garbage");
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
    let mut prev = p.raw();
    for _ in 0..3 * (GUARD / MAX_NR) {
        assert!(!p.add_unless_frozen(MAX_NR));
        let raw = p.raw();
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
                    let raw = p.raw();
                    assert_eq!(raw & (ZERO | HELP), ZERO, "flags changed: {raw:#x}");
                    assert!(raw & (HELP - 1) < GUARD + 2 * MAX_NR, "{raw:#x}");
                }
            });
        }
    });
    assert!(p.is_frozen() && p.count() == 0);
}

/// The headroom the sticky counter's docs state: from the highest garbage
/// the guard leaves, `2^13` failing gets with the largest `nr`, all adding
/// before any guard CAS lands, still stay below the help flag; one more
/// could reach it. And the capacity sits just below the help flag.
#[test]
fn sticky_guard_headroom() {
    let worst = (GUARD - 1) as u64 + (1u64 << 13) * MAX_NR as u64;
    assert!(worst < HELP as u64);
    assert!(worst + MAX_NR as u64 >= HELP as u64);
    assert_eq!(<StickyRef as PageRef>::MAX_COUNT, HELP - 1);
    assert_eq!(<LowBitRef as PageRef>::MAX_COUNT, i32::MAX as u32 / 2);
    // The low bit's largest live raw word keeps bit 31 clear.
    assert_eq!(
        LowBitRef::<std::sync::atomic::AtomicU32>::new(i32::MAX as u32 / 2).raw() >> 31,
        0
    );
}

#[cfg(feature = "mutants")]
mod raw_states {
    use super::*;
    use pageref::FrozenRef;

    /// The guard on a helped word (its decrementer has not claimed the help
    /// flag yet) keeps both flags, so the claim still finds it.
    #[test]
    fn sticky_guard_keeps_help_flag() {
        // SAFETY: a helped word; its (absent) decrementer never claims it.
        let p: StickyRef = unsafe { StickyRef::from_raw(ZERO | HELP) };
        for _ in 0..3 * (GUARD / MAX_NR) {
            assert!(!p.add_unless_frozen(MAX_NR));
            let raw = p.raw();
            assert_eq!(raw & (ZERO | HELP), ZERO | HELP, "flags changed: {raw:#x}");
            assert!(raw & (HELP - 1) < GUARD);
        }
    }

    /// Sticky: a reader that finds the transient zero helps; its 0 is final
    /// and no get succeeds afterwards.
    #[test]
    fn sticky_zero_read_is_final() {
        // SAFETY: raw 0 is the transient zero, a reachable state (a final
        // put between its decrement and its CAS); no decrementer follows.
        let p: StickyRef = unsafe { StickyRef::from_raw(0) };
        assert_eq!(p.count(), 0);
        assert_eq!(p.raw(), ZERO | HELP, "the read helped");
        assert!(!p.try_get());
        assert!(p.is_frozen());
        assert_eq!(p.count(), 0);
    }

    /// `is_frozen` helps as well.
    #[test]
    fn sticky_is_frozen_helps() {
        // SAFETY: raw 0 is the transient zero, a reachable state (a final
        // put between its decrement and its CAS); no decrementer follows.
        let p: StickyRef = unsafe { StickyRef::from_raw(0) };
        assert!(p.is_frozen());
        assert!(!p.try_get());
    }

    /// Frozen bit and low bit: the same read reports 0, and a get then
    /// revives the count (legal: the getter re-validates; the stalled
    /// decrementer's CAS will fail and the getter's put frees).
    #[test]
    fn frozen_and_lowbit_zero_reads_are_not_final() {
        // SAFETY: the transient zero, as above.
        let f: FrozenRef = unsafe { FrozenRef::from_raw(0) };
        assert_eq!(f.count(), 0);
        assert!(f.try_get());
        assert_eq!(f.count(), 1);
        // SAFETY: as above.
        let l: LowBitRef = unsafe { LowBitRef::from_raw(0) };
        assert_eq!(l.count(), 0);
        assert!(l.try_get());
        assert_eq!(l.count(), 1);
    }
}
