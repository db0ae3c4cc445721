//! Planted bugs the shuttle histories must catch (each is the shipped code
//! with one switch, `pageref::policy::mutants`).

use pageref::policy::mutants::*;
use pageref::{ClassicRef, FileRef, FrozenRef, LowBitRef, OptimisticRef, StickyRef};

use crate::history::history;
use crate::{must_catch, W, W64};

/// Planted bugs of the frozen bit and the classic scheme.
mod frozen_and_classic {
    use super::*;
    #[test]
    fn free_stores_zero() {
        must_catch("FreeStoresZero", || {
            history::<FrozenRef<W, FreeStoresZero>>(false);
        });
    }
    #[test]
    fn skip_final_cas() {
        must_catch("SkipFinalCas", || {
            history::<FrozenRef<W, SkipFinalCas>>(false);
        });
    }
    #[test]
    fn ignore_frozen_bit() {
        must_catch("IgnoreFrozenBit", || {
            history::<FrozenRef<W, IgnoreFrozenBit>>(false);
        });
    }
    #[test]
    fn guard_clears_bit() {
        must_catch("GuardClearsBit", || {
            history::<FrozenRef<W, GuardClearsBit>>(true);
        });
    }
    #[test]
    fn undo_by_decrement() {
        must_catch("UndoByDecrement", || {
            history::<FrozenRef<W, UndoByDecrement>>(false);
        });
    }
    #[test]
    fn freeze_stores_zero() {
        must_catch("FreezeStoresZero", || {
            history::<FrozenRef<W, FreezeStoresZero>>(false);
        });
    }
    #[test]
    fn classic_fetch_add() {
        must_catch("ClassicFetchAdd", || {
            history::<ClassicRef<W, ClassicFetchAdd>>(false);
        });
    }
}

/// Planted bugs of the other schemes under the same histories.
///
/// Not here: `SkipOverflowGuard`, which no history can show (the first
/// `init` wipes the garbage that the early pins drove past the limit, and
/// after that the garbage starts from a plain dead value, `2^30` below the
/// limit; loom's scenario 8 catches it); `RcuRefNoFence`, a data race
/// (loom's scenario 2); and two that PCT at depth 3 did not find in 20 000
/// runs (loom catches both): `StickyClaimBySwap` needs a claimant stalled
/// across a free and a re-allocation while a reader helps (loom scenario
/// 7); `StickyUncheckedHelp` needs a getter to revive the transient zero
/// between a `count()`'s load and its helping CAS (loom scenario 13).
mod other_schemes {
    use super::*;
    #[test]
    fn optimistic_skip_zero_check() {
        must_catch("OptimisticSkipZeroCheck", || {
            history::<OptimisticRef<W, OptimisticSkipZeroCheck>>(false);
        });
    }
    #[test]
    fn lowbit_odd_increment() {
        must_catch("LowBitOddIncrement", || {
            history::<LowBitRef<W, LowBitOddIncrement>>(false);
        });
    }
    #[test]
    fn lowbit_skip_final_cas() {
        must_catch("LowBitSkipFinalCas", || {
            history::<LowBitRef<W, SkipFinalCas>>(false);
        });
    }
    #[test]
    fn sticky_ignores_help() {
        must_catch("StickyIgnoresHelp", || {
            history::<StickyRef<W, StickyIgnoresHelp>>(false);
        });
    }
    #[test]
    fn fileref_resets_garbage() {
        must_catch("FileRefResetsGarbage", || {
            history::<FileRef<W64, FileRefResetsGarbage>>(false);
        });
    }
}
