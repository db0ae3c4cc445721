//! loom models of the shipped page cache under the C11 memory model: the
//! fast read (`pread_fast`), its refcounted fallback (`pread`), and the
//! writers that bump the delete seqcount, all run as users link them,
//! through [`LoomEnv`] (loom's atomics, fence and mutex behind [`Env`]) and
//! a frozen-bit refcount over loom's `AtomicU32`.
//!
//! Each model is a tiny cache (2 files of 1 page of 16 bytes, 2 words per
//! page, over an arena of 3 pages) with (0, 0) cached, a fast reader of all
//! 16 bytes of (0, 0) on thread T0, and one writer thread T1. After both
//! are done it checks that the reader returned exactly one version of
//! (0, 0) (the fill, or the zeroed page), whole, if the fast path succeeded;
//! or, if it fell back, bytes of one version of (0, 0) (a refcounted read
//! may see a concurrent zero range word by word, as in the kernel). A
//! failing model prints the failing execution: the refcount's operations and
//! the reader's and writer's steps, one column per thread
//! (`pageref_model::trace`, whose pruning of loom's infeasible RMW
//! executions the refcount word goes through).
//!
//! Bounds: 2 threads (3 for `truncate_then_reuse_elsewhere`), preemption
//! bound 3, every model explored twice (the reader on either thread, see
//! [`model`]). Times on a 2-core AMD EPYC VM (test profile, opt-level
//! 3): each model's doc comment; all 21 tests together about 10 s. The
//! planted-bug models stop at the first failing execution (2 to 167
//! executions).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use loom::sync::atomic::{AtomicU32 as LU32, AtomicU64 as LU64};
use loom::sync::{Mutex as LMutex, MutexGuard as LGuard};
use pageref::{ClassicRef, FrozenRef, PageRef};
use pageref_model::loom_harness::{check, spawn, Failed, LoomThreads, LoomWord, Passed};
use pageref_model::trace::note;

use crate::cache::{Page, ReadHook, Window};
use crate::env::mutants::Planted;
use crate::env::{Bug, Env, Lock};
use crate::stamp;
use crate::{CacheConfig, FileId, PageCache, ReadStats};

/// loom's mutex behind [`Lock`] (a newtype: both trait and type are
/// foreign to this crate's tests otherwise).
pub(crate) struct LoomLock<T>(LMutex<T>);

