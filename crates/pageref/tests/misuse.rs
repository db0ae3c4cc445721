//! Every misuse case trips a check whose message names the operation and
//! the raw value (scenario 12 of `docs/races.md`), on every scheme of the
//! registry. These run with debug assertions on (the workspace's test
//! profile keeps them on), or in release with the `strict` feature; in a
//! release build without it there are no checks to test.
#![cfg(any(debug_assertions, feature = "strict"))]

use core::sync::atomic::{AtomicU32, AtomicU64};

use pageref::{PageRef, MAX_NR};

fn frozen<R: PageRef>() -> R {
    R::new_frozen()
}

/// One module of should_panic tests per scheme (`should_panic` matches a
/// prefix here; the full messages, with each scheme's capacity, are checked
/// by `full_messages` below).
macro_rules! misuse_tests {
    ($scheme:ident, $ty:ty) => {
        mod $scheme {
            use super::*;
            type R = $ty;
            const MAX_COUNT: u32 = <R as PageRef>::MAX_COUNT;

            #[test]
            #[should_panic(expected = "add: increment of a frozen counter")]
            fn add_on_frozen() {
                frozen::<R>().add(1)
            }
            #[test]
            #[should_panic(expected = "add: increment of a frozen counter")]
            fn inc_on_frozen() {
                frozen::<R>().inc()
            }
            #[test]
            #[should_panic(expected = "inc_return: increment of a frozen counter")]
            fn inc_return_on_frozen() {
                frozen::<R>().inc_return();
            }
            #[test]
            #[should_panic(expected = "sub: put on a frozen counter")]
            fn sub_on_frozen() {
                frozen::<R>().sub(1)
            }
            #[test]
            #[should_panic(expected = "sub: put on a frozen counter")]
            fn dec_on_frozen() {
                frozen::<R>().dec()
            }
            #[test]
            #[should_panic(expected = "sub_return: put on a frozen counter")]
            fn sub_return_on_frozen() {
                frozen::<R>().sub_return(1);
            }
            #[test]
            #[should_panic(expected = "sub_return: put on a frozen counter")]
            fn dec_return_on_frozen() {
                frozen::<R>().dec_return();
            }
            #[test]
            #[should_panic(expected = "sub_and_test: put on a frozen counter")]
            fn put_on_frozen() {
                frozen::<R>().dec_and_test();
            }
            #[test]
            #[should_panic(expected = "sub_and_test: count would drop below zero")]
            fn put_below_zero() {
                R::new(1).sub_and_test(2);
            }
            #[test]
            #[should_panic(expected = "sub: count would drop below zero")]
            fn sub_below_zero() {
                R::new(2).sub(3)
            }
            #[test]
            #[should_panic(
                expected = "sub: void op would drop the last reference (use sub_and_test)"
            )]
            fn sub_to_zero() {
                R::new(2).sub(2)
            }
            #[test]
            #[should_panic(
                expected = "sub_return: would drop the last reference (use sub_and_test)"
            )]
            fn dec_return_to_zero() {
                R::new(1).dec_return();
            }
            #[test]
            #[should_panic(expected = "unfreeze: unfreeze of a live counter")]
            fn unfreeze_live() {
                R::new(3).unfreeze(1)
            }
            #[test]
            #[should_panic(expected = "unfreeze: count must be in 1..=")]
            fn unfreeze_zero() {
                frozen::<R>().unfreeze(0)
            }
            #[test]
            #[should_panic(expected = "init: init of a live counter")]
            fn init_live() {
                R::new(1).init()
            }
            #[test]
            #[should_panic(expected = "add: count would exceed ")]
            fn add_past_max() {
                R::new(MAX_COUNT).add(1)
            }
            #[test]
            #[should_panic(expected = "inc_return: count would exceed ")]
            fn inc_return_past_max() {
                R::new(MAX_COUNT).inc_return();
            }
            #[test]
            #[should_panic(expected = "add_unless_frozen: count would exceed ")]
            fn try_get_past_max() {
                R::new(MAX_COUNT).try_get();
            }
            #[test]
            #[should_panic(expected = "freeze: count must be in 1..=")]
            fn freeze_zero() {
                R::new(1).freeze(0);
            }
            #[test]
            #[should_panic(expected = "new: count must be in 1..=")]
            fn new_zero() {
                R::new(0);
            }
            #[test]
            #[should_panic(expected = "new: count must be in 1..=")]
            fn new_past_max() {
                R::new(MAX_COUNT.wrapping_add(1)); // 0 where MAX_COUNT is u32::MAX
            }
            #[test]
            #[should_panic(expected = "add: nr must be in 1..=")]
            fn add_nr_past_max() {
                R::new(1).add(MAX_COUNT.wrapping_add(1));
            }
            #[test]
            #[should_panic(expected = "add_unless_frozen: nr must be in 1..=262144")]
            fn get_nr_zero() {
                R::new(1).add_unless_frozen(0);
            }
            #[test]
            #[should_panic(expected = "add_unless_frozen: nr must be in 1..=262144")]
            fn get_nr_too_large() {
                R::new(1).add_unless_frozen(MAX_NR + 1);
            }

            /// Legal use at the edges trips nothing.
            #[test]
            fn legal_edges_do_not_trip() {
                let p = R::new(MAX_COUNT - 1);
                assert!(p.try_get());
                assert_eq!(p.count(), MAX_COUNT);
                assert_eq!(p.sub_return(MAX_COUNT - 1), 1);
                assert!(p.add_unless_frozen(MAX_NR));
                p.sub(MAX_NR);
                p.add(MAX_COUNT - 1);
                p.sub(MAX_COUNT - 1);
                assert!(p.dec_and_test());
                assert!(!p.add_unless_frozen(MAX_NR));
                p.init();
                assert!(p.freeze(1));
                p.unfreeze(MAX_COUNT);
                assert_eq!(p.count(), MAX_COUNT);
            }
        }
    };
}

