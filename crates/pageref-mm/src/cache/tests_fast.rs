//! Unit tests of the fast read, migration and zero range, and the
//! deterministic counterexamples of the planted bugs that an x86 machine can
//! show: a writer (or another reader) runs inside one of the fast reader's
//! windows, and the test prints what each side did (`--nocapture`). The
//! planted bugs that need a C11 weak-memory execution (a missing fence, a
//! Relaxed publish) are shown by the loom models of `loom_tests/`.

use core::cell::RefCell;
use core::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pageref::{AtomicWord, FrozenRef, PageRef};

use super::tests::Inject;
use super::*;
use crate::env::mutants::Planted;
use crate::stress::{Checker, Kind, Shared, Violations};

type Frozen = FrozenRef;

fn small() -> CacheConfig {
    CacheConfig {
        files: 2,
        pages_per_file: 2,
        arena_pages: 3,
        page_size: 64,
    }
}

fn seq<R: PageRef, E: Env>(c: &PageCache<R, E>, file: u32) -> u32 {
    // ORDERING: Relaxed; single-threaded test.
    c.file(FileId(file)).unwrap().seq.load(Ordering::Relaxed)
}

/// A fast read takes no reference and writes nothing shared: the page's
/// refcount and the seqcount are unchanged, and the bytes are right. An
/// empty slot falls back (counted) and fills; reads that cannot take the
/// fast path (over `FAST_READ_MAX`, crossing a page) go to `pread`
/// uncounted.
#[test]
fn fast_read_takes_no_reference() {
    let c: PageCache<Frozen> = PageCache::new(CacheConfig {
        page_size: 4096,
        ..small()
    });
    let mut st = ReadStats::default();
    let mut buf = [0u8; 2048];
    assert_eq!(c.pread_fast(FileId(0), 8, &mut buf[..64], &mut st), 64);
    assert_eq!((st.fast, st.fallbacks, st.misses), (0, 1, 1), "{st:?}");
    let raw = c.page(0).count.raw();
    let b = stamp::base(stamp::owner(0, 0), 1);
    for _ in 0..3 {
        buf[..64].fill(0);
        assert_eq!(c.pread_fast(FileId(0), 8, &mut buf[..64], &mut st), 64);
        for (i, &x) in buf[..64].iter().enumerate() {
            assert_eq!(x, stamp::byte(b, 8 + i));
        }
    }
    assert_eq!((st.fast, st.fallbacks, st.hits), (3, 1, 0), "{st:?}");
    assert_eq!(
        c.page(0).count.raw(),
        raw,
        "a fast read touched the refcount"
    );
    assert_eq!(seq(&c, 0), 0);
    // The longest fast read, at an odd offset.
    assert_eq!(
        c.pread_fast(FileId(0), 3, &mut buf[..FAST_READ_MAX], &mut st),
        1024
    );
    assert_eq!(buf[0], stamp::byte(b, 3));
    assert_eq!(buf[1023], stamp::byte(b, 1026));
    assert_eq!(st.fast, 4);
    // Ineligible: too long; crossing into page 1. Not counted as fallbacks.
    assert_eq!(c.pread_fast(FileId(0), 0, &mut buf[..1025], &mut st), 1025);
    assert_eq!(c.pread_fast(FileId(0), 4090, &mut buf[..16], &mut st), 16);
    assert_eq!((st.fast, st.fallbacks), (4, 1), "{st:?}");
    // Out of range, like pread.
    assert_eq!(c.pread_fast(FileId(0), 1 << 20, &mut buf[..8], &mut st), 0);
    assert_eq!(c.pread_fast(FileId(9), 0, &mut buf[..8], &mut st), 0);
}

