//! Workloads on the page-cache model of `pageref-mm`: the series' `pread`
//! benchmark with each scheme as the page refcount, the same read through
//! `pread_fast` (no reference), its no-sharing control, and a churn mix
//! with reclaim and truncation (readers on either path). Also the `stress`
//! command.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pageref::PageRef;
use pageref_mm::{CacheConfig, FileId, PageCache, ReadStats};

use crate::harness::{Tally, Workload};
use crate::scheme::{with_scheme, SchemeInfo, SchemeVisitor};

/// Bytes read per operation, as the series' benchmark.
pub const READ_SIZE: usize = 64;
/// Page size of the model (the data of one page is copied from here).
pub const PAGE_SIZE: usize = 4096;
/// Arena distance between two threads' pages in `spread`: 8 page structs
/// (of 24 bytes each in the model) put every thread's refcount more than
/// 128 bytes from its neighbour's, so that `spread` shares no cache line.
pub const SPREAD_STRIDE: usize = 8;
/// Pages the churn readers choose from.
pub const CHURN_PAGES: usize = 16;

/// Per-thread state of the model workloads.
#[derive(Debug)]
pub struct ModelLocal {
    buf: [u8; READ_SIZE],
    stats: ReadStats,
    short: u64,
    offset: u64,
    rng: u64,
}

fn local(offset: u64, tid: usize) -> ModelLocal {
    ModelLocal {
        buf: [0; READ_SIZE],
        stats: ReadStats::default(),
        short: 0,
        offset,
        // xorshift state; never 0.
        rng: 0x9E37_79B9_7F4A_7C15 ^ (tid as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
    }
}

fn read<R: PageRef>(cache: &PageCache<R>, l: &mut ModelLocal, offset: u64, fast: bool) {
    let n = if fast {
        cache.pread_fast(FileId(0), offset, &mut l.buf, &mut l.stats)
    } else {
        cache.pread(FileId(0), offset, &mut l.buf, &mut l.stats)
    };
    if n != READ_SIZE {
        l.short += 1;
    }
    std::hint::black_box(&l.buf);
}

/// Adds a reader's short reads, re-check retries and misses to the tally
/// (every model workload reports them the same way).
fn tally_reads(l: &ModelLocal, t: &mut Tally) {
    t.short_reads += l.short;
    t.retries += l.stats.retries;
    t.misses += l.stats.misses;
    t.fast_reads += l.stats.fast;
    t.fallbacks += l.stats.fallbacks;
}

fn model_bugs<R: PageRef>(cache: &PageCache<R>, t: &mut Tally) {
    let r = cache.reports();
    t.bad_frees += r.double_free + r.bad_page;
}

/// `pread` and `spread`: every thread reads 64 bytes through the page-cache
/// model's read path — lookup, `try_get`, re-check, copy, put.
///
/// * `pread` ([`Pread::new`]): all threads at offset 0 of the same file,
///   one shared page (the series' benchmark);
/// * `spread` ([`Pread::per_thread`]): thread `t` on its own page (index
///   `t * SPREAD_STRIDE`): the same path with no sharing, the control;
/// * `pread-fast` ([`Pread::fast`]): as `pread`, through
///   `PageCache::pread_fast`, which copies under the file's delete
///   seqcount and takes no reference (nothing writes, so it never falls
///   back here).
///
/// Nothing freezes the pages, so a failed get is a bug.
#[derive(Debug)]
pub struct Pread<R: PageRef> {
    cache: PageCache<R>,
    /// Bytes between two threads' offsets: 0 = one shared page.
    stride: u64,
    /// Read through `pread_fast`.
    fast: bool,
}

impl<R: PageRef> Pread<R> {
    /// `pread`: a one-page file, already cached, shared by every thread.
    pub fn new() -> Self {
        Self::with_pages(1, 0)
    }

    /// `pread-fast`: as [`Pread::new`], through `pread_fast`.
    pub fn fast() -> Self {
        Pread {
            fast: true,
            ..Self::new()
        }
    }

    /// `spread`: a file with a cached page for each of `threads` threads,
    /// their page structs [`SPREAD_STRIDE`] apart in the arena.
    pub fn per_thread(threads: usize) -> Self {
        Self::with_pages(threads * SPREAD_STRIDE, (SPREAD_STRIDE * PAGE_SIZE) as u64)
    }

    fn with_pages(pages: usize, stride: u64) -> Self {
        let cache = PageCache::new(CacheConfig {
            files: 1,
            pages_per_file: pages,
            arena_pages: pages + 1,
            page_size: PAGE_SIZE,
        });
        // Fill in index order: the model's allocator hands out arena pages
        // in order, so index i lands on arena page i.
        let mut l = local(0, 0);
        for i in 0..pages {
            read(&cache, &mut l, (i * PAGE_SIZE) as u64, false);
        }
        assert_eq!(l.short, 0, "the model could not fill its pages");
        Pread {
            cache,
            stride,
            fast: false,
        }
    }
}

impl<R: PageRef> Default for Pread<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: PageRef> Workload for Pread<R> {
    type Local = ModelLocal;
    fn local(&self, tid: usize) -> ModelLocal {
        local(tid as u64 * self.stride, tid)
    }
    #[inline]
    fn step(&self, l: &mut ModelLocal) {
        read(&self.cache, l, l.offset, self.fast);
    }
    fn finish(&self, l: ModelLocal, t: &mut Tally) {
        // A failed get on a page nobody freezes is a bug here.
        t.failed_gets += l.stats.failed_gets;
        tally_reads(&l, t);
    }
    fn check_after(&self, t: &mut Tally) {
        model_bugs(&self.cache, t);
    }
}

/// `churn`: readers read 64 bytes of a random page among [`CHURN_PAGES`]
/// while one unmeasured background thread reclaims (freeze, unpublish,
/// free) and truncates (unpublish, put) pages in turn; readers refill what
/// is missing. Failed gets and retries are legal here and reported; short
/// reads and the model's double-free / bad-page reports are bugs.
/// `churn-fast` ([`Churn::fast`]): the readers on `pread_fast`; its
/// fallbacks (a page missing or a writer active) are reported.
#[derive(Debug)]
pub struct Churn<R: PageRef> {
    cache: PageCache<R>,
    /// Read through `pread_fast`.
    fast: bool,
}

impl<R: PageRef> Churn<R> {
    /// A file of [`CHURN_PAGES`] pages with room for every refill.
    pub fn new() -> Self {
        Churn {
            cache: PageCache::new(CacheConfig {
                files: 1,
                pages_per_file: CHURN_PAGES,
                arena_pages: CHURN_PAGES * 4,
                page_size: PAGE_SIZE,
            }),
            fast: false,
        }
    }

    /// `churn-fast`: as [`Churn::new`], the readers on `pread_fast`.
    pub fn fast() -> Self {
        Churn {
            fast: true,
            ..Self::new()
        }
    }
}

impl<R: PageRef> Default for Churn<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: PageRef> Workload for Churn<R> {
    type Local = ModelLocal;
    const BACKGROUND: bool = true;
    fn local(&self, tid: usize) -> ModelLocal {
        local(0, tid)
    }
    #[inline]
    fn step(&self, l: &mut ModelLocal) {
        // xorshift64: a cheap per-thread page choice.
        l.rng ^= l.rng << 13;
        l.rng ^= l.rng >> 7;
        l.rng ^= l.rng << 17;
        let index = (l.rng % CHURN_PAGES as u64) as usize;
        read(&self.cache, l, (index * PAGE_SIZE) as u64, self.fast);
    }
    fn finish(&self, l: ModelLocal, t: &mut Tally) {
        // Pages are frozen under the readers: failed gets are legal.
        t.expected_failures += l.stats.failed_gets;
        tally_reads(&l, t);
    }
    fn background(&self, stop: &AtomicBool, _t: &mut Tally) {
        let mut i = 0u64;
        // ORDERING: Relaxed; the flag only ends the loop (see harness).
        while !stop.load(Ordering::Relaxed) {
            let index = i % CHURN_PAGES as u64;
            if i.is_multiple_of(2) {
                self.cache.reclaim(FileId(0), index);
            } else {
                self.cache.truncate(FileId(0), index);
            }
            i += 1;
            // Leave the readers a moment between evictions, so that they
            // measure reads under churn rather than only refills.
            crate::harness::spin(200);
        }
    }
    fn check_after(&self, t: &mut Tally) {
        model_bugs(&self.cache, t);
    }
}

/// The stress run's configuration: the model's defaults with the command
/// line's settings. `seed: None` keeps the model's default seed. Check it
/// with [`StressConfig::validate`](pageref_mm::stress::StressConfig::validate)
/// before [`stress`] runs it.
pub fn stress_config(
    threads: usize,
    duration: Duration,
    seed: Option<u64>,
    read_path: pageref_mm::stress::ReadPath,
) -> pageref_mm::stress::StressConfig {
    let defaults = pageref_mm::stress::StressConfig::default();
    pageref_mm::stress::StressConfig {
        threads,
        duration,
        seed: seed.unwrap_or(defaults.seed),
        read_path,
        ..defaults
    }
}

struct Stress<'a>(&'a pageref_mm::stress::StressConfig);

