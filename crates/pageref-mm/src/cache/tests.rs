//! Unit tests of the cache: reads, fills, reclaim, truncate, migration,
//! zero range, the allocator's checks, and deterministic races (an action
//! injected into a reader's race window).

use super::*;
use crate::env::mutants;
use crate::stamp;
use crate::stress::{Checker, Kind, Shared, Violations};
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
    let b0 = stamp::base(stamp::owner(1, 0), 1);
    let b1 = stamp::base(stamp::owner(1, 1), 1);
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
    // Version 2 of (1, 1), on page 1 back off the free list (LIFO).
    let b = stamp::base(stamp::owner(1, 1), 2);
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

use core::cell::RefCell;
use core::sync::atomic::AtomicU32;
use pageref::policy::mutants::FreeStoresZero;

/// The stress checker, plus one action run when the reader reaches the
/// window `at` for the first time, and a log of what the reader saw (the
/// counterexample traces of `tests_fast.rs`).
pub(super) struct Inject<'a, F: FnMut()> {
    pub(super) check: Checker<'a>,
    pub(super) at: Window,
    pub(super) action: Option<F>,
    pub(super) log: Option<&'a RefCell<Vec<String>>>,
}

impl<'a, F: FnMut()> Inject<'a, F> {
    pub(super) fn new(check: Checker<'a>, at: Window, action: F) -> Self {
        Inject {
            check,
            at,
            action: Some(action),
            log: None,
        }
    }

    fn note(&self, line: impl FnOnce() -> String) {
        if let Some(log) = self.log {
            log.borrow_mut().push(line());
        }
    }
}

impl<R, E: Env, F: FnMut()> ReadHook<R, E> for Inject<'_, F> {
    fn window(&mut self, at: Window) {
        if at == self.at {
            if let Some(mut f) = self.action.take() {
                self.note(|| format!("   (window {at:?}: the other thread runs)"));
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
        seq: &E::U32,
        off: usize,
        bytes: &[u8],
    ) {
        self.check.copied(file, index, page, seq, off, bytes)
    }
    fn fast_begin(&mut self, seq: u32) {
        self.note(|| format!("reader: try-begin reads seqcount {seq} (even: go)"));
    }
    fn fast_slot(&mut self, p: u32, page: &Page<R, E>) {
        self.note(|| format!("reader: slot holds page {p}"));
        self.check.fast_slot(p, page)
    }
    fn fast_recheck(&mut self, seq: u32) {
        self.note(|| format!("reader: Acquire fence, re-check reads seqcount {seq}"));
    }
    fn fast_copied(&mut self, file: FileId, index: u64, off: usize, bytes: &[u8]) {
        self.note(|| {
            format!(
                "reader: returns {} bytes as ({}, {index}): first word {:02x?}",
                bytes.len(),
                file.0,
                &bytes[..bytes.len().min(8)]
            )
        });
        ReadHook::<R, E>::fast_copied(&mut self.check, file, index, off, bytes)
    }
}

/// A page that stays frozen in its slot (what a scheme that fails leaves
/// when a worker panics mid-reclaim): a reader retries its `try_get`, then
/// gives up once the checker's deadline has passed, with nothing read,
/// instead of looping between `lookup` and a refill that loses the race to
/// the occupied slot. Runs in well under a second; the 10 s bound only
/// turns the hang it guards against into a failure.
#[test]
fn reader_on_a_stuck_page_gives_up_at_the_deadline() {
    let c: std::sync::Arc<PageCache<FrozenRef>> = std::sync::Arc::new(PageCache::new(small()));
    let mut st = ReadStats::default();
    assert_eq!(c.pread(FileId(0), 0, &mut [0u8; 8], &mut st), 8);
    // ORDERING: Relaxed; nothing else runs yet.
    let v = c.slot(FileId(0), 0).unwrap().page.load(Ordering::Relaxed);
    // The cache's reference only: freeze it and leave it frozen.
    assert!(c.page(v - 1).count.freeze(1));
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::sync::Arc::clone(&c);
    std::thread::spawn(move || {
        let shared = Shared::new(false);
        let past = std::time::Instant::now();
        let mut hook = Checker::new(&shared, 64, 1, 0, Some(past));
        let mut st = ReadStats::default();
        let n = reader.pread_with(FileId(0), 0, &mut [0u8; 8], &mut st, &mut hook);
        let _ = tx.send((n, hook.gave_up, st));
    });
    let (n, gave_up, st) = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the reader never gave up on the frozen page");
    assert_eq!((n, gave_up), (0, true), "{st:?}");
    // It retried on the frozen page until the clock was read (every 256
    // polls) and found the deadline past.
    assert!(st.failed_gets >= 256, "{st:?}");
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
    let mut hook = Inject::new(
        Checker::new(&shared, 64, 1, 0, None),
        Window::BeforeGet,
        || assert!(c.truncate(FileId(0), 0)),
    );
    let mut st = ReadStats::default();
    assert_eq!(
        c.pread_with(FileId(0), 0, &mut [0u8; 8], &mut st, &mut hook),
        8
    );
    (c.reports(), shared.violations(), st)
}

/// Scenarios s01 and s06 of `docs/races.md` on the correct schemes: the stale `try_get`
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

/// Scenario s06 (request (b) as a negative test): with the
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
    let mut hook = Inject::new(
        Checker::new(&shared, 64, 1, 0, None),
        Window::BeforeGet,
        || {
            assert!(c.reclaim(FileId(0), 0));
            let mut st = ReadStats::default();
            assert_eq!(c.pread(FileId(0), 64, &mut [0u8; 8], &mut st), 8);
        },
    );
    let mut st = ReadStats::default();
    assert_eq!(
        c.pread_with(FileId(0), 0, &mut [0u8; 64], &mut st, &mut hook),
        64
    );
    shared.violations()
}

/// Scenario s05: the reused page's `try_get` succeeds (a spurious
/// reference); the re-check catches it and the reader retries. Without
/// the re-check (planted bug), the reader returns (0, 1)'s bytes as
/// (0, 0)'s, and the checker reports `bad_data`.
#[test]
fn recheck_catches_a_reused_page() {
    assert_eq!(reused_under_reader::<StdEnv>().total(), 0);
    let v = reused_under_reader::<mutants::NoRecheck>();
    assert_eq!((v[Kind::BadData], v.total()), (1, 1), "{v:?}");
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
    let mut hook = Inject::new(
        Checker::new(&shared, 64, 1, 0, None),
        Window::Holding,
        || {
            assert!(c.truncate(FileId(0), 0));
            c.put_page(0); // the planted extra put: frees page 0
            assert_eq!(c.alloc(), Some(0)); // reused at once (LIFO)
        },
    );
    assert_eq!(
        c.pread_with(FileId(0), 0, &mut [0u8; 8], &mut st, &mut hook),
        8
    );
    let v = shared.violations();
    assert_eq!((v[Kind::GenChanged], v.total()), (1, 1), "{v:?}");
}
