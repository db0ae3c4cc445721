//! The upstream scheme: zero means dead (Linux `include/linux/page_ref.h`
//! before the series), the baseline every other scheme is compared with.

use core::sync::atomic::AtomicU32;

use crate::policy::AcquireFinal;
use crate::zero_dead::ZeroDeadRef;

/// The classic page refcount: `0` = dead/frozen, `1 ..= i32::MAX` = live.
///
/// | state        | raw value        | meaning |
/// |--------------|------------------|---------|
/// | dead/frozen  | `0`              | free, or frozen by an exclusive owner |
/// | live         | `1 ..= i32::MAX` | owned by that many holders |
///
/// * `try_get` ("add unless zero") reads the count and compare-and-swaps it
///   from `c` to `c + nr` unless `c == 0`, retrying with the value a losing
///   CAS returns — the loop that serialises many CPUs on one hot page.
/// * a put is one `fetch_sub`; the caller that reaches 0 frees.
/// * freeze is a CAS `expected -> 0`; unfreeze a release store.
///
/// Capacity `i32::MAX`; no extra operation on the last put; a `count()` of 0
/// is final (nothing but `init`/`unfreeze` revives it).
///
/// Checked by every loom scenario of `docs/races.md`, shuttle and the stress
/// test (`docs/verification.md`); planted bug `Mutation::ClassicFetchAdd`.
/// Measured by `pageref bench` and the divan benches (`cargo bench -p pageref-bench --bench ops`).
///
/// `P` only selects planted bugs in the verification crate; the final-CAS
/// ordering it carries does not apply (there is no final CAS). The type is
/// [`ZeroDeadRef`] with the classic first guess (a load).
pub type ClassicRef<A = AtomicU32, P = AcquireFinal> = ZeroDeadRef<A, P, false>;
