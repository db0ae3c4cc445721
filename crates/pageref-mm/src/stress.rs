//! The stress harness: many threads mixing `pread`, reclaim, truncate,
//! refills and allocation churn on one small [`PageCache`], with checks that
//! run on every operation, not only at the end.
//!
//! Checks (violation kinds in the report):
//!
//! * `bad_data`: a reader copied bytes that are not those of the (file,
//!   index, version, generation) it validated when it pinned the page, or it
//!   validated a page owned by another (file, index); an allocation-churn
//!   thread found its private page overwritten;
//! * `gen_changed`: a holder saw its page's generation change while holding
//!   a reference (the page was freed and reallocated under it);
//! * `double_free`: the allocator was asked to free an incarnation that was
//!   already free ([`KernelReports::double_free`](crate::KernelReports));
//! * `bad_page`: the allocator was given, or found on its free list, a page
//!   whose refcount is not frozen ([`KernelReports::bad_page`](crate::KernelReports));
//! * `leak`: at the end, a page that is neither free and frozen nor cached
//!   with exactly the cache's reference ([`PageCache::audit`]);
//! * `panic`: a refcount misuse check (or any other panic) fired in a worker,
//!   which then stops.
//!
//! To make races likely on a machine with few cores, readers yield at the
//! race windows of the lookup (between loading the slot and `try_get`,
//! between `try_get` and the re-check, while holding) with probability
//! `1 / widen_one_in`, and the allocator reuses the most recently freed page
//! first.

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pageref::{
    AtomicWord, ClassicRef, FrozenRef, LowBitRef, OptimisticRef, PageRef, RelaxedFinal, StickyRef,
};

use crate::cache::{Page, ReadHook, Window};
use crate::env::{Env, StdEnv};
use crate::stamp::{self, NO_OWNER};
use crate::{CacheConfig, FileId, PageCache, ReadStats};

/// Relative weights of the operations a stress worker picks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpMix {
    /// `pread` of 1 to 256 bytes at a random offset of a random file
    /// (refills missing pages).
    pub read: u32,
    /// `pread(file 0, offset 0, 64 bytes)`: everyone on one hot page.
    pub hot_read: u32,
    /// `reclaim` of a random (file, index).
    pub reclaim: u32,
    /// `truncate` of a random (file, index).
    pub truncate: u32,
    /// Allocate a private page, stamp it, hold it, check it, put it.
    pub churn: u32,
}

impl Default for OpMix {
    fn default() -> Self {
        OpMix {
            read: 60,
            hot_read: 15,
            reclaim: 10,
            truncate: 8,
            churn: 7,
        }
    }
}

/// What a stress run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StressConfig {
    /// Worker threads.
    pub threads: usize,
    /// How long the workers run.
    pub duration: Duration,
    /// Seed of the workers' random choices (scheduling adds its own
    /// randomness, so runs are not reproducible).
    pub seed: u64,
    /// The cache under stress; small, so that pages are reclaimed and
    /// reused all the time.
    pub cache: CacheConfig,
    /// The operation mix.
    pub mix: OpMix,
    /// Yield at a race window with probability `1 / widen_one_in`; 0 = never.
    pub widen_one_in: u32,
    /// Stop all workers at the first violation (for tests that time how
    /// fast a planted bug is caught).
    pub stop_on_violation: bool,
}

impl Default for StressConfig {
    fn default() -> Self {
        StressConfig {
            threads: 4,
            duration: Duration::from_secs(2),
            seed: 0x5eed,
            cache: CacheConfig {
                files: 4,
                pages_per_file: 8,
                arena_pages: 48,
                page_size: 1024,
            },
            mix: OpMix::default(),
            widen_one_in: 32,
            stop_on_violation: false,
        }
    }
}

impl StressConfig {
    /// Checks the configuration; `Err` holds a one-line reason.
    pub fn validate(&self) -> Result<(), String> {
        if self.threads == 0 || self.threads > 1024 {
            return Err(format!("threads must be in 1..=1024, got {}", self.threads));
        }
        let m = self.mix;
        if [m.read, m.hot_read, m.reclaim, m.truncate, m.churn]
            .iter()
            .map(|&w| u64::from(w))
            .sum::<u64>()
            == 0
        {
            return Err("the operation mix has no operation".to_string());
        }
        self.cache.validate()
    }
}

