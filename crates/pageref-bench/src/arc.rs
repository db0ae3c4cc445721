//! `Arc` workloads: `std::sync::Arc` against `pageref::sync::Arc`, the
//! product that the frozen bit gives to Rust programs (its `Weak::upgrade`
//! is one `fetch_add`; std's is a load and a CAS loop).
//!
//! * `arc-upgrade`: every thread upgrades one shared `Weak` and drops the
//!   `Arc` it got, while an owner holds a strong reference for the whole
//!   run (a cache entry looked up by many threads). No upgrade can fail.
//! * `arc-clone`: every thread clones one shared `Arc` and drops the clone
//!   (both implementations do the same `fetch_add` / `fetch_sub`: the
//!   control).
//! * `arc-churn`: upgrades racing the last drop, with the object re-created:
//!   each thread upgrades its cached `Weak` of the current object; every
//!   64th step it replaces the object (new `Arc`, publish its `Weak`, drop
//!   the old owner's strong reference, whose last drop then races the other
//!   threads' upgrades). A failed upgrade refreshes the cached `Weak` under
//!   a mutex. This is where pageref pays its extra CAS per object lifetime.
//!
//! The contestants are [`CONTESTANTS`] (the catalogue's
//! [`Field::Arc`](crate::workloads::Field::Arc)): the "scheme" column of the
//! reports says `std` or `pageref`. Every contestant runs the same
//! monomorphised code through [`Family`]. The `arc-*` workloads always run
//! both; `--schemes` selects page-refcount schemes only. Their table (with
//! pageref over std), ratio and targets are in [`report`](crate::report),
//! like every other workload's. No third crate: the
//! maintained `Arc` with a `Weak` that we looked at, `portable-atomic-util`,
//! is "based on alloc::sync::Arc" (its `src/arc.rs`, on docs.rs), so it
//! would measure std's CAS loop again.

use std::fmt;
use std::hint::black_box;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::harness::{run_iterations, run_point, Cores, Padded, Sample, Tally, Timing, Workload};
use crate::workloads::Kind;

/// An `Arc` / `Weak` implementation with std's API.
pub trait Family: 'static {
    /// The strong pointer.
    type Strong<T: Send + Sync + 'static>: Clone + Deref<Target = T> + Send + Sync;
    /// The weak pointer.
    type Weak<T: Send + Sync + 'static>: Clone + Send + Sync;
    /// `Arc::new`.
    fn new<T: Send + Sync + 'static>(v: T) -> Self::Strong<T>;
    /// `Arc::downgrade`.
    fn downgrade<T: Send + Sync + 'static>(a: &Self::Strong<T>) -> Self::Weak<T>;
    /// `Weak::upgrade`.
    fn upgrade<T: Send + Sync + 'static>(w: &Self::Weak<T>) -> Option<Self::Strong<T>>;
    /// `Arc::strong_count`.
    fn strong_count<T: Send + Sync + 'static>(a: &Self::Strong<T>) -> usize;
    /// `Weak::strong_count`.
    fn weak_strong_count<T: Send + Sync + 'static>(w: &Self::Weak<T>) -> usize;
}

macro_rules! family {
    ($(#[$doc:meta])* $name:ident, $arc:ident, $weak:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;
        impl Family for $name {
            type Strong<T: Send + Sync + 'static> = $arc<T>;
            type Weak<T: Send + Sync + 'static> = $weak<T>;
            #[inline]
            fn new<T: Send + Sync + 'static>(v: T) -> $arc<T> {
                $arc::new(v)
            }
            #[inline]
            fn downgrade<T: Send + Sync + 'static>(a: &$arc<T>) -> $weak<T> {
                $arc::downgrade(a)
            }
            #[inline]
            fn upgrade<T: Send + Sync + 'static>(w: &$weak<T>) -> Option<$arc<T>> {
                w.upgrade()
            }
            #[inline]
            fn strong_count<T: Send + Sync + 'static>(a: &$arc<T>) -> usize {
                $arc::strong_count(a)
            }
            #[inline]
            fn weak_strong_count<T: Send + Sync + 'static>(w: &$weak<T>) -> usize {
                w.strong_count()
            }
        }
    };
}

