//! # pageref — the Linux page reference count with a dedicated frozen bit
//!
//! A `no_std`, allocation-free implementation of the page refcount protocol of
//! the kernel series "mm: implement page refcount locking via dedicated bit"
//! ([`FrozenRef`]), next to today's upstream "zero means dead" scheme
//! ([`ClassicRef`]) and every other design proposed for the same job, behind
//! one trait, [`PageRef`], that carries the whole `page_ref` API.
//!
//! The point of the frozen bit: a speculative "get unless dead" is one
//! unconditional `fetch_add` instead of a load + compare-and-swap loop, so many
//! CPUs pinning the same object no longer serialise on a CAS that keeps losing.
//!
//! ```
//! use pageref::{FrozenRef, PageRef};
//!
//! let p: FrozenRef = PageRef::new(1);
//! assert!(p.try_get());
//! assert!(!p.dec_and_test());
//! assert!(p.dec_and_test());
//! assert!(p.is_frozen() && p.count() == 0 && !p.try_get());
//! ```
//!
//! ## States (frozen-bit scheme)
//!
//! | state          | raw value                  | meaning |
//! |----------------|----------------------------|---------|
//! | live           | `1 ..= i32::MAX`           | owned by that many holders |
//! | transient zero | `0`                        | only inside a final put, between its decrement and its CAS |
//! | frozen         | `FROZEN_BIT ..= u32::MAX`  | dead or frozen; low bits are garbage left by failed try_gets |
//!
//! The constants are in [`state`]; each other scheme's type documents its own
//! encoding.
//!
//! ## Every scheme
//!
//! | type | source | get | exact zero reads | capacity | word | extra atomic ops on the last put |
//! |---|---|---|---|---|---|---|
//! | [`ClassicRef`] | upstream `page_ref.h` | load + CAS loop | yes | `2^31 - 1` | 32 | 0 |
//! | [`FrozenRef`] | the series | `fetch_add` | no (transient zero) | `2^31 - 1` | 32 | 1 CAS |
//! | [`OptimisticRef`] | Torvalds, review | CAS guessing 1, loop | yes | `2^31 - 1` | 32 | 0 |
//! | [`StickyRef`] | Anderson, Blelloch, Wei, PLDI 2022, Section 4.3 | `fetch_add` | yes (a read of 0 helps) | `2^30 - 1` | 32 | 1 CAS (+1 `fetch_and` if a reader helped) |
//! | [`LowBitRef`] | Parkinson, Clebsch, Simner, ISMM 2023 | `fetch_add(2 nr)` | no (transient zero) | `2^30 - 1` | 32 | 1 CAS |
//! | [`RcuRef`] | kernel `rcuref_t` | relaxed `fetch_add`; a failure stores `DEAD` | no (`NOREF`) | `2^31` | 32 | 1 CAS + 1 fence |
//! | [`FileRef`] | kernel `file_ref_t` | `fetch_add`; no reset | no (`NOREF`) | `2^32 - 1` | 64 | 1 CAS + 1 fence |
//! | `FileRef<AtomicU32>` | `file_ref_t` on 32 bits | `fetch_add`; no reset | no (`NOREF`) | `2^31` | 32 | 1 CAS + 1 fence |
//!
//! Each type's documentation gives its encoding, its capacity, where it
//! differs from the kernel API, the models that check it and the benchmarks
//! that measure it. [`SCHEMES`] and [`for_each_scheme!`] list them for
//! programs (the benchmark, the model checkers, the tests), with the race
//! scenarios each one is known to fail (`docs/races.md` in the repository).
//!
//! ## Kernel names
//!
//! | kernel (`include/linux/page_ref.h`, `mm.h`) | here |
//! |---|---|
//! | `page_ref_count`, `folio_ref_count` | [`PageRef::count`] |
//! | `init_page_count`, `folio_set_count(1)` | [`PageRef::init`] |
//! | `set_page_count_frozen` (was `set_page_count(0)`) | [`PageRef::set_frozen`] |
//! | `page_ref_add` / `_sub` / `_inc` / `_dec` | [`add`](PageRef::add) / [`sub`](PageRef::sub) / [`inc`](PageRef::inc) / [`dec`](PageRef::dec) |
//! | `page_ref_inc_return` / `_dec_return` / `_sub_return` | [`inc_return`](PageRef::inc_return) / [`dec_return`](PageRef::dec_return) / [`sub_return`](PageRef::sub_return) |
//! | `page_ref_sub_and_test` / `_dec_and_test`, `put_page_testzero` | [`sub_and_test`](PageRef::sub_and_test) / [`dec_and_test`](PageRef::dec_and_test) |
//! | `page_ref_add_unless_frozen` (was `_add_unless_zero`) | [`PageRef::add_unless_frozen`] |
//! | `folio_try_get`, `get_page_unless_zero` | [`PageRef::try_get`] |
//! | `page_ref_freeze` / `page_ref_unfreeze` | [`PageRef::freeze`] / [`PageRef::unfreeze`] |
//!
//! Each operation's documentation below names the model that checks it and
//! the benchmark that measures it (those live in the source repository's
//! verification and benchmark crates, not in this package).
//!
//! ## Memory orderings
//!
//! The kernel's rules (`Documentation/atomic_t.txt`): value-returning RMWs are
//! fully ordered, void RMWs unordered, conditional RMWs unordered on failure.
//! We map them onto C11 with the weakest ordering that still gives each
//! operation its contract, and say why beside each atomic operation. In
//! short: a successful get is `Acquire` (it must see the incarnation it
//! pinned), a put is `Release` (the holder's accesses happen before the
//! free), the final `0 -> FROZEN` CAS is `Acquire` by default (see
//! [`AcquireFinal`] vs the posted [`RelaxedFinal`]), freeze is `Acquire`,
//! unfreeze and init are `Release` stores. The kernel's own schemes
//! ([`RcuRef`], [`FileRef`]) keep the kernel's orderings, mapped to C11.
//!
//! ## Atomics are pluggable
//!
//! Each scheme is generic over an [`AtomicWord`] (default: `core`'s
//! `AtomicU32`, or `AtomicU64` for [`FileRef`]) so that `loom` and `shuttle`
//! drive this very code in the verification crate (features `loom`,
//! `shuttle`).
//!
//! ## Misuse checks
//!
//! In debug builds, or with the `strict` feature, misuse panics with a message
//! naming the operation and the raw value (see [`check`]).
#![no_std]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![deny(unsafe_code)]

