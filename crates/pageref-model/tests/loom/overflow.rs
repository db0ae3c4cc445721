//! Scenario 8 of `docs/races.md`: many failed large-`nr` gets on a dead
//! page, next to the scheme's overflow limit.

use pageref_model::loom_harness::{check, hit, spawn, Failed, LoomPage, Passed};
use pageref_model::trace;

use crate::near_limit::NearLimit;

/// Coverage key: a write of the execution was a limit event (the guard
/// fired, rcuref reset its garbage, the low-bit word wrapped harmlessly).
pub const LIMIT: &str = "the overflow protection acted (guard, reset or harmless wrap)";

/// Scenario 8, many failed gets with a large `nr` on a dead page. Real
/// states cannot get near the overflow limit within loom's bounds, so the
/// page starts dead one reference short of it ([`NearLimit::near_limit`]:
/// the frozen bit's and the sticky counter's guard limit, the wrap of the
/// low-bit and file_ref words, rcuref's in-flight headroom; 0 for the
/// classic encodings, which keep no garbage). T0, T1 and T2 each
/// `add_unless_frozen(1024)` (a GUP pin), which must fail; the first add
/// crosses the limit. Checked in every execution: every get fails, every
/// `count()` is 0, every value ever written is dead, and the guard
/// terminates (loom reports a livelock as too many branches). At
/// quiescence the word must be *settled* ([`NearLimit::settled`]): a
/// guarded word back below its guard limit, rcuref's back at `DEAD`.
///
/// Why the shipped guard (frozen bit; the sticky counter's is the same)
/// settles: suppose the final value were at or above the limit, and take
/// the longest tail of the word's modification order whose writes all leave
/// it at or above the limit. The start is below the limit, so the tail
/// begins with a write that crossed it, and only a failed get's add raises
/// garbage: its getter ran the guard loop with the value it wrote. Each CAS
/// of that loop reads a value no older than the getter's own add
/// (coherence), so from inside the tail: at or above the limit, hence the
/// loop goes on until a CAS succeeds. A successful CAS writes plain
/// `FROZEN_BIT`, below the limit, after the add: inside the tail, a
/// contradiction; and a loop that never ends contradicts quiescence. So
/// every add that crosses runs a loop that ends in a successful CAS or on a
/// value below the limit, and the final value is below it. rcuref likewise:
/// every failed get stores `DEAD` after its own add, so the last write is a
/// store of `DEAD`.
///
/// Without the guard (`SkipOverflowGuard`) the word ends above the limit;
/// with a guard that clears the bit (`GuardClearsBit`) a get succeeds on the
/// dead page; fileref32, with no reset, wraps into live. 3 threads,
/// preemption bound `R::S08_PREEMPTION_BOUND` ([`NearLimit`]: 5, and 4 for
/// rcuref): about 11 000 executions, 1 s per guarded scheme on the 2-core
/// development VM.
pub fn s08_overflow_guard<R: NearLimit>() -> Result<Passed, Failed> {
    match model::<R>() {
        Ok(p) if R::LIMIT_EVENTS && p.hits(LIMIT) == 0 => Err(Failed {
            message: format!(
                "s08 on {}: the model never reached '{LIMIT}': it is too weak",
                R::NAME
            ),
            table: String::new(),
            executions: p.executions,
        }),
        r => r,
    }
}

fn model<R: NearLimit>() -> Result<Passed, Failed> {
    check(R::S08_PREEMPTION_BOUND, || {
        let p = loom::sync::Arc::new(LoomPage::new_free(R::near_limit(1)));
        let getter = |p: &LoomPage<R>| {
            assert!(!p.get(1024), "a get succeeded on a dead page");
            let c = p.rc.count();
            assert_eq!(c, 0, "count() of a dead page reported {c:#x}");
        };
        let others: Vec<_> = (1..=2)
            .map(|i| {
                let p = p.clone();
                spawn(i, move || getter(&p))
            })
            .collect();
        getter(&p);
        for t in others {
            t.join().unwrap();
        }
        trace::all_joined();
        let raw = p.rc.raw();
        if trace::infeasible() {
            return;
        }
        for (t, op, before, after) in trace::writes(&trace::snapshot()) {
            assert!(
                R::raw_dead(after),
                "T{t}: {op} made the dead word live: {before:#010x} -> {after:#010x}"
            );
            if R::limit_event(op, before, after) {
                hit(LIMIT);
            }
        }
        assert!(
            R::settled(raw),
            "at quiescence the dead word is not back below its overflow limit: {raw:#010x}"
        );
    })
}
