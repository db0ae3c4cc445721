//! # pageref-mm — the kernel around the page refcount
//!
//! A refcount is only correct in the context of its users. This crate is a
//! user-space model of the Linux memory-management code that uses the page
//! refcount, generic over the scheme ([`pageref::PageRef`]):
//!
//! * a **page arena** standing in for `memmap`: pages are never deallocated;
//!   each has its refcount, a state, an owner (file, index), a generation
//!   number bumped on every allocation, and a data block;
//! * an **allocator** with a free list that hands out pages initialised to
//!   one reference and accepts only frozen pages; a second free of the same
//!   incarnation is reported, never absorbed (see [`KernelReports`]);
//! * a **page cache** ([`PageCache`]): files with index slots; a lock-free
//!   speculative lookup (load slot, `try_get`, re-check the slot, put and
//!   retry on mismatch); insert with the cache's reference; truncate
//!   (unpublish, put); reclaim (freeze at the expected count, unpublish,
//!   free); and [`PageCache::pread`], which copies from a cached page under a
//!   reference and fills on a miss;
//! * a **stress harness** ([`stress`]) that mixes reads, reclaim, truncate,
//!   refills and allocation churn on many threads and checks, all the time,
//!   that every byte a reader returns belongs to the (file, index, version,
//!   generation) it validated, that no incarnation is freed twice, that a
//!   holder never sees its page change generation, and at the end that no
//!   page or reference leaked.
//!
//! The final put frees a page according to the page's own state (its
//! current incarnation), never with a destructor chosen by the caller, as
//! the review of the series demanded ("different zeros", BRIEF §5.7).
//!
//! ```
//! use pageref::FrozenRef;
//! use pageref_mm::{CacheConfig, FileId, PageCache, ReadStats};
//!
//! let cache: PageCache<FrozenRef> = PageCache::new(CacheConfig::default());
//! let mut buf = [0u8; 64];
//! let mut stats = ReadStats::default();
//! assert_eq!(cache.pread(FileId(0), 0, &mut buf, &mut stats), 64); // miss: fills
//! assert_eq!(cache.pread(FileId(0), 0, &mut buf, &mut stats), 64); // hit
//! assert_eq!((stats.misses, stats.hits), (1, 1));
//! assert!(cache.reclaim(FileId(0), 0));
//! assert!(!cache.truncate(FileId(0), 0)); // already gone
//! ```
//!
//! Sources: the design brief (`BRIEF.md` §2–§5); the kernel's
//! `mm/filemap.c` (`filemap_get_entry`, `filemap_read`,
//! `__filemap_add_folio`), `mm/vmscan.c` (`__remove_mapping`),
//! `mm/truncate.c`, `mm/page_alloc.c` (`post_alloc_hook`,
//! `free_pages_prepare`, `bad_page`) as documented at
//! <https://docs.kernel.org/mm/>; no kernel code was copied.
#![warn(missing_docs)]

mod cache;
pub mod env;
mod stamp;
pub mod stress;

#[cfg(test)]
mod shuttle_tests;

pub use cache::{Audit, KernelReports, PageCache};
pub use env::{Env, StdEnv};

/// The shape of a [`PageCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Number of files.
    pub files: usize,
    /// Pages (index slots) per file.
    pub pages_per_file: usize,
    /// Pages in the arena (the machine's memory).
    pub arena_pages: usize,
    /// Bytes per page; a positive multiple of 8.
    pub page_size: usize,
}

impl Default for CacheConfig {
    /// 4 files of 16 pages of 4 KiB, over an arena of 128 pages (twice the
    /// files' size, so that nothing needs reclaiming to fill them).
    fn default() -> Self {
        CacheConfig {
            files: 4,
            pages_per_file: 16,
            arena_pages: 128,
            page_size: 4096,
        }
    }
}

/// A file of a [`PageCache`]: `0 .. CacheConfig::files`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId(pub u32);

/// Counters of the read path, kept by the caller (one per thread).
#[derive(Default, Clone, Copy, Debug)]
pub struct ReadStats {
    /// Pages found cached and pinned.
    pub hits: u64,
    /// Pages found missing (each followed by a fill attempt).
    pub misses: u64,
    /// `try_get`s that failed (page frozen or free): the lookup retried.
    pub failed_gets: u64,
    /// Lookups retried after a re-check mismatch, or fills that lost the
    /// race to another filler.
    pub retries: u64,
}