pub mod atomic;
pub mod check;
mod classic;
mod fileref;
mod frozen;
mod lowbit;
mod ops;
mod optimistic;
pub mod policy;
mod rcuref;
mod registry;
pub mod state;
mod sticky;
#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "alloc")]
#[allow(unsafe_code)] // the only module that needs it: an allocation and raw pointers
pub mod sync;
mod zero_dead;
mod zones;

pub use atomic::AtomicWord;
pub use classic::ClassicRef;
pub use fileref::FileRef;
pub use frozen::FrozenRef;
pub use lowbit::LowBitRef;
pub use optimistic::OptimisticRef;
pub use policy::{AcquireFinal, Policy, RelaxedFinal};
pub use rcuref::RcuRef;
pub use registry::{info, SchemeInfo, SCHEMES};
pub use sticky::StickyRef;
pub use zero_dead::ZeroDeadRef;

/// The largest `nr` accepted by [`PageRef::add_unless_frozen`] in every
/// scheme (the operations on a live counter accept up to `MAX_COUNT`).
///
/// `2^18` is the most the kernel adds in one speculative get: GUP-fast's
/// `folio_try_get` / `try_grab_folio_fast` on a PUD-mapped 1 GiB folio of
/// 4 KiB pages takes one reference per page, `2^18`. The schemes that leave
/// garbage on a dead word size their headroom for it: the frozen bit has
/// room for `2^30 / 2^18 = 4096` such failing gets in flight at once between
/// their add and the overflow guard, the sticky counter for 2048, rcuref
/// for 2048 between two of its `DEAD` stores.
pub const MAX_NR: u32 = 1 << 18;

