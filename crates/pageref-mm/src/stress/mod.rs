//! The stress harness: many threads mixing reads (refcounted, fast, or
//! both), reclaim, truncate, migration, zero range, refills and allocation
//! churn on one small [`PageCache`], with checks that run on every
//! operation, not only at the end.
//!
//! * [`report`](StressReport): the violation [`Kind`]s, the operation counts,
//!   the one-line report;
//! * `checker.rs`: the read-path hook that checks every byte a reader
//!   returns against what it validated;
//! * `worker.rs`: one worker's loop over the [`Op`]s.
//!
//! To make races likely on a machine with few cores, readers yield at the
//! race windows of the read paths (between loading the slot and `try_get`,
//! between `try_get` and the re-check, while holding; before, inside and
//! after a fast read's copy) with probability `1 / widen_one_in`, and the
//! allocator reuses the most recently freed page first.
//!
//! Run from the command line with `pageref stress --scheme frozen
//! --read-path both --seconds 600`.

use std::time::Duration;

use pageref::PageRef;

use crate::env::{Env, StdEnv};
use crate::{CacheConfig, PageCache};

mod checker;
mod report;
mod worker;

#[cfg(test)]
pub(crate) use checker::Checker;
pub(crate) use checker::Shared;
pub use report::{Kind, OpCounts, StressReport, Violations};
pub use worker::Op;

/// Relative weights of the operations a stress worker picks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpMix {
    /// [`Op::Read`].
    pub read: u32,
    /// [`Op::HotRead`].
    pub hot_read: u32,
    /// [`Op::Reclaim`].
    pub reclaim: u32,
    /// [`Op::Truncate`].
    pub truncate: u32,
    /// [`Op::Migrate`].
    pub migrate: u32,
    /// [`Op::ZeroRange`].
    pub zero_range: u32,
    /// [`Op::Churn`].
    pub churn: u32,
}

impl OpMix {
    /// The weight of `op`.
    pub fn weight(&self, op: Op) -> u32 {
        match op {
            Op::Read => self.read,
            Op::HotRead => self.hot_read,
            Op::Reclaim => self.reclaim,
            Op::Truncate => self.truncate,
            Op::Migrate => self.migrate,
            Op::ZeroRange => self.zero_range,
            Op::Churn => self.churn,
        }
    }
}

impl Default for OpMix {
    fn default() -> Self {
        OpMix {
            read: 55,
            hot_read: 15,
            reclaim: 8,
            truncate: 6,
            migrate: 6,
            zero_range: 4,
            churn: 6,
        }
    }
}

/// Which read path the stress readers take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPath {
    /// [`PageCache::pread`] only: lookup, `try_get`, re-check, copy, put.
    Refcounted,
    /// [`PageCache::pread_fast`] only (which falls back to the refcounted
    /// read on any doubt).
    Fast,
    /// Each read picks one of the two at random.
    Both,
}

impl ReadPath {
    /// Every read path, as the command line names them.
    pub const ALL: [ReadPath; 3] = [ReadPath::Fast, ReadPath::Both, ReadPath::Refcounted];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ReadPath::Refcounted => "refcounted",
            ReadPath::Fast => "fast",
            ReadPath::Both => "both",
        }
    }

    /// The read path called `name`.
    pub fn from_name(name: &str) -> Option<ReadPath> {
        ReadPath::ALL.into_iter().find(|p| p.name() == name)
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
    /// Which read path the readers take.
    pub read_path: ReadPath,
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
            read_path: ReadPath::Both,
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
        if Op::ALL
            .iter()
            .map(|&op| u64::from(self.mix.weight(op)))
            .sum::<u64>()
            == 0
        {
            return Err("the operation mix has no operation".to_string());
        }
        self.cache.validate()
    }
}

/// Runs the stress test on `R` with the real primitives.
pub fn run<R: PageRef + 'static>(cfg: &StressConfig) -> StressReport {
    run_in::<R, StdEnv>(cfg)
}

/// Runs the stress test on `R` with the primitives `E` (used by the tests
/// to plant a bug in the cache, see `pageref_mm::env::mutants`). Panics if
/// `cfg` is invalid (see [`StressConfig::validate`]).
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
                s.spawn(move || worker::worker(cache, cfg, shared, t as u64, deadline))
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
    shared.violations_of(Kind::Leak, audit.problems as u64, || {
        format!("end-of-run audit: {}", audit.details.join("; "))
    });
    let r = cache.reports();
    shared.violations_of(Kind::DoubleFree, r.double_free, || {
        format!("allocator reported {r:?}")
    });
    shared.violations_of(Kind::BadPage, r.bad_page, || {
        format!("allocator reported {r:?}")
    });
    StressReport {
        scheme: R::NAME.to_string(),
        read_path: cfg.read_path,
        threads: cfg.threads,
        elapsed,
        ops,
        violations: shared.violations(),
        first_violation: shared.first(),
        audit,
    }
}
