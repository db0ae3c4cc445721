//! The measuring loop, in the style of will-it-scale and ARM's lockhammer.
//!
//! One measured *point* is one workload at one thread count for one scheme:
//!
//! 1. `threads` workers are spawned, each pinned to its own core
//!    (`core_affinity`; round-robin with a warning when there are more
//!    threads than cores), and build their per-thread state;
//! 2. all of them, and the main thread, meet on a barrier, so that they start
//!    together;
//! 3. the workers loop on the workload's step, publishing their op count
//!    every [`BATCH`] steps into their own 128-byte-aligned slot (two cache
//!    lines, against adjacent-line prefetch), so that counting adds no
//!    shared-line traffic;
//! 4. the main thread sleeps through the warm-up, samples every slot, sleeps
//!    for the measured duration, samples again, and stops the workers. The
//!    throughput is (second sample - first sample) / elapsed time.
//!
//! The workload reports anomalies (a failed get where none can fail, a put
//! that wrongly reached zero, a short read) in a [`Tally`]; the sweep reports
//! them and exits non-zero.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Steps between two publications of a worker's op count.
pub const BATCH: u64 = 32;

/// A value alone in its own 128-byte block (two cache lines, so that the
/// adjacent-line prefetcher cannot make neighbours share).
#[repr(align(128))]
#[derive(Debug, Default)]
pub struct Padded<T>(pub T);

/// What a workload counted besides its operations. Every field except
/// `retries`, `misses`, `expected_failures`, `fast_reads` and `fallbacks`
/// is a bug when non-zero.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Gets that failed where no get can fail (getput, pread, pread-fast,
    /// spread): a bug.
    pub failed_gets: u64,
    /// Puts that reported reaching zero while the owner still held its
    /// reference: a bug.
    pub bad_puts: u64,
    /// Reads that returned fewer bytes than asked where the data exists: a bug.
    pub short_reads: u64,
    /// Double frees and bad-page frees reported by the page-cache model's
    /// allocator: a bug.
    pub bad_frees: u64,
    /// Gets that failed where failure is legal (churn: racing a reclaim).
    pub expected_failures: u64,
    /// Lookups retried after a failed get or a failed re-check (churn).
    pub retries: u64,
    /// Page-cache misses (churn refills).
    pub misses: u64,
    /// Reads `pread_fast` completed without a reference (pread-fast,
    /// churn-fast).
    pub fast_reads: u64,
    /// Reads `pread_fast` handed to the refcounted read (a writer was
    /// active, or the page was missing).
    pub fallbacks: u64,
}

impl Tally {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Tally) {
        self.failed_gets += other.failed_gets;
        self.bad_puts += other.bad_puts;
        self.short_reads += other.short_reads;
        self.bad_frees += other.bad_frees;
        self.expected_failures += other.expected_failures;
        self.retries += other.retries;
        self.misses += other.misses;
        self.fast_reads += other.fast_reads;
        self.fallbacks += other.fallbacks;
    }

    /// The number of anomalies that are bugs.
    pub fn bugs(&self) -> u64 {
        self.failed_gets + self.bad_puts + self.short_reads + self.bad_frees
    }
}

/// A benchmark workload: shared state (`self`) plus per-thread state.
pub trait Workload: Sync {
    /// Per-thread state, built on the worker's own (pinned) thread.
    type Local;
    /// Builds thread `tid`'s state.
    fn local(&self, tid: usize) -> Self::Local;
    /// One operation (one try_get + put pair, one pread, ...).
    fn step(&self, local: &mut Self::Local);
    /// Adds what thread `tid` counted besides operations.
    fn finish(&self, local: Self::Local, tally: &mut Tally);
    /// Whether [`background`](Self::background) must run on an extra,
    /// unmeasured thread during the point.
    const BACKGROUND: bool = false;
    /// The unmeasured background activity (churn's reclaimer and truncator),
    /// run until `stop` is set.
    fn background(&self, stop: &AtomicBool, tally: &mut Tally) {
        let _ = (stop, tally);
    }
    /// Checks the shared state after the point (e.g. the count is back to
    /// its initial value); adds any bug found.
    fn check_after(&self, tally: &mut Tally) {
        let _ = tally;
    }
}

