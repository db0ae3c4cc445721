//! The update paths: truncate, reclaim, migration, zero range, and the
//! delete seqcount (`mapping->i_pages_delete_seqcnt`) that each of them
//! bumps around the change a lock-free reader could otherwise return.
//!
//! Every path here changes what [`PageCache::pread_fast`] may copy from a
//! slot: it empties the slot (truncate, reclaim), replaces its page and
//! frees the old one (migration), or changes the page's words in place
//! (zero range). A freeze (reclaim, migration) excludes every *refcounted*
//! reader, whose `try_get` fails on the frozen page, but not the fast
//! reader, which takes no reference. So each path makes the count odd
//! before its change and even after it, under the file's `xa_lock`
//! (`write_seqcount_begin` / `write_seqcount_end` in `page_cache_delete`).
//! The two paths the kernel patch did not cover are Hugh Dickins'
//! (migration) and Dave Chinner's (zero range); `docs/verification.md`
//! shows what each returns without the bump.

use core::ops::Range;
use core::sync::atomic::Ordering;

use pageref::{AtomicWord, PageRef};

use super::read::{NoHook, OneTry, ReadHook, Window};
use super::{File, PageCache};
use crate::env::{Bug, Env, Lock};
use crate::{FileId, ReadStats};

/// `write_seqcount_begin`; the caller holds the file's `xa_lock`. `bump`
/// is `false` only for a planted writer that forgets the seqcount.
///
/// Both ends are `fetch_add`s rather than a load and a store (the kernel's
/// `s->sequence++` under the writer's lock): the same effect, as only
/// writers holding `xa_lock` change the count, for one locked instruction
/// on a path that already takes a lock. It also keeps the loom models
/// exhaustive: loom's partial-order reduction remembers only the last
/// access to each atomic, so a writer that loaded the count before storing
/// it would hide the reader's load of it, and loom would not try the reader
/// between the two.
#[inline]
fn write_begin<E: Env>(f: &File<E>, bump: bool) {
    if !bump || E::planted(Bug::WriterEvenToEven) {
        return;
    }
    // ORDERING: Relaxed RMW, then a Release fence (Boehm, MSPC 2012, the
    // writer's side): every store of the section below is sequenced after
    // the fence, so a reader whose Relaxed load reads one of them and then
    // runs its Acquire fence synchronises with this fence and sees this odd
    // value (or a later one) in its re-check. A Release *store* would not
    // do: it orders what precedes it, not the section's stores after it.
    // The kernel's `smp_wmb()` in `write_seqcount_begin` is this fence.
    let s = f.seq.fetch_add(1, Ordering::Relaxed);
    debug_assert!(s & 1 == 0, "write_begin: seqcount {s:#x} was odd");
    if !E::planted(Bug::WriterNoFence) {
        E::U32::fence(Ordering::Release);
    }
}

/// `write_seqcount_end`.
#[inline]
fn write_end<E: Env>(f: &File<E>, bump: bool) {
    if !bump {
        return;
    }
    // ORDERING: Release; pairs with the Acquire try-begin of a reader that
    // reads the value we make: the section's changes happen before its
    // loads. (With the planted `WriterEvenToEven` this +2 is the only
    // change: the count goes from even to even, never odd.)
    let add = if E::planted(Bug::WriterEvenToEven) {
        2
    } else {
        1
    };
    f.seq.fetch_add(add, Ordering::Release);
}