/// The kinds of violation the checks report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Kind {
    BadData,
    GenChanged,
    DoubleFree,
    BadPage,
    Leak,
    Panic,
}

const KIND_NAMES: [&str; 6] = [
    "bad_data",
    "gen_changed",
    "double_free",
    "bad_page",
    "leak",
    "panic",
];

/// Violations found, per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Violations {
    /// Bytes that do not belong to what the reader validated.
    pub bad_data: u64,
    /// A held page changed generation.
    pub gen_changed: u64,
    /// A page incarnation freed twice.
    pub double_free: u64,
    /// A page freed or found free without its refcount frozen.
    pub bad_page: u64,
    /// Pages or references leaked (end-of-run audit).
    pub leak: u64,
    /// Panics in workers (refcount misuse checks).
    pub panic: u64,
}

impl Violations {
    fn as_array(&self) -> [u64; 6] {
        [
            self.bad_data,
            self.gen_changed,
            self.double_free,
            self.bad_page,
            self.leak,
            self.panic,
        ]
    }

    /// All violations together.
    pub fn total(&self) -> u64 {
        self.as_array().iter().sum()
    }
}

/// Operations done, per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OpCounts {
    /// `pread` calls (random and hot).
    pub reads: u64,
    /// Bytes those reads returned and the checks validated.
    pub read_bytes: u64,
    /// Reads that returned fewer bytes than asked because no page was free.
    pub short_reads: u64,
    /// The read path's counters, summed over the workers.
    pub hits: u64,
    /// See [`ReadStats::misses`]: each is a refill attempt.
    pub misses: u64,
    /// See [`ReadStats::failed_gets`].
    pub failed_gets: u64,
    /// See [`ReadStats::retries`].
    pub retries: u64,
    /// `reclaim` calls.
    pub reclaims: u64,
    /// `reclaim` calls that froze and freed a page.
    pub reclaimed: u64,
    /// `truncate` calls.
    pub truncates: u64,
    /// `truncate` calls that removed a page.
    pub truncated: u64,
    /// Allocation-churn rounds that got a page.
    pub churn: u64,
    /// Allocation-churn rounds that found no free page.
    pub churn_oom: u64,
}

impl OpCounts {
    fn add(&mut self, o: &OpCounts) {
        self.reads += o.reads;
        self.read_bytes += o.read_bytes;
        self.short_reads += o.short_reads;
        self.hits += o.hits;
        self.misses += o.misses;
        self.failed_gets += o.failed_gets;
        self.retries += o.retries;
        self.reclaims += o.reclaims;
        self.reclaimed += o.reclaimed;
        self.truncates += o.truncates;
        self.truncated += o.truncated;
        self.churn += o.churn;
        self.churn_oom += o.churn_oom;
    }

    /// All operations together.
    pub fn total(&self) -> u64 {
        self.reads + self.reclaims + self.truncates + self.churn + self.churn_oom
    }
}

/// The outcome of a stress run. `Display` writes one summary line.
#[derive(Debug, Clone)]
pub struct StressReport {
    /// The scheme's name.
    pub scheme: String,
    /// Worker threads.
    pub threads: usize,
    /// How long the workers ran.
    pub elapsed: Duration,
    /// Operations done.
    pub ops: OpCounts,
    /// Violations found.
    pub violations: Violations,
    /// When the first violation was found, and what it was.
    pub first_violation: Option<(Duration, String)>,
    /// The end-of-run audit.
    pub audit: crate::Audit,
}

impl StressReport {
    /// The number of violations of every kind together.
    pub fn violations(&self) -> u64 {
        self.violations.total()
    }
}

impl fmt::Display for StressReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.ops;
        write!(
            f,
            "stress scheme={} threads={} seconds={:.2} ops={} reads={} (bytes={} hits={} misses={} failed_gets={} retries={} short={}) reclaims={} (freed={}) truncates={} (removed={}) churn={} (oom={}) violations={}",
            self.scheme,
            self.threads,
            self.elapsed.as_secs_f64(),
            o.total(),
            o.reads,
            o.read_bytes,
            o.hits,
            o.misses,
            o.failed_gets,
            o.retries,
            o.short_reads,
            o.reclaims,
            o.reclaimed,
            o.truncates,
            o.truncated,
            o.churn,
            o.churn_oom,
            self.violations(),
        )?;
        let v = self.violations.as_array();
        for (name, n) in KIND_NAMES.iter().zip(v) {
            write!(f, " {name}={n}")?;
        }
        if let Some((t, what)) = &self.first_violation {
            write!(f, " first_after={:.3}s first=\"{what}\"", t.as_secs_f64())?;
        }
        Ok(())
    }
}

