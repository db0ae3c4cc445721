//! The page arena (memmap), the page allocator and the page cache.
//!
//! * `mod.rs` (here): the types, the allocator and the final put;
//! * [`read`]: the refcounted read (`filemap_read`) and the fill;
//! * [`fast`]: the read that takes no reference (`filemap_read_fast_rcu`);
//! * [`update`]: truncate, reclaim, migration, zero range, and the delete
//!   seqcount they bump;
//! * [`audit`]: the end-of-run audit.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering};

use pageref::{AtomicWord, PageRef};

use crate::env::{Bug, Env, Lock, StdEnv};
use crate::stamp::{self, NO_OWNER};

mod audit;
mod config;
mod fast;
mod read;
mod update;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fast;

pub use audit::Audit;
pub use config::{CacheConfig, FileId, ReadStats};
pub use fast::FAST_READ_MAX;
pub(crate) use read::{ReadHook, Window};

/// `Page::state`: on the free list, frozen.
pub(crate) const FREE: u32 = 0;
/// `Page::state`: handed out by the allocator (cached, being filled, or
/// private to a churn thread).
pub(crate) const ALLOCATED: u32 = 1;
/// `Page::state`: taken out of circulation after a bad free (the kernel's
/// `bad_page()` leaks such a page rather than reuse it).
pub(crate) const QUARANTINED: u32 = 2;

/// One `struct page`: never deallocated, reused across incarnations.
///
/// Aligned to a cache line like the kernel's 64-byte `struct page`, so that
/// the refcounts of different pages never share a line.
#[repr(align(64))]
pub(crate) struct Page<R, E: Env> {
    /// `_refcount`.
    pub(crate) count: R,
    /// The incarnation: bumped by the allocator on every allocation.
    pub(crate) gen: E::U32,
    /// [`FREE`], [`ALLOCATED`] or [`QUARANTINED`]; written only under the
    /// allocator lock.
    pub(crate) state: E::U32,
    /// `mapping` + `index`, packed by [`stamp::owner`]; [`NO_OWNER`] when free
    /// or private.
    pub(crate) owner: E::U64,
    /// Which fill of (file, index) this page's data is (kept by migration).
    pub(crate) version: E::U32,
    /// Chunks of the data that a zero range cleared (see
    /// [`stamp::expected`]); set before the words are cleared.
    pub(crate) zeroed: E::U32,
}

/// One index slot of a file's mapping (an `xarray` entry).
pub(crate) struct Slot<E: Env> {
    /// Page number + 1 of the cached page; 0 = empty.
    pub(crate) page: E::U32,
    /// Fills of this index so far; the next fill's version is this + 1.
    pub(crate) fills: E::U32,
}

/// One file: its slots, its `i_pages` lock and its delete seqcount.
pub(crate) struct File<E: Env> {
    pub(crate) slots: Box<[Slot<E>]>,
    /// `xa_lock`: serialises the update paths of this file (insert, remove,
    /// migrate, zero range). The read paths never take it.
    pub(crate) xa_lock: E::Lock<()>,
    /// `mapping->i_pages_delete_seqcnt`: odd while a writer changes what a
    /// lock-free reader of a slot may return; written only under `xa_lock`
    /// (see `update.rs`, and [`PageCache::pread_fast`] for the reader).
    pub(crate) seq: E::U32,
}

/// Problems the model's own "kernel" checks found (the analogues of
/// `bad_page()` and of a double-free `VM_BUG_ON`), counted, never absorbed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KernelReports {
    /// Frees of a page incarnation that was already free (or quarantined).
    pub double_free: u64,
    /// Pages given to the allocator, or found on its free list, without
    /// their refcount frozen; each is quarantined.
    pub bad_page: u64,
}

#[derive(Default)]
struct ReportCounters {
    // Plain std atomics even under shuttle and loom: statistics only,
    // nothing is ordered by them.
    double_free: AtomicU64,
    bad_page: AtomicU64,
}

