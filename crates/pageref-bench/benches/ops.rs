//! Uncontended cost of every `PageRef` operation, per scheme (divan).
//!
//! ```sh
//! cargo bench -p pageref-bench --bench ops            # everything
//! cargo bench -p pageref-bench --bench ops -- try_get # one group
//! ```
//!
//! One thread, one counter in its own cache line: this is the cost of the
//! instructions and of one uncontended atomic read-modify-write each, not of
//! contention (the `pageref` sweeps measure that). Not run by `cargo test`.
//! Pairs (get + put, freeze + unfreeze, ...) keep the counter in a legal
//! state from one iteration to the next.

use std::hint::black_box;
use std::sync::atomic::AtomicU32;

use divan::Bencher;
use pageref::{ClassicRef, FrozenRef, LowBitRef, OptimisticRef, PageRef, RelaxedFinal, StickyRef};
use pageref_bench::harness::Padded;
use pageref_bench::scheme::Floor;

/// `frozen-posted`: the frozen bit with the relaxed final CAS, as posted.
type FrozenPosted = FrozenRef<AtomicU32, RelaxedFinal>;

fn main() {
    divan::main();
}

/// `try_get` + `dec_and_test` on a live counter (the getput step).
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn try_get_put<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(1));
    b.bench_local(|| {
        let r = black_box(&r.0);
        let ok = r.try_get();
        let last = r.dec_and_test();
        ok && !last
    });
}

/// A `try_get` that fails on a frozen counter. (Not the floor: its get
/// cannot fail.)
#[divan::bench(types = [ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn try_get_frozen<R: PageRef>(b: Bencher) {
    let r = Padded(R::new_frozen());
    b.bench_local(|| black_box(&r.0).try_get());
}

/// `add_unless_frozen(1024)` + `sub_and_test(1024)` (a GUP pin's size).
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn add_unless_frozen_1024<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(1));
    b.bench_local(|| {
        let r = black_box(&r.0);
        r.add_unless_frozen(1024) && !r.sub_and_test(1024)
    });
}

/// `inc` + `dec` (void operations, held reference).
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn inc_dec<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(1));
    b.bench_local(|| {
        let r = black_box(&r.0);
        r.inc();
        r.dec();
    });
}

/// `inc_return` + `dec_return`.
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn inc_dec_return<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(1));
    b.bench_local(|| {
        let r = black_box(&r.0);
        r.inc_return() + r.dec_return()
    });
}

/// The last put (to zero, and for the frozen bit the `0 -> FROZEN` CAS)
/// followed by `init` (reallocation).
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn last_put_init<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(1));
    b.bench_local(|| {
        let r = black_box(&r.0);
        let freed = r.dec_and_test();
        r.init();
        freed
    });
}

/// `freeze(1)` + `unfreeze(1)` (reclaim's freeze at the expected count).
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn freeze_unfreeze<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(1));
    b.bench_local(|| {
        let r = black_box(&r.0);
        let ok = r.freeze(1);
        r.unfreeze(1);
        ok
    });
}

/// `set_frozen` + `init`.
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn set_frozen_init<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(1));
    b.bench_local(|| {
        let r = black_box(&r.0);
        r.set_frozen();
        r.init();
    });
}

/// `count` (a relaxed load and the decoding).
#[divan::bench(types = [Floor, ClassicRef, FrozenRef, FrozenPosted, OptimisticRef, StickyRef, LowBitRef])]
fn count<R: PageRef>(b: Bencher) {
    let r = Padded(R::new(3));
    b.bench_local(|| black_box(&r.0).count());
}