macro_rules! misuse_tests_for_all {
    ([] $($id:ident $name:literal ($ty:ty) $info:tt)*) => {
        $(misuse_tests!($id, $ty);)*
    };
}
pageref::for_each_scheme!(misuse_tests_for_all, AtomicU32, AtomicU64);

/// Runs `f`, which must trip a check; returns the panic message.
fn message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("misuse was not reported");
    err.downcast_ref::<String>()
        .cloned()
        .expect("formatted panic message")
}

/// The full message names the operation, the reason, the scheme and the raw
/// value (in hex, as wide as the word), for every misuse case on every
/// scheme. `dead` is the raw word of `new_frozen()`, `live(n)` the raw word of
/// a count `n` (written out here, independently of the code under test).
fn full_messages<R: PageRef>(name: &str, dead: u64, live: fn(u32) -> u64) {
    let w = 2 + R::WORD_BITS as usize / 4;
    let hex = |v: u64| format!("{v:#0w$x}");
    let (dead, one, three, full) = (
        hex(dead),
        hex(live(1)),
        hex(live(3)),
        hex(live(R::MAX_COUNT)),
    );
    let max = format!("MAX_COUNT ({})", R::MAX_COUNT);
    let range = R::MAX_COUNT;
    // One past the capacity (0, also out of range, where that is u32::MAX).
    let over = R::MAX_COUNT.wrapping_add(1);
    let cases: Vec<(String, Box<dyn FnOnce() + std::panic::UnwindSafe>)> = vec![
        (
            format!("add: increment of a frozen counter ({name}, raw = {dead})"),
            Box::new(|| frozen::<R>().add(3)),
        ),
        (
            format!("inc_return: increment of a frozen counter ({name}, raw = {dead})"),
            Box::new(|| {
                frozen::<R>().inc_return();
            }),
        ),
        (
            format!("sub: put on a frozen counter ({name}, raw = {dead})"),
            Box::new(|| frozen::<R>().dec()),
        ),
        (
            format!("sub_return: put on a frozen counter ({name}, raw = {dead})"),
            Box::new(|| {
                frozen::<R>().dec_return();
            }),
        ),
        (
            format!("sub_and_test: put on a frozen counter ({name}, raw = {dead})"),
            Box::new(|| {
                frozen::<R>().dec_and_test();
            }),
        ),
        (
            format!("sub_and_test: count would drop below zero ({name}, raw = {one})"),
            Box::new(|| {
                R::new(1).sub_and_test(2);
            }),
        ),
        (
            format!("unfreeze: unfreeze of a live counter ({name}, raw = {three})"),
            Box::new(|| R::new(3).unfreeze(1)),
        ),
        (
            format!("init: init of a live counter ({name}, raw = {one})"),
            Box::new(|| R::new(1).init()),
        ),
        (
            format!("add_unless_frozen: count would exceed {max} ({name}, raw = {full})"),
            Box::new(|| {
                R::new(R::MAX_COUNT).try_get();
            }),
        ),
        (
            format!("inc_return: count would exceed {max} ({name}, raw = {full})"),
            Box::new(|| {
                R::new(R::MAX_COUNT).inc_return();
            }),
        ),
        (
            format!("unfreeze: count must be in 1..={range} ({name}, count = 0)"),
            Box::new(|| frozen::<R>().unfreeze(0)),
        ),
        (
            format!(
                "freeze: count must be in 1..={range} ({name}, count = {})",
                over
            ),
            Box::new(|| {
                R::new(1).freeze(over);
            }),
        ),
        (
            format!("add: count would exceed {max} ({name}, raw = {full})"),
            Box::new(|| R::new(R::MAX_COUNT).add(1)),
        ),
        (
            format!("add: nr must be in 1..={range} ({name}, nr = {})", over),
            Box::new(move || R::new(1).add(over)),
        ),
        (
            format!("new: count must be in 1..={range} ({name}, count = 0)"),
            Box::new(|| {
                R::new(0);
            }),
        ),
        (
            format!(
                "new: count must be in 1..={range} ({name}, count = {})",
                over
            ),
            Box::new(|| {
                R::new(over);
            }),
        ),
    ];
    let got: Vec<(String, String)> = cases
        .into_iter()
        .map(|(want, f)| (want, message(f)))
        .collect();
    for (want, got) in got {
        assert_eq!(got, format!("pageref: {want}"));
    }
}

