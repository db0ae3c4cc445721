//! The page arena (memmap), the page allocator and the page cache.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering};

use pageref::{AtomicWord, PageRef};

use crate::env::{Env, Lock, StdEnv};
use crate::stamp::{self, NO_OWNER};
use crate::{CacheConfig, FileId, ReadStats};

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
    /// Which fill of (file, index) this incarnation holds.
    pub(crate) version: E::U32,
}

/// One index slot of a file's mapping (an `xarray` entry).
struct Slot<E: Env> {
    /// Page number + 1 of the cached page; 0 = empty.
    page: E::U32,
    /// Fills of this index so far; the next fill's version is this + 1.
    fills: E::U32,
}

/// One file: its slots and its `i_pages` lock.
struct File<E: Env> {
    slots: Box<[Slot<E>]>,
    /// `xa_lock`: serialises insert / remove on this file's slots. The read
    /// path never takes it.
    xa_lock: E::Lock<()>,
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
    // Plain std atomics even under shuttle: statistics only, nothing is
    // ordered by them.
    double_free: AtomicU64,
    bad_page: AtomicU64,
}

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
    /// that are live, slots pointing at free pages, ...
    pub problems: usize,
    /// A description of the first few problems.
    pub details: Vec<String>,
}

/// A point of the read path where the stress harness may widen a race
/// window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// Between loading the slot and `try_get`.
    BeforeGet,
    /// Between `try_get` and the slot re-check.
    BeforeRecheck,
    /// While holding the reference, before copying.
    Holding,
}

/// Observation points of the read path, used by the stress checks. The
/// benchmark's `pread` passes [`NoHook`], whose empty methods compile away.
pub(crate) trait ReadHook<R, E: Env> {
    /// A race window; the stress harness may yield here.
    #[inline]
    fn window(&mut self, _at: Window) {}
    /// Asked on every retry of the lookup; `false` gives up the read (the
    /// harness stops a run that a planted bug has wedged).
    #[inline]
    fn keep_going(&mut self) -> bool {
        true
    }
    /// A page was pinned and validated for (file, index).
    #[inline]
    fn pinned(&mut self, _page: &Page<R, E>) {}
    /// `bytes` were copied from offset `page_off` of the pinned page, which
    /// is still held.
    #[inline]
    fn copied(
        &mut self,
        _file: FileId,
        _index: u64,
        _page: &Page<R, E>,
        _page_off: usize,
        _bytes: &[u8],
    ) {
    }
}

/// The hook of the plain read path: observes nothing.
pub(crate) struct NoHook;
impl<R, E: Env> ReadHook<R, E> for NoHook {}

enum Fill {
    /// Inserted; the caller holds a reference to this page.
    Filled(u32),
    /// Someone else filled the slot first; look up again.
    Raced,
    /// The allocator had no free page (`-ENOMEM`).
    NoMemory,
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
/// | `fill` | `page_cache_sync_ra` + `filemap_add_folio` / `__filemap_add_folio` |
/// | [`reclaim`](Self::reclaim) | `shrink_folio_list` + `__remove_mapping` (`folio_ref_freeze`) |
/// | [`truncate`](Self::truncate) | `truncate_inode_folio` / `filemap_remove_folio` |
///
/// The read path (lookup, `try_get`, re-check, copy, put) takes no lock; the
/// update paths serialise on a per-file lock (`xa_lock`) and the allocator's
/// lock (`zone->lock`), as in the kernel. A put that turns out to be the
/// last one frees the page, taking the allocator's lock, as the kernel's
/// final `folio_put` does.
///
/// Simplification: a fill writes the page's data before publishing it, where
/// the kernel inserts a locked, not-yet-uptodate folio and readers wait for
/// the read to finish. The refcount protocol is the same.
pub struct PageCache<R: PageRef, E: Env = StdEnv> {
    pages: Box<[Page<R, E>]>,
    /// Page data, `words_per_page` words per page. Stored as atomic words
    /// accessed with Relaxed loads and stores: on x86-64 and AArch64 these
    /// are the very same `mov`/`ldr`/`str` instructions as a plain copy, but
    /// unlike plain memory a reader that races a free or a refill (which a
    /// planted bug makes happen) is not undefined behaviour in Rust; it just
    /// reads another incarnation's words, which the stamps reveal.
    data: Box<[E::U64]>,
    words_per_page: usize,
    page_size: usize,
    pages_per_file: usize,
    files: Box<[File<E>]>,
    /// The allocator's free list (LIFO, like the per-CPU lists: a freed
    /// page is the next one handed out, which makes reuse races likely).
    free: E::Lock<Vec<u32>>,
    reports: ReportCounters,
    _r: PhantomData<fn() -> R>,
}

impl CacheConfig {
    /// Checks the configuration; `Err` holds a one-line reason.
    pub fn validate(&self) -> Result<(), String> {
        if self.files == 0 || self.files > u32::MAX as usize {
            return Err(format!("files must be in 1..=2^32-1, got {}", self.files));
        }
        if self.pages_per_file == 0 || self.pages_per_file > u32::MAX as usize {
            return Err(format!(
                "pages_per_file must be in 1..=2^32-1, got {}",
                self.pages_per_file
            ));
        }
        if self.arena_pages == 0 || self.arena_pages >= u32::MAX as usize {
            return Err(format!(
                "arena_pages must be in 1..2^32-1, got {}",
                self.arena_pages
            ));
        }
        if self.page_size == 0 || !self.page_size.is_multiple_of(8) {
            return Err(format!(
                "page_size must be a positive multiple of 8, got {}",
                self.page_size
            ));
        }
        if self
            .arena_pages
            .checked_mul(self.page_size)
            .is_none_or(|b| b > 1 << 34)
        {
            return Err("arena_pages * page_size must stay below 16 GiB".to_string());
        }
        Ok(())
    }
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