use pageref::sync::{Arc as PArc, Weak as PWeak};
use std::sync::{Arc as SArc, Weak as SWeak};

family!(
    /// `std::sync::{Arc, Weak}`.
    Std,
    SArc,
    SWeak
);
family!(
    /// `pageref::sync::{Arc, Weak}`.
    Pageref,
    PArc,
    PWeak
);

/// One contestant of the `arc-*` workloads: an `Arc` implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArcContestant {
    /// Report name (the "scheme" column).
    pub name: &'static str,
    /// One line for the reports.
    pub about: &'static str,
}

/// The contestants of the `arc-*` workloads, in report order: the
/// reference (`std`, what the "x std" ratio divides by) first.
pub const CONTESTANTS: &[ArcContestant] = &[
    ArcContestant {
        name: "std",
        about: "std::sync::Arc: Weak::upgrade is a load + CAS loop (increment unless zero)",
    },
    ArcContestant {
        name: "pageref",
        about: "pageref::sync::Arc: Weak::upgrade is one fetch_add on a count with a dead bit",
    },
];

/// The reference contestant of the `arc-*` workloads.
pub const REFERENCE: &str = "std";

/// The value in the benchmarked `Arc`s: a cache line of data, so that a
/// use of it is a real read, and a drop count for the churn check.
#[derive(Debug)]
pub struct Payload {
    data: [u64; 8],
}

impl Payload {
    fn new(seed: u64) -> Payload {
        Payload { data: [seed; 8] }
    }
    #[inline]
    fn touch(&self) -> u64 {
        self.data[0]
    }
}

/// `arc-upgrade`: upgrade a shared `Weak` and drop the `Arc`, while the
/// owner keeps one strong reference.
pub struct Upgrade<F: Family> {
    _owner: F::Strong<Payload>,
    weak: Padded<F::Weak<Payload>>,
}

impl<F: Family> Default for Upgrade<F> {
    fn default() -> Self {
        let owner = F::new(Payload::new(1));
        let weak = Padded(F::downgrade(&owner));
        Upgrade {
            _owner: owner,
            weak,
        }
    }
}

impl<F: Family> Workload for Upgrade<F> {
    type Local = u64;
    fn local(&self, _tid: usize) -> u64 {
        0
    }
    #[inline]
    fn step(&self, failed: &mut u64) {
        match F::upgrade(black_box(&self.weak.0)) {
            Some(a) => {
                black_box(a.touch());
            }
            None => *failed += 1,
        }
    }
    fn finish(&self, failed: u64, t: &mut Tally) {
        t.failed_gets += failed;
    }
    fn check_after(&self, t: &mut Tally) {
        // Every upgrade was dropped: only the owner's reference remains.
        if F::strong_count(&self._owner) != 1 {
            t.bad_puts += 1;
        }
    }
}

/// `arc-clone`: clone a shared `Arc` and drop the clone.
pub struct CloneDrop<F: Family> {
    arc: Padded<F::Strong<Payload>>,
}

impl<F: Family> Default for CloneDrop<F> {
    fn default() -> Self {
        CloneDrop {
            arc: Padded(F::new(Payload::new(2))),
        }
    }
}

impl<F: Family> Workload for CloneDrop<F> {
    type Local = ();
    fn local(&self, _tid: usize) {}
    #[inline]
    fn step(&self, _: &mut ()) {
        let c = black_box(&self.arc.0).clone();
        black_box(c.touch());
    }
    fn finish(&self, _: (), _t: &mut Tally) {}
    fn check_after(&self, t: &mut Tally) {
        if F::strong_count(&self.arc.0) != 1 {
            t.bad_puts += 1;
        }
    }
}

/// The object of `arc-churn`: counts its own drops.
#[derive(Debug)]
pub struct Churned {
    payload: Payload,
    drops: &'static AtomicU64,
}