/// A page cache over an arena of pages, generic over the refcount scheme `R`
/// and the synchronisation primitives `E` (see [`Env`]).
///
/// | here | kernel |
/// |---|---|
/// | arena of pages, never freed | `memmap` (`struct page` array) |
/// | `alloc` | `rmqueue` + `post_alloc_hook` / `set_page_refcounted` |
/// | `free` | `free_unref_page` / `free_pages_prepare` (with `bad_page`) |
/// | `put_page` | `folio_put` / `__folio_put` |
/// | `lookup` | `filemap_get_entry`: `xas_load`, `folio_try_get`, `xas_reload` |
/// | [`pread`](Self::pread) | `filemap_read` / `filemap_get_pages` / `copy_folio_to_iter` |
/// | [`pread_fast`](Self::pread_fast) | `filemap_read_fast_rcu` (Shutsemau, linux-mm, 17 Oct 2025), then `filemap_read` |
/// | `fill` | `page_cache_sync_ra` + `filemap_add_folio` / `__filemap_add_folio` |
/// | [`reclaim`](Self::reclaim) | `shrink_folio_list` + `__remove_mapping` (`folio_ref_freeze`, `page_cache_delete`) |
/// | [`truncate`](Self::truncate) | `truncate_inode_folio` / `filemap_remove_folio` / `page_cache_delete` |
/// | [`migrate`](Self::migrate) | `migrate_folio` / `__folio_migrate_mapping` |
/// | [`zero_range`](Self::zero_range) | fallocate punch hole / zero range: `truncate_inode_partial_folio`, `folio_zero_range` |
///
/// The read paths take no lock; the update paths serialise on a per-file
/// lock (`xa_lock`) and the allocator's lock (`zone->lock`), as in the
/// kernel. A put that turns out to be the last one frees the page, taking
/// the allocator's lock, as the kernel's final `folio_put` does.
///
/// Checked by: the unit tests next to this file, the shuttle histories
/// (`shuttle_tests.rs`), the loom models of the shipped code
/// (`loom_tests/`), and `pageref stress`. Measured by the `pread`,
/// `pread-fast`, `spread` and `churn` workloads of `pageref bench`.
///
/// Simplification: a fill writes the page's data before publishing it, where
/// the kernel inserts a locked, not-yet-uptodate folio and readers wait for
/// the read to finish. The refcount protocol is the same.
pub struct PageCache<R: PageRef, E: Env = StdEnv> {
    pages: Box<[Page<R, E>]>,
    /// Page data, `words_per_page` words per page. Stored as atomic words
    /// accessed with Relaxed loads and stores: on x86-64 and AArch64 these
    /// are the very same `mov`/`ldr`/`str` instructions as a plain copy, but
    /// unlike plain memory a reader that races a free, a refill or a zero
    /// range (which `pread_fast` does by design, and a planted bug makes the
    /// refcounted read do) is not undefined behaviour in Rust; it just reads
    /// other words, which the seqcount or the stamps reveal.
    data: Box<[E::U64]>,
    words_per_page: usize,
    page_size: usize,
    pages_per_file: usize,
    pub(crate) files: Box<[File<E>]>,
    /// The allocator's free list (LIFO, like the per-CPU lists: a freed
    /// page is the next one handed out, which makes reuse races likely).
    free: E::Lock<Vec<u32>>,
    reports: ReportCounters,
    _r: PhantomData<fn() -> R>,
}

impl<R: PageRef, E: Env> PageCache<R, E> {
    /// A cache with every page free (frozen, on the free list) and every slot
    /// empty. Panics if `cfg` is invalid (see [`CacheConfig::validate`]).
    pub fn new(cfg: CacheConfig) -> Self {
        if let Err(e) = cfg.validate() {
            panic!("pageref-mm: invalid CacheConfig: {e}");
        }
        let words_per_page = cfg.page_size / 8;
        let pages = (0..cfg.arena_pages)
            .map(|_| Page {
                count: R::new_frozen(),
                gen: E::U32::new(0),
                state: E::U32::new(FREE),
                owner: E::U64::new(NO_OWNER),
                version: E::U32::new(0),
                zeroed: E::U32::new(0),
            })
            .collect();
        let data = (0..cfg.arena_pages * words_per_page)
            .map(|_| E::U64::new(0))
            .collect();
        let files = (0..cfg.files)
            .map(|_| File {
                slots: (0..cfg.pages_per_file)
                    .map(|_| Slot {
                        page: E::U32::new(0),
                        fills: E::U32::new(0),
                    })
                    .collect(),
                xa_lock: E::Lock::new(()),
                seq: E::U32::new(0),
            })
            .collect();
        // Popped from the end: hand out page 0 first.
        let free = (0..cfg.arena_pages as u32).rev().collect();
        PageCache {
            pages,
            data,
            words_per_page,
            page_size: cfg.page_size,
            pages_per_file: cfg.pages_per_file,
            files,
            free: E::Lock::new(free),
            reports: ReportCounters::default(),
            _r: PhantomData,
        }
    }

