//! Exhaustive checks over all 2^32 raw values: the frozen-bit encoding's pure
//! helpers, and the zones of the kernel's rcuref_t as `RcuRef` reads them
//! (about 15 s in all with the workspace's optimised test profile).

use pageref::state::{self, State, FROZEN_BIT, GUARD_LIMIT, MAX_COUNT};
use pageref::{PageRef, RcuRef, MAX_NR};

/// Every raw value decodes to exactly one state, consistent with
/// `is_frozen` and `visible_count`; `count()` never reports garbage or a
/// value above `i32::MAX` (scenario 11 of `docs/races.md`).
#[test]
fn decode_is_consistent_for_every_u32() {
    let mut counts = [0u64; 3];
    for raw in 0..=u32::MAX {
        let frozen = state::is_frozen(raw);
        let visible = state::visible_count(raw);
        assert!(visible <= MAX_COUNT, "raw {raw:#x} shows {visible}");
        match state::decode(raw) {
            State::Live(n) => {
                assert!(!frozen && n == raw && n >= 1 && visible == n);
                counts[0] += 1;
            }
            State::TransientZero => {
                assert!(raw == 0 && !frozen && visible == 0);
                counts[1] += 1;
            }
            State::Frozen { garbage } => {
                assert!(frozen && visible == 0 && garbage == raw - FROZEN_BIT);
                counts[2] += 1;
            }
        }
    }
    assert_eq!(counts, [MAX_COUNT as u64, 1, 1u64 << 31]);
}

/// The guard fires exactly on `[GUARD_LIMIT, u32::MAX]`, only on frozen
/// values, and below it no legal `nr` can carry a frozen word into "live":
/// a single failed get from any value the guard leaves can never wrap.
#[test]
fn guard_threshold_and_no_wrap_below_it() {
    for raw in 0..=u32::MAX {
        let fires = state::guard_fires(raw);
        assert_eq!(fires, raw >= GUARD_LIMIT);
        if fires {
            assert!(state::is_frozen(raw));
        }
        if state::is_frozen(raw) && !fires {
            for nr in [1, 1024, MAX_NR] {
                assert!(!state::add_succeeds(raw, nr), "{raw:#x} + {nr} wrapped");
                assert!(state::is_frozen(raw + nr));
            }
        }
    }
    // The headroom above the guard: from the highest value the guard leaves,
    // 2^30 / MAX_NR = 4096 failing getters with the largest nr, all adding
    // before any guard CAS lands, still leave the word frozen; one more
    // could wrap it.
    let worst = (GUARD_LIMIT - 1) as u64 + (1u64 << 30) / MAX_NR as u64 * MAX_NR as u64;
    assert!(worst <= u32::MAX as u64);
    assert!(worst + MAX_NR as u64 > u32::MAX as u64);
}

/// Adding to a live value succeeds exactly while the sum stays `<= i32::MAX`.
#[test]
fn add_succeeds_on_live_values_until_the_bit() {
    for raw in 0..=MAX_COUNT {
        for nr in [1, MAX_NR] {
            let expect = raw as u64 + nr as u64 <= MAX_COUNT as u64;
            assert_eq!(state::add_succeeds(raw, nr), expect, "{raw:#x} + {nr}");
        }
    }
}

/// rcuref's zones (`include/linux/rcuref.h`), read through the shipped
/// `RcuRef` for every raw value: live `0..=0x7fff_ffff` counts raw + 1, the
/// saturation zone counts raw + 1 as `rcuref_read` does, the dead zone
/// `0xc000_0000..=0xffff_fffe` is frozen and counts 0, and `NOREF`
/// (`0xffff_ffff`, the transient zero) counts 0 without being frozen.
#[test]
fn rcuref_zones_for_every_u32() {
    let mut zones = [0u64; 4];
    for raw in 0..=u32::MAX {
        let r = RcuRef::<core::sync::atomic::AtomicU32>::from_raw(raw.into());
        let (count, frozen) = (r.count(), r.is_frozen());
        let zone = match raw {
            0..=0x7fff_ffff => (count == raw + 1 && !frozen, 0),
            0x8000_0000..=0xbfff_ffff => (count == raw + 1 && !frozen, 1),
            0xffff_ffff => (count == 0 && !frozen, 3),
            _ => (count == 0 && frozen, 2),
        };
        assert!(zone.0, "raw {raw:#x}: count {count}, frozen {frozen}");
        zones[zone.1] += 1;
    }
    assert_eq!(zones, [1 << 31, 1 << 30, (1 << 30) - 1, 1]);
}
