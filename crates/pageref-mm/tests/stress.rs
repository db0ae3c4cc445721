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
    let (after, _) = r
        .first_violation
        .as_ref()
        .expect("the planted bug went unnoticed");
    assert!(r.violations() > 0, "{r}");
    assert!(*after < Duration::from_secs(20), "{r}");
    r
}

/// One short run of a scheme, with the registry's name.
fn short_run<R: PageRef + 'static>(name: &str, read_path: ReadPath) -> StressReport {
    let cfg = StressConfig {
        duration: Duration::from_millis(700),
        read_path,
        ..StressConfig::default()
    };
    let mut r = stress::run::<R>(&cfg);
    r.scheme = name.to_string();
    println!("{r}");
    r
}

/// Asserts that a clean run exercised every path.
fn assert_exercised(r: &StressReport) {
    let o = &r.ops;
    assert!(o.reads() > 5_000 && o.read.misses > 50, "{r}");
    for op in [
        Op::Reclaim,
        Op::Truncate,
        Op::Migrate,
        Op::ZeroRange,
        Op::Churn,
    ] {
        assert!(o.done(op) > 20, "{op:?} too rare: {r}");
    }
    assert!(
        o.read.failed_gets > 0 && o.read.retries > 0,
        "race windows never hit: {r}"
    );
    if r.read_path != ReadPath::Refcounted {
        assert!(o.read.fast > 1_000 && o.read.fallbacks > 0, "{r}");
    }
}

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
        /// A scheme that fails one of them (rcuref: s03, s04, s05; frozen-posted:
        /// s01, s03, s05, s07, s10) is run and reported, but its outcome is
        /// not asserted here: rcuref's window is a few instructions wide
        /// (a run may or may not hit it), and frozen-posted's failures need a
        /// C11 weak-memory execution that x86 does not produce. rcuref's is
        /// asserted by the seeded shuttle search
        /// `shuttle_rcuref_fails_s05_in_the_cache`, frozen-posted's by the
        /// loom scenarios of `pageref-model`.
        #[test]
        fn registry_schemes_on_every_read_path() {
            for path in ReadPath::ALL {
                $(
                    let fails: &[&str] = &[$($f),*];
                    let r = short_run::<$ty>($name, path);
                    if fails.iter().any(|f| CACHE_SCENARIOS.contains(f)) {
                        println!("  ({} fails {:?}: outcome not asserted here)", $name, fails);
                    } else {
                        assert_eq!(r.violations(), 0, "{r}");
                        assert_exercised(&r);
                        let a = &r.audit;
                        assert_eq!(a.cached + a.free, 48, "{r}");
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
