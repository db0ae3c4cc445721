//! The workloads, named after what they model.

use pageref::PageRef;

use crate::harness::{spin, Padded, Tally, Workload};

/// Every workload the sweep knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Every thread try_gets and puts one shared counter.
    GetPut,
    /// The series' benchmark on the page-cache model: 64 bytes at offset 0 of one shared file.
    Pread,
    /// As `Pread`, through `pread_fast`: no reference, validated by the seqcount.
    PreadFast,
    /// Each thread reads its own page (no sharing: the control).
    Spread,
    /// Readers plus a reclaimer/truncator that freeze, evict and refill.
    Churn,
    /// As `Churn`, the readers on `pread_fast` (reports the fallback rate).
    ChurnFast,
    /// `pread(fd, buf, 64, 0)` on one tmpfs file shared by all threads (the running kernel).
    KernelPread,
    /// As `KernelPread`, one file per thread (the no-sharing control).
    KernelPreadOwn,
    /// `Weak::upgrade` + drop of one shared `Weak` (std vs pageref `Arc`).
    ArcUpgrade,
    /// `Arc::clone` + drop of one shared `Arc` (std vs pageref).
    ArcClone,
    /// Upgrades racing the last drop, the object re-created (std vs pageref).
    ArcChurn,
}

impl Kind {
    /// Every workload, in report order.
    pub const ALL: [Kind; 11] = [
        Kind::GetPut,
        Kind::Pread,
        Kind::PreadFast,
        Kind::Spread,
        Kind::Churn,
        Kind::ChurnFast,
        Kind::KernelPread,
        Kind::KernelPreadOwn,
        Kind::ArcUpgrade,
        Kind::ArcClone,
        Kind::ArcChurn,
    ];

    /// The default sweep's workloads: the refcount alone, then the
    /// page-cache read three ways side by side (one shared page through the
    /// refcount, the same page with no reference, one page per thread).
    pub const DEFAULT: [Kind; 4] = [Kind::GetPut, Kind::Pread, Kind::PreadFast, Kind::Spread];

    /// Command-line and report name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::GetPut => "getput",
            Kind::Pread => "pread",
            Kind::PreadFast => "pread-fast",
            Kind::Spread => "spread",
            Kind::Churn => "churn",
            Kind::ChurnFast => "churn-fast",
            Kind::KernelPread => "kernel-pread",
            Kind::KernelPreadOwn => "kernel-pread-own",
            Kind::ArcUpgrade => "arc-upgrade",
            Kind::ArcClone => "arc-clone",
            Kind::ArcChurn => "arc-churn",
        }
    }

    /// One line for the reports.
    pub fn about(self) -> &'static str {
        match self {
            Kind::GetPut => "every thread try_gets and puts one shared counter (lockhammer style)",
            Kind::Pread => "page-cache model: each thread reads 64 bytes at offset 0 of the same file (lookup, try_get, re-check, copy, put)",
            Kind::PreadFast => "page-cache model: as pread, through pread_fast (no reference: seqcount-validated copy, refcounted fallback)",
            Kind::Spread => "page-cache model: each thread reads its own page (no sharing: the control)",
            Kind::Churn => "page-cache model: readers, plus one unmeasured reclaimer/truncator thread that freezes, evicts and refills",
            Kind::ChurnFast => "page-cache model: churn with the readers on pread_fast (the notes give the fallback rate)",
            Kind::KernelPread => "running kernel: pread(fd, buf, 64, 0) on one shared tmpfs file (will-it-scale pread2)",
            Kind::KernelPreadOwn => "running kernel: pread(fd, buf, 64, 0), one tmpfs file per thread (will-it-scale pread1)",
            Kind::ArcUpgrade => "std vs pageref Arc: every thread upgrades one shared Weak and drops the Arc, while an owner holds a strong reference",
            Kind::ArcClone => "std vs pageref Arc: every thread clones one shared Arc and drops the clone",
            Kind::ArcChurn => "std vs pageref Arc: upgrades racing the last drop; each thread re-creates the object every 64 steps",
        }
    }

    /// The workload named `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The names of every workload, comma-separated.
    pub fn all_names() -> String {
        Kind::ALL.map(|k| k.name()).join(", ")
    }

    /// Whether the workload runs once per scheme (false: the running
    /// kernel's own refcount, and the `arc-*` workloads, whose contestants
    /// are `Arc` implementations).
    pub fn per_scheme(self) -> bool {
        !self.is_kernel() && !self.is_arc()
    }

    /// Whether the workload measures the running kernel.
    pub fn is_kernel(self) -> bool {
        matches!(self, Kind::KernelPread | Kind::KernelPreadOwn)
    }

    /// Whether the workload compares `Arc` implementations
    /// ([`crate::arc::CONTESTANTS`]) instead of page refcount schemes.
    pub fn is_arc(self) -> bool {
        matches!(self, Kind::ArcUpgrade | Kind::ArcClone | Kind::ArcChurn)
    }

    /// Whether the workload freezes pages, so that only correct refcounts
    /// may run it (not the floor).
    pub fn freezes(self) -> bool {
        matches!(self, Kind::Churn | Kind::ChurnFast)
    }
}