    /// What the model's allocator has reported so far.
    pub fn reports(&self) -> KernelReports {
        KernelReports {
            // ORDERING: Relaxed; statistics.
            double_free: self.reports.double_free.load(Ordering::Relaxed),
            bad_page: self.reports.bad_page.load(Ordering::Relaxed),
        }
    }

    #[inline]
    fn slot(&self, file: FileId, index: u64) -> Option<&Slot<E>> {
        let f = self.files.get(file.0 as usize)?;
        f.slots.get(usize::try_from(index).ok()?)
    }

    #[inline]
    pub(crate) fn page(&self, p: u32) -> &Page<R, E> {
        &self.pages[p as usize]
    }

    #[inline]
    fn words(&self, p: u32) -> &[E::U64] {
        let start = p as usize * self.words_per_page;
        &self.data[start..start + self.words_per_page]
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
    /// freed (BRIEF §5 scenario 7, "different zeros"). A page that is not
    /// allocated is a double free of its current incarnation and is
    /// reported, not absorbed; a page that is not frozen is reported and
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

    /// Stamps the whole page for (owner, version, generation).
    pub(crate) fn stamp_page(&self, p: u32, owner: u64, version: u32, gen: u32) {
        let base = stamp::base(owner, version, gen);
        for (i, w) in self.words(p).iter().enumerate() {
            // ORDERING: Relaxed; the page is not yet visible (fill) or is
            // private (churn). A fill publishes it with the Release store of
            // its slot.
            w.store(stamp::word(base, i), Ordering::Relaxed);
        }
    }

    // ----------------------------------------------------------------------
    // Read path
    // ----------------------------------------------------------------------

    /// `filemap_get_entry`: finds the page cached at (file, index) and takes
    /// a reference to it, without any lock. `None` if the slot is empty (or
    /// the hook gives up).
    #[inline]
    fn lookup<H: ReadHook<R, E>>(
        &self,
        slot: &Slot<E>,
        stats: &mut ReadStats,
        hook: &mut H,
    ) -> Option<u32> {
        loop {
            // `xas_load` under rcu_read_lock().
            // ORDERING: Acquire; pairs with the Release store that published
            // the page, so that its metadata and data are visible. (The
            // pages themselves are never deallocated, which is what RCU
            // guarantees in the kernel: reading a stale page is safe.)
            let v = slot.page.load(Ordering::Acquire);
            if v == 0 {
                return None;
            }
            let p = v - 1;
            let page = self.page(p);
            hook.window(Window::BeforeGet);
            // `folio_try_get`: fails if the page is frozen (being reclaimed)
            // or free. It may also succeed on a page that was freed and
            // reallocated since we loaded the slot: a spurious reference.
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
            // ORDERING: Acquire; if the page was republished in this slot
            // (freed, reallocated, refilled) we must see the new publication's
            // data, which the Release store of that publication carries.
            // Coherence makes a stale `v` impossible here once our try_get
            // pinned a later incarnation: the unpublish happened before the
            // free, the free before the reallocation's Release init, which
            // our Acquire try_get read.
            if E::LOOKUP_RECHECK && slot.page.load(Ordering::Acquire) != v {
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
    /// caller keeping its own.
    fn fill(&self, file: FileId, index: u64, slot: &Slot<E>) -> Fill {
        let Some(p) = self.alloc() else {
            return Fill::NoMemory;
        };
        let page = self.page(p);
        // ORDERING: Relaxed; the RMW's total order alone makes versions of
        // one slot unique, and they are published with the page.
        let version = slot.fills.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        // ORDERING: Relaxed; we allocated this incarnation (alloc wrote gen
        // in this thread).
        let gen = page.gen.load(Ordering::Relaxed);
        let owner = stamp::owner(file.0, index as u32);
        // ORDERING: Relaxed; published with the slot's Release store below.
        page.owner.store(owner, Ordering::Relaxed);
        // ORDERING: Relaxed; as owner.
        page.version.store(version, Ordering::Relaxed);
        self.stamp_page(p, owner, version, gen);
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
            // every lookup whose Acquire load reads this value.
            slot.page.store(p + 1, Ordering::Release);
        }
        Fill::Filled(p)
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
            // we hold the reference (a planted bug that breaks this is what
            // the stamps detect).
            let bytes = words[w].load(Ordering::Relaxed).to_le_bytes();
            let n = (8 - b).min(dst.len() - i);
            dst[i..i + n].copy_from_slice(&bytes[b..b + n]);
            i += n;
            off += n;
        }
    }

    /// `filemap_read`: reads up to `buf.len()` bytes of `file` at `offset`,
    /// page by page (lookup, `try_get`, re-check, copy, put), filling missing
    /// pages. Returns the number of bytes read: fewer at the end of the file
    /// or when no page can be allocated for a miss; 0 for an unknown file.
    /// Takes no lock unless it fills a page or drops a page's last
    /// reference.
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
        if file.0 as usize >= self.files.len() || offset >= self.file_size() {
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
            hook.copied(file, index, page, in_page, dst);
            self.put_page(p);
            pos += n as u64;
            done += n;
        }
        done
    }

    // ----------------------------------------------------------------------
    // Update paths
    // ----------------------------------------------------------------------

    /// Reclaims the page cached at (file, index): pins it (as isolating it
    /// from the LRU does), then under the file's lock freezes it at the
    /// expected count (the cache's reference plus ours), unpublishes it and
    /// frees it (`__remove_mapping`). Returns `false` if nothing was cached
    /// there or the freeze failed because someone else holds a reference;
    /// the page then stays cached.
    pub fn reclaim(&self, file: FileId, index: u64) -> bool {
        let Some(slot) = self.slot(file, index) else {
            return false;
        };
        let Some(p) = self.lookup(slot, &mut ReadStats::default(), &mut NoHook) else {
            return false;
        };
        let page = self.page(p);
        let xa = self.files[file.0 as usize].xa_lock.lock();
        // ORDERING: Relaxed; slot writers hold xa_lock, which we hold.
        if slot.page.load(Ordering::Relaxed) != p + 1 {
            drop(xa);
            self.put_page(p);
            return false;
        }
        // `folio_ref_freeze(folio, 1 + nr)`: the cache's reference and ours.
        if !page.count.freeze(2) {
            drop(xa);
            self.put_page(p);
            return false;
        }
        // `__filemap_remove_folio`.
        // ORDERING: Release, as in truncate(): the unpublish must happen
        // before the page's reuse, so that a speculative reader that pins
        // the reused page cannot read `p + 1` again in its re-check. Program
        // order and the allocator lock (free, then alloc) already give that
        // even for a Relaxed store; Release keeps the argument local and is
        // free on x86.
        slot.page.store(0, Ordering::Release);
        drop(xa);
        // The page is frozen and ours: free it as it is (no unfreeze).
        self.free(p);
        true
    }

    /// `truncate_inode_folio`: unpublishes the page cached at (file, index)
    /// and drops the cache's reference; the page is freed by whoever drops
    /// the last one. Returns `false` if nothing was cached there.
    pub fn truncate(&self, file: FileId, index: u64) -> bool {
        let Some(slot) = self.slot(file, index) else {
            return false;
        };
        let p = {
            let _xa = self.files[file.0 as usize].xa_lock.lock();
            // ORDERING: Relaxed; slot writers hold xa_lock, which we hold.
            let v = slot.page.load(Ordering::Relaxed);
            if v == 0 {
                return false;
            }
            // ORDERING: Release. The unpublish must happen before the free
            // and any reuse of the page, so that a speculative reader that
            // pins the reused page cannot read `v` again in its re-check
            // (see `lookup`). Our put is AcqRel and whoever frees acquires
            // it, so the chain holds; Release keeps it local and is free on
            // x86.
            slot.page.store(0, Ordering::Release);
            v - 1
        };
        self.put_page(p);
        true
    }

    /// Checks a quiescent cache (no other thread uses it; hence `&mut`):
    /// every page is either free and frozen (on the free list once), or
    /// cached in exactly one slot with exactly the cache's reference, or
    /// quarantined after a reported bad free. Anything else (a leaked
    /// reference, a leaked page, a live free page) is a problem.
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
            for (ii, s) in f.slots.iter().enumerate() {
                // ORDERING: Relaxed; the cache is quiescent (`&mut self`).
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