    /// Bytes per page.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Bytes per file (`pages_per_file * page_size`).
    pub fn file_size(&self) -> u64 {
        (self.pages_per_file * self.page_size) as u64
    }

    /// Index slots per file.
    pub fn pages_per_file(&self) -> usize {
        self.pages_per_file
    }

    /// What the model's allocator has reported so far.
    pub fn reports(&self) -> KernelReports {
        KernelReports {
            // ORDERING: Relaxed; statistics.
            double_free: self.reports.double_free.load(Ordering::Relaxed),
            bad_page: self.reports.bad_page.load(Ordering::Relaxed),
        }
    }

    #[inline]
    pub(crate) fn file(&self, file: FileId) -> Option<&File<E>> {
        self.files.get(file.0 as usize)
    }

    #[inline]
    pub(crate) fn slot(&self, file: FileId, index: u64) -> Option<&Slot<E>> {
        self.file(file)?.slots.get(usize::try_from(index).ok()?)
    }

    #[inline]
    pub(crate) fn page(&self, p: u32) -> &Page<R, E> {
        &self.pages[p as usize]
    }

    #[inline]
    pub(crate) fn words(&self, p: u32) -> &[E::U64] {
        let start = p as usize * self.words_per_page;
        &self.data[start..start + self.words_per_page]
    }

    /// Words per zero-range chunk (see [`stamp::expected`]).
    #[inline]
    pub(crate) fn chunk_words(&self) -> usize {
        stamp::chunk_words(self.words_per_page)
    }

    // ----------------------------------------------------------------------
    // Allocator
    // ----------------------------------------------------------------------

    /// `rmqueue` + `post_alloc_hook`: takes a page off the free list, starts
    /// a new incarnation and gives the caller its single reference. `None`
    /// when no page is free.
    pub(crate) fn alloc(&self) -> Option<u32> {
        let p = {
            let mut free = self.free.lock();
            loop {
                let p = free.pop()?;
                let page = self.page(p);
                // `check_new_page`: a page on the free list must be frozen.
                if !page.count.is_frozen() {
                    self.report_bad_page(page);
                    continue;
                }
                // ORDERING: Relaxed, under the allocator lock; the Release
                // store of init() below publishes the new generation to any
                // speculative getter whose Acquire try_get pins this
                // incarnation.
                let gen = page.gen.load(Ordering::Relaxed).wrapping_add(1);
                page.gen.store(gen, Ordering::Relaxed);
                // ORDERING: Relaxed; read and written only under this lock.
                page.state.store(ALLOCATED, Ordering::Relaxed);
                break p;
            }
        };
        // `set_page_refcounted`: frozen -> 1. Outside the lock, as the
        // kernel's post_alloc_hook runs after the page left the free list.
        self.page(p).count.init();
        if !E::planted(Bug::AllocNoFence) {
            // ORDERING: Release fence. The new owner's writes to the page
            // (a fill's stamps, a migration's copy, a churn thread's own
            // data) follow it, so a lock-free reader whose Relaxed copy
            // reads one of them and then runs its Acquire fence (pread_fast)
            // synchronises with this fence: everything before our lock
            // acquisition above, in particular the free of the page and the
            // seqcount bump of the writer that took it out of its file,
            // happens before that reader's re-check, which therefore sees the
            // bump and discards its copy. Without it C11 lets the reader see
            // the new owner's data and still an old, unchanged seqcount (the
            // store reaches it through a third thread, and a Relaxed store is
            // not cumulative): the loom model `truncate_reuse` finds that
            // (planted `AllocNoFence`). The kernel's LKMM gets this for free:
            // the allocator's unlock is A-cumulative. Free on x86; a
            // `dmb ish` on arm64, once per allocation.
            E::U32::fence(Ordering::Release);
        }
        Some(p)
    }