/// Migration moves the data to a new page and frees the old one; zero range
/// clears chunks in place; both bump the seqcount by 2; both refuse what
/// they must (a pinned page, an empty slot, no free page).
#[test]
fn migrate_and_zero_range() {
    let mut c: PageCache<Frozen> = PageCache::new(small());
    let mut st = ReadStats::default();
    let mut buf = [0u8; 64];
    c.pread(FileId(0), 0, &mut buf, &mut st);
    let before = buf;
    assert!(c.migrate(FileId(0), 0));
    assert_eq!(seq(&c, 0), 2);
    let slot = c.slot(FileId(0), 0).unwrap();
    // ORDERING: Relaxed; single-threaded test.
    assert_eq!(slot.page.load(Ordering::Relaxed), 2, "now on page 1");
    assert!(c.page(0).count.is_frozen(), "old page freed");
    assert_eq!(c.pread_fast(FileId(0), 0, &mut buf, &mut st), 64);
    assert_eq!(buf, before);
    // Pinned: the freeze fails, nothing moves, the count is back.
    assert!(c.page(1).count.try_get());
    assert!(!c.migrate(FileId(0), 0));
    assert_eq!(c.page(1).count.count(), 2);
    c.put_page(1);
    // No free page: the old page is unfrozen and stays.
    c.pread(FileId(0), 64, &mut buf, &mut st);
    c.pread(FileId(1), 0, &mut buf, &mut st);
    assert!(!c.migrate(FileId(0), 0));
    assert_eq!(c.page(1).count.count(), 1);
    assert_eq!(seq(&c, 0), 2);
    // Zero range: chunks 0 and 1 of 32 (2 bytes = 1 word each: words 0, 1).
    assert!(c.zero_range(FileId(0), 0, 0..2));
    assert_eq!(seq(&c, 0), 4);
    assert_eq!(c.pread_fast(FileId(0), 0, &mut buf, &mut st), 64);
    assert_eq!(buf[..16], [0; 16]);
    assert_eq!(buf[16..], before[16..]);
    assert!(!c.zero_range(FileId(1), 1, 0..2), "nothing cached there");
    assert!(!c.migrate(FileId(1), 1), "nothing cached there");
    let a = c.audit();
    assert_eq!((a.cached, a.problems), (3, 0), "{a:?}");
}

/// A fast read of all 64 bytes of (0, 0) with `action` run at `at`; returns
/// the checker's verdict, the stats, and the log (the reader's steps and
/// the action's).
fn fast_read_racing<E: Env>(
    c: &PageCache<Frozen, E>,
    at: Window,
    log: &RefCell<Vec<String>>,
    action: impl FnMut(),
) -> (Violations, ReadStats) {
    fast_read_racing_into(c, at, log, action, &mut [0u8; 64])
}

/// [`fast_read_racing`], returning the bytes read in `buf`.
fn fast_read_racing_into<E: Env>(
    c: &PageCache<Frozen, E>,
    at: Window,
    log: &RefCell<Vec<String>>,
    action: impl FnMut(),
    buf: &mut [u8; 64],
) -> (Violations, ReadStats) {
    let shared = Shared::new(false);
    let mut hook = Inject::new(Checker::new(&shared, 64, 1, 0, None), at, action);
    hook.log = Some(log);
    let mut st = ReadStats::default();
    let n = c.pread_fast_with(FileId(0), 0, buf, &mut st, &mut hook);
    assert_eq!(n, 64);
    if st.fallbacks > 0 {
        log.borrow_mut()
            .push("reader: re-check failed: falls back to the refcounted read".into());
    }
    (shared.violations(), st)
}

/// Prints a counterexample trace and returns it as one string.
fn show(title: &str, log: &RefCell<Vec<String>>, v: &Violations) -> String {
    let mut s = format!("{title}\n");
    for l in log.borrow().iter() {
        s += &format!("  {l}\n");
    }
    s += &format!("  => checker: {v:?}\n");
    println!("{s}");
    s
}

/// (0, 0) cached on page 0, version 1; (1, 0) not cached.
fn cache<E: Env>() -> PageCache<Frozen, E> {
    let c = PageCache::new(small());
    c.pread(FileId(0), 0, &mut [0u8; 64], &mut ReadStats::default());
    c
}

