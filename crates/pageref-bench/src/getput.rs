//! The `getput` workload: the refcount alone, one shared counter.

use pageref::PageRef;

use crate::harness::{spin, Padded, Tally, Workload};

/// `getput`: one shared counter, held once by its "owner" for the whole run
/// (a page in the page cache), that every thread try_gets and puts.
///
/// Each step is `try_get`, `--critical` spin steps while holding, `put`
/// (`dec_and_test`), then `--parallel` spin steps. The get can never fail
/// and the put can never reach zero (the owner's reference keeps the count
/// at 1 or more): either is counted as a bug.
#[derive(Debug)]
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
#[derive(Default, Debug)]
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
