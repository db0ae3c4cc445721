//! The optimistic compare-and-swap: the classic encoding, with a speculative
//! get that does not read the word first.
//!
//! Source: Linus Torvalds' suggestion in the review of the frozen-bit series,
//! <https://lkml.iu.edu/2603.0/00393.html>: instead of
//! `atomic_read()` followed by a `cmpxchg` loop, start with a `cmpxchg` that
//! assumes the count is 1 and loop on the value it returns. A load followed
//! by a CAS costs two coherence transactions on a contended line (the load
//! brings it in shared, the CAS must then upgrade it); a CAS alone costs one,
//! and when the guess is right (a page-cache page that only the cache holds)
//! it is the only operation.

use core::sync::atomic::AtomicU32;

use crate::policy::AcquireFinal;
use crate::zero_dead::ZeroDeadRef;

/// The classic page refcount with Linus Torvalds' optimistic get: the first
/// compare-and-swap guesses that the count is 1.
///
/// # Encoding
///
/// The classic one ([`ClassicRef`](crate::ClassicRef)):
///
/// | state        | raw value        | meaning |
/// |--------------|------------------|---------|
/// | dead/frozen  | `0`              | free, or frozen by an exclusive owner |
/// | live         | `1 ..= i32::MAX` | owned by that many holders |
///
/// # Operations
///
/// * `try_get(nr)`: `CAS(1 -> 1 + nr)` without a prior load; on failure the
///   CAS returned the actual value `c`: fail if `c == 0`, else retry with
///   `CAS(c -> c + nr)`. Source: <https://lkml.iu.edu/2603.0/00393.html>.
/// * everything else exactly as [`ClassicRef`](crate::ClassicRef): a put is
///   one `fetch_sub`, the caller that reaches 0 frees; freeze is a CAS
///   `expected -> 0`; unfreeze and init are release stores.
///
/// # Capacity
///
/// `MAX_COUNT = i32::MAX` (`2^31 - 1`), as the kernel's `atomic_t`.
///
/// # Cost of the last put
///
/// No extra atomic operation: the `fetch_sub` that reaches 0 is the free.
///
/// # Differences from the kernel API
///
/// None observable: same encoding and results as upstream's
/// `page_ref_add_unless` (a read of 0 is final; nothing revives it but
/// `init`/`unfreeze`). Only the cost differs: when the guess is right the get
/// is a single CAS; when it is wrong, the failed CAS takes the place of
/// upstream's load (it returns the current value just the same, and leaves
/// the line held exclusively for the retry). Under contention both still
/// retry every time another CPU changes the count in between.
///
/// Checked by every loom scenario of `docs/races.md`, shuttle and the stress
/// test (`docs/verification.md`); planted bug
/// `Mutation::OptimisticSkipZeroCheck`. Measured by `pageref bench` and the
/// divan benches (`cargo bench -p pageref-bench --bench ops`).
///
/// `P` only selects planted bugs in the verification crate; the final-CAS
/// ordering it carries does not apply (there is no final CAS). The type is
/// [`ZeroDeadRef`] with the optimistic first guess (1).
pub type OptimisticRef<A = AtomicU32, P = AcquireFinal> = ZeroDeadRef<A, P, true>;
