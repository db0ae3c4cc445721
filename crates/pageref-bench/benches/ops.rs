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
//!
//! The schemes come from the registry (`pageref::for_each_scheme!`): the
//! callback below declares one marker type per scheme, named as the
//! registry's identifier (`frozen_posted` for `frozen-posted`), which is
//! what divan prints, and generates every bench with the list of markers.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU32, AtomicU64};

use divan::Bencher;
use pageref::PageRef;
use pageref_bench::harness::Padded;

fn main() {
    divan::main();
}

/// A scheme under test: a marker type named after it, and its counter.
trait Scheme {
    /// The counter.
    type R: PageRef;
}

/// The floor (bench-only, not a refcount): see `pageref_bench::scheme::Floor`.
#[allow(non_camel_case_types)]
struct floor;
impl Scheme for floor {
    type R = pageref_bench::scheme::Floor;
}

macro_rules! benches {
    ([] $($id:ident $name:literal ($ty:ty) $info:tt)*) => {
        $(
            #[doc = concat!("`", $name, "`.")]
            #[allow(non_camel_case_types)]
            struct $id;
            impl Scheme for $id {
                type R = $ty;
            }
        )*

    /// `try_get` + `dec_and_test` on a live counter (the getput step).
    #[divan::bench(types = [floor, $($id),*])]
    fn try_get_put<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(1));
        b.bench_local(|| {
            let r = black_box(&r.0);
            let ok = r.try_get();
            let last = r.dec_and_test();
            ok && !last
        });
    }

    /// A `try_get` that fails on a frozen counter. (Not the floor: its get
    /// cannot fail.)
    #[divan::bench(types = [$($id),*])]
    fn try_get_frozen<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new_frozen());
        b.bench_local(|| black_box(&r.0).try_get());
    }

    /// `add_unless_frozen(1024)` + `sub_and_test(1024)` (a GUP pin's size).
    #[divan::bench(types = [floor, $($id),*])]
    fn add_unless_frozen_1024<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(1));
        b.bench_local(|| {
            let r = black_box(&r.0);
            r.add_unless_frozen(1024) && !r.sub_and_test(1024)
        });
    }

    /// `inc` + `dec` (void operations, held reference).
    #[divan::bench(types = [floor, $($id),*])]
    fn inc_dec<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(1));
        b.bench_local(|| {
            let r = black_box(&r.0);
            r.inc();
            r.dec();
        });
    }

    /// `inc_return` + `dec_return`.
    #[divan::bench(types = [floor, $($id),*])]
    fn inc_dec_return<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(1));
        b.bench_local(|| {
            let r = black_box(&r.0);
            r.inc_return() + r.dec_return()
        });
    }

    /// The last put (to zero, and for the frozen bit the `0 -> FROZEN` CAS)
    /// followed by `init` (reallocation).
    #[divan::bench(types = [floor, $($id),*])]
    fn last_put_init<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(1));
        b.bench_local(|| {
            let r = black_box(&r.0);
            let freed = r.dec_and_test();
            r.init();
            freed
        });
    }

    /// `freeze(1)` + `unfreeze(1)` (reclaim's freeze at the expected count).
    #[divan::bench(types = [floor, $($id),*])]
    fn freeze_unfreeze<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(1));
        b.bench_local(|| {
            let r = black_box(&r.0);
            let ok = r.freeze(1);
            r.unfreeze(1);
            ok
        });
    }

    /// `set_frozen` + `init`.
    #[divan::bench(types = [floor, $($id),*])]
    fn set_frozen_init<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(1));
        b.bench_local(|| {
            let r = black_box(&r.0);
            r.set_frozen();
            r.init();
        });
    }

    /// `count` (a relaxed load and the decoding).
    #[divan::bench(types = [floor, $($id),*])]
    fn count<S: Scheme>(b: Bencher) {
        let r = Padded(S::R::new(3));
        b.bench_local(|| black_box(&r.0).count());
    }
    };
}

pageref::for_each_scheme!(benches, AtomicU32, AtomicU64);
