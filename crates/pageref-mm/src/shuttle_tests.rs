//! Randomized-scheduler (shuttle) histories of a small page cache, for every
//! scheme of the registry (`pageref::for_each_scheme!`).
//!
//! The page cache runs here on shuttle's atomics and mutex ([`ShuttleEnv`])
//! and on refcounts over shuttle's atomics, so every atomic access of the
//! shipped code (slots, seqcounts, page metadata, page data words, the
//! refcount word) and every lock acquisition is a point where shuttle may
//! switch threads. Shuttle explores sequentially consistent interleavings
//! only: these tests check the protocols (lookup / re-check / freeze / free,
//! the fast read's seqcount validation), not memory orderings (the loom
//! models of `loom_tests/` and of `pageref-model` do that). Every search is
//! seeded, so a run is reproducible.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};

use pageref::policy::mutants::FreeStoresZero;
use pageref::{FrozenRef, PageRef};
use shuttle::scheduler::PctScheduler;
use shuttle::sync::atomic::{AtomicU32 as SU32, AtomicU64 as SU64};
use shuttle::sync::{Mutex as SMutex, MutexGuard as SGuard};

use crate::env::mutants::Planted;
use crate::env::{Bug, Env, Lock};
use crate::stress::{Checker, Kind, Shared};
use crate::{CacheConfig, FileId, PageCache, ReadStats};

impl<T: Send> Lock<T> for SMutex<T> {
    type Guard<'a>
        = SGuard<'a, T>
    where
        T: 'a;
    fn new(value: T) -> Self {
        SMutex::new(value)
    }
    fn lock(&self) -> SGuard<'_, T> {
        SMutex::lock(self).unwrap_or_else(PoisonError::into_inner)
    }
}

/// Shuttle's primitives.
struct ShuttleEnv;
impl Env for ShuttleEnv {
    type U32 = SU32;
    type U64 = SU64;
    type Lock<T: Send> = SMutex<T>;
    fn relax() {
        shuttle::thread::yield_now()
    }
}

const PAGE: usize = 16;
const SEED: u64 = 0x5eed_cafe;

/// Runs `f` under `iterations` PCT schedules of depth 3 from a fixed seed.
fn pct(f: impl Fn() + Send + Sync + 'static, iterations: usize) {
    pct_depth(f, 3, iterations)
}

/// Runs `f` under `iterations` PCT schedules of depth `depth` from a fixed
/// seed.
fn pct_depth(f: impl Fn() + Send + Sync + 'static, depth: usize, iterations: usize) {
    let scheduler = PctScheduler::new_from_seed(SEED, depth, iterations);
    shuttle::Runner::new(scheduler, Default::default()).run(f);
}

/// One history: 1 file of 2 pages of 16 bytes over an arena of 4 pages,
/// (0, 0) cached; three threads:
///
/// * a reader reads (0, 0) twice, with `pread_fast` then `pread` (checked:
///   the bytes are those of what it validated, exactly on the fast path);
/// * a writer migrates (0, 0), zeroes half of it, then reclaims it;
/// * a third thread reads (0, 1) (a miss: allocates, likely reusing a page
///   the writer just freed, and fills; checked), truncates it, and churns
///   one private page.
///
/// Afterwards: no violation of any kind, and the audit balances.
fn history<R: PageRef + 'static, E: Env>() {
    let cfg = CacheConfig {
        files: 1,
        pages_per_file: 2,
        arena_pages: 4,
        page_size: PAGE,
    };
    let cache = Arc::new(PageCache::<R, E>::new(cfg));
    let shared = Arc::new(Shared::new(false));
    let mut st = ReadStats::default();
    assert_eq!(cache.pread(FileId(0), 0, &mut [0u8; 1], &mut st), 1);

    let reader = {
        let (cache, shared) = (cache.clone(), shared.clone());
        shuttle::thread::spawn(move || {
            let mut ck = Checker::new(&shared, PAGE, 1, 0, None);
            let mut st = ReadStats::default();
            let mut buf = [0u8; PAGE];
            cache.pread_fast_with(FileId(0), 0, &mut buf, &mut st, &mut ck);
            cache.pread_with(FileId(0), 0, &mut buf, &mut st, &mut ck);
        })
    };
    let writer = {
        let cache = cache.clone();
        shuttle::thread::spawn(move || {
            cache.migrate(FileId(0), 0);
            cache.zero_range(FileId(0), 0, 0..1);
            cache.reclaim(FileId(0), 0);
        })
    };
    let filler = {
        let (cache, shared) = (cache.clone(), shared.clone());
        shuttle::thread::spawn(move || {
            let mut ck = Checker::new(&shared, PAGE, 2, 0, None);
            let mut st = ReadStats::default();
            let mut buf = [0u8; PAGE];
            cache.pread_fast_with(FileId(0), PAGE as u64, &mut buf, &mut st, &mut ck);
            cache.truncate(FileId(0), 1);
            if let Some(p) = cache.alloc() {
                cache.put_page(p);
            }
        })
    };
    reader.join().unwrap();
    writer.join().unwrap();
    filler.join().unwrap();

    let mut cache = Arc::into_inner(cache).expect("all threads joined");
    let audit = cache.audit();
    let reports = cache.reports();
    let v = shared.violations();
    assert_eq!(v.total(), 0, "violations {v:?}");
    assert_eq!(reports.double_free + reports.bad_page, 0, "{reports:?}");
    assert_eq!(audit.problems, 0, "{audit:?}");
    assert_eq!(audit.free + audit.cached, 4, "{audit:?}");
}

