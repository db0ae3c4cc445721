//! Every misuse case trips a check whose message names the operation and
//! the raw value (BRIEF §5 scenario 12). These run with debug assertions on
//! (the workspace's test profile keeps them on).

use pageref::{ClassicRef, FrozenRef, LowBitRef, OptimisticRef, PageRef, StickyRef, MAX_NR};

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
                R::new(MAX_COUNT + 1);
            }
            #[test]
            #[should_panic(expected = "add: nr must be in 1..=")]
            fn add_nr_past_max() {
                R::new(1).add(MAX_COUNT + 1);
            }
            #[test]
            #[should_panic(expected = "add_unless_frozen: nr must be in 1..=MAX_NR")]
            fn get_nr_zero() {
                R::new(1).add_unless_frozen(0);
            }
            #[test]
            #[should_panic(expected = "add_unless_frozen: nr must be in 1..=MAX_NR")]
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

misuse_tests!(frozen_bit, FrozenRef);
misuse_tests!(classic, ClassicRef);
misuse_tests!(optimistic, OptimisticRef);
misuse_tests!(sticky, StickyRef);
misuse_tests!(lowbit, LowBitRef);

/// Runs `f`, which must trip a check; returns the panic message.
fn message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("misuse was not reported");
    err.downcast_ref::<String>()
        .cloned()
        .expect("formatted panic message")
}