/// The other side of a reuse race: `op` on (0, 0), then a fill of (1, 0)
/// that takes the freed page (LIFO), logged with the values it produced.
fn writer_then_reuse<E: Env>(
    c: &PageCache<Frozen, E>,
    log: &RefCell<Vec<String>>,
    name: &str,
    op: fn(&PageCache<Frozen, E>) -> bool,
) {
    let done = op(c);
    let slot = c.slot(FileId(0), 0).unwrap();
    // ORDERING: Relaxed; single-threaded test.
    let now = slot.page.load(Ordering::Relaxed);
    log.borrow_mut().push(format!(
        "writer: {name} (0, 0) -> {done}; slot now {}; seqcount now {}",
        if now == 0 {
            "empty".to_string()
        } else {
            format!("page {}", now - 1)
        },
        seq(c, 0)
    ));
    c.pread(FileId(1), 0, &mut [0u8; 8], &mut ReadStats::default());
    // ORDERING: Relaxed; single-threaded test.
    let p = c.slot(FileId(1), 0).unwrap().page.load(Ordering::Relaxed) - 1;
    log.borrow_mut().push(format!(
        "writer: read (1, 0) fills page {p} with file 1's words"
    ));
}

/// Hugh Dickins' case. A fast reader loaded the slot of (0, 0); migration
/// freezes the old page (which stops refcounted readers, not this one),
/// copies it, replaces the slot and frees the old page, which a fill of
/// (1, 0) reuses at once. Without the bump the reader's re-check passes and
/// it returns file 1's words as (0, 0)'s.
#[test]
fn trace_migrate_without_bump() {
    fn run<E: Env>(log: &RefCell<Vec<String>>) -> (Violations, ReadStats) {
        let c = cache::<E>();
        fast_read_racing(&c, Window::FastBeforeCopy, log, || {
            writer_then_reuse(&c, log, "migrate", |c| c.migrate(FileId(0), 0))
        })
    }
    let log = RefCell::default();
    let (v, st) = run::<Planted<StdEnv, { Bug::MigrateNoBump as u8 }>>(&log);
    let t = show("migration without the bump:", &log, &v);
    assert_eq!((v[Kind::BadData], st.fast), (1, 1), "{t}");
    let log = RefCell::default();
    let (v, st) = run::<StdEnv>(&log);
    let t = show("migration with the bump:", &log, &v);
    assert_eq!((v.total(), st.fallbacks), (0, 1), "{t}");
}

/// The 64 bytes of the fill number `version` of (`file`, 0).
fn fill_bytes(file: u32, version: u32) -> [u8; 64] {
    let b = stamp::base(stamp::owner(file, 0), version);
    core::array::from_fn(|i| stamp::byte(b, i))
}

/// A fast read of all of (0, 0), paused after it loaded the slot while `op`
/// empties that slot and frees the page and a fill of (1, 0) reuses it at
/// once ([`writer_then_reuse`]). Returns the checker's verdict, the stats
/// and the bytes the read returned.
fn fast_read_across_reuse<E: Env>(
    log: &RefCell<Vec<String>>,
    name: &str,
    op: fn(&PageCache<Frozen, E>) -> bool,
) -> (Violations, ReadStats, [u8; 64]) {
    let c = cache::<E>();
    let mut got = [0u8; 64];
    let (v, st) = fast_read_racing_into(
        &c,
        Window::FastBeforeCopy,
        log,
        || writer_then_reuse(&c, log, name, op),
        &mut got,
    );
    (v, st, got)
}

/// Truncate without the bump. A fast reader loaded the slot of (0, 0); the
/// truncate empties it and its put frees the page (the reader holds no
/// reference to keep it), and a fill of (1, 0) reuses it at once. Without
/// the bump the reader's re-check passes and it returns file 1's 64 bytes as
/// (0, 0)'s; with it the re-check reads 2, and the reader falls back to a
/// refcounted read, which refills (0, 0) (version 2).
#[test]
fn trace_truncate_without_bump() {
    let log = RefCell::default();
    let (v, st, got) = fast_read_across_reuse::<Planted<StdEnv, { Bug::TruncateNoBump as u8 }>>(
        &log,
        "truncate",
        |c| c.truncate(FileId(0), 0),
    );
    let t = show("truncate without the bump:", &log, &v);
    assert_eq!((v[Kind::BadData], st.fast), (1, 1), "{t}");
    assert_eq!(got, fill_bytes(1, 1), "not file 1's bytes: {t}");
    let log = RefCell::default();
    let (v, st, got) =
        fast_read_across_reuse::<StdEnv>(&log, "truncate", |c| c.truncate(FileId(0), 0));
    let t = show("truncate with the bump:", &log, &v);
    assert_eq!((v.total(), st.fallbacks, st.fast), (0, 1, 0), "{t}");
    assert_eq!(got, fill_bytes(0, 2), "not the refill of (0, 0): {t}");
}

