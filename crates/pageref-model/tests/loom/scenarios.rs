//! The race catalogue (`docs/races.md`) as loom models, each written once,
//! generic over the scheme `R: PageRef`, and run on the shipped code with
//! loom's atomics underneath (`R = FrozenRef<LoomWord, P>`,
//! `FileRef<LoomWord64, P>`, ...). The ordering scenarios (the void put,
//! the value-returning operations, scenario 10) are in `ordering.rs`, the
//! overflow scenario 8 in `overflow.rs`.
//!
//! Every model body runs once per explored execution. Thread `T0` is the
//! model body itself, `T1`, `T2` are spawned. Each function states its
//! threads and loom preemption bound: loom then explores *every*
//! interleaving with at most that many preemptions, and every value a load
//! may read under the C11 model. Every model checks, in every execution, the
//! page's shadow properties (see `pageref_model::page`): no free with a
//! reference held, at most one free per incarnation, no holder reading a
//! freed page (also as a loom data race on the page contents), no get
//! succeeding on a freed or frozen page; and at the end, each incarnation
//! freed exactly once (no leak) or the count equal to the references held.
//! The debug misuse checks of the core crate are on (test profile), so
//! legal use is also shown never to trip them (scenario 12).

use loom::sync::Arc;
use pageref::PageRef;
use pageref_model::loom_harness::{check, hit, spawn, Failed, LoomPage, Passed};
use pageref_model::trace::{self, What};

type Res = Result<Passed, Failed>;

/// loom preemption bound of the 2-thread models: none (exhaustive).
pub const BOUND_2_THREADS: Option<usize> = None;
/// loom preemption bound of the 3-thread models: none (exhaustive).
pub const BOUND_3_THREADS: Option<usize> = None;
/// loom preemption bound of the largest 3-thread model (scenario 11),
/// sized for CI: unbounded it takes 30-45 s per scheme on the 2-vCPU AMD
/// EPYC development VM. (Scenario 8 has its own, per scheme:
/// `NearLimit::S08_PREEMPTION_BOUND`.)
pub const BOUND_3_THREADS_LARGE: Option<usize> = Some(5);

/// Coverage key: the seed's interleaving (scenario 9) was explored.
pub const SEED_INTERLEAVING: &str = "seed: T1 revived T0's transient zero, T0's CAS failed";
/// Coverage key: the "different zeros" interleaving (scenario 7) was explored.
pub const DIFFERENT_ZEROS: &str = "T0's final CAS freed incarnation 2";
/// Coverage key: a stale getter pinned a re-allocated page (scenario 5).
pub const SPURIOUS: &str = "stale getter pinned incarnation 2";

pub(crate) fn page<R: PageRef>(refs: u32) -> Arc<LoomPage<R>> {
    Arc::new(LoomPage::new(refs))
}

/// Whether, in the current execution, thread `t` did a `fetch_add` that read
/// a plain 0 (revived a transient zero).
pub(crate) fn revived_zero(t: usize) -> bool {
    trace::snapshot().iter().any(|e| {
        e.thread == t
            && matches!(&e.what, What::Atomic { op, read: 0, wrote: Some(_), .. } if op.starts_with("fetch_add"))
    })
}

/// Scenario 1, try_get vs the last put. T0 holds the only reference, reads
/// the page and puts it; T1 and T2 try_get, and on success read the page
/// and put. Exactly one free, no successful get after the free, no leak.
/// 3 threads, no preemption bound (exhaustive).
pub fn s01_get_vs_last_put<R: PageRef + 'static>() -> Res {
    check(BOUND_3_THREADS, || {
        let p = page::<R>(1);
        let getters: Vec<_> = (1..=2)
            .map(|i| {
                let p = p.clone();
                spawn(i, move || {
                    if p.get(1) {
                        p.read();
                        p.put(1);
                    }
                })
            })
            .collect();
        p.read();
        p.put(1);
        for g in getters {
            g.join().unwrap();
        }
        p.finish_all_dropped();
    })
}

/// Scenario 2, put vs put. Count 3; T0, T1 and T2 each read the page and
/// put their reference: exactly one put returns `true` (and frees), and the
/// free is ordered after all three reads. 3 threads, no preemption bound
/// (exhaustive).
pub fn s02_put_vs_put<R: PageRef + 'static>() -> Res {
    check(BOUND_3_THREADS, || {
        let p = page::<R>(3);
        let others: Vec<_> = (1..=2)
            .map(|i| {
                let q = p.clone();
                spawn(i, move || {
                    q.read();
                    q.put(1).is_some()
                })
            })
            .collect();
        p.read();
        let mut trues = usize::from(p.put(1).is_some());
        for t in others {
            trues += usize::from(t.join().unwrap());
        }
        assert_eq!(trues, 1, "exactly one put must return true");
        p.finish_all_dropped();
    })
}