impl<R: PageRef, E: Env> PageCache<R, E> {
    /// Reclaims the page cached at (file, index): pins it (as isolating it
    /// from the LRU does), then under the file's lock freezes it at the
    /// expected count (the cache's reference plus ours), unpublishes it
    /// (`page_cache_delete`, which bumps the delete seqcount) and frees it
    /// (`__remove_mapping`). The freeze stops refcounted readers only: a
    /// fast reader that loaded the slot would otherwise copy the page while
    /// it is freed and reused (planted `ReclaimNoBump`). Returns `false` if
    /// nothing was cached there or the freeze failed because someone else
    /// holds a reference; the page then stays cached.
    pub fn reclaim(&self, file: FileId, index: u64) -> bool {
        let Some(slot) = self.slot(file, index) else {
            return false;
        };
        let Some(p) = self.lookup(slot, &mut ReadStats::default(), &mut OneTry) else {
            return false;
        };
        let page = self.page(p);
        let f = &self.files[file.0 as usize];
        let xa = f.xa_lock.lock();
        // ORDERING: Relaxed; slot writers hold xa_lock, which we hold.
        if slot.page.load(Ordering::Relaxed) != p + 1 {
            drop(xa);
            self.put_page(p);
            return false;
        }
        // `folio_ref_freeze(folio, 1 + nr)`: the cache's reference and ours.
        // It stops every refcounted reader, not a fast one.
        if !page.count.freeze(2) {
            drop(xa);
            self.put_page(p);
            return false;
        }
        let bump = !E::planted(Bug::ReclaimNoBump);
        write_begin(f, bump);
        // `__filemap_remove_folio` / `page_cache_delete`.
        // ORDERING: Relaxed. The unpublish must happen before the page's
        // reuse, so that a speculative reader that pins the reused page
        // cannot read `p + 1` again in its re-check: program order and the
        // allocator lock (our free below, then the next alloc) give that; and
        // the seqcount's Release end orders it before a fast reader's
        // validation. (weaken-orderings: Release here was caught by no model.)
        slot.page.store(0, Ordering::Relaxed);
        write_end(f, bump);
        drop(xa);
        // The page is frozen and ours: free it as it is (no unfreeze).
        self.free(p);
        true
    }

    /// `truncate_inode_folio`: unpublishes the page cached at (file, index)
    /// (`page_cache_delete`, bumping the delete seqcount) and drops the
    /// cache's reference; the page is freed by whoever drops the last one.
    /// A fast reader holds no reference: without the bump, one that loaded
    /// the slot would copy the page after it is freed and reused (planted
    /// `TruncateNoBump`). Returns `false` if nothing was cached there.
    pub fn truncate(&self, file: FileId, index: u64) -> bool {
        let Some(slot) = self.slot(file, index) else {
            return false;
        };
        let f = &self.files[file.0 as usize];
        let p = {
            let _xa = f.xa_lock.lock();
            // ORDERING: Relaxed; slot writers hold xa_lock, which we hold.
            let v = slot.page.load(Ordering::Relaxed);
            if v == 0 {
                return false;
            }
            let bump = !E::planted(Bug::TruncateNoBump);
            write_begin(f, bump);
            // ORDERING: Relaxed. The unpublish must happen before the free
            // and any reuse of the page, so that a speculative reader that
            // pins the reused page cannot read `v` again in its re-check
            // (see `lookup`): our put below is Release and whoever frees
            // acquires it, and the seqcount's Release end orders it before a
            // fast reader's validation. (weaken-orderings: Release here was
            // caught by no model.)
            slot.page.store(0, Ordering::Relaxed);
            write_end(f, bump);
            v - 1
        };
        self.put_page(p);
        true
    }

    /// Migrates the page cached at (file, index) to a newly allocated page
    /// (`migrate_folio` / `__folio_migrate_mapping`): pins it (isolation),
    /// then under the file's lock freezes it at its expected count (the
    /// cache's reference plus ours), allocates the new page, copies the
    /// data, replaces the slot with a Release store (the publication), and
    /// frees the old page. The whole replacement is one seqcount section:
    /// the freeze stops refcounted readers only, and a fast reader that
    /// loaded the old page would otherwise copy it while it is freed and
    /// reused (Hugh Dickins' case; planted `MigrateNoBump`). Returns
    /// `false` if nothing was cached there, the freeze failed (someone else
    /// holds a reference), or no page was free.
    pub fn migrate(&self, file: FileId, index: u64) -> bool {
        self.migrate_with(file, index, &mut NoHook)
    }

