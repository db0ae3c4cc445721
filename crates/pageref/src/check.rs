//! Misuse checks, mirroring the series' warn-once debug checks.
//!
//! They are on in debug builds and, with the `strict` feature, in release
//! builds. A tripped check panics with one message shape for every scheme,
//! naming the operation, what is wrong, the scheme and the raw value, e.g.
//! `pageref: add: increment of a frozen counter (FrozenRef, raw = 0x80000000)`;
//! a bad argument names the argument instead, e.g. `pageref: add: nr must be
//! in 1..=2147483647 (FrozenRef, nr = 0)`. Legal use never trips them.
//! Without them, each operation documents what a misuse does to the word.

use core::fmt::Display;

use crate::atomic::Word;

/// Whether the misuse checks are compiled in.
pub const ENABLED: bool = cfg!(any(debug_assertions, feature = "strict"));

/// Reports a misuse: `raw` is the value of the word the operation found.
/// Cold and out of line, so that the checks cost one predictable branch on
/// the hot path.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn misuse<V: Word>(scheme: &str, op: &str, what: impl Display, raw: V) -> ! {
    // "0x" and two hex digits per byte: 0x80000000, 0x8000000000000000.
    let width = 2 + V::BITS as usize / 4;
    panic!("pageref: {op}: {what} ({scheme}, raw = {raw:#0width$x})")
}

/// Checks an argument that must be in `1 ..= max` (a count, or the `nr` of
/// an operation), always, whatever [`ENABLED`] says: for constructors, which
/// are not hot, and which would otherwise create a state no operation may
/// leave (a plain zero).
#[inline]
#[track_caller]
pub(crate) fn arg_always(scheme: &str, op: &str, arg: &str, value: u32, max: u32) {
    if value == 0 || value > max {
        bad_arg(scheme, op, arg, value, max)
    }
}

/// Checks an argument that must be in `1 ..= max`, when the checks are on.
#[inline]
#[track_caller]
pub(crate) fn arg(scheme: &str, op: &str, arg: &str, value: u32, max: u32) {
    if ENABLED {
        arg_always(scheme, op, arg, value, max)
    }
}

/// An argument check names the operation and the argument's value instead of
/// a raw word: it runs before the word is read, and the bad value is the
/// caller's, not the word's.
#[cold]
#[inline(never)]
#[track_caller]
fn bad_arg(scheme: &str, op: &str, arg: &str, value: u32, max: u32) -> ! {
    panic!("pageref: {op}: {arg} must be in 1..={max} ({scheme}, {arg} = {value})")
}