impl<T: Send> Lock<T> for LoomLock<T> {
    type Guard<'a>
        = LGuard<'a, T>
    where
        T: 'a;
    fn new(value: T) -> Self {
        LoomLock(LMutex::new(value))
    }
    fn lock(&self) -> LGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// loom's primitives: every atomic access, fence and lock of the cache is a
/// point where loom switches threads or lets a load read an older value.
pub(crate) struct LoomEnv;

impl Env for LoomEnv {
    type U32 = LU32;
    type U64 = LU64;
    type Lock<T: Send> = LoomLock<T>;
    fn relax() {
        // An execution already found infeasible (loom's RMW defect, see
        // `pageref_model::trace`) can spin forever on a value C11 would
        // never return: end it here; the harness discards it.
        if pageref_model::trace::infeasible() {
            panic!("infeasible execution: stop spinning");
        }
        loom::thread::yield_now()
    }
}

/// `LoomEnv` with the planted bug `B`.
type Bugged<const B: u8> = Planted<LoomEnv, B>;

type Frozen = FrozenRef<LoomWord>;

const PAGE: usize = 16;

/// The preemption bound of every model.
const BOUND: usize = 3;

fn config() -> CacheConfig {
    CacheConfig {
        files: 2,
        pages_per_file: 1,
        arena_pages: 3,
        page_size: PAGE,
    }
}

/// The reader's hook: notes what it read in the trace.
struct Notes;

impl<R, E: Env> ReadHook<R, E> for Notes {
    fn fast_begin(&mut self, seq: u32) {
        note::<LoomThreads>(format!("reader: try-begin seqcount {seq}"));
    }
    fn fast_slot(&mut self, p: u32, _page: &Page<R, E>) {
        note::<LoomThreads>(format!("reader: slot -> page {p}, copy"));
    }
    fn fast_recheck(&mut self, seq: u32) {
        note::<LoomThreads>(format!("reader: re-check reads seqcount {seq}"));
    }
    fn window(&mut self, at: Window) {
        if at == Window::WriterInSection {
            note::<LoomThreads>("writer: inside its section");
        }
    }
}

/// What the fast reader of (0, 0) got.
#[derive(Default)]
struct Got {
    bytes: [u8; PAGE],
    fast: bool,
}

fn fast_read<R: PageRef, E: Env>(c: &PageCache<R, E>) -> Got {
    let mut bytes = [0u8; PAGE];
    let mut st = ReadStats::default();
    let n = c.pread_fast_with(FileId(0), 0, &mut bytes, &mut st, &mut Notes);
    let fast = st.fast == 1;
    note::<LoomThreads>(format!(
        "reader: {} {n} bytes, words {:016x} {:016x}",
        if fast {
            "fast read returns"
        } else {
            "fell back, returns"
        },
        u64::from_le_bytes(bytes[..8].try_into().unwrap()),
        u64::from_le_bytes(bytes[8..].try_into().unwrap()),
    ));
    assert_eq!(n, PAGE, "short read");
    Got { bytes, fast }
}

/// A refcounted read of (0, 0) (`pread`), reported as a fallback.
fn refcounted_read<R: PageRef, E: Env>(c: &PageCache<R, E>) -> Got {
    let mut bytes = [0u8; PAGE];
    let n = c.pread(FileId(0), 0, &mut bytes, &mut ReadStats::default());
    note::<LoomThreads>(format!(
        "reader: pread returns {n} bytes, words {:016x} {:016x}",
        u64::from_le_bytes(bytes[..8].try_into().unwrap()),
        u64::from_le_bytes(bytes[8..].try_into().unwrap()),
    ));
    assert_eq!(n, PAGE, "short read");
    Got { bytes, fast: false }
}

/// Word `w` of version `v` of (0, 0) with the chunks `zeroed` cleared (one
/// chunk per word on these 2-word pages).
fn word(v: u32, zeroed: u32, w: usize) -> u64 {
    stamp::expected(stamp::base(stamp::owner(0, 0), v), zeroed, 1, w)
}

/// Checks the reader's result: a fast read is exactly one of `fast_ok`
/// ((version, zeroed) pairs), whole; a fallback read is, word by word, one
/// version of `versions` with the chunks of `may_zero` possibly cleared.
fn check_read(g: &Got, fast_ok: &[(u32, u32)], versions: &[u32], may_zero: u32) {
    let words = [0, 1].map(|w| u64::from_le_bytes(g.bytes[w * 8..w * 8 + 8].try_into().unwrap()));
    if g.fast {
        assert!(
            fast_ok
                .iter()
                .any(|&(v, z)| words == [word(v, z, 0), word(v, z, 1)]),
            "the fast read returned words {words:016x?}, which are no version of (0, 0) it could \
             have validated (allowed: {fast_ok:?})"
        );
    } else {
        assert!(
            versions.iter().any(|&v| (0..2)
                .all(|w| words[w] == word(v, 0, w) || (may_zero & (1 << w) != 0 && words[w] == 0))),
            "the refcounted read returned words {words:016x?}, which are no version of (0, 0)"
        );
    }
}

/// Runs `writer` against a fast reader of (0, 0), over a cache with (0, 0)
/// cached (version 1) unless `empty`; then `verdict`. Explored twice, with
/// the reader on the spawned thread T1 and on the model's own thread T0:
/// loom's partial-order reduction remembers only the last access to each
/// atomic, and starts from a schedule that runs T0 first, so a race whose
/// store comes after a load of the same word by the storing thread is only
/// found from the other side (the reader's pending load against the
/// writer's last store). Together the two orders reach every planted bug.
fn model<R: PageRef + 'static, E: Env>(
    bound: usize,
    empty: bool,
    writers: &'static [fn(&PageCache<R, E>)],
    verdict: fn(&Got),
) -> Result<Passed, Failed> {
    model_with(fast_read::<R, E>, bound, empty, writers, verdict)
}

/// [`model`] with another reader (`refcounted_read`).
fn model_with<R: PageRef + 'static, E: Env>(
    read: fn(&PageCache<R, E>) -> Got,
    bound: usize,
    empty: bool,
    writers: &'static [fn(&PageCache<R, E>)],
    verdict: fn(&Got),
) -> Result<Passed, Failed> {
    let mut total: Option<Passed> = None;
    for reader_spawned in [true, false] {
        let p = check(Some(bound), move || {
            let c: Arc<PageCache<R, E>> = Arc::new(PageCache::new(config()));
            if !empty {
                assert_eq!(
                    c.pread(FileId(0), 0, &mut [0; PAGE], &mut ReadStats::default()),
                    PAGE
                );
                note::<LoomThreads>("setup: (0, 0) version 1 cached on page 0");
            }
            let spawn_writer = |i: usize, t: usize| {
                let (c, w) = (c.clone(), writers[i]);
                spawn(t, move || w(&c))
            };
            let g = if reader_spawned {
                // Reader on T1, writer 0 on T0, the others on T2, T3...
                let c1 = c.clone();
                let reader = spawn(1, move || Some(read(&c1)));
                let rest: Vec<_> = (1..writers.len()).map(|i| spawn_writer(i, i + 1)).collect();
                (writers[0])(&c);
                let g = reader.join().unwrap();
                rest.into_iter().for_each(|t| t.join().unwrap());
                g
            } else {
                // Reader on T0, writer i on T(i + 1).
                let all: Vec<_> = (0..writers.len()).map(|i| spawn_writer(i, i + 1)).collect();
                let g = read(&c);
                all.into_iter().for_each(|t| t.join().unwrap());
                Some(g)
            };
            // `None`: the reader's thread failed (recorded by the harness).
            if let Some(g) = g {
                verdict(&g);
            }
        })?;
        total = Some(match total {
            None => p,
            Some(mut t) => {
                t.executions += p.executions;
                t.discarded += p.discarded;
                t.elapsed += p.elapsed;
                t
            }
        });
    }
    Ok(total.expect("two runs"))
}