impl Drop for Churned {
    fn drop(&mut self) {
        // ORDERING: Relaxed; a tally read after the threads are joined.
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// Steps between two re-creations of the object, per thread.
pub const CHURN_PERIOD: u64 = 64;

/// `arc-churn`: upgrades racing the last drop, with the object re-created.
pub struct Churn<F: Family> {
    /// The owner's strong reference to the current object.
    owner: Padded<Mutex<Option<F::Strong<Churned>>>>,
    /// The current object's `Weak`, for threads whose cached one died.
    current: Padded<Mutex<F::Weak<Churned>>>,
    created: Padded<AtomicU64>,
    drops: &'static AtomicU64,
}

impl<F: Family> Default for Churn<F> {
    fn default() -> Self {
        // One counter per workload instance, leaked (a few per sweep).
        let drops: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        let first = F::new(Churned {
            payload: Payload::new(3),
            drops,
        });
        let weak = F::downgrade(&first);
        Churn {
            owner: Padded(Mutex::new(Some(first))),
            current: Padded(Mutex::new(weak)),
            created: Padded(AtomicU64::new(1)),
            drops,
        }
    }
}

/// Per-thread state of [`Churn`].
pub struct ChurnLocal<F: Family> {
    weak: F::Weak<Churned>,
    steps: u64,
    failed: u64,
    recreated: u64,
}

impl<F: Family> Churn<F> {
    fn recreate(&self, seed: u64) {
        let fresh = F::new(Churned {
            payload: Payload::new(seed),
            drops: self.drops,
        });
        // ORDERING: Relaxed; a tally read after the joins.
        self.created.0.fetch_add(1, Ordering::Relaxed);
        *self.current.0.lock().unwrap() = F::downgrade(&fresh);
        // The old owner reference is dropped outside the lock: its last
        // drop races the other threads' upgrades of their cached Weaks.
        let old = self.owner.0.lock().unwrap().replace(fresh);
        drop(old);
    }
}

impl<F: Family> Workload for Churn<F> {
    type Local = ChurnLocal<F>;
    fn local(&self, tid: usize) -> ChurnLocal<F> {
        ChurnLocal {
            weak: self.current.0.lock().unwrap().clone(),
            // Threads re-create at different phases.
            steps: tid as u64 * (CHURN_PERIOD / 4),
            failed: 0,
            recreated: 0,
        }
    }
    #[inline]
    fn step(&self, l: &mut ChurnLocal<F>) {
        l.steps += 1;
        if l.steps.is_multiple_of(CHURN_PERIOD) {
            self.recreate(l.steps);
            l.recreated += 1;
        }
        match F::upgrade(black_box(&l.weak)) {
            Some(a) => {
                black_box(a.payload.touch());
            }
            None => {
                l.failed += 1;
                l.weak = self.current.0.lock().unwrap().clone();
            }
        }
    }
    fn finish(&self, l: ChurnLocal<F>, t: &mut Tally) {
        t.expected_failures += l.failed;
        t.misses += l.recreated;
    }
    fn check_after(&self, t: &mut Tally) {
        // Every object but the current one was dropped exactly once.
        // ORDERING: Relaxed; the workers were joined.
        let created = self.created.0.load(Ordering::Relaxed);
        let drops = self.drops.load(Ordering::Relaxed);
        if drops + 1 != created {
            t.bad_frees += created.abs_diff(drops + 1);
        }
    }
}

/// Runs one point of an `arc-*` workload for the contestant `name`.
pub fn measure(
    kind: Kind,
    name: &str,
    threads: usize,
    cores: &Cores,
    timing: Timing,
    iterations: Option<u64>,
) -> Sample {
    fn run<W: Workload>(
        w: &W,
        threads: usize,
        cores: &Cores,
        timing: Timing,
        iterations: Option<u64>,
    ) -> Sample {
        match iterations {
            Some(n) => run_iterations(w, n, cores),
            None => run_point(w, threads, cores, timing),
        }
    }
    fn with<F: Family>(
        kind: Kind,
        threads: usize,
        cores: &Cores,
        timing: Timing,
        iterations: Option<u64>,
    ) -> Sample {
        match kind {
            Kind::ArcUpgrade => run(&Upgrade::<F>::default(), threads, cores, timing, iterations),
            Kind::ArcClone => run(
                &CloneDrop::<F>::default(),
                threads,
                cores,
                timing,
                iterations,
            ),
            Kind::ArcChurn => run(&Churn::<F>::default(), threads, cores, timing, iterations),
            _ => unreachable!("not an arc workload: {}", kind.name()),
        }
    }
    match name {
        "std" => with::<Std>(kind, threads, cores, timing, iterations),
        "pageref" => with::<Pageref>(kind, threads, cores, timing, iterations),
        _ => unreachable!("not an arc contestant: {name}"),
    }
}

impl<F: Family> fmt::Debug for Upgrade<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrade")
            .field("family", &std::any::type_name::<F>())
            .finish_non_exhaustive()
    }
}