/// Timing of one point.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Unmeasured time before the first sample.
    pub warmup: Duration,
    /// Measured time between the two samples.
    pub duration: Duration,
}

/// The result of one measured point.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Operations completed between the two samples, all threads together.
    pub ops: u64,
    /// Seconds between the two samples.
    pub secs: f64,
    /// What the workload counted besides operations.
    pub tally: Tally,
}

impl Sample {
    /// Millions of operations per second, all threads together.
    pub fn mops(&self) -> f64 {
        self.ops as f64 / self.secs / 1e6
    }
}

/// The cores that workers are pinned to, in order.
#[derive(Debug, Clone)]
pub struct Cores {
    ids: Vec<core_affinity::CoreId>,
}

impl Cores {
    /// The cores this process may run on (empty if pinning is unsupported).
    pub fn detect() -> Self {
        Cores {
            ids: core_affinity::get_core_ids().unwrap_or_default(),
        }
    }

    /// How many cores threads can be pinned to (at least 1, falling back on
    /// the available parallelism where pinning is unsupported).
    pub fn count(&self) -> usize {
        if self.ids.is_empty() {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.ids.len()
        }
    }

    /// Pins the calling thread to the core for worker `tid` (round-robin).
    pub fn pin(&self, tid: usize) {
        if !self.ids.is_empty() {
            core_affinity::set_for_current(self.ids[tid % self.ids.len()]);
        }
    }
}

/// Busy work of `n` steps (about a nanosecond each) that the optimiser cannot
/// remove: the `--critical` and `--parallel` delays.
#[inline]
pub fn spin(n: u32) {
    for i in 0..n {
        std::hint::black_box(i);
    }
}

/// Measures one point: `threads` pinned workers running `w` together.
pub fn run_point<W: Workload>(w: &W, threads: usize, cores: &Cores, timing: Timing) -> Sample {
    assert!(threads > 0);
    let slots: Vec<Padded<AtomicU64>> = (0..threads).map(|_| Padded::default()).collect();
    let stop = Padded(AtomicBool::new(false));
    let barrier = Barrier::new(threads + 1 + usize::from(W::BACKGROUND));
    let mut tally = Tally::default();
    let (ops, secs) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|tid| {
                let (slots, stop, barrier) = (&slots, &stop, &barrier);
                s.spawn(move || {
                    cores.pin(tid);
                    let mut local = w.local(tid);
                    barrier.wait();
                    let mut done = 0u64;
                    // ORDERING: Relaxed. The flag only tells the loop to end;
                    // the results travel through the thread join, which
                    // synchronises on its own.
                    while !stop.0.load(Ordering::Relaxed) {
                        for _ in 0..BATCH {
                            w.step(&mut local);
                        }
                        done += BATCH;
                        // ORDERING: Relaxed. A progress counter sampled by
                        // the main thread; it orders nothing else, and the
                        // sample only needs some recent value.
                        slots[tid].0.store(done, Ordering::Relaxed);
                    }
                    let mut t = Tally::default();
                    w.finish(local, &mut t);
                    t
                })
            })
            .collect();
        let background = W::BACKGROUND.then(|| {
            let (stop, barrier) = (&stop, &barrier);
            s.spawn(move || {
                // Next to the workers, round-robin, so that its placement is
                // the same from run to run.
                cores.pin(threads);
                let mut t = Tally::default();
                barrier.wait();
                w.background(&stop.0, &mut t);
                t
            })
        });
        // ORDERING: Relaxed loads of the progress counters (see above).
        let sum = || -> u64 { slots.iter().map(|c| c.0.load(Ordering::Relaxed)).sum() };
        barrier.wait();
        std::thread::sleep(timing.warmup);
        let (c0, t0) = (sum(), Instant::now());
        std::thread::sleep(timing.duration);
        let (c1, secs) = (sum(), t0.elapsed().as_secs_f64());
        // ORDERING: Relaxed; see the workers' load.
        stop.0.store(true, Ordering::Relaxed);
        for h in workers.into_iter().chain(background) {
            tally.add(&h.join().expect("benchmark worker panicked"));
        }
        (c1 - c0, secs)
    });
    w.check_after(&mut tally);
    Sample { ops, secs, tally }
}

