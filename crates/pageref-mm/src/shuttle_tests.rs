//! Randomized-scheduler (shuttle) tests of a small page cache.
//!
//! The page cache runs here on shuttle's atomics and mutex ([`ShuttleEnv`])
//! and on refcounts over shuttle's `AtomicU32`, so every atomic access of
//! the shipped code (slots, page metadata, page data words, the refcount
//! word) and every lock acquisition is a point where shuttle may switch
//! threads. Shuttle explores sequentially consistent interleavings only:
//! these tests check the protocol (lookup / re-check / freeze / free), not
//! memory orderings (the verification crate's loom models do that).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};

use pageref::policy::mutants::FreeStoresZero;
use pageref::{ClassicRef, FrozenRef, LowBitRef, OptimisticRef, PageRef, RelaxedFinal, StickyRef};
use shuttle::sync::atomic::{AtomicU32 as SU32, AtomicU64 as SU64};
use shuttle::sync::{Mutex as SMutex, MutexGuard as SGuard};

use crate::env::{Env, Lock};
use crate::stress::{Checker, Shared};
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

/// Shuttle's primitives with the planted bug: no re-check after `try_get`.
type ShuttleNoRecheck =
    crate::env::mutants::Planted<ShuttleEnv, { crate::env::Bug::LookupNoRecheck as u8 }>;

/// One execution: 1 file of 2 pages of 16 bytes over an arena of 3 pages,
/// (0, 0) cached; three threads:
///
/// * a reader reads (0, 0) twice (checked);
/// * a reclaimer reclaims (0, 0), then (0, 1);
/// * a third thread reads (0, 1) (a miss: allocates, reusing the page
///   reclaim just freed, and fills; checked), truncates it, and churns one
///   private page.
///
/// Afterwards: no violation of any kind, and the audit balances.
fn scenario<R: PageRef + 'static, E: Env>() {
    let cfg = CacheConfig {
        files: 1,
        pages_per_file: 2,
        arena_pages: 3,
        page_size: 16,
    };
    let cache = Arc::new(PageCache::<R, E>::new(cfg));
    let shared = Arc::new(Shared::new(false));
    let mut st = ReadStats::default();
    assert_eq!(cache.pread(FileId(0), 0, &mut [0u8; 1], &mut st), 1);

    let reader = {
        let (cache, shared) = (cache.clone(), shared.clone());
        shuttle::thread::spawn(move || {
            let mut ck = Checker::new(&shared, 16, 1, 0, None);
            let mut st = ReadStats::default();
            let mut buf = [0u8; 16];
            for _ in 0..2 {
                cache.pread_with(FileId(0), 0, &mut buf, &mut st, &mut ck);
            }
        })
    };
    let reclaimer = {
        let cache = cache.clone();
        shuttle::thread::spawn(move || {
            cache.reclaim(FileId(0), 0);
            cache.reclaim(FileId(0), 1);
        })
    };
    let filler = {
        let (cache, shared) = (cache.clone(), shared.clone());
        shuttle::thread::spawn(move || {
            let mut ck = Checker::new(&shared, 16, 2, 0, None);
            let mut st = ReadStats::default();
            let mut buf = [0u8; 16];
            cache.pread_with(FileId(0), 16, &mut buf, &mut st, &mut ck);
            cache.truncate(FileId(0), 1);
            if let Some(p) = cache.alloc() {
                cache.put_page(p);
            }
        })
    };
    reader.join().unwrap();
    reclaimer.join().unwrap();
    filler.join().unwrap();

    let mut cache = Arc::into_inner(cache).expect("all threads joined");
    let audit = cache.audit();
    let reports = cache.reports();
    let v = shared.violations();
    assert_eq!(v.total(), 0, "violations {v:?}");
    assert_eq!(reports.double_free + reports.bad_page, 0, "{reports:?}");
    assert_eq!(audit.problems, 0, "{audit:?}");
    assert_eq!(audit.free + audit.cached, 3, "{audit:?}");
}

/// Bound: 20 000 random schedules plus 20 000 PCT schedules (depth 3) of
/// the three-thread scenario above, frozen-bit scheme. Finds no violation.
/// (About 1 s.)
#[test]
fn shuttle_frozen_finds_nothing() {
    shuttle::check_random(scenario::<FrozenRef<SU32>, ShuttleEnv>, 20_000);
    shuttle::check_pct(scenario::<FrozenRef<SU32>, ShuttleEnv>, 20_000, 3);
}

/// Bound: 10 000 random schedules, frozen bit with the posted relaxed final
/// CAS (the same interleavings as the default: shuttle is sequentially
/// consistent, so this guards the page cache, not the ordering).
#[test]
fn shuttle_frozen_relaxed_finds_nothing() {
    shuttle::check_random(
        scenario::<FrozenRef<SU32, RelaxedFinal>, ShuttleEnv>,
        10_000,
    );
}

/// Bound: 20 000 random schedules plus 20 000 PCT schedules (depth 3),
/// classic scheme.
#[test]
fn shuttle_classic_finds_nothing() {
    shuttle::check_random(scenario::<ClassicRef<SU32>, ShuttleEnv>, 20_000);
    shuttle::check_pct(scenario::<ClassicRef<SU32>, ShuttleEnv>, 20_000, 3);
}

/// Bound: 10 000 random schedules plus 10 000 PCT schedules (depth 3) for
/// each of the optimistic-CAS, sticky and low-bit schemes.
#[test]
fn shuttle_other_schemes_find_nothing() {
    shuttle::check_random(scenario::<OptimisticRef<SU32>, ShuttleEnv>, 10_000);
    shuttle::check_pct(scenario::<OptimisticRef<SU32>, ShuttleEnv>, 10_000, 3);
    shuttle::check_random(scenario::<StickyRef<SU32>, ShuttleEnv>, 10_000);
    shuttle::check_pct(scenario::<StickyRef<SU32>, ShuttleEnv>, 10_000, 3);
    shuttle::check_random(scenario::<LowBitRef<SU32>, ShuttleEnv>, 10_000);
    shuttle::check_pct(scenario::<LowBitRef<SU32>, ShuttleEnv>, 10_000, 3);
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
fn reports(msg: &str, kind: &str) -> bool {
    msg.contains(&format!("{kind}: ")) && !msg.contains(&format!("{kind}: 0"))
}

/// The planted lookup without re-check is caught (as `bad_data`) within
/// 20 000 PCT schedules (depth 3): a reader pins the page that reclaim
/// freed and the filler reused for (0, 1), and copies (0, 1)'s bytes as
/// (0, 0)'s. (Found within a few hundred schedules in practice.)
#[test]
fn shuttle_catches_lookup_without_recheck() {
    let msg =
        failure(|| shuttle::check_pct(scenario::<FrozenRef<SU32>, ShuttleNoRecheck>, 20_000, 3))
            .expect("the planted bug went unnoticed");
    assert!(reports(&msg, "bad_data"), "{msg}");
}

/// The planted "free stores plain 0" (request (b) violated) is caught
/// within 1 000 random schedules: the allocator reports the unfrozen page
/// (`bad_page`).
#[test]
fn shuttle_catches_free_stores_zero() {
    let msg = failure(|| {
        shuttle::check_random(
            scenario::<FrozenRef<SU32, FreeStoresZero>, ShuttleEnv>,
            1000,
        )
    })
    .expect("the planted bug went unnoticed");
    assert!(reports(&msg, "bad_page"), "{msg}");
}
