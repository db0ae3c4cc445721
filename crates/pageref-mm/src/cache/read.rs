//! The refcounted read path (`filemap_read`): lock-free lookup with a
//! speculative reference, re-check, copy, put; and the fill of a missing
//! page.

use core::sync::atomic::Ordering;

use pageref::{AtomicWord, PageRef};

use super::{Page, PageCache, Slot};
use crate::env::{Bug, Env, Lock};
use crate::stamp;
use crate::{FileId, ReadStats};

/// A point of a read or update path where a test or the stress harness may
/// widen a race window (or run another operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// Refcounted read: between loading the slot and `try_get`.
    BeforeGet,
    /// Refcounted read: between `try_get` and the slot re-check.
    BeforeRecheck,
    /// Refcounted read: while holding the reference, before copying.
    Holding,
    /// Fast read: between loading the slot and copying.
    FastBeforeCopy,
    /// Fast read: after copying the first word, before the next.
    FastMidCopy,
    /// Fast read: after copying, before the re-check.
    FastBeforeRecheck,
    /// A writer (migration, zero range) inside its seqcount section, after
    /// its first change.
    WriterInSection,
}

/// Observation points of the read paths, used by the tests and the stress
/// checks. The benchmark's reads pass [`NoHook`], whose empty methods
/// compile away.
pub(crate) trait ReadHook<R, E: Env> {
    /// A race window; the stress harness may yield here, a test may run
    /// another operation.
    #[inline]
    fn window(&mut self, _at: Window) {}
    /// Asked on every retry of a loop; `false` gives up the read (the
    /// harness stops a run that a planted bug has wedged).
    #[inline]
    fn keep_going(&mut self) -> bool {
        true
    }
    /// Refcounted read: a page was pinned and validated for (file, index).
    #[inline]
    fn pinned(&mut self, _page: &Page<R, E>) {}
    /// Refcounted read: `bytes` were copied from offset `page_off` of the
    /// pinned page, which is still held; `seq` is the file's delete
    /// seqcount.
    #[inline]
    fn copied(
        &mut self,
        _file: FileId,
        _index: u64,
        _page: &Page<R, E>,
        _seq: &E::U32,
        _page_off: usize,
        _bytes: &[u8],
    ) {
    }
    /// Fast read: the seqcount value it began with (even).
    #[inline]
    fn fast_begin(&mut self, _seq: u32) {}
    /// Fast read: the slot held page `p`. Called inside the seqcount
    /// section, so a checker may load the page's metadata here.
    #[inline]
    fn fast_slot(&mut self, _p: u32, _page: &Page<R, E>) {}
    /// Fast read: the seqcount value the re-check read.
    #[inline]
    fn fast_recheck(&mut self, _seq: u32) {}
    /// Fast read: the re-check passed and `bytes` (from offset `page_off`
    /// of the page given to `fast_slot`) are returned.
    #[inline]
    fn fast_copied(&mut self, _file: FileId, _index: u64, _page_off: usize, _bytes: &[u8]) {}
}

/// The hook of the plain read paths: observes nothing.
pub(crate) struct NoHook;
impl<R, E: Env> ReadHook<R, E> for NoHook {}

/// The hook of the update paths' lookups (reclaim, migration, zero range):
/// one try. A writer whose `try_get` fails (the page is frozen by another
/// writer, or dead) or whose re-check fails gives up on that page instead of
/// spinning: the kernel's reclaim and migration work on pages they isolated
/// from the LRU, and never wait on a lookup. It also keeps a writer from
/// spinning for ever on a dead page that a broken scheme left in a slot
/// (rcuref's stale `DEAD` store, scenario 5): truncate removes such a page,
/// the stress test's audit reports it.
pub(crate) struct OneTry;
impl<R, E: Env> ReadHook<R, E> for OneTry {
    #[inline]
    fn keep_going(&mut self) -> bool {
        false
    }
}

enum Fill {
    /// Inserted; the caller holds a reference to this page.
    Filled(u32),
    /// Someone else filled the slot first; look up again.
    Raced,
    /// The allocator had no free page (`-ENOMEM`).
    NoMemory,
}

impl<R: PageRef, E: Env> PageCache<R, E> {
    /// `filemap_get_entry`: finds the page cached at (file, index) and takes
    /// a reference to it, without any lock. `None` if the slot is empty (or
    /// the hook gives up).
    #[inline]
    pub(crate) fn lookup<H: ReadHook<R, E>>(
        &self,
        slot: &Slot<E>,
        stats: &mut ReadStats,
        hook: &mut H,
    ) -> Option<u32> {
        loop {
            // `xas_load` under rcu_read_lock().
            // ORDERING: Relaxed. This load only picks the page to try: we read
            // nothing of it but its refcount (an atomic) before the re-check
            // below, whose Acquire load reads the publication we validate and
            // carries its data (the loom model
            // `refcounted_read_against_same_index_refill` fails when *that*
            // load is Relaxed; it passes with this one Relaxed). The kernel's
            // `rcu_dereference` is needed to follow the folio pointer; our
            // pages are never deallocated (what RCU guarantees in the kernel),
            // so a stale page is safe to try.
            let v = slot.page.load(Ordering::Relaxed);
            if v == 0 {
                return None;
            }
            let p = v - 1;
            let page = self.page(p);
            hook.window(Window::BeforeGet);
            // `folio_try_get`: fails if the page is frozen (being reclaimed
            // or migrated) or free. It may also succeed on a page that was
            // freed and reallocated since we loaded the slot: a spurious
            // reference.
            if !page.count.try_get() {
                stats.failed_gets += 1;
                if !hook.keep_going() {
                    return None;
                }
                E::relax();
                continue;
            }
            hook.window(Window::BeforeRecheck);
            // `xas_reload`: the page we pinned must still be the one in the
            // slot; otherwise our reference may be to another incarnation.
            // ORDERING: Acquire; pairs with the Release store that published
            // the page we validate: its metadata and data are visible to the
            // copy. If the page was republished in this slot (freed,
            // reallocated, refilled: the same value again) this is what makes
            // the new publication's data visible.
            // Coherence makes a stale `v` impossible here once our try_get
            // pinned a later incarnation: the unpublish happened before the
            // free, the free before the reallocation's Release init, which
            // our Acquire try_get read.
            if !E::planted(Bug::LookupNoRecheck) && slot.page.load(Ordering::Acquire) != v {
                stats.retries += 1;
                self.put_page(p);
                if !hook.keep_going() {
                    return None;
                }
                continue;
            }
            stats.hits += 1;
            return Some(p);
        }
    }

