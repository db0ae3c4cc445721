//! The "zero means dead" encoding shared by [`ClassicRef`](crate::ClassicRef)
//! and [`OptimisticRef`](crate::OptimisticRef): `0` = dead/frozen,
//! `1 ..= i32::MAX` = live. They differ only in how `try_get` reaches its
//! compare-and-swap; everything else is [`crate::ops`].

use crate::ops::{self, Encoding};

/// The zero-means-dead encoding; `OPTIMISTIC` only picks the type name of
/// the misuse messages.
pub(crate) struct ZeroDead<const OPTIMISTIC: bool>;

impl<const OPTIMISTIC: bool> Encoding for ZeroDead<OPTIMISTIC> {
    type Raw = u32;
    const TYPE: &'static str = if OPTIMISTIC {
        "OptimisticRef"
    } else {
        "ClassicRef"
    };
    /// `i32::MAX`, as the kernel's `atomic_t`.
    const MAX_COUNT: u32 = i32::MAX as u32;
    const SHIFT: u32 = 0;
    #[inline]
    fn bias() -> u32 {
        0
    }
    #[inline]
    fn dead() -> u32 {
        0
    }
    #[inline]
    fn is_dead(raw: u32) -> bool {
        raw == 0
    }
    fn state(raw: u32) -> (&'static str, Option<u64>) {
        (if raw == 0 { "frozen" } else { "live" }, None)
    }
}

/// Checks the value a get is about to CAS from (the overflow check).
#[inline]
#[track_caller]
pub(crate) fn check_get<const OPTIMISTIC: bool>(c: u32, nr: u32) {
    ops::check_room::<ZeroDead<OPTIMISTIC>>("add_unless_frozen", c, nr)
}
