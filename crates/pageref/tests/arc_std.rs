//! The behaviours that std's own `Arc` tests check (in
//! `library/alloc/src/sync/tests.rs` and the alloc test crate's `arc.rs`),
//! written from what std's documentation promises, run on
//! `pageref::sync::{Arc, Weak}`: counts, `get_mut` / `make_mut` rules,
//! `try_unwrap`, `into_inner` (also raced), weak self-cycles, drop
//! canaries, `new_cyclic`, raw pointers, the trait impls, and the `Send` /
//! `Sync` bounds compared with std's at compile time. Plus races of our own
//! protocol: upgrades against the last drop.
//!
//! The whole binary also runs under valgrind memcheck (test `memcheck`,
//! with fewer rounds of the threaded tests): no leak, no invalid access.
//! Run time: ~2 s natively, ~5 s under valgrind (2-core VM).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Barrier, Mutex};
use std::thread;

use pageref::sync::{Arc, Weak};

/// Rounds of the threaded tests: fewer under valgrind, which runs one
/// thread at a time and ~50x slower.
fn rounds(native: usize) -> usize {
    if std::env::var_os(UNDER_VALGRIND).is_some() {
        (native / 20).max(20)
    } else {
        native
    }
}

const UNDER_VALGRIND: &str = "PAGEREF_ARC_UNDER_VALGRIND";

/// Counts drops of a value: the canary.
#[derive(Debug)]
struct Canary(std::sync::Arc<AtomicUsize>);

impl Canary {
    fn new() -> (Canary, std::sync::Arc<AtomicUsize>) {
        let c = std::sync::Arc::new(AtomicUsize::new(0));
        (Canary(c.clone()), c)
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn manually_share_arc() {
    let v = vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let arc_v = Arc::new(v);
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let arc_v: Arc<Vec<i32>> = rx.recv().unwrap();
        assert_eq!((*arc_v)[3], 4);
    });
    tx.send(arc_v.clone()).unwrap();
    assert_eq!((*arc_v)[2], 3);
    assert_eq!((*arc_v)[4], 5);
    t.join().unwrap();
}

#[test]
fn get_mut_rules() {
    let mut x = Arc::new(3);
    *Arc::get_mut(&mut x).unwrap() = 4;
    assert_eq!(*x, 4);
    let y = x.clone();
    assert!(Arc::get_mut(&mut x).is_none());
    drop(y);
    assert!(Arc::get_mut(&mut x).is_some());
    let w = Arc::downgrade(&x);
    assert!(Arc::get_mut(&mut x).is_none(), "a Weak blocks get_mut");
    drop(w);
    assert!(Arc::get_mut(&mut x).is_some());
    // An upgraded-then-dropped Arc leaves it unique again.
    let w = Arc::downgrade(&x);
    drop(w.upgrade().unwrap());
    drop(w);
    assert_eq!(*Arc::get_mut(&mut x).unwrap(), 4);
}

#[test]
fn try_unwrap_rules() {
    let x = Arc::new(3);
    assert_eq!(Arc::try_unwrap(x), Ok(3));
    let x = Arc::new(4);
    let _y = x.clone();
    assert_eq!(Arc::try_unwrap(x), Err(Arc::new(4)));
    let x = Arc::new(5);
    let w = Arc::downgrade(&x);
    assert_eq!(Arc::try_unwrap(x), Ok(5), "Weaks do not count");
    assert!(w.upgrade().is_none());
    assert_eq!(w.strong_count(), 0);
}

#[test]
fn into_inner_rules() {
    let x = Arc::new(3);
    assert_eq!(Arc::into_inner(x), Some(3));
    let x = Arc::new(4);
    let y = Arc::clone(&x);
    assert_eq!(Arc::into_inner(x), None);
    assert_eq!(Arc::into_inner(y), Some(4));
    let x = Arc::new(5);
    let w = Arc::downgrade(&x);
    assert_eq!(Arc::into_inner(x), Some(5));
    assert!(w.upgrade().is_none());
}