/// Reclaim without the bump. The same race: the reclaim's freeze at the
/// expected count (the cache's reference and its own) succeeds, as the fast
/// reader holds none, and stops only refcounted readers; it empties the slot
/// and frees the page, which the fill of (1, 0) reuses. Without the bump the
/// reader returns file 1's bytes; with it, it falls back and refills.
#[test]
fn trace_reclaim_without_bump() {
    let log = RefCell::default();
    let (v, st, got) = fast_read_across_reuse::<Planted<StdEnv, { Bug::ReclaimNoBump as u8 }>>(
        &log,
        "reclaim",
        |c| c.reclaim(FileId(0), 0),
    );
    let t = show("reclaim without the bump:", &log, &v);
    assert_eq!((v[Kind::BadData], st.fast), (1, 1), "{t}");
    assert_eq!(got, fill_bytes(1, 1), "not file 1's bytes: {t}");
    let log = RefCell::default();
    let (v, st, got) =
        fast_read_across_reuse::<StdEnv>(&log, "reclaim", |c| c.reclaim(FileId(0), 0));
    let t = show("reclaim with the bump:", &log, &v);
    assert_eq!((v.total(), st.fallbacks, st.fast), (0, 1, 0), "{t}");
    assert_eq!(got, fill_bytes(0, 2), "not the refill of (0, 0): {t}");
}

/// Dave Chinner's case. A zero range clears the page in place while a fast
/// reader is between its two words: without the bump it returns one old
/// word and one zeroed word, a state the page never had.
#[test]
fn trace_zero_range_without_bump() {
    fn run<E: Env>(log: &RefCell<Vec<String>>) -> (Violations, ReadStats) {
        let c = cache::<E>();
        fast_read_racing(&c, Window::FastMidCopy, log, || {
            assert!(c.zero_range(FileId(0), 0, 0..32));
            log.borrow_mut().push(format!(
                "writer: zero range (0, 0), whole page; seqcount now {}",
                seq(&c, 0)
            ));
        })
    }
    let log = RefCell::default();
    let (v, st) = run::<Planted<StdEnv, { Bug::ZeroRangeNoBump as u8 }>>(&log);
    let t = show("zero range without the bump:", &log, &v);
    assert_eq!((v[Kind::BadData], st.fast), (1, 1), "{t}");
    let log = RefCell::default();
    let (v, st) = run::<StdEnv>(&log);
    let t = show("zero range with the bump:", &log, &v);
    assert_eq!((v.total(), st.fallbacks), (0, 1), "{t}");
}

/// A reader without the re-check (truncate + reuse under it), and a reader
/// that re-checks before its copy instead of after: both return file 1's
/// words as (0, 0)'s.
#[test]
fn trace_reader_without_recheck_after_copy() {
    fn run<E: Env>(log: &RefCell<Vec<String>>) -> (Violations, ReadStats) {
        let c = cache::<E>();
        fast_read_racing(&c, Window::FastBeforeCopy, log, || {
            writer_then_reuse(&c, log, "truncate", |c| c.truncate(FileId(0), 0))
        })
    }
    let log = RefCell::default();
    let (v, _) = run::<Planted<StdEnv, { Bug::FastNoRecheck as u8 }>>(&log);
    let t = show("reader without the re-check:", &log, &v);
    assert_eq!(v[Kind::BadData], 1, "{t}");
    let log = RefCell::default();
    let (v, _) = run::<Planted<StdEnv, { Bug::FastRecheckBeforeCopy as u8 }>>(&log);
    let t = show("reader that re-checks before its copy:", &log, &v);
    assert_eq!(v[Kind::BadData], 1, "{t}");
    let log = RefCell::default();
    let (v, st) = run::<StdEnv>(&log);
    let t = show("the shipped reader:", &log, &v);
    assert_eq!((v.total(), st.fallbacks), (0, 1), "{t}");
}

