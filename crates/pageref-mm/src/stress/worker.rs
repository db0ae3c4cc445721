//! One stress worker: picks an [`Op`] by the mix's weights, runs it through
//! the checks, and counts it.

use core::sync::atomic::Ordering;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use pageref::{AtomicWord, PageRef};

use super::checker::{Checker, Rng, Shared};
use super::report::{Kind, OpCounts};
use super::{ReadPath, StressConfig};
use crate::env::Env;
use crate::stamp::{self, NO_OWNER};
use crate::{FileId, PageCache, ReadStats};

/// The operations of a stress worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Read 1 to 256 bytes at a random offset of a random file (refills
    /// missing pages), by the configured [`ReadPath`].
    Read,
    /// Read 64 bytes at offset 0 of file 0: everyone on one hot page.
    HotRead,
    /// `reclaim` a random (file, index).
    Reclaim,
    /// `truncate` a random (file, index).
    Truncate,
    /// `migrate` a random (file, index).
    Migrate,
    /// `zero_range` 1 to 8 random chunks of a random (file, index).
    ZeroRange,
    /// Allocate a private page, stamp it, hold it, check it, put it.
    Churn,
}

impl Op {
    /// Every operation, in mix and report order.
    pub const ALL: [Op; 7] = [
        Op::Read,
        Op::HotRead,
        Op::Reclaim,
        Op::Truncate,
        Op::Migrate,
        Op::ZeroRange,
        Op::Churn,
    ];

    /// The report's names for the calls and the successes of an update
    /// operation; `None` for reads (reported with the read counters).
    pub(crate) fn report_names(self) -> Option<(&'static str, &'static str)> {
        match self {
            Op::Read | Op::HotRead => None,
            Op::Reclaim => Some(("reclaims", "freed")),
            Op::Truncate => Some(("truncates", "removed")),
            Op::Migrate => Some(("migrations", "moved")),
            Op::ZeroRange => Some(("zero_ranges", "zeroed")),
            Op::Churn => Some(("churn", "got_page")),
        }
    }

    /// Picks an operation with probability proportional to `weights`
    /// (indexed like [`Op::ALL`]; their sum is `total > 0`).
    fn pick(rng: &mut Rng, weights: &[u64; 7], total: u64) -> Op {
        let mut pick = rng.below(total);
        for (op, &w) in Op::ALL.iter().zip(weights) {
            if pick < w {
                return *op;
            }
            pick -= w;
        }
        Op::Read
    }
}

/// One worker's loop.
pub(crate) fn worker<R: PageRef, E: Env>(
    cache: &PageCache<R, E>,
    cfg: &StressConfig,
    shared: &Shared,
    tid: u64,
    deadline: Instant,
) -> OpCounts {
    let seed = stamp::mix(cfg.seed ^ stamp::mix(tid.wrapping_add(1)));
    let mut rng = Rng::new(seed);
    let mut checker = Checker::new(
        shared,
        cfg.cache.page_size,
        !seed,
        cfg.widen_one_in,
        Some(deadline),
    );
    let mut counts = OpCounts::default();
    let mut stats = ReadStats::default();
    let mut buf = vec![0u8; 256];
    let weights = Op::ALL.map(|op| u64::from(cfg.mix.weight(op)));
    let total: u64 = weights.iter().sum();
    let files = cfg.cache.files as u64;
    let ppf = cfg.cache.pages_per_file as u64;
    let mut n = 0u64;
    loop {
        n += 1;
        if shared.stopped() || (n.is_multiple_of(64) && Instant::now() >= deadline) {
            break;
        }
        let op = Op::pick(&mut rng, &weights, total);
        let (file, index) = (FileId(rng.below(files) as u32), rng.below(ppf));
        let r = catch_unwind(AssertUnwindSafe(|| match op {
            Op::Read | Op::HotRead => {
                let (file, off, len) = if op == Op::Read {
                    let off = rng.below(cache.file_size());
                    (file, off, 1 + rng.below(256) as usize)
                } else {
                    (FileId(0), 0, 64)
                };
                let fast = match cfg.read_path {
                    ReadPath::Refcounted => false,
                    ReadPath::Fast => true,
                    ReadPath::Both => rng.next() & 1 == 0,
                };
                let want = (len as u64).min(cache.file_size() - off) as usize;
                let dst = &mut buf[..len];
                let got = if fast {
                    cache.pread_fast_with(file, off, dst, &mut stats, &mut checker)
                } else {
                    cache.pread_with(file, off, dst, &mut stats, &mut checker)
                };
                counts.read_bytes += got as u64;
                let gave_up = std::mem::take(&mut checker.gave_up);
                if got < want && !gave_up {
                    counts.short_reads += 1;
                }
                true
            }
            Op::Reclaim => cache.reclaim(file, index),
            Op::Truncate => cache.truncate(file, index),
            Op::Migrate => cache.migrate(file, index),
            Op::ZeroRange => {
                let start = rng.below(32) as u32;
                let len = 1 + rng.below(8) as u32;
                cache.zero_range(file, index, start..start + len)
            }
            Op::Churn => churn(cache, shared, &mut checker),
        }));
        counts.calls[op as usize] += 1;
        match r {
            Ok(done) => counts.done[op as usize] += u64::from(done),
            Err(e) => {
                let msg = e
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| e.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".to_string());
                shared.violation(Kind::Panic, || format!("worker {tid} panicked: {msg}"));
                break;
            }
        }
        if n.is_multiple_of(16) {
            let r = cache.reports();
            if r.double_free + r.bad_page > 0 {
                shared.note_first(|| format!("allocator reported {r:?}"));
            }
        }
    }
    counts.read = stats;
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
    cache.stamp_page(p, NO_OWNER, gen);
    checker.maybe_yield();
    // ORDERING: Relaxed; as above (only a double allocation changes it).
    let gen_now = page.gen.load(Ordering::Relaxed);
    if gen_now != gen {
        shared.violation(Kind::GenChanged, || {
            format!("churn page {p}: generation went {gen} -> {gen_now} while held")
        });
    }
    let base = stamp::base(NO_OWNER, gen);
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
