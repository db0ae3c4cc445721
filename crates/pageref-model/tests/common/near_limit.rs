//! Dead words with garbage next to the overflow limit, per scheme (raw
//! constructors, feature `mutants` of the core crate). Shared by the loom
//! and shuttle test binaries.

use pageref::state::{FROZEN_BIT, GUARD_LIMIT};
use pageref::{AtomicWord, FrozenRef, LowBitRef, PageRef, Policy, StickyRef, MAX_NR};

/// A scheme whose dead word can be built with garbage just below its
/// overflow limit.
pub trait NearLimit: PageRef + 'static {
    /// A dead word with garbage `below` under the overflow guard's limit
    /// (or, for the low-bit scheme, under the wrap-around).
    fn near_limit(below: u32) -> Self;
    /// Whether `raw` is dead (for the trace property "no RMW revives a dead
    /// word"; only init and unfreeze, which are stores, may).
    fn raw_dead(raw: u64) -> bool;
    /// Whether the garbage of a dead `raw` is within what the guard promises
    /// with at most `getters` failed gets in flight.
    fn garbage_bounded(raw: u64, getters: u32) -> bool;
    /// Whether a write of the trace is the overflow guard firing (or, for
    /// the low-bit scheme, garbage wrapping around `u32::MAX`): coverage.
    fn limit_event(op: &str, before: u64, after: u64) -> bool;
}

impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for FrozenRef<A, P> {
    fn near_limit(below: u32) -> Self {
        // A frozen value with garbage, as failed gets leave it.
        Self::from_raw((GUARD_LIMIT - below).into())
    }
    fn raw_dead(raw: u64) -> bool {
        raw & u64::from(FROZEN_BIT) != 0
    }
    fn garbage_bounded(raw: u64, getters: u32) -> bool {
        raw < u64::from(GUARD_LIMIT + getters * MAX_NR)
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        op.starts_with("cas") && before >= u64::from(GUARD_LIMIT) && after == u64::from(FROZEN_BIT)
    }
}

impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for StickyRef<A, P> {
    fn near_limit(below: u32) -> Self {
        // A dead value with garbage, as failed gets leave it.
        Self::from_raw((Self::ZERO_FLAG | (Self::GUARD_LIMIT - below)).into())
    }
    fn raw_dead(raw: u64) -> bool {
        raw as u32 & Self::ZERO_FLAG != 0
    }
    fn garbage_bounded(raw: u64, getters: u32) -> bool {
        let raw = raw as u32;
        raw & Self::HELP_FLAG == 0 && raw & !Self::ZERO_FLAG < Self::GUARD_LIMIT + getters * MAX_NR
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        let (before, after) = (before as u32, after as u32);
        op.starts_with("cas")
            && Self::raw_dead(before.into())
            && before & !Self::ZERO_FLAG >= Self::GUARD_LIMIT
            && after == before & (Self::ZERO_FLAG | Self::HELP_FLAG)
    }
}

impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for LowBitRef<A, P> {
    fn near_limit(below: u32) -> Self {
        // An odd (dead) value, as failed gets leave it; gets of 1024 add
        // 2048 each and wrap it around u32::MAX.
        Self::from_raw(((u32::MAX - 2 * below) | Self::DEAD_BIT).into())
    }
    fn raw_dead(raw: u64) -> bool {
        raw as u32 & Self::DEAD_BIT != 0
    }
    fn garbage_bounded(_: u64, _: u32) -> bool {
        // No guard: garbage may wrap around any number of times.
        true
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        op.starts_with("fetch_add") && Self::raw_dead(before) && after < before
    }
}