/// The failure message if shuttle finds a failing schedule of `f`.
fn failure(f: impl FnOnce()) -> Option<String> {
    let e = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

/// Whether `msg` reports a nonzero count of the violation `kind`.
fn reports(msg: &str, kind: Kind) -> bool {
    let k = kind.name();
    msg.contains(&format!("{k}: ")) && !msg.contains(&format!("{k}: 0"))
}

/// The race scenarios of `docs/races.md` these histories exercise (see the
/// stress test's list; s08 needs many large-`nr` gets and is not here).
const CACHE_SCENARIOS: [&str; 6] = ["s01", "s03", "s04", "s05", "s07", "s10"];

macro_rules! shuttle_registry {
    ([] $($id:ident $name:literal ($ty:ty) {
        fails: [$($f:literal),*], default: $d:literal, about: $about:literal
    })*) => {
        /// Bound: 10 000 seeded PCT schedules (depth 3) of the history above
        /// per scheme of the registry (about 0.5 s each). A scheme that fails
        /// none of the scenarios the cache exercises finds no violation. A
        /// scheme that does has its outcome decided here, by name:
        ///
        /// * `frozen-posted`: clean. Its failures (s01, s03, s05, s07, s10)
        ///   need a C11 execution where its Relaxed final CAS reads a put
        ///   without synchronising with it; shuttle's sequentially consistent
        ///   schedules have none (pageref-model's loom scenarios show them).
        /// * `rcuref`: its failure is shown by
        ///   `shuttle_rcuref_fails_s05_in_the_cache`, not run here.
        ///
        /// A new scheme with known failures stops this test until its
        /// expected outcome is written here.
        #[test]
        fn shuttle_registry_histories() {
            $(
                let fails: &[&str] = &[$($f),*];
                if !fails.iter().any(|f| CACHE_SCENARIOS.contains(f)) || $name == "frozen-posted" {
                    pct(history::<$ty, ShuttleEnv>, 10_000);
                    println!("{}: 10000 schedules, clean", $name);
                } else {
                    assert_eq!($name, "rcuref", "decide the expected outcome of {} (fails {:?})", $name, fails);
                }
            )*
        }
    };
}
pageref::for_each_scheme!(shuttle_registry, SU32, SU64);

/// rcuref fails scenario s05 (reuse plus a spurious get) in the page cache:
/// a reader's `try_get` lands in the dead zone of the page that reclaim
/// froze and freed, the page is reallocated and filled, and the reader's
/// plain `DEAD` store kills the new incarnation behind its owner's back; the
/// owner's next refcount operation trips a misuse check (or the audit finds
/// the page dead, `DEAD = 0xe0000000`, in its slot). It needs three
/// preemptions (reader's get, reclaim; reader's re-read, reuse; reader's
/// store): the seeded search (PCT depth 4, at most 20 000 schedules) finds
/// it; the same search finds nothing with the frozen bit. About 1 s.
#[test]
fn shuttle_rcuref_fails_s05_in_the_cache() {
    fn s05<R: PageRef + 'static, E: Env>() {
        let cfg = CacheConfig {
            files: 1,
            pages_per_file: 2,
            arena_pages: 3,
            page_size: PAGE,
        };
        let cache = Arc::new(PageCache::<R, E>::new(cfg));
        cache.pread(FileId(0), 0, &mut [0u8; 1], &mut ReadStats::default());
        let reader = {
            let cache = cache.clone();
            shuttle::thread::spawn(move || {
                let shared = Shared::new(false);
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
                let mut ck = Checker::new(&shared, PAGE, 1, 0, Some(deadline));
                let mut st = ReadStats::default();
                cache.pread_with(FileId(0), 0, &mut [0u8; PAGE], &mut st, &mut ck);
            })
        };
        let reuser = {
            let cache = cache.clone();
            shuttle::thread::spawn(move || {
                cache.reclaim(FileId(0), 0);
                cache.pread(
                    FileId(0),
                    PAGE as u64,
                    &mut [0u8; PAGE],
                    &mut ReadStats::default(),
                );
                cache.truncate(FileId(0), 1);
            })
        };
        reader.join().unwrap();
        reuser.join().unwrap();
        let mut cache = Arc::into_inner(cache).expect("all threads joined");
        let a = cache.audit();
        assert_eq!(a.problems, 0, "{a:?}");
    }
    let msg = failure(|| pct_depth(s05::<pageref::RcuRef<SU32>, ShuttleEnv>, 4, 20_000))
        .expect("rcuref's s05 failure was not found: has the scheme or the registry changed?");
    println!("rcuref in the page cache: {msg}");
    assert!(msg.contains("0xe0000000"), "not rcuref's DEAD store: {msg}");
    pct_depth(s05::<FrozenRef<SU32>, ShuttleEnv>, 4, 20_000);
}

