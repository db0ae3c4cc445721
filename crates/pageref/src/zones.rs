//! The zones of the kernel's `rcuref_t` (`include/linux/rcuref.h`,
//! `lib/rcuref.c`, Thomas Gleixner, 2023) and `file_ref_t`
//! (`include/linux/file_ref.h`, `fs/file.c`, Christian Brauner, 2024): a
//! *biased* count, raw = references - 1, in a word split by its top bits.
//!
//! | zone | raw value (32 bits; 64 bits alike, top bits the same) | meaning |
//! |---|---|---|
//! | live | `0 ..= 0x7fff_ffff` (`MAXREF`) | raw + 1 references |
//! | saturated | `0x8000_0000 ..= 0xbfff_ffff` | too many references: the kernel pins the object for ever (`SATURATED = 0xa000_0000`) |
//! | dead | `0xc000_0000` (`RELEASED`) `..= 0xffff_fffe` | dead; marked `DEAD = 0xe000_0000`, garbage of failed gets on top |
//! | transient zero | `0xffff_ffff` (`NOREF`) | only inside a final put, between its decrement and its `NOREF -> DEAD` CAS |
//!
//! A get is one `fetch_add`, successful iff the result is non-negative (the
//! sign bit clear): on a live word, and on `NOREF`, which it revives. A get
//! on a dead word leaves garbage: `2^29` failed gets fit between `DEAD` and
//! `NOREF` on 32 bits, `2^61` on 64. The two kernel types differ in what a
//! failed get does about it; see [`RcuRef`](crate::RcuRef) and
//! [`FileRef`](crate::FileRef).
//!
//! (Kernels since 2025 moved `rcuref_t` to an unbiased encoding with
//! `NOREF = 0`; the zones and the protocol are the same. We model the 2023
//! encoding that both types shared when `file_ref_t` was written.)

use core::marker::PhantomData;

use crate::atomic::Word;
use crate::ops::Encoding;

/// The encoding of both kernel types on a `V` word; `RCU` only picks the
/// type name and the capacity (rcuref_t is 32-bit only).
pub(crate) struct Zoned<V, const RCU: bool>(PhantomData<V>);

impl<V: Word, const RCU: bool> Encoding for Zoned<V, RCU> {
    type Raw = V;
    const TYPE: &'static str = if RCU { "RcuRef" } else { "FileRef" };
    /// `MAXREF + 1` references: `2^31` on 32 bits; on 64 bits the page
    /// API's `u32` counts are the limit.
    const MAX_COUNT: u32 = if V::BITS >= 64 { u32::MAX } else { 1 << 31 };
    const SHIFT: u32 = 0;
    #[inline]
    fn bias() -> V {
        noref()
    }
    #[inline]
    fn dead() -> V {
        dead()
    }
    #[inline]
    fn is_dead(raw: V) -> bool {
        is_dead(raw)
    }
    fn state(raw: V) -> (&'static str, Option<u64>) {
        state(raw)
    }
}

/// The largest live raw value: `MAXREF`, all bits but the top one.
#[inline]
pub(crate) fn maxref<V: Word>() -> V {
    !V::top_bits(1, 1)
}

/// The middle of the saturation zone: `SATURATED`.
#[inline]
pub(crate) fn saturated<V: Word>() -> V {
    V::top_bits(0b101, 3)
}

/// The start of the dead zone: `RELEASED`.
#[inline]
pub(crate) fn released<V: Word>() -> V {
    V::top_bits(0b11, 2)
}

/// The middle of the dead zone, where freeing puts the word: `DEAD`.
#[inline]
pub(crate) fn dead<V: Word>() -> V {
    V::top_bits(0b111, 3)
}

/// The transient zero: `NOREF`, all bits set.
#[inline]
pub(crate) fn noref<V: Word>() -> V {
    V::MAX
}

/// Whether `raw` has the sign bit set (the kernel's `add_negative`).
#[inline]
pub(crate) fn negative<V: Word>(raw: V) -> bool {
    raw > maxref::<V>()
}

/// Dead: in the dead zone, and not the transient zero.
#[inline]
pub(crate) fn is_dead<V: Word>(raw: V) -> bool {
    raw >= released::<V>() && raw != noref::<V>()
}

/// The `Debug` state of `raw`, with the garbage above `DEAD`.
pub(crate) fn state<V: Word>(raw: V) -> (&'static str, Option<u64>) {
    if raw <= maxref::<V>() {
        ("live", None)
    } else if raw < released::<V>() {
        ("saturated", None)
    } else if raw == noref::<V>() {
        ("transient zero", None)
    } else if raw >= dead::<V>() {
        ("frozen", Some(raw.wrapping_sub(dead::<V>()).to_u64()))
    } else {
        ("frozen", None)
    }
}