/// State shared by the workers of one run.
pub(crate) struct Shared {
    stop: AtomicBool,
    start: Instant,
    stop_on_violation: bool,
    counts: [AtomicU64; 6],
    first: Mutex<Option<(Duration, String)>>,
}

impl Shared {
    pub(crate) fn new(stop_on_violation: bool) -> Self {
        Shared {
            stop: AtomicBool::new(false),
            start: Instant::now(),
            stop_on_violation,
            counts: Default::default(),
            first: Mutex::new(None),
        }
    }

    /// Records a violation; the message is built only for the first one.
    pub(crate) fn violation(&self, kind: Kind, what: impl FnOnce() -> String) {
        // ORDERING: Relaxed; statistics, read after the workers are joined.
        self.counts[kind as usize].fetch_add(1, Ordering::Relaxed);
        self.note_first(what);
    }

    fn note_first(&self, what: impl FnOnce() -> String) {
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some((self.start.elapsed(), what()));
        }
        drop(first);
        if self.stop_on_violation {
            self.stop();
        }
    }

    fn stop(&self) {
        // ORDERING: Relaxed; a hint to stop, nothing is published with it.
        self.stop.store(true, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        // ORDERING: Relaxed; see stop().
        self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn violations(&self) -> Violations {
        // ORDERING: Relaxed; the workers have been joined.
        let c = |k: Kind| self.counts[k as usize].load(Ordering::Relaxed);
        Violations {
            bad_data: c(Kind::BadData),
            gen_changed: c(Kind::GenChanged),
            double_free: c(Kind::DoubleFree),
            bad_page: c(Kind::BadPage),
            leak: c(Kind::Leak),
            panic: c(Kind::Panic),
        }
    }
}

/// A small, fast PRNG (splitmix64) for the workers' choices.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        stamp::mix(self.0)
    }
    /// Uniform in `0..n` (`n > 0`), by Lemire's multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// What a reader saw when it pinned a page.
#[derive(Clone, Copy)]
struct Pin {
    gen: u32,
    version: u32,
    owner: u64,
}

/// The read-path hook of the stress harness: widens race windows and checks
/// every page a reader copies from.
pub(crate) struct Checker<'a> {
    shared: &'a Shared,
    rng: Rng,
    widen_one_in: u32,
    deadline: Option<Instant>,
    polls: u32,
    pin: Option<Pin>,
    /// A read gave up because the run was over (not a short read).
    gave_up: bool,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        shared: &'a Shared,
        seed: u64,
        widen_one_in: u32,
        deadline: Option<Instant>,
    ) -> Self {
        Checker {
            shared,
            rng: Rng::new(seed),
            widen_one_in,
            deadline,
            polls: 0,
            pin: None,
            gave_up: false,
        }
    }

    fn maybe_yield(&mut self) {
        if self.widen_one_in > 0 && self.rng.below(u64::from(self.widen_one_in)) == 0 {
            std::thread::yield_now();
        }
    }

    /// Whether the run is over (stopped, or past its deadline; the clock is
    /// read every 256 calls).
    fn over(&mut self) -> bool {
        if self.shared.stopped() {
            return true;
        }
        self.polls = self.polls.wrapping_add(1);
        if self.polls.is_multiple_of(256) {
            if let Some(d) = self.deadline {
                if Instant::now() >= d {
                    return true;
                }
            }
        }
        false
    }
}