    pub(crate) fn migrate_with<H: ReadHook<R, E>>(
        &self,
        file: FileId,
        index: u64,
        hook: &mut H,
    ) -> bool {
        let Some(slot) = self.slot(file, index) else {
            return false;
        };
        let Some(p) = self.lookup(slot, &mut ReadStats::default(), &mut OneTry) else {
            return false;
        };
        let old = self.page(p);
        let f = &self.files[file.0 as usize];
        let xa = f.xa_lock.lock();
        // ORDERING: Relaxed; slot writers hold xa_lock, which we hold.
        if slot.page.load(Ordering::Relaxed) != p + 1 || !old.count.freeze(2) {
            drop(xa);
            self.put_page(p);
            return false;
        }
        let Some(q) = self.alloc() else {
            // `folio_ref_unfreeze`: back to the cache's reference and ours.
            old.count.unfreeze(2);
            drop(xa);
            self.put_page(p);
            return false;
        };
        let new = self.page(q);
        let bump = !E::planted(Bug::MigrateNoBump);
        write_begin(f, bump);
        // `folio_migrate_mapping` / `folio_mc_copy`: the metadata and the
        // words. ORDERING: Relaxed loads of the old page: it is frozen and
        // its file's lock is ours, so nobody writes it; Relaxed stores to the
        // new one: published by the slot's Release store below.
        new.owner
            .store(old.owner.load(Ordering::Relaxed), Ordering::Relaxed);
        new.version
            .store(old.version.load(Ordering::Relaxed), Ordering::Relaxed);
        new.zeroed
            .store(old.zeroed.load(Ordering::Relaxed), Ordering::Relaxed);
        for (d, w) in self.words(q).iter().zip(self.words(p)) {
            // ORDERING: as above.
            d.store(w.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        // `folio_ref_add(newfolio, nr)`: the cache's reference.
        new.count.inc();
        // `xas_store(&xas, newfolio)`.
        // ORDERING: Release; publishes the copy to every reader whose
        // Acquire slot load reads this value.
        slot.page.store(q + 1, Ordering::Release);
        hook.window(Window::WriterInSection);
        write_end(f, bump);
        drop(xa);
        // The old page is frozen and ours (the kernel unfreezes it to the
        // migrator's references and puts them; the effect is this free).
        self.free(p);
        self.put_page(q);
        true
    }

    /// Zeroes the chunks `chunks` (a page has 32 chunks, see
    /// [`CacheConfig`](crate::CacheConfig): `page_size / 32` bytes each,
    /// rounded up to a word) of the page cached at (file, index), in place,
    /// under the file's lock: fallocate's punch hole / zero range on a page
    /// that stays cached (`truncate_inode_partial_folio`,
    /// `folio_zero_range`). The page is not removed and no reference
    /// changes, so nothing stops a fast reader from copying half-zeroed
    /// words: the section bumps the seqcount (Dave Chinner's case; planted
    /// `ZeroRangeNoBump`). A refcounted reader may see the words either way,
    /// as in the kernel. Returns `false` if nothing was cached there.
    pub fn zero_range(&self, file: FileId, index: u64, chunks: Range<u32>) -> bool {
        self.zero_range_with(file, index, chunks, &mut NoHook)
    }

    pub(crate) fn zero_range_with<H: ReadHook<R, E>>(
        &self,
        file: FileId,
        index: u64,
        chunks: Range<u32>,
        hook: &mut H,
    ) -> bool {
        let Some(slot) = self.slot(file, index) else {
            return false;
        };
        let mask = (chunks.start.min(32)..chunks.end.min(32)).fold(0u32, |m, c| m | 1 << c);
        let f = &self.files[file.0 as usize];
        let _xa = f.xa_lock.lock();
        // ORDERING: Relaxed; slot writers hold xa_lock, which we hold.
        let v = slot.page.load(Ordering::Relaxed);
        if v == 0 {
            return false;
        }
        let p = v - 1;
        let bump = !E::planted(Bug::ZeroRangeNoBump);
        write_begin(f, bump);
        // ORDERING: Relaxed load and store inside the section (after its
        // fence): only writers holding xa_lock change a cached page's mask.
        // The mask is the model's record of what the page should read now
        // (the filesystem's extent state); a fast reader validates it with
        // the words, a refcounted reader's checker reads it after the
        // section ends (see the stress checker).
        let zeroed = &self.page(p).zeroed;
        zeroed.store(zeroed.load(Ordering::Relaxed) | mask, Ordering::Relaxed);
        let cw = self.chunk_words();
        let mut first = true;
        for (i, w) in self.words(p).iter().enumerate() {
            if mask & (1 << (i / cw)) != 0 {
                // ORDERING: Relaxed; inside the section: a fast reader that
                // reads this store fails its re-check (see write_begin).
                w.store(0, Ordering::Relaxed);
                if first {
                    hook.window(Window::WriterInSection);
                    first = false;
                }
            }
        }
        write_end(f, bump);
        true
    }
}