/// std's promise: if `into_inner` is called on every clone, exactly one
/// call returns the value, however they race.
#[test]
fn into_inner_raced_has_one_winner() {
    for _ in 0..rounds(5_000) {
        let (canary, drops) = Canary::new();
        let a = Arc::new(canary);
        let b = a.clone();
        let c = a.clone();
        let barrier = std::sync::Arc::new(Barrier::new(3));
        let hs: Vec<_> = [a, b, c]
            .into_iter()
            .map(|x| {
                let barrier = barrier.clone();
                thread::spawn(move || {
                    barrier.wait();
                    Arc::into_inner(x)
                })
            })
            .collect();
        let got: Vec<Option<Canary>> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(got.iter().filter(|g| g.is_some()).count(), 1);
        assert_eq!(drops.load(SeqCst), 0, "the value was dropped, not returned");
        drop(got);
        assert_eq!(drops.load(SeqCst), 1);
    }
}

/// into_inner racing upgrades: the value goes to exactly one of the
/// `into_inner` calls and the upgraders' last drop; dropped exactly once.
#[test]
fn into_inner_raced_with_upgrades() {
    for _ in 0..rounds(3_000) {
        let (canary, drops) = Canary::new();
        let a = Arc::new(canary);
        let w = Arc::downgrade(&a);
        let taken = std::sync::Arc::new(AtomicUsize::new(0));
        let upgrader = {
            let taken = taken.clone();
            thread::spawn(move || {
                for _ in 0..3 {
                    if let Some(s) = w.upgrade() {
                        if let Some(v) = Arc::into_inner(s) {
                            taken.fetch_add(1, SeqCst);
                            drop(v);
                        }
                    }
                }
            })
        };
        if let Some(v) = Arc::into_inner(a) {
            taken.fetch_add(1, SeqCst);
            drop(v);
        }
        upgrader.join().unwrap();
        assert_eq!(taken.load(SeqCst), 1);
        assert_eq!(drops.load(SeqCst), 1);
    }
}

#[test]
fn unwrap_or_clone_rules() {
    let a = Arc::new(String::from("x"));
    assert_eq!(Arc::unwrap_or_clone(a), "x");
    let a = Arc::new(String::from("y"));
    let b = a.clone();
    assert_eq!(Arc::unwrap_or_clone(a), "y");
    assert_eq!(Arc::strong_count(&b), 1);
}

#[test]
fn make_mut_rules() {
    let mut data = Arc::new(5);
    let p = Arc::as_ptr(&data);
    *Arc::make_mut(&mut data) += 1; // unique: no clone
    assert_eq!(Arc::as_ptr(&data), p);
    let other = Arc::clone(&data);
    *Arc::make_mut(&mut data) += 1; // shared: clones
    assert_ne!(Arc::as_ptr(&data), p);
    *Arc::make_mut(&mut data) += 1; // unique again: no clone
    *Arc::make_mut(&mut other.clone()) *= 2; // a clone of `other`: clones, not `other`
    assert_eq!((*data, *other), (8, 6));

    // Only Weaks: moved to a new allocation, Weaks disassociated.
    let mut data = Arc::new(75);
    let weak = Arc::downgrade(&data);
    let p = Arc::as_ptr(&data);
    *Arc::make_mut(&mut data) += 1;
    assert_ne!(Arc::as_ptr(&data), p);
    assert_eq!(*data, 76);
    assert!(weak.upgrade().is_none());
    assert_eq!(Arc::weak_count(&data), 0);
    assert_eq!(Arc::strong_count(&data), 1);
}