/// A page reference count: the whole `page_ref` API, one scheme per
/// implementation.
///
/// Every implementation has the same observable contract:
///
/// * a counter is either **live** with a count in `1 ..= MAX_COUNT`, or
///   **frozen** (dead, free in an allocator, or frozen by an owner who wants
///   exclusive access); [`count`](Self::count) reports 0 for frozen;
/// * [`try_get`](Self::try_get) / [`add_unless_frozen`](Self::add_unless_frozen)
///   succeed on a live counter and fail on a frozen one, with no trace left in
///   the count;
/// * exactly one of the puts that together drop a count to zero returns `true`
///   from [`sub_and_test`](Self::sub_and_test); its caller owns the (now
///   frozen) object and frees it;
/// * [`freeze`](Self::freeze) succeeds only if the count equals `expected`;
///   the object then stays frozen until [`unfreeze`](Self::unfreeze) or
///   [`init`](Self::init).
///
/// Some schemes break part of this contract on memory that is reused, and
/// that is what the verification crate shows: [`SCHEMES`] lists, for each,
/// the race scenarios it is known to fail.
///
/// Void operations and `*_return` operations are legal only on a live counter
/// that they leave live; to drop what may be the last reference use
/// `sub_and_test`/`dec_and_test`.
///
/// The scheme types have default type parameters (the atomic, the policy),
/// and Rust does not use those to infer a type in an expression: write
/// `<FrozenRef>::new(1)` or annotate the binding (`let p: FrozenRef =
/// PageRef::new(1);`), not `FrozenRef::new(1)`.
///
/// The trait is implemented by this crate's schemes. Another crate may
/// implement it too, then including the hidden `from_raw` (a counter holding
/// a given raw word, which the verification crate's models need).
pub trait PageRef: Send + Sync + Sized {
    /// Short scheme name for reports ("frozen", "classic", ...).
    const NAME: &'static str;
    /// The largest legal live count.
    const MAX_COUNT: u32;
    /// The width of the raw word in bits (32, or 64 for [`FileRef`]).
    const WORD_BITS: u32;
    /// Whether a final put passes through a *transient zero* that a
    /// concurrent get can revive (the put then returns `false` and the
    /// reviver's own put finishes): frozen bit, sticky, low bit, rcuref,
    /// file_ref.
    const REVIVES_ZERO: bool;
    /// Whether a [`count`](Self::count) of 0 is final for the incarnation:
    /// no later get succeeds until `init`/`unfreeze` (classic encodings, and
    /// the sticky counter by helping).
    const ZERO_IS_FINAL: bool;

    /// A live counter holding `count` references. Panics unless
    /// `1 <= count <= MAX_COUNT`.
    fn new(count: u32) -> Self;
    /// A frozen (dead) counter, as a free page in the allocator.
    fn new_frozen() -> Self;

    /// The raw word, zero-extended, for diagnostics and traces.
    /// Scheme-specific encoding.
    fn raw(&self) -> u64;
    /// The count [`page_ref_count`]: 0 when frozen (never garbage, never
    /// negative). A plain relaxed read: a snapshot that may be stale at once.
    /// (Exception: [`StickyRef`]'s read of a transient zero also writes, to
    /// make that 0 final; see there.)
    ///
    /// Checked by: loom `s11_count_never_garbage` (planted bug
    /// `CountShowsGarbage`), `s13_zero_is_final`, the exhaustive
    /// `state_exhaustive` test. Measured by: divan `count`.
    ///
    /// [`page_ref_count`]: https://elixir.bootlin.com/linux/latest/source/include/linux/page_ref.h
    fn count(&self) -> u32;
    /// Whether the counter is frozen (dead or frozen). Relaxed snapshot.
    ///
    /// Checked by: loom `s08_overflow_guard`, `s13_zero_is_final`, the
    /// page-cache allocator's checks under stress. Measured by: divan `count`
    /// (the same load).
    fn is_frozen(&self) -> bool;

    /// `init_page_count`: frozen -> 1, on allocation. Misuse on a live counter.
    ///
    /// Checked by: loom `s05_reuse_spurious_get` (its Release is needed
    /// there), `s07_different_zeros`. Measured by: divan `last_put_init`.
    fn init(&self);
    /// `set_page_count_frozen`: mark dead/frozen from any state; the caller
    /// must own the object exclusively.
    ///
    /// Checked by: loom `s06_request_b` (planted bug `FreeStoresZero`).
    /// Measured by: divan `set_frozen_init`.
    fn set_frozen(&self);

