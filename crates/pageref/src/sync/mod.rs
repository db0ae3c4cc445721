//! `Arc` and `Weak` with the API and semantics of `std::sync`, whose
//! [`Weak::upgrade`] is one `fetch_add` (feature `alloc`, on by default).
//!
//! ```
//! use pageref::sync::{Arc, Weak}; // was: use std::sync::{Arc, Weak};
//!
//! let cache_entry = Arc::new(String::from("page 7"));
//! let handle: Weak<String> = Arc::downgrade(&cache_entry);
//!
//! // Many threads may upgrade at once: each upgrade is one `fetch_add`.
//! let readers: Vec<_> = (0..4)
//!     .map(|_| {
//!         let h = handle.clone();
//!         std::thread::spawn(move || h.upgrade().map(|s| s.len()))
//!     })
//!     .collect();
//! for r in readers {
//!     assert_eq!(r.join().unwrap(), Some(6));
//! }
//!
//! drop(cache_entry); // the last strong reference: the value is dropped
//! assert!(handle.upgrade().is_none());
//! assert_eq!(handle.strong_count(), 0);
//! ```
//!
//! ## Why
//!
//! std's `Weak::upgrade` is a load and a compare-and-swap loop (increment
//! unless zero). When many threads upgrade the same `Weak` (caches with
//! weak handles, observer lists, parent pointers in shared trees), their
//! CASes keep failing against each other: the serialisation point that the
//! kernel series "mm: implement page refcount locking via dedicated bit"
//! removes from `folio_try_get`. Here, as there, the strong count has a
//! *dead bit*, so "take a reference unless dead" is one unconditional
//! `fetch_add` that can never fail for contention. A change of this kind to
//! std itself (a low-bit dead flag) was proposed in
//! <https://github.com/rust-lang/rust/pull/116173> and closed unmerged.
//!
//! ## The protocol
//!
//! The strong count is a `usize` whose top bit is `DEAD`:
//!
//! | strong count            | meaning |
//! |-------------------------|---------|
//! | `1 ..= 2^(B-2) - 1`     | live: that many `Arc`s (`B` = bits of `usize`) |
//! | `0`                     | only inside a last drop, between its decrement and its CAS |
//! | `DEAD ..= usize::MAX`   | dead; the low bits are garbage left by failed upgrades |
//!
//! * [`Arc::clone`]: `fetch_add(1)`, as std's.
//! * [`Weak::upgrade`]: `fetch_add(1)`; it failed iff the old value has the
//!   dead bit. A failure leaves its 1 as garbage under the bit; nothing
//!   reads it.
//! * `drop` of an `Arc`: `fetch_sub(1)`; the thread that takes the count to
//!   0 then CASes `0 -> DEAD` (`Acquire` on success), and only the CAS
//!   winner drops `T`. Between the two, an upgrade may revive the 0 (it
//!   then holds a reference, and the CAS fails); the reviver's own last
//!   drop goes through the same CAS. That extra CAS is the price of the
//!   wait-free upgrade, paid once per object lifetime.
//! * [`Arc::try_unwrap`], [`Arc::into_inner`], [`Arc::make_mut`] claim
//!   uniqueness with a CAS `1 -> DEAD` (`into_inner` falls back to the
//!   drop protocol when the CAS fails, so that exactly one of racing calls
//!   gets the value); `make_mut` re-opens with a store of 1 when no `Weak`
//!   exists.
//! * [`Arc::new_cyclic`] starts dead and publishes the count with a
//!   `Release` store of 1 once the value is written.
//! * The weak count, and the `usize::MAX` lock that [`Arc::get_mut`] holds
//!   on it while it checks uniqueness, are std's design unchanged.
//! * Overflow of either count aborts, as in std: a live strong count above
//!   `2^(B-2) - 1` (`2^62 - 1` on 64-bit targets), a weak count above
//!   `isize::MAX`. The quarter of the word between the strong limit and the
//!   dead bit is headroom for increments racing the abort.
//! * **The garbage of failed upgrades** grows by one per failed upgrade while
//!   any `Weak` keeps the allocation. On 64-bit targets it would take 2^62
//!   failed upgrades (centuries at one per nanosecond) to matter, the
//!   argument of the kernel's `file_ref_t`; on 32-bit targets 2^30 take
//!   seconds. So a failed upgrade that finds the garbage at a quarter of the
//!   word resets it to `DEAD` with one CAS that expects the value it left
//!   (the series' guard): that CAS can only succeed on a dead word, which
//!   stays dead. It is on the failure path only, on every target.
//!
//! Every atomic operation carries a comment saying why its ordering is
//! enough, and every `unsafe` block a `SAFETY` comment (source: the files
//! of `src/sync/`).
//!
//! ## Arc vs std
//!
//! **API.** For sized `T`, everything std's `Arc`/`Weak` have on stable
//! Rust, except what needs a custom allocator or unsized values: `new`,
//! `new_cyclic`, `pin`, `clone`, `drop`, `Deref`, `downgrade`, `upgrade`,
//! `strong_count`, `weak_count` (associated functions on `Arc`, methods on
//! `Weak`), `Weak::new`, `get_mut`, `make_mut`, `try_unwrap`,
//! `into_inner`, `unwrap_or_clone`, `ptr_eq`, `as_ptr`, `into_raw`,
//! `from_raw`, `increment_strong_count`, `decrement_strong_count`,
//! `Weak::{as_ptr, into_raw, from_raw, ptr_eq}`, and `Default`, `Debug`,
//! `Display`, `Pointer`, `PartialEq`, `Eq`, `PartialOrd`, `Ord`, `Hash`,
//! `From<T>`, `From<Box<T>>`, `Borrow`, `AsRef`, `Unpin`, `UnwindSafe`;
//! `Send` and `Sync` with std's bounds (`T: Send + Sync`).
//!
//! **Not (yet) here:** unsized `T` (`Arc<str>`, `Arc<[T]>`, `Arc<dyn
//! Trait>` and the unsizing coercion `Arc<T> -> Arc<dyn Trait>`, which needs
//! the unstable `CoerceUnsized`), the allocator parameter (`new_in`, ...),
//! `new_uninit` / `new_zeroed`, `downcast`, `impl Error`, the `From`
//! conversions for slices, strings and iterators. Unsized `T` may come
//! later. APIs of std that take std's own `Arc` (`std::task::Wake`) need
//! std's.
//!
//! **Semantics.** Same as std's, including the guarantees under races:
//! exactly one of racing `into_inner` calls wins; a `strong_count()` of 0
//! from a `Weak` is final once the value was published (an upgrade after
//! it fails; inside `new_cyclic`'s closure it is 0 until the `Arc` exists,
//! as in std), because a read of a last drop's transient 0 waits for that
//! drop to finish or be overtaken;
//! `make_mut` disassociates `Weak`s. The differences, all at the edges:
//!
//! * *Drop check.* std's `Drop for Arc<T>` is `#[may_dangle]` (unstable),
//!   so std accepts a few programs where an `Arc<&'a T>` is dropped after
//!   the `T` it borrows (e.g. declared in the wrong order in one scope).
//!   Ours, like any stable-Rust container, rejects those at compile time.
//! * *Method receivers.* `fn f(self: Arc<Self>)` and `self: &Arc<Self>`
//!   work only with std's `Arc` (and `Box`, `Rc`, `Pin`): other smart
//!   pointers need the unstable `arbitrary_self_types`. Write
//!   `fn f(this: &Arc<Self>)` and call `Type::f(&arc)` instead.
//! * *Overflow limits.* The strong count aborts above `2^62 - 1` (std:
//!   `isize::MAX`), `2^30 - 1` on 32-bit targets (std: `2^31 - 1`).
//!   Reaching either takes `mem::forget` of that many clones. An upgrade
//!   that overflows aborts (std's panics, as its CAS has not incremented
//!   yet; our `fetch_add` has).
//! * *`Weak::strong_count` / `weak_count` can wait.* They spin while a last
//!   drop is between its decrement and its CAS (two instructions, unless
//!   the dropping thread is preempted there). std's never wait. (std's
//!   `downgrade` spins too, on the `get_mut` lock; ours does the same.)
//! * *`PartialEq` with `T: Eq`.* std skips `T::eq` when both `Arc`s point to
//!   the same allocation (a specialisation); ours always calls it. Only an
//!   `Eq` that is not reflexive can tell.
//! * *Misuse checks.* With debug assertions (or the crate's `strict`
//!   feature), a drop or `from_raw` that finds a strong count that is not
//!   live (a double `from_raw`, a double drop), and a `Weak` drop that finds
//!   0, abort with a message naming the operation and the raw count. std
//!   has no such checks (the misuse is undefined behaviour there and here).
//!
//! ## Speed
//!
//! Measured side by side in one run of each tool on a 2-vCPU KVM guest
//! (AMD EPYC, Linux 6.18, rustc 1.95, release build) with nothing else of
//! ours running. Raw output in the source repository: `bench/results/`
//! (`arc-divan.txt`; the `arc-*` rows of `sweep.csv` and `RESULTS.md`).
//!
//! Uncontended, one thread (`cargo bench -p pageref-bench --bench arc`,
//! divan medians):
//!
//! | operation | std | pageref | pageref / std |
//! |---|---|---|---|
//! | `clone` + drop | 9.80 ns | 9.80 ns | 1.00 |
//! | `upgrade` + drop | 10.00 ns | 9.76 ns | 0.98 |
//! | `downgrade` + drop | 9.80 ns | 10.03 ns | 1.02 |
//! | failed `upgrade` | 0.75 ns | 5.75 ns | 7.7 |
//! | `new` + last drop + free | 15.6 ns | 20.6 ns | 1.32 |
//! | `new` + `try_unwrap` / `into_inner` | 15.8 ns | 15.8 ns | 1.00 |
//! | `get_mut`, `make_mut` (unique) | 5.2–5.3 ns | 5.2 ns | 1.00 |
//!
//! A failed upgrade is a read-modify-write here (std's is a load), and the
//! last drop adds one CAS (`0 -> DEAD`) per object lifetime: those are the
//! price of the wait-free upgrade.
//!
//! Contended (`bench/run-full.sh`: `pageref bench --workloads all --runs 5
//! --duration 1`, medians, millions of operations per second, all threads
//! together):
//!
//! | workload | threads | std | pageref | pageref / std |
//! |---|---|---|---|---|
//! | `arc-upgrade` (upgrade + drop of one shared `Weak`) | 1 | 102.0 | 102.8 | 1.01 |
//! | | 2 | 36.4 | 67.8 | **1.86** |
//! | `arc-clone` (clone + drop of one shared `Arc`) | 1 | 100.5 | 100.3 | 1.00 |
//! | | 2 | 67.6 | 67.3 | 0.99 |
//! | `arc-churn` (new, downgrade, upgrade, last drop) | 1 | 89.0 | 87.8 | 0.99 |
//! | | 2 | 31.4 | 44.8 | 1.43 |
//!
//! Two threads is the most this machine shows; the gain from many cores
//! upgrading the same `Weak` is not measured here.
//!
//! ## Verification
//!
//! The verification crate (`pageref-model`, test `loom_arc`) runs loom on
//! this very code through the hidden second type parameter: upgrade vs last
//! drop, upgrade vs `try_unwrap` / `into_inner`, `make_mut` with a live
//! `Weak`, `get_mut` vs `weak_count`, `new_cyclic` vs upgrade, with checks
//! that the value is dropped exactly once and never while held and that the
//! memory is freed exactly once; and planted bugs that each make a model
//! fail. Its `shuttle_arc` test runs the same code on shuttle's atomics
//! (`ShuttleWords`, feature `shuttle`) with five threads and randomized
//! schedules. The behaviour tests port what std's own Arc tests check, and run
//! under valgrind memcheck in `cargo test` where valgrind is installed (a
//! missing valgrind skips them, except under `CI=true`, where it fails).

mod arc;
mod inner;
mod traits;
mod unique;
mod weak;
mod words;

#[cfg(test)]
mod tests;

pub use arc::Arc;
pub use weak::Weak;
#[cfg(feature = "mutants")]
#[doc(hidden)]
pub use words::mutants;
#[cfg(feature = "loom")]
pub use words::LoomWords;
#[cfg(any(feature = "loom", feature = "shuttle"))]
#[doc(hidden)]
pub use words::ModelAtomic;
#[cfg(feature = "shuttle")]
pub use words::ShuttleWords;
pub use words::{ArcWords, CoreWords};
