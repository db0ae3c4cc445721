//! Misuse checks, mirroring the series' warn-once debug checks.
//!
//! They are on in debug builds and, with the `strict` feature, in release
//! builds. A tripped check panics with a message naming the operation and
//! the raw value, e.g. `pageref: add on a frozen counter (FrozenRef, raw =
//! 0x80000000)`. Legal use never trips them. Without them, each operation
//! documents what a misuse does to the word.

/// Whether the misuse checks are compiled in.
pub const ENABLED: bool = cfg!(any(debug_assertions, feature = "strict"));

/// Reports a misuse. Cold and out of line so that the checks cost one
/// predictable branch on the hot path.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn misuse(scheme: &str, op: &str, what: &str, raw: u32) -> ! {
    panic!("pageref: {op}: {what} ({scheme}, raw = {raw:#010x})")
}

/// Reports a bad argument (as opposed to a bad state of the word).
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn bad_arg(scheme: &str, op: &str, what: &str, arg: &str, value: u32) -> ! {
    panic!("pageref: {op}: {what} ({scheme}, {arg} = {value})")
}

/// Checks the `nr` of a speculative get (`1 ..= MAX_NR`): the overflow
/// guard's headroom is sized for it.
#[inline]
#[track_caller]
pub(crate) fn get_nr(scheme: &str, op: &str, nr: u32) {
    if ENABLED && (nr == 0 || nr > crate::state::MAX_NR) {
        bad_arg(scheme, op, "nr must be in 1..=MAX_NR", "nr", nr)
    }
}

/// Checks the `nr` of an operation on a live counter (`1 ..= MAX_COUNT`).
#[inline]
#[track_caller]
pub(crate) fn nr(scheme: &str, op: &str, nr: u32) {
    nr_up_to(
        scheme,
        op,
        nr,
        crate::state::MAX_COUNT,
        "nr must be in 1..=i32::MAX",
    )
}

/// Checks the `nr` of an operation on a live counter of a scheme whose
/// capacity is `max`; `what` states the range in the message.
#[inline]
#[track_caller]
pub(crate) fn nr_up_to(scheme: &str, op: &str, nr: u32, max: u32, what: &str) {
    if ENABLED && (nr == 0 || nr > max) {
        bad_arg(scheme, op, what, "nr", nr)
    }
}

/// Checks a count given to `unfreeze` or `freeze` (`1 ..= MAX_COUNT`).
#[inline]
#[track_caller]
pub(crate) fn count_arg(scheme: &str, op: &str, count: u32) {
    count_arg_up_to(
        scheme,
        op,
        count,
        crate::state::MAX_COUNT,
        "count must be in 1..=i32::MAX (0 would be a plain zero; use the frozen state)",
    )
}

/// Checks a count given to `unfreeze` or `freeze` of a scheme whose
/// capacity is `max`; `what` states the range in the message.
#[inline]
#[track_caller]
pub(crate) fn count_arg_up_to(scheme: &str, op: &str, count: u32, max: u32, what: &str) {
    if ENABLED && (count == 0 || count > max) {
        bad_arg(scheme, op, what, "count", count)
    }
}
