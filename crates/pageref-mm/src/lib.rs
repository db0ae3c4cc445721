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
//!   free); migration (freeze, copy to a new page, replace the slot, free);
//!   zero range (clear part of a cached page in place);
//!   [`PageCache::pread`], which copies from a cached page under a reference
//!   and fills on a miss; and [`PageCache::pread_fast`], which copies a short
//!   read under the file's delete seqcount without any reference and falls
//!   back to `pread` on any doubt;
//! * a **stress harness** ([`stress`]) that mixes those operations on many
//!   threads and checks, all the time, that every byte a reader returns
//!   belongs to the (file, index, version, zeroed chunks) it validated, that
//!   no incarnation is freed twice, that a holder never sees its page change
//!   generation, and at the end that no page or reference leaked.
//!
//! The final put frees a page according to the page's own state (its
//! current incarnation), never with a destructor chosen by the caller, as
//! the review of the series demanded ("different zeros", scenario s07 of
//! `docs/races.md`).
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
//! assert_eq!(cache.pread_fast(FileId(0), 0, &mut buf, &mut stats), 64); // no reference
//! assert_eq!((stats.fast, stats.hits), (1, 1));
//! assert!(cache.migrate(FileId(0), 0)); // to a new page: bumps the delete seqcount
//! assert!(cache.reclaim(FileId(0), 0));
//! assert!(!cache.truncate(FileId(0), 0)); // already gone
//! ```
//!
//! Sources: the kernel's `mm/filemap.c` (`filemap_get_entry`,
//! `filemap_read`, `__filemap_add_folio`, `page_cache_delete`),
//! `mm/vmscan.c` (`__remove_mapping`), `mm/truncate.c`, `mm/migrate.c`
//! (`__folio_migrate_mapping`), `mm/page_alloc.c` (`post_alloc_hook`,
//! `free_pages_prepare`, `bad_page`) as documented at
//! <https://docs.kernel.org/mm/>; Kiryl Shutsemau, "mm/filemap: Implement
//! fast short reads" (linux-mm, 17 Oct 2025) and its review; the race
//! catalogue of `docs/races.md`. No kernel code was copied.
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]

mod cache;
pub mod env;
mod stamp;
pub mod stress;

#[cfg(test)]
mod loom_tests;
#[cfg(test)]
mod shuttle_tests;

pub use cache::{Audit, CacheConfig, FileId, KernelReports, PageCache, ReadStats, FAST_READ_MAX};
pub use env::{Env, StdEnv};

#[doc(hidden)]
pub use env::mutants;