/// `getput`: one shared counter, held once by its "owner" for the whole run
/// (a page in the page cache), that every thread try_gets and puts.
///
/// Each step is `try_get`, `--critical` spin steps while holding, `put`
/// (`dec_and_test`), then `--parallel` spin steps. The get can never fail
/// and the put can never reach zero (the owner's reference keeps the count
/// at 1 or more): either is counted as a bug.
pub struct GetPut<R> {
    counter: Padded<R>,
    critical: u32,
    parallel: u32,
}

impl<R: PageRef> GetPut<R> {
    /// A counter at 1 (the owner's reference), with the delay knobs.
    pub fn new(critical: u32, parallel: u32) -> Self {
        GetPut {
            counter: Padded(R::new(1)),
            critical,
            parallel,
        }
    }
}

/// Per-thread state of [`GetPut`].
#[derive(Default)]
pub struct GetPutLocal {
    failed: u64,
    bad_puts: u64,
}

impl<R: PageRef> Workload for GetPut<R> {
    type Local = GetPutLocal;
    fn local(&self, _tid: usize) -> GetPutLocal {
        GetPutLocal::default()
    }
    #[inline]
    fn step(&self, l: &mut GetPutLocal) {
        // black_box: the optimiser must neither hoist nor merge the
        // operations across iterations.
        let r = std::hint::black_box(&self.counter.0);
        if r.try_get() {
            spin(self.critical);
            if r.dec_and_test() {
                l.bad_puts += 1;
            }
        } else {
            l.failed += 1;
        }
        spin(self.parallel);
    }
    fn finish(&self, l: GetPutLocal, t: &mut Tally) {
        t.failed_gets += l.failed;
        t.bad_puts += l.bad_puts;
    }
    fn check_after(&self, t: &mut Tally) {
        // Every get was balanced by a put: the owner's 1 must remain.
        if self.counter.0.count() != 1 {
            t.bad_puts += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{run_iterations, Cores};
    use core::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
        }
        assert_eq!(Kind::parse("getputs"), None);
    }

    /// A planted bug: a counter whose try_get fails every 7th call and whose
    /// put claims the last reference every 5th call. The getput checker must
    /// count exactly those.
    struct Flaky {
        calls: AtomicU32,
        inner: pageref::FrozenRef,
    }
    impl PageRef for Flaky {
        const NAME: &'static str = "flaky";
        const MAX_COUNT: u32 = i32::MAX as u32;
        const WORD_BITS: u32 = 32;
        const REVIVES_ZERO: bool = true;
        const ZERO_IS_FINAL: bool = false;
        fn new(c: u32) -> Self {
            Flaky {
                calls: AtomicU32::new(0),
                inner: PageRef::new(c),
            }
        }
        fn new_frozen() -> Self {
            unreachable!()
        }
        fn raw(&self) -> u64 {
            self.inner.raw()
        }
        fn count(&self) -> u32 {
            self.inner.count()
        }
        fn is_frozen(&self) -> bool {
            self.inner.is_frozen()
        }
        fn init(&self) {}
        fn set_frozen(&self) {}
        fn add(&self, nr: u32) {
            self.inner.add(nr)
        }
        fn sub(&self, nr: u32) {
            self.inner.sub(nr)
        }
        fn inc_return(&self) -> u32 {
            self.inner.inc_return()
        }
        fn sub_return(&self, nr: u32) -> u32 {
            self.inner.sub_return(nr)
        }
        fn sub_and_test(&self, nr: u32) -> bool {
            // ORDERING: Relaxed; a single-threaded test counter.
            let n = self.calls.fetch_add(1, Ordering::Relaxed);
            self.inner.sub_and_test(nr) || n.is_multiple_of(5)
        }
        fn add_unless_frozen(&self, nr: u32) -> bool {
            // ORDERING: Relaxed; a single-threaded test counter.
            let n = self.calls.fetch_add(1, Ordering::Relaxed);
            !n.is_multiple_of(7) && self.inner.add_unless_frozen(nr)
        }
        fn freeze(&self, e: u32) -> bool {
            self.inner.freeze(e)
        }
        fn unfreeze(&self, c: u32) {
            self.inner.unfreeze(c)
        }
        fn from_raw(_: u64) -> Self {
            unreachable!()
        }
    }

    #[test]
    fn getput_counts_planted_failures() {
        let w = GetPut::<Flaky>::new(0, 0);
        let s = run_iterations(&w, 700, &Cores::detect());
        assert!(s.tally.failed_gets > 0, "{:?}", s.tally);
        assert!(s.tally.bad_puts > 0, "{:?}", s.tally);
        assert!(s.tally.bugs() > 0);
        // The correct schemes show none.
        let w = GetPut::<pageref::FrozenRef>::new(3, 3);
        let s = run_iterations(&w, 700, &Cores::detect());
        assert_eq!(s.tally.bugs(), 0, "{:?}", s.tally);
        let w = GetPut::<pageref::ClassicRef>::new(0, 0);
        assert_eq!(run_iterations(&w, 700, &Cores::detect()).tally.bugs(), 0);
    }
}