impl<R, E: Env> ReadHook<R, E> for Checker<'_> {
    fn window(&mut self, _at: Window) {
        self.maybe_yield();
    }

    fn keep_going(&mut self) -> bool {
        let over = self.over();
        self.gave_up |= over;
        !over
    }

    fn pinned(&mut self, page: &Page<R, E>) {
        // ORDERING: Relaxed for all three; the lookup's Acquire slot load and
        // try_get made the incarnation's metadata visible (if the lookup was
        // right: checking that is the point).
        self.pin = Some(Pin {
            gen: page.gen.load(Ordering::Relaxed),
            version: page.version.load(Ordering::Relaxed),
            owner: page.owner.load(Ordering::Relaxed),
        });
    }

    fn copied(
        &mut self,
        file: FileId,
        index: u64,
        page: &Page<R, E>,
        page_off: usize,
        bytes: &[u8],
    ) {
        let Some(pin) = self.pin.take() else {
            return;
        };
        // ORDERING: Relaxed; we still hold our reference, so a correct
        // refcount keeps the generation unchanged. (A buggy one may change
        // it; this read then sees the change or not, best effort.)
        let gen_now = page.gen.load(Ordering::Relaxed);
        if gen_now != pin.gen {
            self.shared.violation(Kind::GenChanged, || {
                format!(
                    "reader of ({}, {index}) held a page whose generation went {} -> {gen_now}",
                    file.0, pin.gen
                )
            });
        }
        let want = stamp::owner(file.0, index as u32);
        let base = stamp::base(want, pin.version, pin.gen);
        let bad = bytes
            .iter()
            .enumerate()
            .position(|(i, &b)| b != stamp::byte(base, page_off + i));
        if pin.owner != want || bad.is_some() {
            self.shared.violation(Kind::BadData, || {
                format!(
                    "reader of ({}, {index}) validated owner {:#x} version {} gen {} but byte {:?} of its copy differs",
                    file.0, pin.owner, pin.version, pin.gen, bad
                )
            });
        }
    }
}

/// One worker's loop.
fn worker<R: PageRef, E: Env>(
    cache: &PageCache<R, E>,
    cfg: &StressConfig,
    shared: &Shared,
    tid: u64,
    deadline: Instant,
) -> OpCounts {
    let seed = stamp::mix(cfg.seed ^ stamp::mix(tid.wrapping_add(1)));
    let mut rng = Rng::new(seed);
    let mut checker = Checker::new(shared, !seed, cfg.widen_one_in, Some(deadline));
    let mut counts = OpCounts::default();
    let mut stats = ReadStats::default();
    let mut buf = vec![0u8; 256];
    let m = cfg.mix;
    let weights = [m.read, m.hot_read, m.reclaim, m.truncate, m.churn].map(u64::from);
    let total: u64 = weights.iter().sum();
    let files = cfg.cache.files as u64;
    let ppf = cfg.cache.pages_per_file as u64;
    let mut n = 0u64;
    loop {
        n += 1;
        if shared.stopped() || (n.is_multiple_of(64) && Instant::now() >= deadline) {
            break;
        }
        let mut pick = rng.below(total);
        let op = weights
            .iter()
            .position(|&w| {
                if pick < w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap_or(0);
        let r = catch_unwind(AssertUnwindSafe(|| match op {
            0 | 1 => {
                let (file, off, len) = if op == 0 {
                    let file = rng.below(files) as u32;
                    let off = rng.below(cache.file_size());
                    (file, off, 1 + rng.below(256) as usize)
                } else {
                    (0, 0, 64)
                };
                let want = (len as u64).min(cache.file_size() - off) as usize;
                let got =
                    cache.pread_with(FileId(file), off, &mut buf[..len], &mut stats, &mut checker);
                counts.reads += 1;
                counts.read_bytes += got as u64;
                let gave_up = std::mem::take(&mut checker.gave_up);
                if got < want && !gave_up {
                    counts.short_reads += 1;
                }
            }
            2 => {
                counts.reclaims += 1;
                if cache.reclaim(FileId(rng.below(files) as u32), rng.below(ppf)) {
                    counts.reclaimed += 1;
                }
            }
            3 => {
                counts.truncates += 1;
                if cache.truncate(FileId(rng.below(files) as u32), rng.below(ppf)) {
                    counts.truncated += 1;
                }
            }
            _ => {
                if churn(cache, shared, &mut checker) {
                    counts.churn += 1;
                } else {
                    counts.churn_oom += 1;
                }
            }
        }));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".to_string());
            shared.violation(Kind::Panic, || format!("worker {tid} panicked: {msg}"));
            break;
        }
        if n.is_multiple_of(16) {
            let r = cache.reports();
            if r.double_free + r.bad_page > 0 {
                shared.note_first(|| format!("allocator reported {r:?}"));
            }
        }
    }
    counts.hits = stats.hits;
    counts.misses = stats.misses;
    counts.failed_gets = stats.failed_gets;
    counts.retries = stats.retries;
    counts
}

/// Allocation churn: allocate a page (reusing a recently freed one), stamp
/// it as private, hold it across a race window, check that nobody changed
/// it, and put it. `false` if no page was free.
fn churn<R: PageRef, E: Env>(
    cache: &PageCache<R, E>,
    shared: &Shared,
    checker: &mut Checker<'_>,
) -> bool {
    let Some(p) = cache.alloc() else {
        return false;
    };
    let page = cache.page(p);
    // ORDERING: Relaxed; we allocated this incarnation in this thread.
    let gen = page.gen.load(Ordering::Relaxed);
    cache.stamp_page(p, NO_OWNER, 0, gen);
    checker.maybe_yield();
    // ORDERING: Relaxed; as above (only a double allocation changes it).
    let gen_now = page.gen.load(Ordering::Relaxed);
    if gen_now != gen {
        shared.violation(Kind::GenChanged, || {
            format!("churn page {p}: generation went {gen} -> {gen_now} while held")
        });
    }
    let base = stamp::base(NO_OWNER, 0, gen);
    let mut buf = [0u8; 8];
    let words = cache.page_size() / 8;
    for w in [0, words / 2, words - 1] {
        cache.copy_out(p, w * 8, &mut buf);
        if buf != stamp::word(base, w).to_le_bytes() {
            shared.violation(Kind::BadData, || {
                format!("churn page {p}: word {w} of a private page was overwritten")
            });
            break;
        }
    }
    cache.put_page(p);
    true
}

/// Runs the stress test on `R` with the real primitives.
pub fn run<R: PageRef + 'static>(cfg: &StressConfig) -> StressReport {
    run_in::<R, StdEnv>(cfg)
}