/// The full message names the operation, the reason, the scheme and the raw
/// value, for every misuse case on every scheme. `dead` is the raw word of
/// `new_frozen()`, `live(n)` the raw word of a count `n`, `max` how the
/// messages name the capacity.
fn full_messages<R: PageRef>(name: &str, dead: u32, live: fn(u32) -> u32, max: &str) {
    let (one, three, full) = (live(1), live(3), live(R::MAX_COUNT));
    let range = if max == "i32::MAX" {
        "i32::MAX (0 would be a plain zero; use the frozen state)"
    } else {
        max
    };
    let cases: Vec<(String, Box<dyn FnOnce() + std::panic::UnwindSafe>)> = vec![
        (
            format!("add: increment of a frozen counter ({name}, raw = {dead:#010x})"),
            Box::new(|| frozen::<R>().add(3)),
        ),
        (
            format!("inc_return: increment of a frozen counter ({name}, raw = {dead:#010x})"),
            Box::new(|| {
                frozen::<R>().inc_return();
            }),
        ),
        (
            format!("sub: put on a frozen counter ({name}, raw = {dead:#010x})"),
            Box::new(|| frozen::<R>().dec()),
        ),
        (
            format!("sub_return: put on a frozen counter ({name}, raw = {dead:#010x})"),
            Box::new(|| {
                frozen::<R>().dec_return();
            }),
        ),
        (
            format!("sub_and_test: put on a frozen counter ({name}, raw = {dead:#010x})"),
            Box::new(|| {
                frozen::<R>().dec_and_test();
            }),
        ),
        (
            format!("sub_and_test: count would drop below zero ({name}, raw = {one:#010x})"),
            Box::new(|| {
                R::new(1).sub_and_test(2);
            }),
        ),
        (
            format!("unfreeze: unfreeze of a live counter ({name}, raw = {three:#010x})"),
            Box::new(|| R::new(3).unfreeze(1)),
        ),
        (
            format!("init: init of a live counter ({name}, raw = {one:#010x})"),
            Box::new(|| R::new(1).init()),
        ),
        (
            format!("add_unless_frozen: count would exceed {max} ({name}, raw = {full:#010x})"),
            Box::new(|| {
                R::new(R::MAX_COUNT).try_get();
            }),
        ),
        (
            format!("inc_return: count would exceed {max} ({name}, raw = {full:#010x})"),
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
                R::MAX_COUNT + 1
            ),
            Box::new(|| {
                R::new(1).freeze(R::MAX_COUNT + 1);
            }),
        ),
        (
            format!("add: count would exceed {max} ({name}, raw = {full:#010x})"),
            Box::new(|| R::new(R::MAX_COUNT).add(1)),
        ),
        (
            format!(
                "add: nr must be in 1..={max} ({name}, nr = {})",
                R::MAX_COUNT + 1
            ),
            Box::new(|| R::new(1).add(R::MAX_COUNT + 1)),
        ),
        (
            format!("new: count must be in 1..={max} ({name}, count = 0)"),
            Box::new(|| {
                R::new(0);
            }),
        ),
        (
            format!(
                "new: count must be in 1..={max} ({name}, count = {})",
                R::MAX_COUNT + 1
            ),
            Box::new(|| {
                R::new(R::MAX_COUNT + 1);
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
    full_messages::<FrozenRef>("FrozenRef", pageref::FROZEN_BIT, |n| n, "i32::MAX");
}

#[test]
fn classic_messages_name_op_and_raw() {
    full_messages::<ClassicRef>("ClassicRef", 0, |n| n, "i32::MAX");
}

#[test]
fn optimistic_messages_name_op_and_raw() {
    full_messages::<OptimisticRef>("OptimisticRef", 0, |n| n, "i32::MAX");
}

#[test]
fn sticky_messages_name_op_and_raw() {
    full_messages::<StickyRef>(
        "StickyRef",
        <StickyRef>::ZERO_FLAG,
        |n| n,
        "MAX_COUNT (2^30 - 1)",
    );
}

#[test]
fn lowbit_messages_name_op_and_raw() {
    full_messages::<LowBitRef>("LowBitRef", 1, |n| 2 * n, "MAX_COUNT (2^30 - 1)");
}

/// The frozen-bit scheme's own check: a failed get that would wrap a frozen
/// word into "live" (only reachable from a raw state the guard prevents).
#[test]
#[should_panic(
    expected = "add_unless_frozen: frozen word wrapped around into live (overflow guard outrun) (FrozenRef, raw = 0xffffffff)"
)]
#[cfg(feature = "mutants")]
fn frozen_wrap_is_reported() {
    // SAFETY: an unreachable raw state on purpose, to reach the check.
    let p: FrozenRef = unsafe { FrozenRef::from_raw(u32::MAX) };
    p.try_get();
}

/// The sticky counter's own checks: reviving (init/unfreeze) a word whose
/// help flag still waits for its decrementer to claim it; a failed get whose
/// garbage carried into the flags (only reachable from a raw state the guard
/// prevents).
#[cfg(feature = "mutants")]
mod sticky_only {
    use pageref::{PageRef, StickyRef};
    const HELPED: u32 = <StickyRef>::ZERO_FLAG | <StickyRef>::HELP_FLAG;

    #[test]
    #[should_panic(
        expected = "init: its last put has not claimed the zero yet (StickyRef, raw = 0xc0000000)"
    )]
    fn init_before_claim() {
        // SAFETY: a helped word with no decrementer, on purpose.
        let p: StickyRef = unsafe { StickyRef::from_raw(HELPED) };
        p.init();
    }

    #[test]
    #[should_panic(
        expected = "unfreeze: its last put has not claimed the zero yet (StickyRef, raw = 0xc0000005)"
    )]
    fn unfreeze_before_claim() {
        // SAFETY: as above, with garbage.
        let p: StickyRef = unsafe { StickyRef::from_raw(HELPED | 5) };
        p.unfreeze(1);
    }

    #[test]
    #[should_panic(
        expected = "add_unless_frozen: garbage carried into the flags (overflow guard outrun) (StickyRef, raw = 0xbfffffff)"
    )]
    fn garbage_into_help_flag() {
        // SAFETY: garbage at its maximum, far above the guard, on purpose.
        let p: StickyRef = unsafe { StickyRef::from_raw(<StickyRef>::ZERO_FLAG | 0x3fff_ffff) };
        p.try_get();
    }

    #[test]
    #[should_panic(
        expected = "add_unless_frozen: garbage carried into the flags (overflow guard outrun) (StickyRef, raw = 0xffffffff)"
    )]
    fn garbage_wraps_helped_word() {
        // SAFETY: as above, on a helped word.
        let p: StickyRef = unsafe { StickyRef::from_raw(u32::MAX) };
        p.try_get();
    }
}