/// Scenario 3, try_get vs freeze(expected). T0 holds the only reference and
/// tries `freeze(1)`; on success it writes the page (exclusive) and
/// unfreezes; then it puts. T1 try_gets, reads, puts. Never both succeed
/// (shadow check and loom race on the page), and not both fail. 2 threads,
/// no preemption bound (exhaustive).
pub fn s03_get_vs_freeze<R: PageRef + 'static>() -> Res {
    check(BOUND_2_THREADS, || {
        let p = page::<R>(1);
        let q = p.clone();
        let t1 = spawn(1, move || {
            let got = q.get(1);
            if got {
                q.read();
                q.put(1);
            }
            got
        });
        let froze = p.freeze(1);
        if froze {
            p.scribble();
            p.unfreeze(1);
        }
        p.put(1);
        let got = t1.join().unwrap();
        assert!(
            froze || got,
            "the count matched (1) but both freeze and try_get failed"
        );
        p.finish_all_dropped();
    })
}

/// Scenario 4, try_get vs unfreeze. The page starts frozen by T0 (which
/// owned its only reference); T1 and T2 try_get (and on success read and
/// put) while T0 writes the page and unfreezes to 1. Afterwards the count is
/// exactly T0's 1: no lost successful increment, and a failed get leaves no
/// trace in the count. Then T0's put frees it. 3 threads, no preemption
/// bound (exhaustive).
pub fn s04_get_vs_unfreeze<R: PageRef + 'static>() -> Res {
    s04_model::<R>(true)
}

/// Scenario 4 with getters that do not read the page: the count's logic
/// alone, where a get that does not acquire cannot show up as a data race
/// first (`findings.rs`). Same bound.
pub fn s04_counts_only<R: PageRef + 'static>() -> Res {
    s04_model::<R>(false)
}

fn s04_model<R: PageRef + 'static>(reads: bool) -> Res {
    check(BOUND_3_THREADS, move || {
        let p = page::<R>(1);
        assert!(p.freeze(1));
        let getters: Vec<_> = (1..=2)
            .map(|i| {
                let p = p.clone();
                spawn(i, move || {
                    if p.get(1) {
                        if reads {
                            p.read();
                        }
                        p.put(1);
                    }
                })
            })
            .collect();
        p.scribble();
        p.unfreeze(1);
        for g in getters {
            g.join().unwrap();
        }
        p.finish_live(1);
        p.put(1);
        p.finish_all_dropped();
    })
}

/// Scenario 5, try_get on a page freed and re-allocated. T0 holds the only
/// reference, puts it, and if it freed the page re-allocates it (init,
/// incarnation 2), reads and puts again. T1 is a stale lookup: try_get, on
/// success reads the page (seeing incarnation 2 is the legal *spurious*
/// reference: it re-validates, fails, and puts); its put must free the page
/// if it is the last. Each incarnation freed exactly once. 2 threads,
/// no preemption bound (exhaustive).
pub fn s05_reuse_spurious_get<R: PageRef + 'static>() -> Res {
    s05_model::<R>(true)
}

/// Scenario 5 with a stale getter that does not read the page (as
/// [`s04_counts_only`]). Same bound.
pub fn s05_counts_only<R: PageRef + 'static>() -> Res {
    s05_model::<R>(false)
}

fn s05_model<R: PageRef + 'static>(reads: bool) -> Res {
    check(BOUND_2_THREADS, move || {
        let p = page::<R>(1);
        let q = p.clone();
        let t1 = spawn(1, move || {
            if q.get(1) {
                let gen = if reads { q.read() } else { q.gen() };
                if gen != 1 {
                    hit(SPURIOUS);
                }
                q.put(1);
            }
        });
        if p.put(1).is_some() {
            p.alloc();
            p.read();
            p.put(1);
        }
        t1.join().unwrap();
        p.finish_all_dropped();
    })
}

/// Scenario 6, request (b). T0 puts the only reference; T1 is a probe that
/// try_gets and puts without touching the page. A scheme that stores a
/// plain 0 on free lets T1's get succeed on the freed page and its put free
/// it a second time: the model reports a double free. 2 threads,
/// no preemption bound (exhaustive).
pub fn s06_request_b<R: PageRef + 'static>() -> Res {
    check(BOUND_2_THREADS, || {
        let p = page::<R>(1);
        let q = p.clone();
        let t1 = spawn(1, move || {
            if q.get(1) {
                q.put(1);
            }
        });
        p.put(1);
        t1.join().unwrap();
        p.finish_all_dropped();
    })
}

