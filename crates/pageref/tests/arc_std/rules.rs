//! What std documents for one thread: counts, `get_mut` / `make_mut`,
//! `try_unwrap`, `into_inner`, weak cycles, drop canaries, `new_cyclic`,
//! raw pointers.

use super::*;

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
