//! What a stress run found and did: the violation kinds, the operation
//! counts, and the one-line report.

use core::fmt;
use core::ops::Index;
use std::time::Duration;

use super::worker::Op;
use super::ReadPath;
use crate::ReadStats;

/// The kinds of violation the checks report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A reader returned bytes that are not those of the (file, index,
    /// version, zeroed chunks) it validated, or validated a page owned by
    /// another (file, index); or a churn thread found its private page
    /// overwritten.
    BadData,
    /// A holder saw its page's generation change while holding a reference
    /// (the page was freed and reallocated under it).
    GenChanged,
    /// The allocator was asked to free an incarnation that was already free
    /// ([`KernelReports::double_free`](crate::KernelReports)).
    DoubleFree,
    /// The allocator was given, or found on its free list, a page whose
    /// refcount is not frozen ([`KernelReports::bad_page`](crate::KernelReports)).
    BadPage,
    /// At the end, a page that is neither free and frozen nor cached with
    /// exactly the cache's reference, or an odd seqcount
    /// ([`PageCache::audit`](crate::PageCache::audit)).
    Leak,
    /// A refcount misuse check (or any other panic) fired in a worker,
    /// which then stops.
    Panic,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 6] = [
        Kind::BadData,
        Kind::GenChanged,
        Kind::DoubleFree,
        Kind::BadPage,
        Kind::Leak,
        Kind::Panic,
    ];

    /// The kind's name in the report line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::BadData => "bad_data",
            Kind::GenChanged => "gen_changed",
            Kind::DoubleFree => "double_free",
            Kind::BadPage => "bad_page",
            Kind::Leak => "leak",
            Kind::Panic => "panic",
        }
    }
}

/// Violations found, per [`Kind`] (index with a kind: `v[Kind::BadData]`).
/// `Debug` names every kind: `{bad_data: 1, gen_changed: 0, ...}`.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub struct Violations(pub(crate) [u64; 6]);

impl fmt::Debug for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for k in Kind::ALL {
            m.key(&format_args!("{}", k.name())).value(&self[k]);
        }
        m.finish()
    }
}

impl Index<Kind> for Violations {
    type Output = u64;
    fn index(&self, k: Kind) -> &u64 {
        &self.0[k as usize]
    }
}

impl Violations {
    /// All violations together.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Operations done: calls and successes per [`Op`], and the read paths'
/// counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OpCounts {
    /// Calls per operation, indexed by `Op as usize`.
    pub calls: [u64; Op::ALL.len()],
    /// Calls that did something (a reclaim that freed, a truncate that
    /// removed, a migration that moved, a zero range on a cached page, a
    /// churn round that got a page; every read).
    pub done: [u64; Op::ALL.len()],
    /// Bytes the reads returned and the checks validated.
    pub read_bytes: u64,
    /// Reads that returned fewer bytes than asked because no page was free.
    pub short_reads: u64,
    /// The read paths' counters, summed over the workers.
    pub read: ReadStats,
}

impl OpCounts {
    pub(crate) fn add(&mut self, o: &OpCounts) {
        for i in 0..self.calls.len() {
            self.calls[i] += o.calls[i];
            self.done[i] += o.done[i];
        }
        self.read_bytes += o.read_bytes;
        self.short_reads += o.short_reads;
        self.read.add(&o.read);
    }

    /// Calls of `op`.
    pub fn calls(&self, op: Op) -> u64 {
        self.calls[op as usize]
    }

    /// Calls of `op` that did something.
    pub fn done(&self, op: Op) -> u64 {
        self.done[op as usize]
    }

    /// Reads of either kind (random and hot).
    pub fn reads(&self) -> u64 {
        self.calls(Op::Read) + self.calls(Op::HotRead)
    }

    /// All operations together.
    pub fn total(&self) -> u64 {
        self.calls.iter().sum()
    }
}

/// The outcome of a stress run. `Display` writes one summary line.
#[derive(Debug, Clone)]
pub struct StressReport {
    /// The scheme's name.
    pub scheme: String,
    /// Which read path the readers took.
    pub read_path: ReadPath,
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
        let r = &o.read;
        write!(
            f,
            "stress scheme={} read_path={} threads={} seconds={:.2} ops={} reads={} (bytes={} fast={} fallbacks={} hits={} misses={} failed_gets={} retries={} short={})",
            self.scheme,
            self.read_path.name(),
            self.threads,
            self.elapsed.as_secs_f64(),
            o.total(),
            o.reads(),
            o.read_bytes,
            r.fast,
            r.fallbacks,
            r.hits,
            r.misses,
            r.failed_gets,
            r.retries,
            o.short_reads,
        )?;
        for op in Op::ALL {
            if let Some((calls, done)) = op.report_names() {
                write!(f, " {calls}={} ({done}={})", o.calls(op), o.done(op))?;
            }
        }
        write!(f, " violations={}", self.violations())?;
        for k in Kind::ALL {
            write!(f, " {}={}", k.name(), self.violations[k])?;
        }
        if let Some((t, what)) = &self.first_violation {
            write!(f, " first_after={:.3}s first=\"{what}\"", t.as_secs_f64())?;
        }
        Ok(())
    }
}
