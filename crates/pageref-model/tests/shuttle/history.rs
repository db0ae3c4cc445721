//! The shuttle history: a page cache with lock-free lookups, GUP-sized
//! pins, a PFN walker, removal, freeing, re-allocation and migration, on
//! the shipped code of one scheme.

use std::sync::Arc;

use pageref::PageRef;
use pageref_model::shuttle_harness::{spawn, ShuttlePage};
use pageref_model::trace;
use shuttle::sync::atomic::{AtomicBool, Ordering};
use shuttle::sync::Mutex;

use crate::near_limit::NearLimit;

/// The GUP-style pin size (`nr` of a PFN walker's get).
const PIN: u32 = 1024;

/// Rounds per thread.
const ROUNDS: usize = 3;

struct Cache<R> {
    page: ShuttlePage<R>,
    /// The slot (page-cache entry) as lockless readers see it.
    published: AtomicBool,
    /// The mapping's lock: publish, remove and migrate hold it.
    lock: Mutex<()>,
    /// The page is on the allocator's free list.
    on_free_list: AtomicBool,
}

impl<R: PageRef> Cache<R> {
    /// Drops `nr` references; the thread that frees the page puts it on the
    /// free list.
    fn put(&self, nr: u32) {
        if self.page.put(nr).is_some() {
            // ORDERING: Release: the allocator that takes the page must see
            // the free (shuttle is SC; the ordering documents the protocol).
            self.on_free_list.store(true, Ordering::Release);
        }
    }

    /// A lockless page-cache lookup (RCU style): load the slot, try_get,
    /// read the page, re-check the slot, read the data, put.
    fn lookup(&self, nr: u32) {
        // ORDERING: Acquire pairs with the publisher's Release store.
        if self.published.load(Ordering::Acquire) && self.page.get(nr) {
            self.page.read();
            // ORDERING: Acquire, as above.
            if self.published.load(Ordering::Acquire) {
                self.page.read();
            }
            self.put(nr);
        }
    }

    /// A PFN walker: pins whatever page is at this frame without a lookup
    /// (e.g. compaction, GUP-fast on a stale PTE), re-validates by reading
    /// the page, unpins.
    fn pfn_walk(&self) {
        if self.page.get(PIN) {
            self.page.read();
            self.put(PIN);
        }
    }

    /// Removal from the page cache: unpublish under the lock, then drop the
    /// cache's reference.
    fn remove(&self) {
        let g = self.lock.lock().unwrap();
        // ORDERING: Relaxed under the lock for the check; the store below
        // is Release so that a lookup that revives the count sees it gone.
        if self.published.load(Ordering::Relaxed) {
            self.published.store(false, Ordering::Release);
            drop(g);
            self.put(1);
        }
    }

    /// Migration: freeze the page at the cache's single reference, work on
    /// it exclusively, unfreeze.
    fn migrate(&self) {
        let _g = self.lock.lock().unwrap();
        // ORDERING: Relaxed; the lock orders it with publish/remove.
        if self.published.load(Ordering::Relaxed) && self.page.freeze(1) {
            self.page.scribble();
            self.page.unfreeze(1);
        }
    }

    /// The allocator: take the page off the free list, initialise it (one
    /// reference, the cache's) and publish it.
    fn alloc_and_publish(&self) {
        // ORDERING: Acquire pairs with the freer's Release store.
        if self.on_free_list.swap(false, Ordering::Acquire) {
            self.page.alloc();
            let _g = self.lock.lock().unwrap();
            // ORDERING: Release publishes the initialised page to lookups.
            self.published.store(true, Ordering::Release);
        }
    }

    /// A reader of `count()`: never garbage.
    fn observe(&self) {
        let c = self.page.rc.count();
        // The cache, two single-page readers, three PIN-sized pinners.
        let max = 1 + 2 + 3 * PIN;
        assert!(c <= max, "count() reported {c:#x}: garbage");
    }
}

/// The history: T0 allocates/publishes, T1-T3 look up (T3 pins with
/// `nr = 1024` like GUP), T4 walks PFNs, T5 removes, T6 migrates and
/// observes `count()` (and, if `zero_final`, checks that a `count()` of 0 is
/// final: a try_get after it fails unless the page was re-allocated or
/// unfrozen meanwhile); `ROUNDS` rounds each; then the cache's reference is
/// dropped and every incarnation must have been freed exactly once.
fn run_history<R: PageRef + 'static>(
    page: ShuttlePage<R>,
    published: bool,
    zero_final: bool,
) -> Arc<Cache<R>> {
    let cache = Arc::new(Cache {
        page,
        published: AtomicBool::new(published),
        lock: Mutex::new(()),
        on_free_list: AtomicBool::new(!published),
    });
    let mut threads = Vec::new();
    for i in 1..=6 {
        let c = cache.clone();
        threads.push(spawn(i, move || {
            for _ in 0..ROUNDS {
                match i {
                    1 | 2 => c.lookup(1),
                    3 => c.lookup(PIN),
                    4 => c.pfn_walk(),
                    5 => c.remove(),
                    _ => {
                        c.migrate();
                        c.observe();
                        if zero_final {
                            c.page.probe_zero_is_final();
                        }
                    }
                }
            }
        }));
    }
    for _ in 0..ROUNDS {
        cache.alloc_and_publish();
        cache.pfn_walk();
    }
    for t in threads {
        t.join().unwrap();
    }
    // Drain: drop the cache's reference if the page is still published.
    cache.remove();
    cache.page.finish_all_dropped();
    cache
}

/// The history on scheme `R`. If `near_limit`, the page starts free with
/// garbage `PIN` references short of the scheme's overflow limit
/// ([`NearLimit::near_limit`]), so failed pins drive it over the limit
/// while it is re-allocated. A `count()` of 0 must be final where the
/// scheme promises it (`PageRef::ZERO_IS_FINAL`). Also checks that no RMW
/// ever revived a dead word (only the stores of init and unfreeze may) and
/// that at the end the dead word is settled ([`NearLimit::settled`]: below
/// the guard's limit for a guarded scheme). Returns the number of limit
/// events (guard firings, resets, harmless wraps) of the run.
pub(crate) fn history<R: NearLimit>(near_limit: bool) -> u64 {
    let zero_final = R::ZERO_IS_FINAL;
    let cache = if near_limit {
        run_history(ShuttlePage::new_free(R::near_limit(PIN)), false, zero_final)
    } else {
        run_history(ShuttlePage::<R>::new(1), true, zero_final)
    };
    let mut limit_events = 0;
    for (t, op, before, after) in trace::writes(&trace::snapshot()) {
        if R::limit_event(op, before, after) {
            limit_events += 1;
        }
        if R::raw_dead(before) && !R::raw_dead(after) {
            assert!(
                op.starts_with("store"),
                "T{t}: {op} revived a dead word: {before:#010x} -> {after:#010x} (only init/unfreeze may)"
            );
        }
    }
    let raw = cache.page.rc.raw();
    assert!(
        R::settled(raw),
        "at the end the dead word is not back below its overflow limit: {raw:#010x}"
    );
    limit_events
}