impl SchemeVisitor for Stress<'_> {
    type Output = (String, u64);
    fn visit<R: PageRef + 'static>(self, info: &'static SchemeInfo) -> (String, u64) {
        let mut report = pageref_mm::stress::run::<R>(self.0);
        report.scheme = info.name.to_string();
        (report.to_string(), report.violations())
    }
}

/// Runs the page-cache stress test `cfg` with the scheme named `scheme`:
/// its one-line summary and the number of violations; `None` for an
/// unknown scheme. Panics if `cfg` is invalid (the model's `run` does).
pub fn stress(scheme: &str, cfg: &pageref_mm::stress::StressConfig) -> Option<(String, u64)> {
    with_scheme(scheme, Stress(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{run_iterations, Cores};

    /// Every model workload reads real data with a correct scheme, and
    /// counts no bug.
    #[test]
    fn model_workloads_run_clean() {
        let c = Cores::detect();
        let s = run_iterations(&Pread::<pageref::FrozenRef>::new(), 200, &c);
        assert_eq!(s.tally.bugs(), 0, "{:?}", s.tally);
        let w = Pread::<pageref::ClassicRef>::per_thread(3);
        let s = run_iterations(&w, 200, &c);
        assert_eq!(s.tally.bugs(), 0, "{:?}", s.tally);
        assert_eq!(s.tally.misses, 0);
        let s = run_iterations(&Churn::<pageref::FrozenRef>::new(), 200, &c);
        assert_eq!(s.tally.bugs(), 0, "{:?}", s.tally);
        assert!(s.tally.misses > 0, "a fresh churn file starts empty");
        let s = run_iterations(&Pread::<pageref::FrozenRef>::fast(), 200, &c);
        assert_eq!(s.tally.bugs(), 0, "{:?}", s.tally);
        assert_eq!(
            (s.tally.fast_reads, s.tally.fallbacks),
            (200, 0),
            "{:?}",
            s.tally
        );
        let s = run_iterations(&Churn::<pageref::FrozenRef>::fast(), 200, &c);
        assert_eq!(s.tally.bugs(), 0, "{:?}", s.tally);
        assert!(s.tally.fallbacks > 0, "a fresh churn file starts empty");
    }
}
