//! Pure decoding of the frozen-bit encoding (no atomics).
//!
//! | state          | raw value              | meaning                                              |
//! |----------------|------------------------|------------------------------------------------------|
//! | live           | `1 ..= i32::MAX`       | owned by that many holders                           |
//! | transient zero | `0`                    | only inside a final put, between its decrement and its CAS |
//! | frozen         | `FROZEN_BIT ..= u32::MAX` | dead or frozen; the low bits are garbage left by failed try_gets |
//!
//! Source: the series "mm: implement page refcount locking via dedicated bit"
//! (RFC <https://lkml.iu.edu/hypermail/linux/kernel/2512.2/08447.html>, v1
//! <https://lkml.iu.edu/hypermail/linux/kernel/2602.3/05653.html>, ... v5).
//! These constants belong to [`FrozenRef`](crate::FrozenRef) only; the other
//! schemes have their own encodings and capacities.

/// The dedicated dead/frozen flag: the top bit of the 32-bit word.
pub const FROZEN_BIT: u32 = 1 << 31;

/// The overflow guard's threshold: a failed try_get that observes a value
/// `>= GUARD_LIMIT` resets the word to plain [`FROZEN_BIT`]. Garbage is thus
/// kept below `1 << 30`, which leaves `2^30` of headroom before the word
/// could wrap around into "live": room for `2^30 / MAX_NR = 4096` failing
/// gets of the largest `nr` ([`MAX_NR`](crate::MAX_NR) `= 2^18`) in flight
/// at once between their add and a landing guard CAS.
pub const GUARD_LIMIT: u32 = FROZEN_BIT | (1 << 30);

/// The largest legal live count of [`FrozenRef`](crate::FrozenRef)
/// (`i32::MAX`, as for the kernel's `atomic_t`).
pub const MAX_COUNT: u32 = i32::MAX as u32;

/// The decoded state of a frozen-bit raw value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Owned by this many holders (`1 ..= i32::MAX`).
    Live(u32),
    /// Raw `0`: only between a final put's decrement and its `0 -> FROZEN` CAS.
    TransientZero,
    /// The frozen bit is set; `garbage` is what failed try_gets left below it.
    Frozen {
        /// The low 31 bits.
        garbage: u32,
    },
}

/// Decodes a raw frozen-bit value.
#[inline]
pub const fn decode(raw: u32) -> State {
    if raw & FROZEN_BIT != 0 {
        State::Frozen {
            garbage: raw & !FROZEN_BIT,
        }
    } else if raw == 0 {
        State::TransientZero
    } else {
        State::Live(raw)
    }
}

/// Whether the frozen bit is set.
#[inline]
pub const fn is_frozen(raw: u32) -> bool {
    raw & FROZEN_BIT != 0
}

/// The count a reader may see: 0 whenever the bit is set (never garbage, never
/// negative), otherwise the raw value.
#[inline]
pub const fn visible_count(raw: u32) -> u32 {
    if is_frozen(raw) {
        0
    } else {
        raw
    }
}

/// Whether a failed try_get that produced `raw` must run the overflow guard.
#[inline]
pub const fn guard_fires(raw: u32) -> bool {
    raw >= GUARD_LIMIT
}

/// Whether adding `nr` to `old` succeeded as a try_get: the new value does
/// not have the bit set. (A wrap-around from a frozen value would look like a
/// success; the guard keeps garbage far enough below `u32::MAX` that it
/// cannot happen, and the checks report it if it does.)
#[inline]
pub const fn add_succeeds(old: u32, nr: u32) -> bool {
    old.wrapping_add(nr) & FROZEN_BIT == 0
}