/// Runs the stress test on `R` with the primitives `E` (used by the tests
/// to plant a bug in the lookup, see [`crate::mutants`]). Panics if `cfg` is
/// invalid (see [`StressConfig::validate`]).
pub fn run_in<R: PageRef + 'static, E: Env>(cfg: &StressConfig) -> StressReport {
    if let Err(e) = cfg.validate() {
        panic!("pageref-mm: invalid StressConfig: {e}");
    }
    let mut cache: PageCache<R, E> = PageCache::new(cfg.cache);
    let shared = Shared::new(cfg.stop_on_violation);
    let deadline = shared.start + cfg.duration;
    let mut ops = OpCounts::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..cfg.threads)
            .map(|t| {
                let (cache, shared) = (&cache, &shared);
                s.spawn(move || worker(cache, cfg, shared, t as u64, deadline))
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(c) => ops.add(&c),
                Err(_) => shared.violation(Kind::Panic, || "a worker died".to_string()),
            }
        }
    });
    let elapsed = shared.start.elapsed();
    let audit = cache.audit();
    if audit.problems > 0 {
        // ORDERING: Relaxed; statistics.
        shared.counts[Kind::Leak as usize].fetch_add(audit.problems as u64, Ordering::Relaxed);
        shared.note_first(|| format!("end-of-run audit: {}", audit.details.join("; ")));
    }
    let r = cache.reports();
    // ORDERING: Relaxed; statistics.
    shared.counts[Kind::DoubleFree as usize].fetch_add(r.double_free, Ordering::Relaxed);
    // ORDERING: Relaxed; statistics.
    shared.counts[Kind::BadPage as usize].fetch_add(r.bad_page, Ordering::Relaxed);
    let first = shared
        .first
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    StressReport {
        scheme: R::NAME.to_string(),
        threads: cfg.threads,
        elapsed,
        ops,
        violations: shared.violations(),
        first_violation: first,
        audit,
    }
}

/// Declares the schemes the `pageref stress` command knows: one line each.
macro_rules! schemes {
    ($($name:literal => $ty:ty),* $(,)?) => {
        /// The scheme names [`run_named`] accepts.
        pub const SCHEMES: &[&str] = &[$($name),*];

        /// Runs the stress test on the scheme called `scheme` (one of
        /// [`SCHEMES`]); `None` for an unknown name.
        pub fn run_named(scheme: &str, cfg: &StressConfig) -> Option<StressReport> {
            match scheme {
                $($name => {
                    let mut r = run::<$ty>(cfg);
                    r.scheme = scheme.to_string();
                    Some(r)
                })*
                _ => None,
            }
        }
    };
}

schemes! {
    "classic" => ClassicRef,
    "frozen" => FrozenRef,
    "frozen-posted" => FrozenRef<core::sync::atomic::AtomicU32, RelaxedFinal>,
    "optimistic" => OptimisticRef,
    "sticky" => StickyRef,
    "lowbit" => LowBitRef,
}
