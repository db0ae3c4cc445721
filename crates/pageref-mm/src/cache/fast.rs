//! The short read that takes no reference: Kiryl Shutsemau, "mm/filemap:
//! Implement fast short reads" (linux-mm, 17 Oct 2025, co-developed with
//! Linus Torvalds), `filemap_read_fast_rcu`, written here from its
//! description.
//!
//! | step here | kernel |
//! |---|---|
//! | read under no lock, pages never unmapped | `rcu_read_lock()`; folios freed by RCU-safe means, memmap never unmapped |
//! | try-begin the file's delete seqcount, give up if odd | `raw_seqcount_try_begin(&mapping->i_pages_delete_seqcnt, seq)` |
//! | load the slot (Acquire) | `xas_load(&xas)` |
//! | copy at most [`FAST_READ_MAX`] bytes into a stack buffer with Relaxed loads | `memcpy_from_file_folio(buffer, folio, pos, size)` |
//! | Acquire fence, re-read the seqcount | `read_seqcount_retry()` (its `smp_rmb()`) |
//! | copy out of the stack buffer | `copy_to_iter(buffer, ...)` in `filemap_read` |
//! | any failure: count a fallback, take the refcounted read | return 0, `filemap_read` goes on with `filemap_get_pages` |
//!
//! The writers that bump the seqcount are in `update.rs`; which of them must
//! bump it, and why a freeze alone does not exclude this reader, is argued
//! in `docs/verification.md` ("Which freeze users must bump the seqcount").
//!
//! Checked by the loom models of `loom_tests/` (the shipped code under
//! C11), the planted-bug tests of `cache/tests_fast.rs`, shuttle and
//! `pageref stress --read-path fast`; measured by the `pread-fast` and
//! `churn-fast` workloads of `pageref bench`.

use core::sync::atomic::Ordering;

use pageref::{AtomicWord, PageRef};

use super::read::{NoHook, ReadHook, Window};
use super::PageCache;
use crate::env::{Bug, Env};
use crate::{FileId, ReadStats};

/// The longest read [`PageCache::pread_fast`] serves without a reference,
/// in bytes: the kernel patch's on-stack buffer. The data is copied twice
/// (page to stack buffer, then out after validation), so for long reads the
/// second copy costs more than the reference it saves; and the buffer lives
/// on the read path's stack, where 1 KiB is what a syscall can spare.
/// Reads must also fit in one page: the seqcount validates one slot.
pub const FAST_READ_MAX: usize = 1024;

/// Words of the small stack buffer, enough for the common short read (up
/// to 120 bytes at any offset); longer reads take the full-size buffer.
const SMALL_WORDS: usize = 16;
/// Words of the full-size stack buffer: [`FAST_READ_MAX`] bytes at any
/// offset inside a word.
const FULL_WORDS: usize = FAST_READ_MAX / 8 + 1;

/// What one fast attempt did.
enum Fast {
    /// Validated and copied out: this many bytes.
    Done(usize),
    /// The read cannot take the fast path (too long, crosses a page, out of
    /// range): the refcounted read serves it, no fallback counted.
    Ineligible,
    /// A writer was active or finished during the copy, or the slot was
    /// empty: fall back and count it.
    Failed,
}

impl<R: PageRef, E: Env> PageCache<R, E> {
    /// Reads like [`pread`](Self::pread), but a read of at most
    /// [`FAST_READ_MAX`] bytes inside one page is first tried without taking
    /// a reference: it copies the page under the file's delete seqcount and
    /// keeps the copy only if no writer (truncate, reclaim, migration, zero
    /// range) was active or finished meanwhile. A successful fast read stores
    /// to no shared cache line: it loads the seqcount, the slot and the data,
    /// and writes only the caller's stack and `buf`. Any failure counts a
    /// fallback in `stats` and takes the refcounted read.
    pub fn pread_fast(
        &self,
        file: FileId,
        offset: u64,
        buf: &mut [u8],
        stats: &mut ReadStats,
    ) -> usize {
        self.pread_fast_with(file, offset, buf, stats, &mut NoHook)
    }

    #[inline]
    pub(crate) fn pread_fast_with<H: ReadHook<R, E>>(
        &self,
        file: FileId,
        offset: u64,
        buf: &mut [u8],
        stats: &mut ReadStats,
        hook: &mut H,
    ) -> usize {
        match self.try_read_fast(file, offset, buf, hook) {
            Fast::Done(n) => {
                stats.fast += 1;
                n
            }
            Fast::Ineligible => self.pread_with(file, offset, buf, stats, hook),
            Fast::Failed => {
                stats.fallbacks += 1;
                self.pread_with(file, offset, buf, stats, hook)
            }
        }
    }