/// Runs exactly `iterations` steps on the calling thread (pinned to the
/// first core): the fixed-work mode for instruction counting under
/// `valgrind --tool=callgrind`, where timing is meaningless.
pub fn run_iterations<W: Workload>(w: &W, iterations: u64, cores: &Cores) -> Sample {
    cores.pin(0);
    let mut local = w.local(0);
    let t0 = Instant::now();
    iterate(w, &mut local, iterations);
    let secs = t0.elapsed().as_secs_f64();
    let mut tally = Tally::default();
    w.finish(local, &mut tally);
    w.check_after(&mut tally);
    Sample {
        ops: iterations,
        secs,
        tally,
    }
}

/// The fixed-work loop, out of line so that profilers can single it out.
#[inline(never)]
fn iterate<W: Workload>(w: &W, local: &mut W::Local, iterations: u64) {
    for _ in 0..iterations {
        w.step(local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Count(AtomicU64);
    impl Workload for Count {
        type Local = u64;
        fn local(&self, _tid: usize) -> u64 {
            0
        }
        fn step(&self, l: &mut u64) {
            *l += 1;
        }
        fn finish(&self, l: u64, _t: &mut Tally) {
            // ORDERING: Relaxed; read after the joins.
            self.0.fetch_add(l, Ordering::Relaxed);
        }
    }

    /// A workload whose every worker reports one retry and whose check
    /// after the point reports one miss: what each thread and the check
    /// counted reaches the sample, however little the point ran.
    struct Tallied(AtomicU64);
    impl Workload for Tallied {
        type Local = ();
        fn local(&self, _tid: usize) {}
        fn step(&self, _l: &mut ()) {
            // ORDERING: Relaxed; read after the joins.
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        fn finish(&self, _l: (), t: &mut Tally) {
            t.retries += 1;
        }
        fn check_after(&self, t: &mut Tally) {
            t.misses += 1;
        }
    }

    /// What a timed point counts, without asserting how much got done in
    /// its 20 ms (a loaded machine may not schedule the workers at all):
    /// the sampled ops never exceed what the workers did, come in whole
    /// batches, and the elapsed time covers the sleep; every worker's tally
    /// and the final check reach the sample. The fixed-work mode runs
    /// exactly what it is asked.
    #[test]
    fn counts_what_was_done() {
        let w = Count(AtomicU64::new(0));
        let timing = Timing {
            warmup: Duration::from_millis(5),
            duration: Duration::from_millis(20),
        };
        let s = run_point(&w, 2, &Cores::detect(), timing);
        // ORDERING: Relaxed; the workers were joined inside run_point.
        let done = w.0.load(Ordering::Relaxed);
        assert!(s.ops <= done, "{} sampled, {done} done", s.ops);
        assert_eq!(s.ops % BATCH, 0, "{}", s.ops);
        assert!(s.secs >= timing.duration.as_secs_f64(), "{}", s.secs);

        let w = Tallied(AtomicU64::new(0));
        let s = run_point(&w, 3, &Cores::detect(), timing);
        assert_eq!((s.tally.retries, s.tally.misses), (3, 1), "{:?}", s.tally);

        let s = run_iterations(&w, 1000, &Cores::detect());
        assert_eq!(s.ops, 1000);
        assert_eq!((s.tally.retries, s.tally.misses), (1, 1), "{:?}", s.tally);
        // ORDERING: Relaxed; run_iterations ran on this thread.
        let steps = w.0.load(Ordering::Relaxed);
        // Both points' steps: the timed one's (any number) and exactly 1000.
        assert!(steps >= 1000, "{steps}");
    }

    #[test]
    fn padded_is_two_lines() {
        assert_eq!(std::mem::align_of::<Padded<AtomicU64>>(), 128);
        assert_eq!(std::mem::size_of::<Padded<AtomicU64>>(), 128);
    }
}