    fn report_bad_page(&self, page: &Page<R, E>) {
        // ORDERING: Relaxed; statistics.
        self.reports.bad_page.fetch_add(1, Ordering::Relaxed);
        // ORDERING: Relaxed; written only under the allocator lock, which
        // the caller holds.
        page.state.store(QUARANTINED, Ordering::Relaxed);
    }

    /// `free_unref_page` / `free_pages_prepare`: returns a page whose
    /// refcount the caller froze (final put or freeze) to the free list.
    ///
    /// The freer acts on the page's own state, never on what the caller
    /// believes it freed: whichever incarnation the page is in is the one
    /// freed (scenario s07 of `docs/races.md`, "different zeros"). A page
    /// that is not allocated is a double free of its current incarnation and
    /// is reported, not absorbed; a page that is not frozen is reported and
    /// quarantined (`bad_page`).
    pub(crate) fn free(&self, p: u32) {
        let page = self.page(p);
        let mut free = self.free.lock();
        // ORDERING: Relaxed; `state` is only written under this lock.
        if page.state.load(Ordering::Relaxed) != ALLOCATED {
            // ORDERING: Relaxed; statistics.
            self.reports.double_free.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if !page.count.is_frozen() {
            self.report_bad_page(page);
            return;
        }
        // ORDERING: Relaxed; the page is frozen and ours. Whoever allocates
        // it next synchronises with us through the allocator lock.
        page.owner.store(NO_OWNER, Ordering::Relaxed);
        // ORDERING: Relaxed; under the allocator lock.
        page.state.store(FREE, Ordering::Relaxed);
        free.push(p);
    }

    /// `folio_put`: drops one reference; the put that drops the last one
    /// frees the page (by the page's own state, see `free`).
    #[inline]
    pub(crate) fn put_page(&self, p: u32) {
        if self.page(p).count.dec_and_test() {
            self.free(p);
        }
    }

    /// Stamps the whole page for (owner, version).
    pub(crate) fn stamp_page(&self, p: u32, owner: u64, version: u32) {
        let base = stamp::base(owner, version);
        for (i, w) in self.words(p).iter().enumerate() {
            // ORDERING: Relaxed; the page is not yet visible (fill) or is
            // private (churn). A fill publishes it with the Release store of
            // its slot; a lock-free reader that reads a stale pointer to it
            // is ordered by alloc()'s Release fence.
            w.store(stamp::word(base, i), Ordering::Relaxed);
        }
    }

    /// Copies `dst.len()` bytes from offset `off` of page `p`.
    #[inline]
    pub(crate) fn copy_out(&self, p: u32, mut off: usize, dst: &mut [u8]) {
        let words = self.words(p);
        let mut i = 0;
        while i < dst.len() {
            let (w, b) = (off / 8, off % 8);
            // ORDERING: Relaxed; the data was made visible by the Acquire
            // slot load / try_get of the lookup, and does not change while
            // we hold the reference except by a zero range, whose words a
            // reader may see either way (as in the kernel, a read racing a
            // hole punch is not atomic).
            let bytes = words[w].load(Ordering::Relaxed).to_le_bytes();
            let n = (8 - b).min(dst.len() - i);
            dst[i..i + n].copy_from_slice(&bytes[b..b + n]);
            i += n;
            off += n;
        }
    }
}

impl<R: PageRef, E: Env> fmt::Debug for PageCache<R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageCache")
            .field("scheme", &R::NAME)
            .field("files", &self.files.len())
            .field("pages_per_file", &self.pages_per_file)
            .field("arena_pages", &self.pages.len())
            .field("page_size", &self.page_size)
            .finish()
    }
}