    /// `page_ref_add`: take `nr` more references while already holding one.
    ///
    /// Checked by: the sequential model and misuse tests of every scheme.
    /// Measured by: divan `inc_dec`.
    fn add(&self, nr: u32);
    /// `page_ref_sub`: drop `nr` references that are not the last.
    ///
    /// Checked by: loom `s02b_void_put_then_last_put` (its Release is needed
    /// there: planted bug `VoidPutRelaxed`). Measured by: divan `inc_dec`.
    fn sub(&self, nr: u32);
    /// `page_ref_inc`.
    #[inline]
    fn inc(&self) {
        self.add(1)
    }
    /// `page_ref_dec`.
    #[inline]
    fn dec(&self) {
        self.sub(1)
    }
    /// `page_ref_inc_return`: the new count.
    ///
    /// Checked by: loom `s02c_value_returning_then_last_put`. Measured by:
    /// divan `inc_dec_return`.
    fn inc_return(&self) -> u32;
    /// `page_ref_sub_return`: the new count (must stay live).
    ///
    /// Checked by: loom `s02c_value_returning_then_last_put` (planted bug
    /// `SubReturnNoRelease`). Measured by: divan `inc_dec_return`.
    fn sub_return(&self, nr: u32) -> u32;
    /// `page_ref_dec_return`: the new count (must stay live).
    #[inline]
    fn dec_return(&self) -> u32 {
        self.sub_return(1)
    }
    /// `page_ref_sub_and_test`: drop `nr` references; `true` for exactly one
    /// caller when the count reaches zero, which then owns the frozen object.
    /// After `false`, the caller must not touch the object.
    ///
    /// Checked by: loom `s01_get_vs_last_put`, `s02_put_vs_put`,
    /// `s07_different_zeros`, `s09_seed`, `s10_publish_lookup_ordering`
    /// (planted bugs `SkipFinalCas`, `RelaxedFinal`, `StickyIgnoresHelp`,
    /// ...), shuttle, the page-cache stress test; LKMM: `litmus/frozen-*`.
    /// Measured by: `pageref bench` workloads `getput`, `pread`, `churn`;
    /// divan `try_get_put`, `last_put_init`.
    fn sub_and_test(&self, nr: u32) -> bool;
    /// `page_ref_dec_and_test` / `put_page_testzero`.
    #[inline]
    fn dec_and_test(&self) -> bool {
        self.sub_and_test(1)
    }
    /// `page_ref_add_unless_frozen`: take `nr` (`1 ..= MAX_NR`) references
    /// unless frozen. Fully usable as a speculative get on an object found
    /// without a reference; on success the caller must re-validate the
    /// object's identity (it may have been freed and reallocated).
    ///
    /// Checked by: loom `s01`, `s03`–`s05`, `s08_overflow_guard` (the
    /// overflow guard; planted bugs `IgnoreFrozenBit`, `UndoByDecrement`,
    /// `GuardClearsBit`, `SkipOverflowGuard`, `ClassicFetchAdd`, ...), shuttle,
    /// the page-cache stress test. Measured by: `pageref bench` workloads
    /// `getput`, `pread`; divan `try_get_put`, `try_get_frozen`,
    /// `add_unless_frozen_1024`.
    fn add_unless_frozen(&self, nr: u32) -> bool;
    /// `folio_try_get`: `add_unless_frozen(1)`.
    #[inline]
    fn try_get(&self) -> bool {
        self.add_unless_frozen(1)
    }
    /// `page_ref_freeze`: freeze if the count is exactly `expected`
    /// (`1 ..= MAX_COUNT`).
    ///
    /// Checked by: loom `s03_get_vs_freeze` (planted bug
    /// `FreezeStoresZero`), the page cache's reclaim and migration under
    /// loom, shuttle and stress. Measured by: `pageref bench --workloads
    /// churn`; divan `freeze_unfreeze`.
    fn freeze(&self, expected: u32) -> bool;
    /// `page_ref_unfreeze`: frozen -> `count` live references
    /// (`1 ..= MAX_COUNT`). Misuse on a live counter.
    ///
    /// Checked by: loom `s04_get_vs_unfreeze` (planted bug
    /// `UndoByDecrement`). Measured by: divan `freeze_unfreeze`.
    fn unfreeze(&self, count: u32);

    /// A counter holding an arbitrary raw value (truncated to the word), for
    /// tests and model checks that must start from a state that takes long
    /// to reach (garbage near a limit). Memory-safe, but a value outside the
    /// scheme's reachable states breaks its guarantees.
    #[doc(hidden)]
    fn from_raw(raw: u64) -> Self;
}
