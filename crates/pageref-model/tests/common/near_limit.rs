//! Dead words next to each scheme's overflow limit (raw constructors,
//! feature `mutants` of the core crate): the start of scenario 8
//! (`docs/races.md`). Shared by the loom and shuttle test binaries. One impl
//! per scheme *type*; which schemes exist is the registry's business
//! (`pageref::for_each_scheme!`).

use pageref::atomic::Word;
use pageref::state::{FROZEN_BIT, GUARD_LIMIT};
use pageref::{
    AtomicWord, ClassicRef, FileRef, FrozenRef, LowBitRef, OptimisticRef, PageRef, Policy, RcuRef,
    StickyRef, MAX_NR,
};

/// A scheme whose dead word can be built next to its overflow limit, with
/// what its overflow protection promises about that word.
pub trait NearLimit: PageRef + 'static {
    /// loom's preemption bound for scenario 8 on this scheme (see
    /// `tests/loom/overflow.rs`).
    const S08_PREEMPTION_BOUND: Option<usize> = Some(5);
    /// Whether a run from [`near_limit`](Self::near_limit) with failed gets
    /// must reach a *limit event* (the guard firing, a reset, a harmless
    /// wrap): coverage that the model really went over the limit.
    const LIMIT_EVENTS: bool;
    /// A dead word `below` references short of the scheme's overflow limit
    /// (each impl says which limit and why that start is reachable).
    fn near_limit(below: u32) -> Self;
    /// Whether `raw` is dead (for the trace property "no RMW revives a dead
    /// word"; only init and unfreeze, which are stores, may).
    fn raw_dead(raw: u64) -> bool;
    /// Whether a dead `raw`, read at quiescence (every get returned), is
    /// where the scheme's overflow protection promises to leave it: below
    /// the guard's limit for a guarded word.
    fn settled(raw: u64) -> bool;
    /// Whether a write of the trace is a limit event (see
    /// [`LIMIT_EVENTS`](Self::LIMIT_EVENTS)).
    fn limit_event(op: &str, before: u64, after: u64) -> bool;
}

/// Frozen bit: the guard resets garbage at `GUARD_LIMIT`. Garbage just below
/// the limit is reachable with one thread (failed gets below the limit never
/// reset), and at quiescence the word is back below it (see scenario 8).
impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for FrozenRef<A, P> {
    const LIMIT_EVENTS: bool = true;
    fn near_limit(below: u32) -> Self {
        Self::from_raw((GUARD_LIMIT - below).into())
    }
    fn raw_dead(raw: u64) -> bool {
        raw & u64::from(FROZEN_BIT) != 0
    }
    fn settled(raw: u64) -> bool {
        Self::raw_dead(raw) && raw < u64::from(GUARD_LIMIT)
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        op.starts_with("cas") && before >= u64::from(GUARD_LIMIT) && after == u64::from(FROZEN_BIT)
    }
}

/// Sticky counter: the guard resets garbage at `GUARD_LIMIT` (below the
/// flags), keeping both flags; the same argument as the frozen bit.
impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for StickyRef<A, P> {
    const LIMIT_EVENTS: bool = true;
    fn near_limit(below: u32) -> Self {
        Self::from_raw((Self::ZERO_FLAG | (Self::GUARD_LIMIT - below)).into())
    }
    fn raw_dead(raw: u64) -> bool {
        raw as u32 & Self::ZERO_FLAG != 0
    }
    fn settled(raw: u64) -> bool {
        let raw = raw as u32;
        Self::raw_dead(raw.into())
            && raw & Self::HELP_FLAG == 0
            && raw & !Self::ZERO_FLAG < Self::GUARD_LIMIT
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        let (before, after) = (before as u32, after as u32);
        op.starts_with("cas")
            && Self::raw_dead(before.into())
            && before & !Self::ZERO_FLAG >= Self::GUARD_LIMIT
            && after == before & (Self::ZERO_FLAG | Self::HELP_FLAG)
    }
}

/// Low bit: no guard; garbage wraps around `u32::MAX` harmlessly (an even
/// addend never touches bit 0). The start is `below` references short of
/// the wrap; any odd value is settled.
impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for LowBitRef<A, P> {
    const LIMIT_EVENTS: bool = true;
    fn near_limit(below: u32) -> Self {
        Self::from_raw(((u32::MAX - 2 * below) | Self::DEAD_BIT).into())
    }
    fn raw_dead(raw: u64) -> bool {
        raw as u32 & Self::DEAD_BIT != 0
    }
    fn settled(raw: u64) -> bool {
        Self::raw_dead(raw)
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        op.starts_with("fetch_add") && Self::raw_dead(before) && after < before
    }
}

