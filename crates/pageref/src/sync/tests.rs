//! Unit tests of the encoding: the constants, the data offset that
//! `from_raw` relies on, the overflow guard on the garbage of failed
//! upgrades, and the aborts on overflow. These need to set the raw words,
//! which only code inside the module can. The behaviours of std's Arc are
//! tested in `tests/arc_std/`.
//!
//! The abort tests run a child process (this test binary again, one ignored
//! `child_*` test) and check that it died by SIGABRT with the message.

extern crate std;

use std::boxed::Box;
use std::string::String;
use std::sync::atomic::Ordering::Relaxed;

use super::inner::*;
use super::{Arc, CoreWords, Weak};
use crate::check;

#[test]
fn constants() {
    // The live range, the overflow headroom and the dead range do not
    // overlap, and the guard sits in the middle of the dead range.
    const _: () = assert!(MAX_STRONG < DEAD / 2);
    const _: () = assert!(MAX_STRONG + 1_000_000 < DEAD);
    const _: () = assert!(MAX_WEAK < WEAK_LOCKED);
    assert_eq!(GUARD & DEAD, DEAD);
    assert_eq!(GUARD - DEAD, DEAD / 2);
}

/// `from_raw` steps back from the value by `data_offset`: it must agree
/// with where the value really is, whatever `T`'s size and alignment.
#[test]
fn data_offset_matches_the_layout() {
    fn check<T: Clone>(v: T) {
        let a = Arc::new(v);
        let base = a.ptr.as_ptr() as usize;
        assert_eq!(
            Arc::as_ptr(&a) as usize - base,
            data_offset::<T, CoreWords>()
        );
        let p = Arc::into_raw(a);
        // SAFETY: from into_raw just above.
        let a = unsafe { Arc::from_raw(p) };
        assert_eq!(a.ptr.as_ptr() as usize, base);
    }
    #[derive(Clone)]
    #[repr(align(64))]
    struct Big(#[allow(dead_code)] u8);
    check(1u8);
    check(1u64);
    check(1u128);
    check([1u8; 3]);
    check(());
    check(Big(1));
    check(String::from("x"));
}

/// A failed upgrade leaves its increment as garbage under the dead bit.
#[test]
fn failed_upgrades_leave_garbage_under_the_bit() {
    let a = Arc::new(5);
    let w = Arc::downgrade(&a);
    drop(a);
    assert_eq!(w.strong().load(Relaxed), DEAD);
    for i in 1..=3 {
        assert!(w.upgrade().is_none());
        assert_eq!(w.strong().load(Relaxed), DEAD + i);
    }
    assert_eq!(w.strong_count(), 0);
    assert_eq!(w.weak_count(), 0);
}

/// The guard: below a quarter of the word the garbage stays; the failed
/// upgrade that finds it there resets it to DEAD.
#[test]
fn guard_resets_the_garbage() {
    let a = Arc::new(5);
    let w = Arc::downgrade(&a);
    drop(a);
    w.strong().store(GUARD - 2, Relaxed);
    assert!(w.upgrade().is_none());
    assert_eq!(
        w.strong().load(Relaxed),
        GUARD - 1,
        "below the guard: no reset"
    );
    assert!(w.upgrade().is_none());
    assert_eq!(
        w.strong().load(Relaxed),
        GUARD,
        "old value below the guard: no reset"
    );
    assert!(w.upgrade().is_none());
    assert_eq!(w.strong().load(Relaxed), DEAD, "the guard resets to DEAD");
}

/// Without the guard, the garbage would wrap to 0 and an upgrade would
/// revive a dropped value. Two upgrades before the wrap, the guard resets.
#[test]
fn guard_prevents_the_wrap() {
    let a = Arc::new(String::from("dropped"));
    let w = Arc::downgrade(&a);
    drop(a);
    w.strong().store(usize::MAX - 1, Relaxed);
    assert!(w.upgrade().is_none());
    assert_eq!(w.strong().load(Relaxed), DEAD);
    assert!(w.upgrade().is_none());
    assert!(w.upgrade().is_none());
    assert_eq!(w.strong().load(Relaxed), DEAD + 2);
}

/// The guard's CAS only resets a dead word: on a word that another thread
/// changed (here: published by `new_cyclic`'s store) it does nothing.
#[test]
fn guard_leaves_a_live_word_alone() {
    let a = Arc::new(7);
    let s = a.strong();
    // As if a failed upgrade had left GUARD + 1 and then the word had been
    // re-published live before its reset CAS ran.
    Weak::<i32>::upgrade_failed(s, GUARD);
    assert_eq!(s.load(Relaxed), 1);
    assert_eq!(*a, 7);
}

/// `Weak::new` never allocates and reports nothing.
#[test]
fn dangling_weak() {
    let w: Weak<Box<u8>> = Weak::new();
    assert!(w.is_dangling());
    assert!(w.upgrade().is_none());
    assert_eq!((w.strong_count(), w.weak_count()), (0, 0));
    let w2 = w.clone();
    assert!(w.ptr_eq(&w2));
    assert_eq!(w.as_ptr() as usize, DANGLING);
}

/// `new_cyclic` starts dead: upgrades inside fail and leave garbage that
/// the publishing store overwrites.
#[test]
fn new_cyclic_starts_dead_and_publishes_one() {
    let a = Arc::new_cyclic(|w: &Weak<u32>| {
        assert_eq!(w.strong().load(Relaxed), DEAD);
        assert!(w.upgrade().is_none());
        assert!(w.upgrade().is_none());
        assert_eq!(w.strong().load(Relaxed), DEAD + 2);
        9
    });
    assert_eq!(a.strong().load(Relaxed), 1);
    assert_eq!(a.weak().load(Relaxed), 1);
}

/// The raw states of `try_unwrap`, `make_mut` (re-opened) and a last drop.
#[test]
fn claims_leave_the_word_dead() {
    let a = Arc::new(1);
    let w = Arc::downgrade(&a);
    assert_eq!(Arc::try_unwrap(a), Ok(1));
    assert_eq!(w.strong().load(Relaxed), DEAD);

    let mut a = Arc::new(2);
    *Arc::make_mut(&mut a) += 1;
    assert_eq!(
        a.strong().load(Relaxed),
        1,
        "make_mut re-opens when no Weak exists"
    );

    let w = Arc::downgrade(&a);
    *Arc::make_mut(&mut a) += 1;
    assert_eq!(
        w.strong().load(Relaxed),
        DEAD,
        "the old allocation stays dead"
    );
    assert_eq!(*a, 4);
}

// ---- aborts (child processes) ----

const CHILD: &str = "PAGEREF_SYNC_ABORT_CHILD";

/// Runs the ignored test `name` of this binary in a child process and
/// checks that it was killed by SIGABRT after printing `message`.
fn aborts(name: &str, message: &str) {
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            &std::format!("sync::tests::{name}"),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(6),
        "{name}: expected SIGABRT, got {:?}; stderr:\n{stderr}",
        out.status
    );
    assert!(stderr.contains(message), "{name}: stderr:\n{stderr}");
}

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

