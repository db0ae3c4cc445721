//! Running shuttle tests of the shipped code, with traces.
//!
//! Shuttle (<https://docs.rs/shuttle/0.9>) runs the model threads under a
//! randomized scheduler; we use PCT (probabilistic concurrency testing,
//! Burckhardt et al., ASPLOS 2010), which finds any bug of depth `d` with
//! probability at least `1 / (n * k^(d-1))` per run (`n` threads, `k`
//! steps), with a fixed seed so that CI runs are reproducible. Shuttle is
//! sequentially consistent and has no data-race detector: it is for long
//! histories with many threads, where loom cannot go; loom covers the weak
//! memory model.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::loom_harness::{panic_message, Failed};
use crate::page::{Contents, DataCell, Page};
use crate::trace::{self, ThreadIndex, Traced};

shuttle::thread_local! {
    static INDEX: Cell<usize> = Cell::new(0);
}

/// Model-thread index under shuttle (0 for the test body's own thread).
#[derive(Debug)]
pub struct ShuttleThreads;

impl ThreadIndex for ShuttleThreads {
    fn current() -> usize {
        INDEX.with(|i| i.get())
    }
}

/// The 32-bit counter word of every shuttle test: shuttle's `AtomicU32`
/// (pageref's feature `shuttle` implements `AtomicWord` for it), traced.
pub type ShuttleWord = Traced<shuttle::sync::atomic::AtomicU32, ShuttleThreads>;

/// The 64-bit counter word of the shuttle tests (`FileRef`): shuttle's
/// `AtomicU64`, traced.
pub type ShuttleWord64 = Traced<shuttle::sync::atomic::AtomicU64, ShuttleThreads>;

/// Page contents under shuttle: a plain mutex-protected cell (shuttle has no
/// race detector; the page's shadow checks do the work).
#[derive(Debug)]
pub struct PlainCell(Mutex<Contents>);

impl DataCell for PlainCell {
    fn new(c: Contents) -> Self {
        PlainCell(Mutex::new(c))
    }
    fn read(&self) -> Contents {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self, f: impl FnOnce(&mut Contents)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A modelled page under shuttle.
pub type ShuttlePage<R> = Page<R, PlainCell, ShuttleThreads>;

/// Spawns model thread number `index` (1, 2, ...).
pub fn spawn<F, O>(index: usize, f: F) -> shuttle::thread::JoinHandle<O>
where
    F: FnOnce() -> O + Send + 'static,
    O: Send + 'static,
{
    shuttle::thread::spawn(move || {
        INDEX.with(|i| i.set(index));
        f()
    })
}

/// Runs `body` under shuttle's PCT scheduler (`depth`, `iterations`, fixed
/// `seed`); returns the number of executions run and the wall time, or on
/// failure the message and the failing execution's table.
pub fn check_pct<F>(
    seed: u64,
    depth: usize,
    iterations: usize,
    body: F,
) -> Result<(u64, Duration), Failed>
where
    F: Fn() + Send + Sync + 'static,
{
    let scheduler = shuttle::scheduler::PctScheduler::new_from_seed(seed, depth, iterations);
    let runner = shuttle::Runner::new(scheduler, Default::default());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = count.clone();
    let start = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| {
        runner.run(move || {
            trace::reset();
            // ORDERING: Relaxed; a statistic on one OS thread.
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            body();
        })
    }));
    match r {
        // ORDERING: Relaxed; read after the run, same OS thread.
        Ok(_) => Ok((
            count.load(std::sync::atomic::Ordering::Relaxed),
            start.elapsed(),
        )),
        Err(p) => Err(Failed {
            message: panic_message(&*p),
            table: trace::render(&trace::snapshot()),
            // ORDERING: Relaxed; read after the run, same OS thread.
            executions: count.load(std::sync::atomic::Ordering::Relaxed),
        }),
    }
}