/// make_mut clones only when another strong reference exists.
#[test]
fn make_mut_clones_only_when_shared() {
    #[derive(Debug)]
    struct Counted(#[allow(dead_code)] Cell<usize>, usize);
    thread_local!(static CLONES: Cell<usize> = const { Cell::new(0) });
    impl Clone for Counted {
        fn clone(&self) -> Self {
            CLONES.with(|c| c.set(c.get() + 1));
            Counted(Cell::new(0), self.1)
        }
    }
    let mut a = Arc::new(Counted(Cell::new(0), 1));
    Arc::make_mut(&mut a).1 += 1;
    assert_eq!(CLONES.with(Cell::get), 0);
    let w = Arc::downgrade(&a);
    Arc::make_mut(&mut a).1 += 1;
    assert_eq!(CLONES.with(Cell::get), 0, "Weaks only: moved, not cloned");
    drop(w);
    let b = a.clone();
    Arc::make_mut(&mut a).1 += 1;
    assert_eq!(CLONES.with(Cell::get), 1);
    assert_eq!((a.1, b.1), (4, 3));
}

#[test]
fn counts() {
    let a = Arc::new(0);
    assert_eq!((Arc::strong_count(&a), Arc::weak_count(&a)), (1, 0));
    let w = Arc::downgrade(&a);
    assert_eq!((Arc::strong_count(&a), Arc::weak_count(&a)), (1, 1));
    assert_eq!((w.strong_count(), w.weak_count()), (1, 1));
    let x = w.clone();
    assert_eq!(Arc::weak_count(&a), 2);
    assert_eq!(x.weak_count(), 2);
    drop(w);
    drop(x);
    assert_eq!((Arc::strong_count(&a), Arc::weak_count(&a)), (1, 0));
    let c = a.clone();
    assert_eq!((Arc::strong_count(&a), Arc::weak_count(&a)), (2, 0));
    let d = Arc::downgrade(&c);
    assert_eq!(
        (Arc::weak_count(&c), d.strong_count(), d.weak_count()),
        (1, 2, 1)
    );
    let e = d.clone();
    drop(a);
    drop(c);
    assert_eq!(
        (d.strong_count(), d.weak_count()),
        (0, 0),
        "no strong left: 0, as std"
    );
    assert_eq!((e.strong_count(), e.weak_count()), (0, 0));
    let n: Weak<u8> = Weak::new();
    assert_eq!((n.strong_count(), n.weak_count()), (0, 0));
}

#[test]
fn upgrade_and_downgrade() {
    let a = Arc::new(5);
    let w = Arc::downgrade(&a);
    assert_eq!(*w.upgrade().unwrap(), 5);
    assert!(w.upgrade().is_some());
    drop(a);
    assert!(w.upgrade().is_none());
    assert!(w.upgrade().is_none(), "a failed upgrade leaves it dead");
    let n: Weak<i32> = Weak::new();
    assert!(n.upgrade().is_none());
    assert!(Weak::<i32>::default().upgrade().is_none());
}

#[test]
fn drop_canaries() {
    let (canary, drops) = Canary::new();
    let a = Arc::new(canary);
    let b = a.clone();
    let w = Arc::downgrade(&a);
    drop(a);
    assert_eq!(drops.load(SeqCst), 0);
    drop(b);
    assert_eq!(drops.load(SeqCst), 1, "dropped with the last strong");
    drop(w);
    assert_eq!(drops.load(SeqCst), 1, "a Weak never drops the value");

    let (canary, drops) = Canary::new();
    let w = {
        let a = Arc::new(canary);
        let w = Arc::downgrade(&a);
        let up = w.upgrade().unwrap();
        drop(a);
        assert_eq!(drops.load(SeqCst), 0, "an upgraded Arc keeps it alive");
        drop(up);
        w
    };
    assert_eq!(drops.load(SeqCst), 1);
    assert!(w.upgrade().is_none());
}

/// A value that holds a `Weak` to itself: dropping the `Arc` drops it
/// (the `Weak` does not keep it alive) and the memory is freed.
#[test]
fn weak_self_cyclic() {
    struct Cycle {
        me: Mutex<Option<Weak<Cycle>>>,
        _canary: Canary,
    }
    let (canary, drops) = Canary::new();
    let a = Arc::new(Cycle {
        me: Mutex::new(None),
        _canary: canary,
    });
    *a.me.lock().unwrap() = Some(Arc::downgrade(&a));
    assert_eq!(Arc::weak_count(&a), 1);
    let again = a.me.lock().unwrap().as_ref().unwrap().upgrade().unwrap();
    assert!(Arc::ptr_eq(&a, &again));
    drop(again);
    drop(a);
    assert_eq!(drops.load(SeqCst), 1);
}

/// Two values pointing at each other with Weaks; both dropped.
#[test]
fn weak_mutual_cycle() {
    struct Node {
        other: RefCell<Weak<Mutex<Node>>>,
        _canary: Canary,
    }
    let (c1, d1) = Canary::new();
    let (c2, d2) = Canary::new();
    let a = Arc::new(Mutex::new(Node {
        other: RefCell::new(Weak::new()),
        _canary: c1,
    }));
    let b = Arc::new(Mutex::new(Node {
        other: RefCell::new(Arc::downgrade(&a)),
        _canary: c2,
    }));
    *a.lock().unwrap().other.borrow_mut() = Arc::downgrade(&b);
    drop(a);
    assert_eq!(d1.load(SeqCst), 1);
    assert!(b.lock().unwrap().other.borrow().upgrade().is_none());
    drop(b);
    assert_eq!(d2.load(SeqCst), 1);
}

#[test]
fn new_cyclic_rules() {
    struct Gadget {
        me: Weak<Gadget>,
        n: u32,
    }
    let g = Arc::new_cyclic(|me| {
        assert!(me.upgrade().is_none(), "not yet constructed");
        assert_eq!(me.strong_count(), 0);
        assert_eq!(me.weak_count(), 0, "as std: no strong yet, so 0");
        Gadget {
            me: me.clone(),
            n: 7,
        }
    });
    assert_eq!(Arc::strong_count(&g), 1);
    assert_eq!(Arc::weak_count(&g), 1);
    let g2 = g.me.upgrade().unwrap();
    assert_eq!(g2.n, 7);
    assert!(Arc::ptr_eq(&g, &g2));
    drop(g2);

    // Many weak clones taken during construction.
    let mut kept = Vec::new();
    let h = Arc::new_cyclic(|me: &Weak<u8>| {
        for _ in 0..10 {
            kept.push(me.clone());
        }
        1
    });
    assert_eq!(Arc::weak_count(&h), 10);
    assert!(kept.iter().all(|w| w.upgrade().is_some()));
    drop(h);
    assert!(kept.iter().all(|w| w.upgrade().is_none()));

    // The closure's Weak is not stored: the Arc has no Weak afterwards.
    let x = Arc::new_cyclic(|_| 3u64);
    assert_eq!(Arc::weak_count(&x), 0);
    let mut x = x;
    assert!(Arc::get_mut(&mut x).is_some());
}

/// A panicking `new_cyclic` closure: nothing is dropped twice, memory is
/// freed (checked under valgrind), escaped Weaks never upgrade.
#[test]
fn new_cyclic_panics() {
    let escaped: Mutex<Option<Weak<String>>> = Mutex::new(None);
    let r = std::panic::catch_unwind(|| {
        Arc::new_cyclic(|me: &Weak<String>| {
            *escaped.lock().unwrap() = Some(me.clone());
            panic!("constructor failed");
        })
    });
    assert!(r.is_err());
    let w = escaped.lock().unwrap().take().unwrap();
    assert!(w.upgrade().is_none());
    assert_eq!(w.strong_count(), 0);
}

#[test]
fn raw_pointers() {
    let a = Arc::new(String::from("raw"));
    let p = Arc::as_ptr(&a);
    let q = Arc::into_raw(a);
    assert_eq!(p, q);
    // SAFETY: `q` is from into_raw, and its reference is still held.
    unsafe {
        assert_eq!(&*q, "raw");
        Arc::increment_strong_count(q);
        let b = Arc::from_raw(q);
        assert_eq!(Arc::strong_count(&b), 2);
        Arc::decrement_strong_count(q);
        assert_eq!(Arc::strong_count(&b), 1);
        let w = Arc::downgrade(&b);
        assert_eq!(w.as_ptr(), q);
        let wp = w.into_raw();
        let w = Weak::from_raw(wp);
        assert_eq!(*w.upgrade().unwrap(), "raw");
        drop(b);
        assert!(w.upgrade().is_none());
    }
    // A dangling Weak round-trips too.
    let n: Weak<u64> = Weak::new();
    let p = n.into_raw();
    // SAFETY: from Weak::into_raw.
    let n = unsafe { Weak::from_raw(p) };
    assert!(n.upgrade().is_none());
    assert!(n.ptr_eq(&Weak::new()));
}

#[test]
fn ptr_eq() {
    let a = Arc::new(5);
    let b = a.clone();
    let c = Arc::new(5);
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &c));
    assert_eq!(a, c, "equal values");
    let (wa, wb, wc) = (Arc::downgrade(&a), Arc::downgrade(&b), Arc::downgrade(&c));
    assert!(wa.ptr_eq(&wb));
    assert!(!wa.ptr_eq(&wc));
    assert!(Weak::<i32>::new().ptr_eq(&Weak::new()));
    assert!(!wa.ptr_eq(&Weak::new()));
}