    /// Lookup, and on a miss read the page in (fill) and insert it.
    #[inline]
    fn get_page<H: ReadHook<R, E>>(
        &self,
        file: FileId,
        index: u64,
        slot: &Slot<E>,
        stats: &mut ReadStats,
        hook: &mut H,
    ) -> Option<u32> {
        loop {
            if let Some(p) = self.lookup(slot, stats, hook) {
                return Some(p);
            }
            if !hook.keep_going() {
                return None;
            }
            stats.misses += 1;
            match self.fill(file, index, slot) {
                Fill::Filled(p) => return Some(p),
                Fill::Raced => stats.retries += 1,
                Fill::NoMemory => return None,
            }
        }
    }

    /// `page_cache_sync_ra` + `filemap_add_folio`: allocates a page, "reads"
    /// it (stamps its data), and inserts it with the cache's reference, the
    /// caller keeping its own. An insert changes nothing a lock-free reader
    /// validated (it fills an empty slot), so it does not bump the delete
    /// seqcount, as in the kernel.
    fn fill(&self, file: FileId, index: u64, slot: &Slot<E>) -> Fill {
        let Some(p) = self.alloc() else {
            return Fill::NoMemory;
        };
        let page = self.page(p);
        // ORDERING: Relaxed; the RMW's total order alone makes versions of
        // one slot unique, and they are published with the page.
        let version = slot.fills.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let owner = stamp::owner(file.0, index as u32);
        // ORDERING: Relaxed; published with the slot's Release store below.
        page.owner.store(owner, Ordering::Relaxed);
        // ORDERING: Relaxed; as owner.
        page.version.store(version, Ordering::Relaxed);
        // ORDERING: Relaxed; as owner.
        page.zeroed.store(0, Ordering::Relaxed);
        self.stamp_page(p, owner, version);
        {
            let _xa = self.files[file.0 as usize].xa_lock.lock();
            // ORDERING: Relaxed; slot writers hold xa_lock, which we hold.
            if slot.page.load(Ordering::Relaxed) != 0 {
                drop(_xa);
                // Lost the race to another filler: drop our page (the last
                // reference, unless a speculative getter holds a spurious
                // one, in which case its put frees it).
                self.put_page(p);
                return Fill::Raced;
            }
            // `__filemap_add_folio`: the cache's reference.
            page.count.inc();
            // ORDERING: Release; publishes the page's metadata and data to
            // every lookup (and every pread_fast) whose Acquire load reads
            // this value. Weakened to Relaxed (planted `PublishRelaxed`), the
            // loom model `fill_publish` returns stale words.
            let publish = if E::planted(Bug::PublishRelaxed) {
                Ordering::Relaxed
            } else {
                Ordering::Release
            };
            slot.page.store(p + 1, publish);
        }
        Fill::Filled(p)
    }

    /// `filemap_read`: reads up to `buf.len()` bytes of `file` at `offset`,
    /// page by page (lookup, `try_get`, re-check, copy, put), filling missing
    /// pages. Returns the number of bytes read: fewer at the end of the file
    /// or when no page can be allocated for a miss; 0 for an unknown file.
    /// Takes no lock unless it fills a page or drops a page's last
    /// reference.
    ///
    /// Checked by the unit tests (`cache/tests.rs`), shuttle, the loom
    /// models (as the fast read's fallback) and `pageref stress`; measured
    /// by the `pread`, `spread` and `churn` workloads of `pageref bench`.
    pub fn pread(&self, file: FileId, offset: u64, buf: &mut [u8], stats: &mut ReadStats) -> usize {
        self.pread_with(file, offset, buf, stats, &mut NoHook)
    }

    #[inline]
    pub(crate) fn pread_with<H: ReadHook<R, E>>(
        &self,
        file: FileId,
        offset: u64,
        buf: &mut [u8],
        stats: &mut ReadStats,
        hook: &mut H,
    ) -> usize {
        let Some(f) = self.file(file) else {
            return 0;
        };
        if offset >= self.file_size() {
            return 0;
        }
        let end = (offset.saturating_add(buf.len() as u64)).min(self.file_size());
        let mut pos = offset;
        let mut done = 0;
        while pos < end {
            let index = pos / self.page_size as u64;
            let in_page = (pos % self.page_size as u64) as usize;
            let n = (self.page_size - in_page).min((end - pos) as usize);
            let Some(slot) = self.slot(file, index) else {
                break;
            };
            let Some(p) = self.get_page(file, index, slot, stats, hook) else {
                break;
            };
            let page = self.page(p);
            hook.pinned(page);
            hook.window(Window::Holding);
            // `copy_folio_to_iter`.
            let dst = &mut buf[done..done + n];
            self.copy_out(p, in_page, dst);
            hook.copied(file, index, page, &f.seq, in_page, dst);
            self.put_page(p);
            pos += n as u64;
            done += n;
        }
        done
    }
}
