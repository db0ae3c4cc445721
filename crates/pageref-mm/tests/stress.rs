//! Short stress runs of the shipped page cache: every scheme of the registry
//! (`pageref::for_each_scheme!`) on both read paths, with migration and zero
//! range in the mix; every planted bug caught within seconds.
//!
//! The 10-minute runs are on demand:
//! `pageref stress --scheme <name> --read-path both --threads N --seconds 600`.

use std::time::Duration;

use core::sync::atomic::{AtomicU32, AtomicU64};
use pageref::policy::mutants::{ClassicFetchAdd, FreeStoresZero, IgnoreFrozenBit, SkipFinalCas};
use pageref::{ClassicRef, FrozenRef, PageRef};
use pageref_mm::env::Bug;
use pageref_mm::mutants::{NoRecheck, Planted};
use pageref_mm::stress::{self, Kind, Op, ReadPath, StressConfig, StressReport};
use pageref_mm::{Env, StdEnv};

/// The race scenarios of `docs/races.md` a stress run of the page cache
/// exercises: try_get against the last put (s01), a freeze (s03), an
/// unfreeze (s04, a migration that finds no free page), reuse (s05),
/// different zeros (s07), publish/unpublish (s10). Not s08: its many
/// failed large-`nr` gets never happen with `nr = 1` and a few threads.
const CACHE_SCENARIOS: [&str; 6] = ["s01", "s03", "s04", "s05", "s07", "s10"];

/// Runs a planted bug until the first violation, for at most 20 s.
fn until_caught<R: PageRef + 'static, E: Env>(read_path: ReadPath) -> StressReport {
    let cfg = StressConfig {
        duration: Duration::from_secs(20),
        stop_on_violation: true,
        read_path,
        ..StressConfig::default()
    };
    let r = stress::run_in::<R, E>(&cfg);
    println!("{r}");
    // Found at all within the 20 s (when is not asserted: a loaded machine
    // may take longer, and a bug the end-of-run audit finds is stamped
    // after the run).
    let (_, what) = r
        .first_violation
        .as_ref()
        .expect("the planted bug went unnoticed");
    assert!(!what.is_empty(), "{r}");
    assert!(r.violations() > 0, "{r}");
    r
}

/// The configuration of [`short_run`].
fn short_config(read_path: ReadPath) -> StressConfig {
    StressConfig {
        duration: Duration::from_millis(700),
        read_path,
        ..StressConfig::default()
    }
}

/// One short run of a scheme, with the registry's name.
fn short_run<R: PageRef + 'static>(name: &str, read_path: ReadPath) -> StressReport {
    let mut r = stress::run::<R>(&short_config(read_path));
    r.scheme = name.to_string();
    println!("{r}");
    r
}

/// Asserts that a clean run exercised every path: each at least once (how
/// often depends on the machine's speed and load, which a test must not
/// assert).
fn assert_exercised(r: &StressReport) {
    let o = &r.ops;
    assert!(o.reads() > 0 && o.read.misses > 0, "{r}");
    for op in [
        Op::Reclaim,
        Op::Truncate,
        Op::Migrate,
        Op::ZeroRange,
        Op::Churn,
    ] {
        assert!(o.done(op) > 0, "{op:?} never done: {r}");
    }
    assert!(
        o.read.failed_gets > 0 && o.read.retries > 0,
        "race windows never hit: {r}"
    );
    if r.read_path != ReadPath::Refcounted {
        assert!(o.read.fast > 0 && o.read.fallbacks > 0, "{r}");
    }
}

/// What any run guarantees, whatever the scheme, a broken one included:
/// each audit problem is one `leak` violation, a first violation is
/// recorded exactly when there are violations, and the workers ran. (Not
/// that the audit places every page exactly once: a broken scheme's double
/// free can put a page both in a slot and on the free list, as rcuref's
/// plain `DEAD` store did in a CI run: 49 placements of 48 pages.)
fn assert_accounted(r: &StressReport, cfg: &StressConfig) {
    let a = &r.audit;
    assert_eq!(r.violations[Kind::Leak], a.problems as u64, "{r}");
    assert_eq!(r.first_violation.is_some(), r.violations() > 0, "{r}");
    assert_eq!(r.threads, cfg.threads, "{r}");
    assert!(r.ops.reads() > 0, "{r}");
}

