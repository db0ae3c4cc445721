//! Threads: `into_inner` raced, upgrades against the last drop, clone /
//! drop / downgrade storms, `get_mut` against `downgrade`.

use super::*;

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