    /// `filemap_read_fast_rcu`.
    #[inline]
    fn try_read_fast<H: ReadHook<R, E>>(
        &self,
        file: FileId,
        offset: u64,
        buf: &mut [u8],
        hook: &mut H,
    ) -> Fast {
        let Some(f) = self.file(file) else {
            return Fast::Ineligible;
        };
        let size = self.file_size();
        if offset >= size {
            return Fast::Ineligible;
        }
        let n = (buf.len() as u64).min(size - offset) as usize;
        let index = offset / self.page_size as u64;
        let in_page = (offset % self.page_size as u64) as usize;
        if n == 0 || n > FAST_READ_MAX || in_page + n > self.page_size {
            return Fast::Ineligible;
        }
        let slot = &f.slots[index as usize];

        // `raw_seqcount_try_begin`: an odd count means a writer is inside
        // its section; give up at once rather than wait (see the planted
        // `FastWaitsOnOdd` for what waiting would do).
        // ORDERING: Acquire; pairs with the Release store that ended the
        // last writer section whose end we read: everything that writer
        // changed (a slot emptied or replaced, words zeroed) happens before
        // our loads below, so we cannot read what it replaced.
        let seq = loop {
            let s = f.seq.load(Ordering::Acquire);
            if s & 1 == 0 {
                break s;
            }
            if !E::planted(Bug::FastWaitsOnOdd) || !hook.keep_going() {
                return Fast::Failed;
            }
            E::relax();
        };
        hook.fast_begin(seq);
        // `xas_load`.
        // ORDERING: Acquire; pairs with the Release store that published
        // the page (a fill or a migration), so that the data written before
        // the publication is what we copy.
        let v = slot.page.load(Ordering::Acquire);
        if v == 0 {
            return Fast::Failed;
        }
        let p = v - 1;
        hook.fast_slot(p, self.page(p));
        if E::planted(Bug::FastRecheckBeforeCopy) && !self.fast_recheck(&f.seq, seq, hook) {
            return Fast::Failed;
        }
        hook.window(Window::FastBeforeCopy);
        // `memcpy_from_file_folio` into the stack buffer, then the re-check,
        // then the copy out: nothing unvalidated reaches `buf`.
        let w0 = in_page / 8;
        let words = (in_page + n - 1) / 8 + 1 - w0;
        let ok = if words <= SMALL_WORDS {
            self.copy_validated::<SMALL_WORDS, H>(p, w0, words, &f.seq, seq, hook, in_page, buf, n)
        } else {
            self.copy_validated::<FULL_WORDS, H>(p, w0, words, &f.seq, seq, hook, in_page, buf, n)
        };
        if !ok {
            return Fast::Failed;
        }
        hook.fast_copied(file, index, in_page, &buf[..n]);
        Fast::Done(n)
    }

    /// Copies `words` words of page `p` from word `w0` into a stack buffer
    /// of `N` words, re-checks the seqcount, and only then copies the `n`
    /// bytes at `in_page` out into `buf`. `false` if the re-check failed.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn copy_validated<const N: usize, H: ReadHook<R, E>>(
        &self,
        p: u32,
        w0: usize,
        words: usize,
        seqcount: &E::U32,
        seq: u32,
        hook: &mut H,
        in_page: usize,
        buf: &mut [u8],
        n: usize,
    ) -> bool {
        let mut tmp = [0u64; N];
        for (i, (t, w)) in tmp[..words]
            .iter_mut()
            .zip(&self.words(p)[w0..w0 + words])
            .enumerate()
        {
            // ORDERING: Relaxed; the page may be freed, reused or zeroed
            // under us (we hold no reference): the words are validated by
            // the re-check below, whose Acquire fence orders these loads
            // before its re-read.
            *t = w.load(Ordering::Relaxed);
            if i == 0 {
                hook.window(Window::FastMidCopy);
            }
        }
        hook.window(Window::FastBeforeRecheck);
        if !E::planted(Bug::FastRecheckBeforeCopy)
            && !E::planted(Bug::FastNoRecheck)
            && !self.fast_recheck(seqcount, seq, hook)
        {
            return false;
        }
        // The copy out (`copy_to_iter`), from validated words only.
        let skip = in_page % 8;
        let mut i = 0;
        for t in &tmp[..words] {
            let bytes = t.to_le_bytes();
            let from = if i == 0 { skip } else { 0 };
            let k = (8 - from).min(n - i);
            buf[i..i + k].copy_from_slice(&bytes[from..from + k]);
            i += k;
        }
        true
    }

    /// `read_seqcount_retry`: whether the count still reads `seq`.
    #[inline(always)]
    fn fast_recheck<H: ReadHook<R, E>>(&self, seqcount: &E::U32, seq: u32, hook: &mut H) -> bool {
        if !E::planted(Bug::FastNoFence) {
            // ORDERING: Acquire fence, then a Relaxed re-read (Boehm, "Can
            // seqlocks get along with programming language memory models?",
            // MSPC 2012, the fence form of the reader). If any of our Relaxed
            // data loads read a word a writer stored inside its section, it
            // read a store sequenced after that writer's Release fence (which
            // follows its odd store): fence-to-fence synchronisation makes
            // the odd store happen before this re-read, which then reads it
            // or a later value and differs from `seq`. The same holds for a
            // word stored by the new owner of a reused page, after the
            // allocator's Release fence (see `alloc`). An Acquire *load* here
            // would not do: it orders the accesses after it, not the data
            // loads before it. The kernel's `smp_rmb()` is this fence.
            E::U32::fence(Ordering::Acquire);
        }
        // ORDERING: Relaxed; ordered after the copy by the fence above.
        let now = seqcount.load(Ordering::Relaxed);
        hook.fast_recheck(now);
        now == seq
    }
}