fn truncate_reuse<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("writer: truncate (0, 0)");
    assert!(c.truncate(FileId(0), 0));
    note::<LoomThreads>("writer: read (1, 0): a fill that reuses the page");
    c.pread(FileId(1), 0, &mut [0; PAGE], &mut ReadStats::default());
}

fn truncate_only<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("writer: truncate (0, 0)");
    assert!(c.truncate(FileId(0), 0));
    note::<LoomThreads>("writer: truncate done (seqcount 0 -> 1 -> 2, slot emptied, page 0 freed)");
}

fn fill_file1<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("other thread: read (1, 0): a fill, reusing the page if it is free");
    c.pread(FileId(1), 0, &mut [0; PAGE], &mut ReadStats::default());
}

fn reclaim_reuse<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("writer: reclaim (0, 0)");
    let freed = c.reclaim(FileId(0), 0);
    note::<LoomThreads>(format!(
        "writer: reclaim {}; read (1, 0): a fill that reuses the page",
        if freed {
            "froze and freed it"
        } else {
            "failed"
        }
    ));
    c.pread(FileId(1), 0, &mut [0; PAGE], &mut ReadStats::default());
}

fn migrate_reuse<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("writer: migrate (0, 0)");
    let moved = c.migrate_with(FileId(0), 0, &mut Notes);
    note::<LoomThreads>(format!(
        "writer: migrate {}; read (1, 0): a fill that reuses the page",
        if moved {
            "moved it and freed the old page"
        } else {
            "failed"
        }
    ));
    c.pread(FileId(1), 0, &mut [0; PAGE], &mut ReadStats::default());
}

fn zero_both_words<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("writer: zero range (0, 0), both words");
    assert!(c.zero_range_with(FileId(0), 0, 0..2, &mut Notes));
}

fn truncate_refill<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("writer: truncate (0, 0)");
    assert!(c.truncate(FileId(0), 0));
    note::<LoomThreads>("writer: read (0, 0): a refill that may reuse page 0 (same slot value)");
    c.pread(FileId(0), 0, &mut [0; PAGE], &mut ReadStats::default());
}

fn fill<R: PageRef, E: Env>(c: &PageCache<R, E>) {
    note::<LoomThreads>("writer: read (0, 0): fill and publish");
    c.pread(FileId(0), 0, &mut [0; PAGE], &mut ReadStats::default());
}

/// The page stays (0, 0)'s version 1, or the reader's fallback refilled it
/// (version 2).
fn v1_or_refill(g: &Got) {
    check_read(g, &[(1, 0)], &[1, 2], 0);
}

/// Version 1, or either of two racing refills (the writer's and the
/// reader's own).
fn any_of_three(g: &Got) {
    check_read(g, &[], &[1, 2, 3], 0);
}

/// Migration keeps the version: only version 1.
fn v1_only(g: &Got) {
    check_read(g, &[(1, 0)], &[1], 0);
}

/// Before or after the zero range, never a mix on the fast path.
fn before_or_after_zero(g: &Got) {
    check_read(g, &[(1, 0), (1, 0b11)], &[1], 0b11);
}

/// Whoever filled first: version 1 (the writer's, or the reader's own
/// fallback fill), or 2 (the other of the two fills).
fn any_fill(g: &Got) {
    check_read(g, &[(1, 0), (2, 0)], &[1, 2], 0);
}

fn pass(what: &str, r: Result<Passed, Failed>) {
    match r {
        Ok(p) => println!(
            "{what}: verified, {} executions ({} discarded as infeasible) in {:.2?}",
            p.executions, p.discarded, p.elapsed
        ),
        Err(f) => panic!("{what}: {f}"),
    }
}

fn caught(what: &str, r: Result<Passed, Failed>) {
    match r {
        Ok(p) => panic!(
            "{what}: the planted bug went unnoticed in {} executions",
            p.executions
        ),
        Err(f) => println!("{what}: caught, as it must be.\n{f}"),
    }
}

/// [`caught`], and the failure must be the one a missing bump gives: the
/// fast read of (0, 0) validated and returned a word that the fill of
/// (1, 0) stamped into the freed and reused page (not some other failure of
/// the model).
fn caught_returning_file1(what: &str, r: Result<Passed, Failed>) {
    let f = match r {
        Ok(p) => panic!(
            "{what}: the planted bug went unnoticed in {} executions",
            p.executions
        ),
        Err(f) => f,
    };
    println!("{what}: caught, as it must be.\n{f}");
    assert!(
        f.message.contains("the fast read returned words"),
        "{what}: not a fast read returning bad words: {f}"
    );
    let file1 = [0, 1].map(|w| {
        format!(
            "{:016x}",
            stamp::expected(stamp::base(stamp::owner(1, 0), 1), 0, 1, w)
        )
    });
    assert!(
        file1.iter().any(|w| f.message.contains(w.as_str())),
        "{what}: the fast read returned no word of (1, 0)'s fill {file1:?}: {f}"
    );
}

mod models;