/// Schemes whose known failures need a C11 weak-memory execution: on x86
/// (total store order; their RMWs are locked instructions) they must run
/// clean. frozen-posted: the final CAS relaxed.
const WEAK_MEMORY_ONLY: &[&str] = &["frozen-posted"];

macro_rules! run_registry {
    ([] $($id:ident $name:literal ($ty:ty) {
        fails: [$($f:literal),*], default: $d:literal, about: $about:literal
    })*) => {
        /// Bound: 0.7 s of 4 threads per scheme of the registry and read path
        /// (fast, both, refcounted): 27 runs, about 20 s. A scheme that fails
        /// none of the scenarios the cache exercises must find no violation,
        /// and the run must have exercised every path (refills, successful
        /// reclaims, truncates, migrations and zero ranges, churn, failed
        /// `try_get`s, re-check mismatches, fast reads and fallbacks).
        ///
        /// A scheme that fails one of them (rcuref: s03, s04, s05;
        /// frozen-posted: s01, s03, s05, s07, s09, s10) is held only to what
        /// it still guarantees. rcuref's window is a few instructions wide
        /// (a run may or may not hit it, and then anything may follow, a
        /// double free included), so only the reporting every run keeps is
        /// asserted; its failure is
        /// asserted by the seeded shuttle search
        /// `shuttle_rcuref_fails_s05_in_the_cache`. frozen-posted's failures
        /// need a C11 weak-memory execution that x86 does not produce: on
        /// x86 it must run clean (elsewhere, the accounting only); its
        /// failures are asserted by the loom scenarios of `pageref-model`.
        #[test]
        fn registry_schemes_on_every_read_path() {
            for name in WEAK_MEMORY_ONLY {
                assert!(
                    pageref::SCHEMES.iter().any(|s| s.name == *name && !s.fails.is_empty()),
                    "{name} is no longer a scheme with known failures"
                );
            }
            for path in ReadPath::ALL {
                let cfg = short_config(path);
                $(
                    let fails: &[&str] = &[$($f),*];
                    let r = short_run::<$ty>($name, path);
                    assert_accounted(&r, &cfg);
                    let known = fails.iter().any(|f| CACHE_SCENARIOS.contains(f));
                    let x86 = cfg!(any(target_arch = "x86", target_arch = "x86_64"));
                    if !known || (x86 && WEAK_MEMORY_ONLY.contains(&$name)) {
                        assert_eq!(r.violations(), 0, "{r}");
                        assert_exercised(&r);
                        // A correct scheme: every page of the arena placed
                        // exactly once, cached or free.
                        let a = &r.audit;
                        assert_eq!(a.cached + a.free, cfg.cache.arena_pages, "{r}");
                        assert_eq!(a.quarantined + a.problems, 0, "{r}");
                    } else {
                        println!("  ({} fails {:?}: only the accounting is asserted)", $name, fails);
                    }
                )*
            }
        }
    };
}
pageref::for_each_scheme!(run_registry, AtomicU32, AtomicU64);

/// The planted lookup without the slot re-check (no `xas_reload`): a reader
/// keeps a reference to a page that was reclaimed and reused for another
/// (file, index) and returns its bytes. Caught as `bad_data`.
#[test]
fn planted_lookup_without_recheck_is_caught() {
    let r = until_caught::<FrozenRef, NoRecheck>(ReadPath::Refcounted);
    assert!(r.violations[Kind::BadData] > 0, "{r}");
}

/// Migration without the seqcount bump (Hugh Dickins' case): a fast reader
/// copies the old page while it is freed and reused. Caught as `bad_data`.
#[test]
fn planted_migrate_without_bump_is_caught() {
    let r =
        until_caught::<FrozenRef, Planted<StdEnv, { Bug::MigrateNoBump as u8 }>>(ReadPath::Fast);
    assert!(r.violations[Kind::BadData] > 0, "{r}");
}

