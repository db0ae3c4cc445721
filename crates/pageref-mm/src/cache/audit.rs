//! The end-of-run audit of a quiescent cache.

use core::sync::atomic::Ordering;

use pageref::{AtomicWord, PageRef};

use super::{PageCache, ALLOCATED, FREE, QUARANTINED};
use crate::env::{Env, Lock};
use crate::stamp;

/// The end-of-run audit of a quiescent cache (see [`PageCache::audit`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Pages cached with exactly the cache's reference.
    pub cached: usize,
    /// Pages free and frozen, each on the free list once.
    pub free: usize,
    /// Pages quarantined after a reported bad free.
    pub quarantined: usize,
    /// Pages in any other state: leaked references, leaked pages, free pages
    /// that are live, slots pointing at free pages, odd seqcounts, ...
    pub problems: usize,
    /// A description of the first few problems.
    pub details: Vec<String>,
}

impl<R: PageRef, E: Env> PageCache<R, E> {
    /// Checks a quiescent cache (no other thread uses it; hence `&mut`):
    /// every page is either free and frozen (on the free list once), or
    /// cached in exactly one slot with exactly the cache's reference, or
    /// quarantined after a reported bad free; every seqcount is even.
    /// Anything else (a leaked reference, a leaked page, a live free page, a
    /// writer section never closed) is a problem.
    pub fn audit(&mut self) -> Audit {
        let mut a = Audit::default();
        let n = self.pages.len();
        let mut in_slot = vec![0u32; n];
        let mut in_free = vec![0u32; n];
        let problem = |a: &mut Audit, msg: String| {
            a.problems += 1;
            if a.details.len() < 8 {
                a.details.push(msg);
            }
        };
        for (fi, f) in self.files.iter().enumerate() {
            // ORDERING: Relaxed; the cache is quiescent (`&mut self`).
            let seq = f.seq.load(Ordering::Relaxed);
            if seq & 1 != 0 {
                problem(&mut a, format!("file {fi}: seqcount {seq:#x} is odd"));
            }
            for (ii, s) in f.slots.iter().enumerate() {
                // ORDERING: Relaxed; quiescent.
                let v = s.page.load(Ordering::Relaxed);
                if v == 0 {
                    continue;
                }
                let p = (v - 1) as usize;
                in_slot[p] += 1;
                let page = &self.pages[p];
                // ORDERING: Relaxed; quiescent.
                let owner = page.owner.load(Ordering::Relaxed);
                if owner != stamp::owner(fi as u32, ii as u32) {
                    problem(
                        &mut a,
                        format!("slot ({fi}, {ii}) holds page {p} owned by {owner:#x}"),
                    );
                }
            }
        }
        for &p in self.free.lock().iter() {
            in_free[p as usize] += 1;
        }
        for (p, page) in self.pages.iter().enumerate() {
            // ORDERING: Relaxed; quiescent.
            let state = page.state.load(Ordering::Relaxed);
            let (count, frozen, raw) =
                (page.count.count(), page.count.is_frozen(), page.count.raw());
            match state {
                FREE if frozen && in_free[p] == 1 && in_slot[p] == 0 => a.free += 1,
                ALLOCATED if !frozen && count == 1 && in_slot[p] == 1 && in_free[p] == 0 => {
                    a.cached += 1
                }
                QUARANTINED if in_free[p] == 0 => a.quarantined += 1,
                _ => problem(
                    &mut a,
                    format!(
                        "page {p}: state {state}, raw count {raw:#x}, in {} slot(s), on the free list {} time(s)",
                        in_slot[p], in_free[p]
                    ),
                ),
            }
        }
        a
    }
}