/// Zero means dead: a failed get writes nothing, so a dead word is always 0
/// and there is no limit; the start is plain 0.
macro_rules! zero_dead_near_limit {
    ($ty:ident) => {
        impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for $ty<A, P> {
            const LIMIT_EVENTS: bool = false;
            fn near_limit(_below: u32) -> Self {
                Self::new_frozen()
            }
            fn raw_dead(raw: u64) -> bool {
                raw == 0
            }
            fn settled(raw: u64) -> bool {
                raw == 0
            }
            fn limit_event(_: &str, _: u64, _: u64) -> bool {
                false
            }
        }
    };
}
zero_dead_near_limit!(ClassicRef);
zero_dead_near_limit!(OptimisticRef);

/// The zones of `rcuref_t` / `file_ref_t` on a word of `bits` bits,
/// zero-extended: (`RELEASED`, `DEAD`, `NOREF`).
fn zones<V: Word>() -> (u64, u64, u64) {
    (
        V::top_bits(0b11, 2).to_u64(),
        V::top_bits(0b111, 3).to_u64(),
        V::MAX.to_u64(),
    )
}

fn zones_dead<V: Word>(raw: u64) -> bool {
    let (released, _, noref) = zones::<V>();
    raw >= released && raw != noref
}

/// rcuref: every failed get stores `DEAD` back, so at rest a dead word is
/// exactly `DEAD`; garbage above it comes only from gets in flight between
/// their add and their store. The start is such a word: `NOREF - MAX_NR -
/// below`, garbage that 2047 failing `MAX_NR`-sized gets in flight leave
/// (the headroom the type documents is 2048), one more `MAX_NR` plus
/// `below` short of wrapping into live. The model's getters add on top;
/// at quiescence the word must be `DEAD` (each getter's store lands after
/// its own add).
///
/// Its failed get is three operations (add, load, store) and a `count()`
/// adds a fourth, whose loads may each read older values: at preemption
/// bound 5 loom explores 1.2 million executions (80 s); bound 4 is used
/// (about 260 000 executions, 25 s on the 2-core development VM).
impl<A: AtomicWord<Value = u32> + 'static, P: Policy> NearLimit for RcuRef<A, P> {
    const S08_PREEMPTION_BOUND: Option<usize> = Some(4);
    const LIMIT_EVENTS: bool = true;
    fn near_limit(below: u32) -> Self {
        Self::from_raw((u32::MAX - MAX_NR - below).into())
    }
    fn raw_dead(raw: u64) -> bool {
        zones_dead::<u32>(raw)
    }
    fn settled(raw: u64) -> bool {
        raw == zones::<u32>().1
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        // The reset: a store of DEAD over garbage.
        op.starts_with("store")
            && Self::raw_dead(before)
            && before != after
            && after == zones::<u32>().1
    }
}

/// file_ref: no reset, so garbage only grows; the limit is the wrap into
/// live at `NOREF`. The start is `DEAD + 2^29 - 1 - below`, what
/// `2^29 - 1 - below` failed gets of 1 leave at rest on either width: on
/// 32 bits that is `NOREF - below`, `below` references short of wrapping
/// into live (fileref32 fails here); on 64 bits the same history is
/// `2^61 - 2^29` away from the wrap (fileref passes: the point of its
/// width). Nothing resets, so any dead value is settled.
impl<A: AtomicWord + 'static, P: Policy> NearLimit for FileRef<A, P> {
    const LIMIT_EVENTS: bool = false;
    fn near_limit(below: u32) -> Self {
        let (_, dead, _) = zones::<A::Value>();
        Self::from_raw(dead + (1 << 29) - 1 - u64::from(below))
    }
    fn raw_dead(raw: u64) -> bool {
        zones_dead::<A::Value>(raw)
    }
    fn settled(raw: u64) -> bool {
        Self::raw_dead(raw)
    }
    fn limit_event(op: &str, before: u64, after: u64) -> bool {
        // A wrap past the top of the word (which leaves it live: a failure).
        op.starts_with("fetch_add") && Self::raw_dead(before) && after < before
    }
}
