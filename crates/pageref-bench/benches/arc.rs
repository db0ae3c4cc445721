//! Uncontended cost of each `Arc` / `Weak` operation, `std::sync` against
//! `pageref::sync` (divan).
//!
//! ```sh
//! cargo bench -p pageref-bench --bench arc
//! cargo bench -p pageref-bench --bench arc -- upgrade   # one group
//! ```
//!
//! One thread, one object: the cost of the instructions and of uncontended
//! atomic read-modify-writes, not of contention (`pageref bench --workloads
//! arc-upgrade,arc-clone,arc-churn` measures that). Not run by `cargo test`.
//! The targets: `clone_drop` and `upgrade_drop` within 5% of std's.
#![forbid(unsafe_code)]

use std::hint::black_box;

use divan::Bencher;
use pageref_bench::arc::{Family, Pageref, Std};
use pageref_bench::harness::Padded;

fn main() {
    divan::main();
}

/// `Arc::clone` + drop of the clone (the count never reaches 0).
#[divan::bench(types = [Std, Pageref])]
fn clone_drop<F: Family>(b: Bencher) {
    let a = Padded(F::new(7u64));
    b.bench_local(|| drop(black_box(black_box(&a.0).clone())));
}

/// `Weak::upgrade` + drop of the `Arc` it gave, while a strong reference
/// is held (the count never reaches 0).
#[divan::bench(types = [Std, Pageref])]
fn upgrade_drop<F: Family>(b: Bencher) {
    let a = F::new(7u64);
    let w = Padded(F::downgrade(&a));
    b.bench_local(|| drop(black_box(F::upgrade(black_box(&w.0)))));
}

/// A `Weak::upgrade` that fails (the value was dropped).
#[divan::bench(types = [Std, Pageref])]
fn upgrade_failed<F: Family>(b: Bencher) {
    let w = Padded(F::downgrade(&F::new(7u64)));
    b.bench_local(|| black_box(F::upgrade(black_box(&w.0))).is_none());
}

/// `Arc::downgrade` + drop of the `Weak`.
#[divan::bench(types = [Std, Pageref])]
fn downgrade_drop<F: Family>(b: Bencher) {
    let a = Padded(F::new(7u64));
    b.bench_local(|| drop(black_box(F::downgrade(black_box(&a.0)))));
}

/// `Arc::new` + drop: allocation, the last drop (for pageref with its
/// `0 -> DEAD` CAS) and the free.
#[divan::bench(types = [Std, Pageref])]
fn new_drop<F: Family>(b: Bencher) {
    b.bench_local(|| drop(black_box(F::new(black_box(7u64)))));
}

/// `Weak::strong_count` on a live object.
#[divan::bench(types = [Std, Pageref])]
fn weak_strong_count<F: Family>(b: Bencher) {
    let a = F::new(7u64);
    let w = Padded(F::downgrade(&a));
    b.bench_local(|| F::weak_strong_count(black_box(&w.0)));
}

mod unique {
    //! The operations on a unique `Arc`, per implementation (their
    //! signatures differ from `Family`'s, so one function each).
    use super::*;

    macro_rules! unique_ops {
        ($m:ident, $arc:ty) => {
            pub mod $m {
                use super::*;
                type A = $arc;

                /// `get_mut` on a unique `Arc` (locks the weak count).
                #[divan::bench]
                fn get_mut(b: Bencher) {
                    let mut a = A::new(7u64);
                    b.bench_local(|| *A::get_mut(black_box(&mut a)).unwrap() += 1);
                }

                /// `make_mut` on a unique `Arc` (CAS, then re-open).
                #[divan::bench]
                fn make_mut(b: Bencher) {
                    let mut a = A::new(7u64);
                    b.bench_local(|| *A::make_mut(black_box(&mut a)) += 1);
                }

                /// `new` + `try_unwrap` (CAS 1 -> DEAD / 1 -> 0) + free.
                #[divan::bench]
                fn new_try_unwrap(b: Bencher) {
                    b.bench_local(|| A::try_unwrap(A::new(black_box(7u64))).ok());
                }

                /// `new` + `into_inner` + free.
                #[divan::bench]
                fn new_into_inner(b: Bencher) {
                    b.bench_local(|| A::into_inner(A::new(black_box(7u64))));
                }
            }
        };
    }

    unique_ops!(std_arc, std::sync::Arc<u64>);
    unique_ops!(pageref_arc, pageref::sync::Arc<u64>);
}
