//! The one `Debug` shape of every scheme: the raw word in hex (as wide as the
//! word), the decoded state with the garbage of a dead word, and the count a
//! reader sees. Users read this output in panics and logs, so it is checked
//! to the character; the expected strings are written out here from each
//! scheme's documented encoding.

use std::sync::atomic::{AtomicU32, AtomicU64};

use pageref::{
    ClassicRef, FileRef, FrozenRef, LowBitRef, OptimisticRef, PageRef, RcuRef, StickyRef,
};

fn dbg<R: PageRef + std::fmt::Debug>(r: &R) -> String {
    format!("{r:?}")
}

/// `new(3)`, `new_frozen()`, and the frozen word after a failed `get(5)`.
fn shapes<R: PageRef + std::fmt::Debug>() -> [String; 3] {
    let live = R::new(3);
    let dead = R::new_frozen();
    let garbage = R::new_frozen();
    assert!(!garbage.add_unless_frozen(5));
    [dbg(&live), dbg(&dead), dbg(&garbage)]
}

#[test]
fn frozen() {
    assert_eq!(
        shapes::<FrozenRef>(),
        [
            "FrozenRef { raw: 0x00000003, state: live, count: 3 }",
            "FrozenRef { raw: 0x80000000, state: frozen (garbage 0x0), count: 0 }",
            "FrozenRef { raw: 0x80000005, state: frozen (garbage 0x5), count: 0 }",
        ]
    );
    assert_eq!(
        dbg(&FrozenRef::<AtomicU32>::from_raw(0)),
        "FrozenRef { raw: 0x00000000, state: transient zero, count: 0 }"
    );
}

#[test]
fn classic_and_optimistic() {
    assert_eq!(
        shapes::<ClassicRef>(),
        [
            "ClassicRef { raw: 0x00000003, state: live, count: 3 }",
            "ClassicRef { raw: 0x00000000, state: frozen, count: 0 }",
            "ClassicRef { raw: 0x00000000, state: frozen, count: 0 }",
        ]
    );
    assert_eq!(
        dbg(&OptimisticRef::<AtomicU32>::new(7)),
        "OptimisticRef { raw: 0x00000007, state: live, count: 7 }"
    );
}

#[test]
fn sticky() {
    assert_eq!(
        shapes::<StickyRef>(),
        [
            "StickyRef { raw: 0x00000003, state: live, count: 3 }",
            "StickyRef { raw: 0x80000000, state: frozen (garbage 0x0), count: 0 }",
            "StickyRef { raw: 0x80000005, state: frozen (garbage 0x5), count: 0 }",
        ]
    );
    assert_eq!(
        dbg(&StickyRef::<AtomicU32>::from_raw(0xc000_0002)),
        "StickyRef { raw: 0xc0000002, state: frozen, helped (garbage 0x2), count: 0 }"
    );
    assert_eq!(
        dbg(&StickyRef::<AtomicU32>::from_raw(0)),
        "StickyRef { raw: 0x00000000, state: transient zero, count: 0 }"
    );
}

#[test]
fn lowbit() {
    assert_eq!(
        shapes::<LowBitRef>(),
        [
            "LowBitRef { raw: 0x00000006, state: live, count: 3 }",
            "LowBitRef { raw: 0x00000001, state: frozen (garbage 0x0), count: 0 }",
            "LowBitRef { raw: 0x0000000b, state: frozen (garbage 0x5), count: 0 }",
        ]
    );
    assert_eq!(
        dbg(&LowBitRef::<AtomicU32>::from_raw(0)),
        "LowBitRef { raw: 0x00000000, state: transient zero, count: 0 }"
    );
}

#[test]
fn rcuref() {
    // A failed get stores DEAD back: no garbage.
    assert_eq!(
        shapes::<RcuRef>(),
        [
            "RcuRef { raw: 0x00000002, state: live, count: 3 }",
            "RcuRef { raw: 0xe0000000, state: frozen (garbage 0x0), count: 0 }",
            "RcuRef { raw: 0xe0000000, state: frozen (garbage 0x0), count: 0 }",
        ]
    );
    assert_eq!(
        dbg(&RcuRef::<AtomicU32>::from_raw(0xffff_ffff)),
        "RcuRef { raw: 0xffffffff, state: transient zero, count: 0 }"
    );
    assert_eq!(
        dbg(&RcuRef::<AtomicU32>::from_raw(0xa000_0000)),
        "RcuRef { raw: 0xa0000000, state: saturated, count: 2684354561 }"
    );
    // The zone boundaries of `include/linux/rcuref.h`, on both sides.
    for (raw, state) in [
        (0x7fff_ffff, "live"),
        (0x8000_0000, "saturated"),
        (0xbfff_ffff, "saturated"),
        (0xc000_0000, "frozen"),
        (0xffff_fffe, "frozen"),
    ] {
        let d = dbg(&RcuRef::<AtomicU32>::from_raw(raw));
        assert!(d.contains(&format!("state: {state}")), "{raw:#x}: {d}");
    }
    assert_eq!(
        dbg(&RcuRef::<AtomicU32>::from_raw(0xc000_0000)),
        "RcuRef { raw: 0xc0000000, state: frozen, count: 0 }"
    );
}

#[test]
fn fileref() {
    assert_eq!(
        shapes::<FileRef>(),
        [
            "FileRef { raw: 0x0000000000000002, state: live, count: 3 }",
            "FileRef { raw: 0xe000000000000000, state: frozen (garbage 0x0), count: 0 }",
            "FileRef { raw: 0xe000000000000005, state: frozen (garbage 0x5), count: 0 }",
        ]
    );
    assert_eq!(
        shapes::<FileRef<AtomicU32>>(),
        [
            "FileRef { raw: 0x00000002, state: live, count: 3 }",
            "FileRef { raw: 0xe0000000, state: frozen (garbage 0x0), count: 0 }",
            "FileRef { raw: 0xe0000005, state: frozen (garbage 0x5), count: 0 }",
        ]
    );
    assert_eq!(
        dbg(&FileRef::<AtomicU64>::from_raw(u64::MAX)),
        "FileRef { raw: 0xffffffffffffffff, state: transient zero, count: 0 }"
    );
}