/// Truncate without the seqcount bump: a fast reader copies the page while
/// the truncate's put frees it and it is reused. Caught as `bad_data`.
#[test]
fn planted_truncate_without_bump_is_caught() {
    let r =
        until_caught::<FrozenRef, Planted<StdEnv, { Bug::TruncateNoBump as u8 }>>(ReadPath::Fast);
    assert!(r.violations[Kind::BadData] > 0, "{r}");
}

/// Reclaim without the seqcount bump: the freeze stops refcounted readers,
/// not a fast one, which copies the page while it is freed and reused.
/// Caught as `bad_data`.
#[test]
fn planted_reclaim_without_bump_is_caught() {
    let r =
        until_caught::<FrozenRef, Planted<StdEnv, { Bug::ReclaimNoBump as u8 }>>(ReadPath::Fast);
    assert!(r.violations[Kind::BadData] > 0, "{r}");
}

/// A fast reader without the re-check: caught as `bad_data`.
#[test]
fn planted_fast_read_without_recheck_is_caught() {
    let r =
        until_caught::<FrozenRef, Planted<StdEnv, { Bug::FastNoRecheck as u8 }>>(ReadPath::Fast);
    assert!(r.violations[Kind::BadData] > 0, "{r}");
}

/// The planted "free stores plain 0" under the frozen-bit scheme (the
/// review's request (b) violated): the allocator is handed pages whose
/// refcount is not frozen. Caught as `bad_page`. (The stale getter's double
/// free that follows is shown deterministically by the unit test
/// `stale_getter_double_frees_under_free_stores_zero`.)
#[test]
fn planted_free_stores_zero_is_caught() {
    let r = until_caught::<FrozenRef<AtomicU32, FreeStoresZero>, StdEnv>(ReadPath::Both);
    assert!(r.violations[Kind::BadPage] > 0, "{r}");
}

/// The planted final put without the `0 -> FROZEN` CAS: a page is freed at
/// a transient zero, unfrozen. Caught as `bad_page` (or any other kind).
#[test]
fn planted_skip_final_cas_is_caught() {
    until_caught::<FrozenRef<AtomicU32, SkipFinalCas>, StdEnv>(ReadPath::Both);
}

/// The planted try_get that ignores the frozen bit: a reader pins a frozen
/// page, and the refcount's own misuse check fires on its put. Caught as
/// `panic` (or any other kind).
#[test]
fn planted_ignore_frozen_bit_is_caught() {
    until_caught::<FrozenRef<AtomicU32, IgnoreFrozenBit>, StdEnv>(ReadPath::Both);
}

/// The planted classic "add unless zero" done as a plain `fetch_add`: a
/// stale getter revives a free page. Caught as `bad_page` (or any other
/// kind).
#[test]
fn planted_classic_fetch_add_is_caught() {
    until_caught::<ClassicRef<AtomicU32, ClassicFetchAdd>, StdEnv>(ReadPath::Both);
}

/// The summary line names the scheme, the read path, the operations and
/// every violation kind.
#[test]
fn report_line() {
    let cfg = StressConfig {
        threads: 2,
        duration: Duration::from_millis(100),
        ..StressConfig::default()
    };
    let line = stress::run::<FrozenRef>(&cfg).to_string();
    assert!(!line.contains('\n'));
    for w in [
        "scheme=frozen",
        "read_path=both",
        "threads=2",
        "reads=",
        "fast=",
        "fallbacks=",
        "reclaims=",
        "truncates=",
        "migrations=",
        "zero_ranges=",
        "churn=",
        "violations=0",
    ] {
        assert!(line.contains(w), "{w} missing from {line}");
    }
    for k in Kind::ALL {
        let w = format!("{}=0", k.name());
        assert!(line.contains(&w), "{w} missing from {line}");
    }
}
