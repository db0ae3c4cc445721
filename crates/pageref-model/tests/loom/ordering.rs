//! The ordering scenarios: is everything a holder did before it dropped
//! its reference visible to whoever frees the page? Scenario 2's void-put
//! and value-returning variants, and scenario 10 (`docs/races.md`). In
//! each, loom reports a holder's read racing with the free ("Causality
//! violation") if the ordering that carries it is too weak; the table of
//! `docs/verification.md` lists which ordering each one needs.

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use pageref::PageRef;
use pageref_model::loom_harness::{check, hit, spawn, Failed, LoomPage, Passed};

use crate::scenarios::{page, revived_zero, BOUND_2_THREADS};

type Res = Result<Passed, Failed>;

/// Coverage key: the reviving getter read the page before the freer's CAS (scenario 10).
pub const REVIVED_READ: &str = "reader revived the count and read the page";

/// T0's side of the ordering scenarios of scenario 2: wait until the other
/// holder has dropped its references, then put the last one, which must
/// free. The wait is a *relaxed* `count()` that reads 1: it gives no
/// happens-before edge, but by coherence T0's put comes after the other
/// holder's drop in the word's modification order, so the put is the last
/// (legal use: no misuse check fires). The only edge from the other
/// holder's accesses to the free is then its drop's `Release`, read by the
/// acquiring final put through the release sequence.
fn last_put_after_others_dropped<R: PageRef>(p: &LoomPage<R>) {
    while p.rc.count() != 1 {
        loom::thread::yield_now();
    }
    assert_eq!(p.put(1), Some(1), "the last put did not free the page");
}

/// Scenario 2 with the void put (`page_ref_sub` / `_dec`). T0 and T1 hold
/// one reference each. T1 reads the page and drops its reference with
/// `sub(1)` (legal: T0's reference keeps the count live). T0 waits until a
/// relaxed `count()` reads 1, then puts the last reference and frees (see
/// `last_put_after_others_dropped`). T1's read happens before the free only
/// through its `Release` decrement: with the void put `Relaxed`, loom
/// reports the read racing with the free. 2 threads, no preemption bound
/// (exhaustive).
pub fn s02b_void_put_then_last_put<R: PageRef + 'static>() -> Res {
    check(BOUND_2_THREADS, || {
        let p = page::<R>(2);
        let q = p.clone();
        let t1 = spawn(1, move || {
            q.read();
            q.sub(1);
        });
        last_put_after_others_dropped(&p);
        t1.join().unwrap();
        p.finish_all_dropped();
    })
}

/// Scenario 2 with the value-returning operations (`page_ref_inc_return`,
/// `page_ref_sub_return`). T0 and T1 hold one reference each. T1 takes a
/// second one with `inc_return()`, which must report 3, reads the page, and
/// drops both with `sub_return(2)`, which must report 1 (T0 still holds its
/// own). T0 waits for a relaxed `count()` of 1, then puts the last reference
/// and frees. As in scenario 2b, only `sub_return`'s `Release` half orders
/// T1's read before the free. 2 threads, no preemption bound (exhaustive).
pub fn s02c_value_returning_then_last_put<R: PageRef + 'static>() -> Res {
    check(BOUND_2_THREADS, || {
        let p = page::<R>(2);
        let q = p.clone();
        let t1 = spawn(1, move || {
            let c = q.inc_return();
            assert_eq!(c, 3, "inc_return reported {c} with three references held");
            q.read();
            let c = q.sub_return(2);
            assert_eq!(c, 1, "sub_return reported {c} with one reference left");
        });
        last_put_after_others_dropped(&p);
        t1.join().unwrap();
        p.finish_all_dropped();
    })
}

/// Scenario 10, ordering: publish, look up, get, re-validate, unpublish,
/// free. The page is published in a slot that owns one reference. T0 (the
/// remover) unpublishes it and puts the slot's reference. T1 (a lookup)
/// loads the slot, try_gets, re-validates by reading the page's own identity
/// (as PFN walkers and page-cache lookups read the folio after pinning it),
/// re-checks the slot, reads the data if still published, and puts. The
/// free must happen after every access of every holder: with a *relaxed*
/// final CAS, T0 can free after reading T1's zero without synchronising
/// with T1, and loom reports T1's read racing with the free. 2 threads,
/// no preemption bound (exhaustive).
pub fn s10_publish_lookup_ordering<R: PageRef + 'static>() -> Res {
    check(BOUND_2_THREADS, || {
        let p = page::<R>(1);
        let slot = Arc::new(AtomicBool::new(true));
        let (q, s) = (p.clone(), slot.clone());
        let t1 = spawn(1, move || {
            // ORDERING: Acquire pairs with the publisher (here: the page was
            // published before the model started); a lookup needs nothing
            // more, the refcount gives the rest.
            if s.load(Ordering::Acquire) && q.get(1) {
                let gen = q.read();
                // ORDERING: Acquire; the re-check must see an unpublish that
                // happened before the put we revived (the remover's Release
                // store below, carried by the refcount's release sequence).
                if s.load(Ordering::Acquire) {
                    q.read();
                }
                if q.put(1).is_none() && gen == 1 && revived_zero(1) {
                    hit(REVIVED_READ);
                }
            }
        });
        // ORDERING: Release; unpublish before dropping the slot's reference,
        // so a getter that revives the count after our put sees the page
        // gone when it re-checks the slot.
        slot.store(false, Ordering::Release);
        p.put(1);
        t1.join().unwrap();
        p.finish_all_dropped();
    })
}
