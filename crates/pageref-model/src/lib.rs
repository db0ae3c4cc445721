//! # pageref-model — machine-checked verification of `pageref`
//!
//! The harness for the checks in `tests/`:
//!
//! * [`trace`]: a tracing [`AtomicWord`](pageref::AtomicWord) wrapper around
//!   loom's / shuttle's atomics (32- and 64-bit), so that the checkers run
//!   the **shipped** code of every scheme of the registry
//!   (`pageref::for_each_scheme!`), and the CPU0/CPU1 table that a failing
//!   model prints;
//! * [`page`]: a modelled page (the refcount, its contents, and a shadow of
//!   the intended state checked at every step);
//! * [`loom_harness`]: exhaustive C11 interleavings (loom) with a
//!   preemption bound;
//! * [`shuttle_harness`]: randomized PCT schedules (shuttle) with more
//!   threads and longer histories;
//! * [`abstract_model`]: an *abstract* explicit-state model of the
//!   frozen-bit and classic protocols on a narrow counter (stateright) — a
//!   model of the protocol, not the shipped code, used to reach the overflow
//!   guard and wrap-around exhaustively.
//!
//! The checks themselves are in `tests/`: `tests/loom` runs every scenario
//! of the race catalogue (`docs/races.md`) on every scheme, `tests/shuttle`
//! the page-cache histories, `tests/explicit_state.rs` the abstract model;
//! each scheme's expected verdict (the scenarios it is known to fail) comes
//! from the registry. The results are tabulated in `docs/verification.md`.
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![deny(unsafe_code)]

pub mod abstract_model;
#[allow(unsafe_code)] // loom cells: every access goes through loom, which checks it
pub mod loom_harness;
pub mod page;
pub mod shuttle_harness;
pub mod trace;