#[test]
fn frozen_messages_name_op_and_raw() {
    use pageref::state::FROZEN_BIT;
    full_messages::<pageref::FrozenRef>("FrozenRef", FROZEN_BIT.into(), u64::from);
}

#[test]
fn classic_messages_name_op_and_raw() {
    full_messages::<pageref::ClassicRef>("ClassicRef", 0, u64::from);
}

#[test]
fn optimistic_messages_name_op_and_raw() {
    full_messages::<pageref::OptimisticRef>("OptimisticRef", 0, u64::from);
}

#[test]
fn sticky_messages_name_op_and_raw() {
    let dead = <pageref::StickyRef>::ZERO_FLAG.into();
    full_messages::<pageref::StickyRef>("StickyRef", dead, u64::from);
}

#[test]
fn lowbit_messages_name_op_and_raw() {
    full_messages::<pageref::LowBitRef>("LowBitRef", 1, |n| 2 * u64::from(n));
}

#[test]
fn rcuref_messages_name_op_and_raw() {
    full_messages::<pageref::RcuRef>("RcuRef", 0xe000_0000, |n| u64::from(n) - 1);
}

#[test]
fn fileref_messages_name_op_and_raw() {
    let dead = 0xe000_0000_0000_0000;
    full_messages::<pageref::FileRef>("FileRef", dead, |n| u64::from(n) - 1);
    full_messages::<pageref::FileRef<AtomicU32>>("FileRef", 0xe000_0000, |n| u64::from(n) - 1);
}

/// The frozen-bit scheme's own check: a failed get that would wrap a frozen
/// word into "live" (only reachable from a raw state the guard prevents).
#[test]
#[should_panic(
    expected = "add_unless_frozen: dead word wrapped around into live (garbage outran its headroom) (FrozenRef, raw = 0xffffffff)"
)]
fn frozen_wrap_is_reported() {
    // An unreachable raw state on purpose, to reach the check.
    let p = pageref::FrozenRef::<AtomicU32>::from_raw(u32::MAX.into());
    p.try_get();
}

/// The same check in the 32-bit file_ref, which has no guard: from the top
/// of its dead zone a get wraps the word into live.
#[test]
#[should_panic(
    expected = "add_unless_frozen: dead word wrapped around into live (garbage outran its headroom) (FileRef, raw = 0xfffffffe)"
)]
fn fileref32_wrap_is_reported() {
    let p = pageref::FileRef::<AtomicU32>::from_raw(0xffff_fffe);
    p.add_unless_frozen(2);
}

/// The sticky counter's own checks: reviving (init/unfreeze) a word whose
/// help flag still waits for its decrementer to claim it; a failed get whose
/// garbage carried into the flags (only reachable from a raw state the guard
/// prevents).
mod sticky_only {
    use core::sync::atomic::AtomicU32;
    use pageref::{PageRef, StickyRef};
    const HELPED: u32 = <StickyRef>::ZERO_FLAG | <StickyRef>::HELP_FLAG;

    #[test]
    #[should_panic(
        expected = "init: its last put has not claimed the zero yet (StickyRef, raw = 0xc0000000)"
    )]
    fn init_before_claim() {
        // A helped word with no decrementer, on purpose.
        let p = StickyRef::<AtomicU32>::from_raw(HELPED.into());
        p.init();
    }

    #[test]
    #[should_panic(
        expected = "unfreeze: its last put has not claimed the zero yet (StickyRef, raw = 0xc0000005)"
    )]
    fn unfreeze_before_claim() {
        // As above, with garbage.
        let p = StickyRef::<AtomicU32>::from_raw((HELPED | 5).into());
        p.unfreeze(1);
    }

    #[test]
    #[should_panic(
        expected = "add_unless_frozen: garbage carried into the flags (overflow guard outrun) (StickyRef, raw = 0xbfffffff)"
    )]
    fn garbage_into_help_flag() {
        // Garbage at its maximum, far above the guard, on purpose.
        let p = StickyRef::<AtomicU32>::from_raw((<StickyRef>::ZERO_FLAG | 0x3fff_ffff).into());
        p.try_get();
    }

    #[test]
    #[should_panic(
        expected = "add_unless_frozen: garbage carried into the flags (overflow guard outrun) (StickyRef, raw = 0xffffffff)"
    )]
    fn garbage_wraps_helped_word() {
        // As above, on a helped word.
        let p = StickyRef::<AtomicU32>::from_raw(u32::MAX.into());
        p.try_get();
    }
}

/// A put on a saturated rcuref word (`0x80000000 ..= 0xbfffffff`, reached
/// only by leaking references) is reported as such, not as a count that
/// would drop below zero.
#[test]
#[should_panic(
    expected = "sub: count above MAX_COUNT (a saturated word) (RcuRef, raw = 0xa0000000)"
)]
fn put_on_a_saturated_rcuref_word() {
    let p = <pageref::RcuRef as PageRef>::from_raw(0xa000_0000);
    p.sub(1);
}