impl<F: Family> fmt::Debug for CloneDrop<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloneDrop")
            .field("family", &std::any::type_name::<F>())
            .finish_non_exhaustive()
    }
}

impl<F: Family> fmt::Debug for Churn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Churn")
            .field("family", &std::any::type_name::<F>())
            .finish_non_exhaustive()
    }
}

impl<F: Family> fmt::Debug for ChurnLocal<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChurnLocal")
            .field("family", &std::any::type_name::<F>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cores() -> Cores {
        Cores::detect()
    }

    /// Each workload runs clean on both contestants, and counts what it
    /// should (fixed iterations, one thread).
    #[test]
    fn workloads_run_clean() {
        for name in ["std", "pageref"] {
            for k in [Kind::ArcUpgrade, Kind::ArcClone, Kind::ArcChurn] {
                let timing = Timing {
                    warmup: std::time::Duration::from_millis(1),
                    duration: std::time::Duration::from_millis(5),
                };
                let s = measure(k, name, 1, &cores(), timing, Some(1000));
                assert_eq!(s.ops, 1000);
                assert_eq!(s.tally.bugs(), 0, "{name} {}: {:?}", k.name(), s.tally);
                if k == Kind::ArcChurn {
                    assert_eq!(s.tally.misses, 1000 / CHURN_PERIOD, "{name}");
                }
                let s = measure(k, name, 2, &cores(), timing, None);
                assert_eq!(s.tally.bugs(), 0, "{name} {}: {:?}", k.name(), s.tally);
            }
        }
    }

    /// A planted bug: a family whose upgrade fails every 5th call and whose
    /// new never drops. The checks of the workloads count both.
    #[test]
    fn checks_catch_planted_bugs() {
        struct Flaky;
        static CALLS: AtomicU64 = AtomicU64::new(0);
        impl Family for Flaky {
            type Strong<T: Send + Sync + 'static> = SArc<T>;
            type Weak<T: Send + Sync + 'static> = SWeak<T>;
            fn new<T: Send + Sync + 'static>(v: T) -> SArc<T> {
                let a = SArc::new(v);
                // Leak one reference: the object is never dropped.
                std::mem::forget(a.clone());
                a
            }
            fn downgrade<T: Send + Sync + 'static>(a: &SArc<T>) -> SWeak<T> {
                SArc::downgrade(a)
            }
            fn upgrade<T: Send + Sync + 'static>(w: &SWeak<T>) -> Option<SArc<T>> {
                // ORDERING: Relaxed; a single-threaded test counter.
                if CALLS.fetch_add(1, Ordering::Relaxed).is_multiple_of(5) {
                    None
                } else {
                    w.upgrade()
                }
            }
            fn strong_count<T: Send + Sync + 'static>(a: &SArc<T>) -> usize {
                SArc::strong_count(a)
            }
            fn weak_strong_count<T: Send + Sync + 'static>(w: &SWeak<T>) -> usize {
                w.strong_count()
            }
        }
        let c = cores();
        let s = run_iterations(&Upgrade::<Flaky>::default(), 100, &c);
        assert_eq!(s.tally.failed_gets, 20);
        assert!(s.tally.bad_puts > 0, "the leaked reference is left over");
        let s = run_iterations(&Churn::<Flaky>::default(), 1000, &c);
        assert!(s.tally.bad_frees > 0, "objects never dropped");
    }
}