#[test]
#[ignore = "child process of clone_overflow_aborts"]
fn child_clone_overflow() {
    if in_child() {
        let a = Arc::new(0u8);
        a.strong().store(MAX_STRONG + 1, Relaxed);
        let _b = Arc::clone(&a);
    }
}

#[test]
fn clone_overflow_aborts() {
    aborts("child_clone_overflow", "strong count overflow");
}

#[test]
#[ignore = "child process of upgrade_overflow_aborts"]
fn child_upgrade_overflow() {
    if in_child() {
        let a = Arc::new(0u8);
        let w = Arc::downgrade(&a);
        a.strong().store(MAX_STRONG + 1, Relaxed);
        let _b = w.upgrade();
    }
}

#[test]
fn upgrade_overflow_aborts() {
    aborts("child_upgrade_overflow", "strong count overflow");
}

#[test]
#[ignore = "child process of weak_clone_overflow_aborts"]
fn child_weak_clone_overflow() {
    if in_child() {
        let a = Arc::new(0u8);
        let w = Arc::downgrade(&a);
        a.weak().store(MAX_WEAK + 1, Relaxed);
        let _w2 = w.clone();
    }
}

#[test]
fn weak_clone_overflow_aborts() {
    aborts("child_weak_clone_overflow", "weak count overflow");
}

/// As std: `downgrade` checks before it increments, so it panics (an
/// ordinary, catchable panic) instead of aborting.
#[test]
fn downgrade_overflow_panics() {
    let a = Arc::new(0u8);
    let w = Arc::downgrade(&a);
    a.weak().store(MAX_WEAK + 1, Relaxed);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Arc::downgrade(&a)));
    assert!(r.is_err());
    a.weak().store(2, Relaxed);
    drop(w);
}

/// The checks that catch over-release (misuse through `from_raw`).
#[test]
#[ignore = "child process of double_release_aborts"]
fn child_double_release() {
    if in_child() {
        let a = Arc::new(0u8);
        // The Weak keeps the memory, so the second release reads a dead
        // count rather than freed memory.
        let _w = Arc::downgrade(&a);
        let p = Arc::into_raw(a);
        // SAFETY: not safe: the misuse under test (one reference, two
        // `Arc`s, two releases); the memory stays allocated thanks to `_w`.
        let (a1, a2) = unsafe { (Arc::from_raw(p), Arc::from_raw(p)) };
        drop(a1);
        drop(a2);
    }
}

#[test]
fn double_release_aborts() {
    if check::ENABLED {
        aborts("child_double_release", "drop: strong count was not live");
    }
}

#[test]
#[ignore = "child process of from_raw_of_dead_aborts"]
fn child_from_raw_of_dead() {
    if in_child() {
        let a = Arc::new(0u8);
        let _w = Arc::downgrade(&a);
        let p = Arc::into_raw(a);
        // SAFETY: not safe: the misuse under test (a pointer whose reference
        // was already released); the memory stays allocated thanks to `_w`.
        unsafe {
            Arc::decrement_strong_count(p);
            let _again = Arc::from_raw(p);
        }
    }
}

#[test]
fn from_raw_of_dead_aborts() {
    if check::ENABLED {
        aborts(
            "child_from_raw_of_dead",
            "from_raw: the pointer's strong count is not live",
        );
    }
}