/// The planted lookup without re-check is caught (as `bad_data`) within
/// 20 000 seeded PCT schedules: a reader pins the page that the writer
/// freed and the third thread reused, and copies the other index's bytes.
#[test]
fn shuttle_catches_lookup_without_recheck() {
    let msg = failure(|| {
        pct(
            history::<FrozenRef<SU32>, Planted<ShuttleEnv, { Bug::LookupNoRecheck as u8 }>>,
            20_000,
        )
    })
    .expect("the planted bug went unnoticed");
    assert!(reports(&msg, Kind::BadData), "{msg}");
}

/// Migration without the bump (Hugh Dickins' case) is caught as
/// `bad_data` within 20 000 seeded PCT schedules.
#[test]
fn shuttle_catches_migrate_without_bump() {
    let msg = failure(|| {
        pct(
            history::<FrozenRef<SU32>, Planted<ShuttleEnv, { Bug::MigrateNoBump as u8 }>>,
            20_000,
        )
    })
    .expect("the planted bug went unnoticed");
    assert!(reports(&msg, Kind::BadData), "{msg}");
}

/// Reclaim without the bump is caught as `bad_data` within 20 000 seeded
/// PCT schedules: the reader's fast read copies the page that the reclaim
/// froze (which stops refcounted readers only) and freed, and the third
/// thread reused for (0, 1). (Truncate without the bump is not searched
/// here: the history truncates only (0, 1), after its own thread's read.)
#[test]
fn shuttle_catches_reclaim_without_bump() {
    let msg = failure(|| {
        pct(
            history::<FrozenRef<SU32>, Planted<ShuttleEnv, { Bug::ReclaimNoBump as u8 }>>,
            20_000,
        )
    })
    .expect("the planted bug went unnoticed");
    assert!(reports(&msg, Kind::BadData), "{msg}");
}

/// The planted "free stores plain 0" (request (b) violated) is caught
/// within 1 000 seeded schedules: the allocator reports the unfrozen page
/// (`bad_page`).
#[test]
fn shuttle_catches_free_stores_zero() {
    let msg = failure(|| {
        pct(
            history::<FrozenRef<SU32, FreeStoresZero>, ShuttleEnv>,
            1_000,
        )
    })
    .expect("the planted bug went unnoticed");
    assert!(msg.contains("bad_page"), "{msg}");
}