/// A writer that moves the count even -> even: a fast reader that runs
/// inside its section (here: on the writer's own CPU, after the first word
/// was cleared) begins on an even count, copies a half-cleared page, and its
/// re-check passes.
#[test]
fn trace_writer_even_to_even() {
    fn run<E: Env>(log: &RefCell<Vec<String>>) -> Violations {
        let c = cache::<E>();
        let shared = Shared::new(false);
        let mut writer = Inject::new(
            Checker::new(&shared, 64, 1, 0, None),
            Window::WriterInSection,
            || {
                log.borrow_mut().push(format!(
                    "writer: zero range (0, 0) cleared word 0; seqcount {}",
                    seq(&c, 0)
                ));
                // A deadline: a refcounted fallback's checker waits for the
                // section to end, which it cannot while we run inside it.
                let deadline = Instant::now() + Duration::from_millis(50);
                let mut reader = Inject {
                    check: Checker::new(&shared, 64, 2, 0, Some(deadline)),
                    at: Window::BeforeGet,
                    action: None::<fn()>,
                    log: Some(log),
                };
                let mut st = ReadStats::default();
                c.pread_fast_with(FileId(0), 0, &mut [0u8; 64], &mut st, &mut reader);
                if st.fallbacks > 0 {
                    log.borrow_mut()
                        .push("reader: count odd: falls back to the refcounted read".into());
                }
            },
        );
        assert!(c.zero_range_with(FileId(0), 0, 0..32, &mut writer));
        log.borrow_mut()
            .push(format!("writer: section ends; seqcount {}", seq(&c, 0)));
        shared.violations()
    }
    let log = RefCell::default();
    let v = run::<Planted<StdEnv, { Bug::WriterEvenToEven as u8 }>>(&log);
    let t = show("writer that goes even -> even:", &log, &v);
    assert_eq!(v[Kind::BadData], 1, "{t}");
    let log = RefCell::default();
    let v = run::<StdEnv>(&log);
    let t = show("the shipped writer:", &log, &v);
    assert_eq!(v.total(), 0, "{t}");
}

/// A reader that waits while the count is odd, instead of giving up: when
/// the writer cannot run until the reader returns (the reader runs on the
/// writer's CPU: an interrupt, or the writer's own read), it waits forever.
/// Here the wait is cut after [`WAITS`] rounds of its loop, counted by the
/// hook; the shipped reader falls back at once, without waiting a single
/// round. (With the writer on another CPU waiting is only slower and
/// returns only validated data: the loom model
/// `zero_range_reader_waiting_on_odd_is_only_slower`.)
#[test]
fn trace_reader_waiting_on_odd_livelocks_inside_a_section() {
    /// Rounds of waiting after which the hook gives up the read.
    const WAITS: u64 = 10_000;
    /// Counts the rounds of waiting (`keep_going` calls); gives up after
    /// [`WAITS`].
    struct Rounds(u64);
    impl<R, E: Env> ReadHook<R, E> for Rounds {
        fn keep_going(&mut self) -> bool {
            self.0 += 1;
            self.0 < WAITS
        }
    }
    fn run<E: Env>() -> (ReadStats, u64) {
        let c = cache::<E>();
        let shared = Shared::new(false);
        let mut st = ReadStats::default();
        let mut rounds = 0;
        let mut writer = Inject::new(
            Checker::new(&shared, 64, 1, 0, None),
            Window::WriterInSection,
            || {
                let mut reader = Rounds(0);
                c.pread_fast_with(FileId(0), 0, &mut [0u8; 64], &mut st, &mut reader);
                rounds = reader.0;
            },
        );
        assert!(c.zero_range_with(FileId(0), 0, 0..32, &mut writer));
        (st, rounds)
    }
    let (st, rounds) = run::<Planted<StdEnv, { Bug::FastWaitsOnOdd as u8 }>>();
    println!("reader waiting on odd inside the writer's section: cut after {rounds} rounds of waiting, {st:?}");
    assert!(rounds >= WAITS && st.fallbacks == 1, "{rounds}, {st:?}");
    let (st, rounds) = run::<StdEnv>();
    println!("shipped reader inside the writer's section: fell back after {rounds} rounds of waiting, {st:?}");
    assert!(rounds == 0 && st.fallbacks == 1, "{rounds}, {st:?}");
}