#[doc(hidden)]
pub mod mutants {
    //! Planted bugs of the page cache itself, for the tests. Refcount bugs
    //! are planted through `pageref::policy::mutants` instead.

    use core::sync::atomic::{AtomicU32, AtomicU64};
    use std::sync::Mutex;

    use crate::env::Env;

    /// [`StdEnv`](crate::StdEnv) with a lookup that does not re-check the
    /// slot after its `try_get` (no `xas_reload`): a reader may keep a
    /// spurious reference to a page that was freed and reused, and copy
    /// another file's data.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct NoRecheck;

    impl Env for NoRecheck {
        type U32 = AtomicU32;
        type U64 = AtomicU64;
        type Lock<T: Send> = Mutex<T>;
        const LOOKUP_RECHECK: bool = false;
        #[inline]
        fn relax() {
            core::hint::spin_loop()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pageref::{ClassicRef, FrozenRef, PageRef};

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn page_cache_is_send_and_sync() {
        assert_send_sync::<PageCache<FrozenRef>>();
        assert_send_sync::<PageCache<ClassicRef>>();
    }

    fn small() -> CacheConfig {
        CacheConfig {
            files: 2,
            pages_per_file: 2,
            arena_pages: 3,
            page_size: 64,
        }
    }

    /// Reads return the stamped contents of the right page; misses fill,
    /// hits pin; truncate and reclaim empty the slot; the audit balances.
    fn read_reclaim_truncate<R: PageRef>() {
        let mut c: PageCache<R> = PageCache::new(small());
        let mut st = ReadStats::default();
        let mut buf = [0u8; 100];
        // Crosses from page 0 into page 1 of file 1.
        assert_eq!(c.pread(FileId(1), 30, &mut buf, &mut st), 98);
        assert_eq!((st.misses, st.hits), (2, 0));
        let b0 = stamp::base(stamp::owner(1, 0), 1, 1);
        let b1 = stamp::base(stamp::owner(1, 1), 1, 1);
        for (i, &b) in buf[..34].iter().enumerate() {
            assert_eq!(b, stamp::byte(b0, 30 + i));
        }
        for (i, &b) in buf[34..98].iter().enumerate() {
            assert_eq!(b, stamp::byte(b1, i));
        }
        assert_eq!(c.pread(FileId(1), 0, &mut buf[..8], &mut st), 8);
        assert_eq!(st.hits, 1);
        // Out of range.
        assert_eq!(c.pread(FileId(2), 0, &mut buf, &mut st), 0);
        assert_eq!(c.pread(FileId(0), 128, &mut buf, &mut st), 0);
        // One page left: a third fill works, a fourth finds no memory.
        assert_eq!(c.pread(FileId(0), 0, &mut buf[..1], &mut st), 1);
        assert_eq!(c.pread(FileId(0), 64, &mut buf[..1], &mut st), 0);
        assert!(c.reclaim(FileId(1), 0));
        assert!(!c.reclaim(FileId(1), 0));
        assert!(c.truncate(FileId(1), 1));
        assert!(!c.truncate(FileId(1), 1));
        let a = c.audit();
        assert_eq!((a.cached, a.free, a.problems), (1, 2, 0), "{a:?}");
        // Refill after truncate: a new version and a new generation.
        assert_eq!(c.pread(FileId(1), 64, &mut buf[..8], &mut st), 8);
        // Page 1 came back off the free list (LIFO): generation 2, version 2.
        let b = stamp::base(stamp::owner(1, 1), 2, 2);
        assert_eq!(buf[..8], stamp::word(b, 0).to_le_bytes());
        assert_eq!(c.reports(), KernelReports::default());
    }

    #[test]
    fn read_reclaim_truncate_frozen() {
        read_reclaim_truncate::<FrozenRef>();
    }

    #[test]
    fn read_reclaim_truncate_classic() {
        read_reclaim_truncate::<ClassicRef>();
    }

    /// Reclaim's freeze fails while someone else holds a reference; the page
    /// stays cached and intact.
    #[test]
    fn reclaim_fails_while_pinned() {
        let mut c: PageCache<FrozenRef> = PageCache::new(small());
        let mut st = ReadStats::default();
        let mut buf = [0u8; 8];
        c.pread(FileId(0), 0, &mut buf, &mut st);
        let p = 0;
        assert!(c.page(p).count.try_get()); // a GUP-like pin
        assert!(!c.reclaim(FileId(0), 0));
        assert_eq!(c.page(p).count.count(), 2);
        c.put_page(p);
        assert!(c.reclaim(FileId(0), 0));
        assert_eq!(c.audit().problems, 0);
    }

    /// The allocator's checks fire: a second free of the same incarnation is
    /// a double free; a free of a live page is a bad page, quarantined; the
    /// audit reports a leaked reference.
    #[test]
    fn allocator_and_audit_checks_fire() {
        let mut c: PageCache<FrozenRef> = PageCache::new(small());
        let p = c.alloc().unwrap();
        assert!(c.page(p).count.dec_and_test());
        c.free(p);
        assert_eq!(c.reports(), KernelReports::default());
        c.free(p);
        assert_eq!(c.reports().double_free, 1);
        let q = c.alloc().unwrap();
        assert_eq!(q, p, "LIFO reuse");
        c.free(q); // still live (count 1)
        assert_eq!(c.reports().bad_page, 1);
        let a = c.audit();
        assert_eq!((a.quarantined, a.problems), (1, 0), "{a:?}");

        let mut st = ReadStats::default();
        let mut c: PageCache<ClassicRef> = PageCache::new(small());
        c.pread(FileId(0), 0, &mut [0u8; 8], &mut st);
        assert!(c.page(0).count.try_get()); // never put: a leaked reference
        let a = c.audit();
        assert_eq!(a.problems, 1, "{a:?}");
        let p = c.alloc().unwrap(); // never freed: a leaked page
        assert_eq!(c.audit().problems, 2);
        c.put_page(p);
        assert_eq!(c.audit().problems, 1);
    }

    #[test]
    fn config_validation() {
        assert!(CacheConfig::default().validate().is_ok());
        for bad in [
            CacheConfig {
                files: 0,
                ..small()
            },
            CacheConfig {
                pages_per_file: 0,
                ..small()
            },
            CacheConfig {
                arena_pages: 0,
                ..small()
            },
            CacheConfig {
                page_size: 12,
                ..small()
            },
            CacheConfig {
                page_size: 0,
                ..small()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    // ------------------------------------------------------------------
    // Deterministic races: an action injected into a reader's race window.
    // ------------------------------------------------------------------

    use crate::cache::{Page, ReadHook, Window};
    use crate::stress::{Checker, Shared, Violations};
    use core::sync::atomic::AtomicU32;
    use pageref::policy::mutants::FreeStoresZero;

    /// The stress checker, plus one action run when the reader reaches the
    /// window `at` for the first time.
    struct Inject<'a, F: FnMut()> {
        check: Checker<'a>,
        at: Window,
        action: Option<F>,
    }

    impl<R, E: Env, F: FnMut()> ReadHook<R, E> for Inject<'_, F> {
        fn window(&mut self, at: Window) {
            if at == self.at {
                if let Some(mut f) = self.action.take() {
                    f()
                }
            }
        }
        fn keep_going(&mut self) -> bool {
            ReadHook::<R, E>::keep_going(&mut self.check)
        }
        fn pinned(&mut self, page: &Page<R, E>) {
            self.check.pinned(page)
        }
        fn copied(
            &mut self,
            file: FileId,
            index: u64,
            page: &Page<R, E>,
            off: usize,
            bytes: &[u8],
        ) {
            self.check.copied(file, index, page, off, bytes)
        }
    }

    /// A reader loads the slot of (0, 0); before its `try_get`, the page is
    /// truncated (unpublished, the cache's reference put, freed). Returns
    /// what the allocator reported and the checker found; the read itself
    /// must still return the right bytes (after a retry and a refill).
    fn stale_getter<R: PageRef, E: Env>() -> (KernelReports, Violations, ReadStats) {
        let c: PageCache<R, E> = PageCache::new(small());
        let mut st = ReadStats::default();
        c.pread(FileId(0), 0, &mut [0u8; 8], &mut st);
        let shared = Shared::new(false);
        let mut hook = Inject {
            check: Checker::new(&shared, 1, 0, None),
            at: Window::BeforeGet,
            action: Some(|| assert!(c.truncate(FileId(0), 0))),
        };
        let mut st = ReadStats::default();
        assert_eq!(
            c.pread_with(FileId(0), 0, &mut [0u8; 8], &mut st, &mut hook),
            8
        );
        (c.reports(), shared.violations(), st)
    }

    /// BRIEF §5 scenario 1/6 on the correct schemes: the stale `try_get`
    /// fails on the freed page, the reader retries and refills.
    #[test]
    fn stale_getter_fails_on_a_freed_page() {
        for (reports, v, st) in [
            stale_getter::<FrozenRef, StdEnv>(),
            stale_getter::<ClassicRef, StdEnv>(),
        ] {
            assert_eq!(reports, KernelReports::default());
            assert_eq!(v.total(), 0, "{v:?}");
            assert_eq!((st.failed_gets, st.misses), (1, 1), "{st:?}");
        }
    }

    /// BRIEF §5 scenario 6 (request (b) as a negative test): with the
    /// planted "free stores plain 0", the truncated page is freed unfrozen
    /// (reported, quarantined), the stale getter revives it, its re-check
    /// fails, and its put "wins" the final CAS and frees it again: a double
    /// free of the same incarnation, which the allocator reports.
    #[test]
    fn stale_getter_double_frees_under_free_stores_zero() {
        let (reports, v, st) = stale_getter::<FrozenRef<AtomicU32, FreeStoresZero>, StdEnv>();
        assert_eq!(
            reports,
            KernelReports {
                double_free: 1,
                bad_page: 1
            }
        );
        assert_eq!(v.total(), 0, "{v:?}");
        assert_eq!((st.failed_gets, st.retries), (0, 1), "{st:?}");
    }

    /// A reader loads the slot of (0, 0); before its `try_get`, the page is
    /// reclaimed and reused (LIFO) to fill (0, 1). Returns what the checker
    /// found.
    fn reused_under_reader<E: Env>() -> Violations {
        let c: PageCache<FrozenRef, E> = PageCache::new(small());
        let mut st = ReadStats::default();
        c.pread(FileId(0), 0, &mut [0u8; 8], &mut st);
        let shared = Shared::new(false);
        let mut hook = Inject {
            check: Checker::new(&shared, 1, 0, None),
            at: Window::BeforeGet,
            action: Some(|| {
                assert!(c.reclaim(FileId(0), 0));
                let mut st = ReadStats::default();
                assert_eq!(c.pread(FileId(0), 64, &mut [0u8; 8], &mut st), 8);
            }),
        };
        let mut st = ReadStats::default();
        assert_eq!(
            c.pread_with(FileId(0), 0, &mut [0u8; 64], &mut st, &mut hook),
            64
        );
        shared.violations()
    }

    /// BRIEF §5 scenario 5: the reused page's `try_get` succeeds (a spurious
    /// reference); the re-check catches it and the reader retries. Without
    /// the re-check (planted bug), the reader returns (0, 1)'s bytes as
    /// (0, 0)'s, and the checker reports `bad_data`.
    #[test]
    fn recheck_catches_a_reused_page() {
        assert_eq!(reused_under_reader::<StdEnv>().total(), 0);
        let v = reused_under_reader::<mutants::NoRecheck>();
        assert_eq!((v.bad_data, v.total()), (1, 1), "{v:?}");
    }

    /// The generation check fires: while a reader holds (0, 0), a planted
    /// caller bug (truncate, then one put too many) frees the page under
    /// it, and the allocator hands it out again. The reader sees its page's
    /// generation change (`gen_changed`); its copy is still the old
    /// incarnation's bytes (nobody restamped the page), so `bad_data` stays
    /// 0.
    #[test]
    fn holder_sees_generation_change_after_an_extra_put() {
        let c: PageCache<FrozenRef> = PageCache::new(small());
        let mut st = ReadStats::default();
        c.pread(FileId(0), 0, &mut [0u8; 8], &mut st);
        let shared = Shared::new(false);
        let mut hook = Inject {
            check: Checker::new(&shared, 1, 0, None),
            at: Window::Holding,
            action: Some(|| {
                assert!(c.truncate(FileId(0), 0));
                c.put_page(0); // the planted extra put: frees page 0
                assert_eq!(c.alloc(), Some(0)); // reused at once (LIFO)
            }),
        };
        assert_eq!(
            c.pread_with(FileId(0), 0, &mut [0u8; 8], &mut st, &mut hook),
            8
        );
        let v = shared.violations();
        assert_eq!((v.gen_changed, v.total()), (1, 1), "{v:?}");
    }
}