#[test]
fn traits() {
    let a = Arc::new(5);
    assert_eq!(format!("{a:?} {a} {a:>3}"), "5 5   5");
    assert_eq!(format!("{a:p}"), format!("{:p}", Arc::as_ptr(&a)));
    assert_eq!(format!("{:?}", Arc::downgrade(&a)), "(Weak)");
    let b = Arc::new(6);
    assert!(a < b);
    assert!(a <= b);
    assert!(b > a);
    assert!(b >= a);
    assert!(a != b);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
    assert_eq!(a.partial_cmp(&b), Some(std::cmp::Ordering::Less));
    let nan = Arc::new(f64::NAN);
    assert!(nan != nan.clone(), "PartialEq compares values");
    assert_eq!(nan.partial_cmp(&nan), None);
    let set: HashSet<Arc<i32>> = [a.clone(), Arc::new(5), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    let bset: BTreeSet<Arc<i32>> = [b.clone(), a.clone()].into_iter().collect();
    assert_eq!(bset.iter().map(|x| **x).collect::<Vec<_>>(), [5, 6]);
    let mut map: HashMap<Arc<String>, u8> = HashMap::new();
    map.insert(Arc::new("k".to_string()), 1);
    let key = String::from("k");
    assert_eq!(map.get(&key), Some(&1), "Borrow<T>");
    let d: Arc<Vec<u8>> = Arc::default();
    assert!(d.is_empty());
    let f: Arc<i32> = 9.into();
    let g: Arc<i32> = Arc::from(Box::new(10));
    assert_eq!((*f, *g), (9, 10));
    let r: &i32 = a.as_ref();
    assert_eq!(*r, 5);
    let pinned = Arc::pin(11);
    assert_eq!(*pinned, 11);
}

/// Compile-time: `Send` / `Sync` of ours equal std's for each `T` (the
/// ambiguity trick: the associated const below resolves only if the bound
/// is NOT met, so `not_send!` fails to compile on a `Send` type).
#[test]
fn send_sync_bounds_as_std() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    macro_rules! not_impl {
        ($tr:path, $t:ty) => {{
            trait Ambiguous<A> {
                const OK: () = ();
            }
            impl<T: ?Sized> Ambiguous<()> for T {}
            #[allow(dead_code)]
            struct Invalid;
            impl<T: ?Sized + $tr> Ambiguous<Invalid> for T {}
            let () = <$t as Ambiguous<_>>::OK;
        }};
    }
    // Send + Sync T: both are Send + Sync.
    send::<Arc<i32>>();
    sync::<Arc<i32>>();
    send::<Weak<i32>>();
    sync::<Weak<i32>>();
    send::<Arc<Mutex<i32>>>();
    sync::<Weak<Mutex<i32>>>();
    // Send but not Sync (Cell): std's Arc is neither; so is ours.
    not_impl!(Send, std::sync::Arc<Cell<i32>>);
    not_impl!(Send, Arc<Cell<i32>>);
    not_impl!(Sync, Arc<Cell<i32>>);
    not_impl!(Send, Weak<Cell<i32>>);
    not_impl!(Sync, Weak<Cell<i32>>);
    // Sync but not Send (MutexGuard): neither, as std.
    not_impl!(Send, std::sync::Arc<std::sync::MutexGuard<'static, i32>>);
    not_impl!(Send, Arc<std::sync::MutexGuard<'static, i32>>);
    not_impl!(Sync, Arc<std::sync::MutexGuard<'static, i32>>);
    // Rc: neither.
    not_impl!(Send, Arc<std::rc::Rc<i32>>);
    // Unpin whatever T, as std.
    fn unpin<T: Unpin>() {}
    unpin::<Arc<std::marker::PhantomPinned>>();
    fn unwind_safe<T: std::panic::UnwindSafe>() {}
    unwind_safe::<Arc<Mutex<i32>>>();
    // Covariant in T, as std (a longer lifetime coerces to a shorter one).
    fn shorten<'a>(a: Arc<&'static str>, w: Weak<&'static str>) -> (Arc<&'a str>, Weak<&'a str>) {
        (a, w)
    }
    let a = Arc::new("static");
    let w = Arc::downgrade(&a);
    let (a, w) = shorten(a, w);
    assert_eq!(*w.upgrade().unwrap(), *a);
    // One pointer wide, with a niche, as std.
    assert_eq!(
        std::mem::size_of::<Arc<u64>>(),
        std::mem::size_of::<usize>()
    );
    assert_eq!(
        std::mem::size_of::<Option<Arc<u64>>>(),
        std::mem::size_of::<usize>()
    );
    assert_eq!(
        std::mem::size_of::<Weak<u64>>(),
        std::mem::size_of::<usize>()
    );
}

/// Upgrades race the last drop: every upgrade that succeeds sees the live
/// value, the value is dropped exactly once, after every holder.
#[test]
fn upgrades_race_the_last_drop() {
    #[derive(Debug)]
    struct Checked {
        alive: AtomicUsize,
        drops: std::sync::Arc<AtomicUsize>,
    }
    impl Drop for Checked {
        fn drop(&mut self) {
            assert_eq!(self.alive.swap(0, SeqCst), 1, "dropped twice");
            self.drops.fetch_add(1, SeqCst);
        }
    }
    for _ in 0..rounds(3_000) {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let a = Arc::new(Checked {
            alive: AtomicUsize::new(1),
            drops: drops.clone(),
        });
        let w = Arc::downgrade(&a);
        let barrier = std::sync::Arc::new(Barrier::new(3));
        let upgraders: Vec<_> = (0..2)
            .map(|_| {
                let (w, barrier) = (w.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    let mut got = 0;
                    for _ in 0..20 {
                        if let Some(s) = w.upgrade() {
                            assert_eq!(s.alive.load(SeqCst), 1, "upgraded to a dropped value");
                            got += 1;
                        } else {
                            // std: once it fails it fails forever, and the
                            // count says 0.
                            assert_eq!(w.strong_count(), 0);
                            assert!(w.upgrade().is_none());
                        }
                    }
                    got
                })
            })
            .collect();
        barrier.wait();
        drop(a);
        for u in upgraders {
            u.join().unwrap();
        }
        assert_eq!(drops.load(SeqCst), 1);
        assert!(w.upgrade().is_none());
        assert_eq!(w.strong_count(), 0);
    }
}

/// `Weak::strong_count() == 0` is final, as in std, even while upgrades
/// revive a last drop's transient 0.
#[test]
fn zero_strong_count_is_final() {
    for _ in 0..rounds(3_000) {
        let a = Arc::new(1u32);
        let w = Arc::downgrade(&a);
        let w2 = w.clone();
        let reviver = thread::spawn(move || {
            for _ in 0..50 {
                drop(w2.upgrade());
            }
        });
        let watcher = {
            let w = w.clone();
            thread::spawn(move || {
                let mut seen_zero = false;
                for _ in 0..50 {
                    let n = w.strong_count();
                    if seen_zero {
                        assert_eq!(n, 0, "a 0 was followed by a live count");
                    }
                    seen_zero |= n == 0;
                }
            })
        };
        drop(a);
        reviver.join().unwrap();
        watcher.join().unwrap();
        assert_eq!(w.strong_count(), 0);
    }
}

/// Clones and drops from many threads: balanced counts, one drop.
#[test]
fn threaded_clone_drop_downgrade() {
    let (canary, drops) = Canary::new();
    let a = Arc::new(canary);
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let a = a.clone();
            thread::spawn(move || {
                for _ in 0..rounds(10_000) {
                    let b = a.clone();
                    let w = Arc::downgrade(&b);
                    let c = w.upgrade().unwrap();
                    drop((b, w, c));
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!((Arc::strong_count(&a), Arc::weak_count(&a)), (1, 0));
    drop(a);
    assert_eq!(drops.load(SeqCst), 1);
}

/// `get_mut` racing `downgrade` + `upgrade` from a thread holding a clone:
/// a `Some` from `get_mut` never coexists with another reference.
#[test]
fn get_mut_races_downgrade() {
    for _ in 0..rounds(2_000) {
        let mut a = Arc::new(AtomicUsize::new(0));
        let b = a.clone();
        let t = thread::spawn(move || {
            let w = Arc::downgrade(&b);
            drop(b);
            if let Some(c) = w.upgrade() {
                c.fetch_add(1, SeqCst);
            }
        });
        let mut hits = 0;
        for _ in 0..20 {
            if let Some(m) = Arc::get_mut(&mut a) {
                // Exclusive: a plain read-modify-write through &mut.
                *m.get_mut() += 1;
                hits += 1;
            }
        }
        t.join().unwrap();
        let v = Arc::get_mut(&mut a).expect("unique at the end").get_mut();
        assert!(*v >= hits);
    }
}

/// `valgrind` with memcheck's leak and error checks on this test binary,
/// `args` for the test harness; `None` (and one line on stderr) where
/// valgrind is missing, except under `CI=true`, where that fails.
fn memcheck_run(args: &[&str]) -> Option<std::process::Output> {
    let found = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "valgrind is not on PATH, and CI=true requires it"
        );
        eprintln!("memcheck: skipped: valgrind is not on PATH");
        return None;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("valgrind")
        .args([
            "--tool=memcheck",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,possible",
            "--error-exitcode=1",
            "--quiet",
            concat!(
                "--suppressions=",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/valgrind.supp"
            ),
        ])
        .arg(&exe)
        .args(args)
        .env(UNDER_VALGRIND, "1")
        // No backtrace symbolisation (its caches stay allocated until exit).
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    Some(out)
}

/// Runs this whole test binary under valgrind memcheck: no leak, no invalid
/// read or write, in any of the tests above (~2 s on the 2-core VM).
#[test]
fn memcheck() {
    if std::env::var_os(UNDER_VALGRIND).is_some() {
        return; // the run under valgrind itself
    }
    let Some(out) = memcheck_run(&["--test-threads=2", "--skip", "memcheck"]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "valgrind memcheck failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    // The run really ran the tests.
    assert!(stdout.contains("test result: ok."), "stdout:\n{stdout}");
    assert!(!stdout.contains(" 0 passed"), "stdout:\n{stdout}");
}

/// The checker can fail: memcheck reports a leaked `Arc` and a use after
/// free (planted in the two ignored tests below).
#[test]
fn memcheck_catches_planted_bugs() {
    if std::env::var_os(UNDER_VALGRIND).is_some() {
        return;
    }
    for (test, report) in [
        ("planted_leak", "definitely lost"),
        ("planted_use_after_free", "Invalid read"),
    ] {
        let Some(out) = memcheck_run(&["--exact", test, "--ignored"]) else {
            return;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{test}: memcheck passed:\n{stderr}");
        assert!(stderr.contains(report), "{test}: stderr:\n{stderr}");
    }
}

#[test]
#[ignore = "a planted bug for memcheck_catches_planted_bugs"]
fn planted_leak() {
    std::mem::forget(Arc::new(String::from("leaked")));
}

#[test]
#[ignore = "a planted bug for memcheck_catches_planted_bugs"]
fn planted_use_after_free() {
    let p = Arc::into_raw(Arc::new(5u64));
    // SAFETY: not safe: one reference released twice; the second release
    // reads the freed count (memcheck reports it; in a debug build the
    // misuse check then aborts).
    unsafe {
        Arc::decrement_strong_count(p);
        Arc::decrement_strong_count(p);
    }
}