/// Scenario 7, "different zeros". T0 holds the only reference and puts it
/// (it may stall between its decrement and its final CAS). T1 try_gets,
/// puts, and if it freed the page re-allocates it (incarnation 2) and puts
/// that reference too. T2 reads `count()` (which, for the sticky counter,
/// *helps*: it may turn a transient zero into a dead word with the help flag
/// that a decrementer must claim). For schemes that can revive a transient
/// zero loom reaches the execution where T0's final CAS reads T1's
/// *second* zero and frees incarnation 2: legal, because exactly one free
/// happens per incarnation and the freer frees the page as it is.
/// 3 threads, no preemption bound (exhaustive).
pub fn s07_different_zeros<R: PageRef + 'static>() -> Res {
    check(BOUND_3_THREADS, || {
        let p = page::<R>(1);
        let q = p.clone();
        let t1 = spawn(1, move || {
            if q.get(1) && q.put(1).is_some() {
                q.alloc();
                q.put(1);
            }
        });
        let r = p.clone();
        let t2 = spawn(2, move || {
            r.rc.count();
        });
        let freed = p.put(1);
        t1.join().unwrap();
        t2.join().unwrap();
        if freed == Some(2) {
            hit(DIFFERENT_ZEROS);
        }
        p.finish_all_dropped();
    })
}

/// Scenario 9, the seed (Kiryl Shutsemau's CPU0/CPU1 diagram). T0 (CPU0)
/// puts its only reference; T1 (CPU1) try_gets, reads the page, puts. When
/// T1 revives T0's transient zero and wins the final CAS, T0's CAS fails and
/// its put returns `false`: it must not touch the page, and does not. One
/// free, no use after free. 2 threads, no preemption bound (exhaustive).
pub fn s09_seed<R: PageRef + 'static>() -> Res {
    check(BOUND_2_THREADS, || {
        let p = page::<R>(1);
        let q = p.clone();
        let t1 = spawn(1, move || {
            if q.get(1) {
                q.read();
                q.put(1).is_some()
            } else {
                false
            }
        });
        let t0_freed = p.put(1).is_some();
        let t1_freed = t1.join().unwrap();
        if !t0_freed && t1_freed && revived_zero(1) {
            hit(SEED_INTERLEAVING);
        }
        p.finish_all_dropped();
    })
}

/// Scenario 11, count() never reports garbage. T0 puts the only reference
/// (the page is freed); T1 try_gets (failing ones leave garbage under a
/// frozen bit) and puts; T2 reads `count()` twice. Every value T2 sees is a
/// possible number of holders (0, 1 or 2): never garbage, never a frozen
/// word's low bits, never negative. 3 threads, preemption bound 5
/// (`BOUND_3_THREADS_LARGE`).
pub fn s11_count_never_garbage<R: PageRef + 'static>() -> Res {
    check(BOUND_3_THREADS_LARGE, || {
        let p = page::<R>(1);
        let q = p.clone();
        let t1 = spawn(1, move || {
            if q.get(1) {
                q.put(1);
            }
            if q.get(1) {
                q.put(1);
            }
        });
        let r = p.clone();
        let t2 = spawn(2, move || {
            for _ in 0..2 {
                let c = r.rc.count();
                assert!(c <= 2, "count() reported {c:#x}: garbage");
            }
        });
        p.put(1);
        t1.join().unwrap();
        t2.join().unwrap();
        p.finish_all_dropped();
    })
}

/// Scenario 13 (the sticky counter's promise, Anderson, Blelloch, Wei, PLDI
/// 2022 §4.3; `PageRef::ZERO_IS_FINAL`): a `count()`
/// that returns 0 is final — no later try_get succeeds on that incarnation.
/// T0 puts the only reference; T1 try_gets (possibly reviving a transient
/// zero) and puts; T2 reads `count()` and, if it saw 0, try_gets, which must
/// fail. Applies to the schemes whose 0 is final (classic encodings; sticky
/// by helping); for the frozen and low-bit schemes a 0 read at the transient
/// zero is documented as not final. 3 threads, no preemption bound
/// (exhaustive).
pub fn s13_zero_is_final<R: PageRef + 'static>() -> Res {
    check(BOUND_3_THREADS, || {
        let p = page::<R>(1);
        let q = p.clone();
        let t1 = spawn(1, move || {
            if q.get(1) {
                q.put(1);
            }
        });
        let r = p.clone();
        let t2 = spawn(2, move || {
            if r.rc.count() == 0 {
                let got = r.get(1);
                if got {
                    r.put(1);
                }
                assert!(!got, "count() returned 0, then a try_get succeeded");
            }
        });
        p.put(1);
        t1.join().unwrap();
        t2.join().unwrap();
        p.finish_all_dropped();
    })
}
