//! Planted bugs the shuttle histories must catch (each is the shipped code
//! with one switch, `pageref::policy::mutants`).

use pageref::policy::mutants::*;
use pageref::{ClassicRef, FileRef, FrozenRef, LowBitRef, OptimisticRef, StickyRef};

use crate::history::history;
use crate::{must_catch, W, W64};

/// Planted bugs of the frozen bit and the classic scheme.
mod frozen_and_classic {
    use super::*;
    /// `FreeStoresZero`: the freed page's word is a plain 0, not FROZEN. Live
    /// history, 7 threads; PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn free_stores_zero() {
        must_catch(
            "FreeStoresZero",
            || {
                history::<FrozenRef<W, FreeStoresZero>>(false);
            },
            "all references dropped but the counter is not frozen/0 (raw 0x00000000, count 0)",
        );
    }
    /// `SkipFinalCas`: the last put frees without the CAS, leaving a plain 0.
    /// Live history, 7 threads; PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn skip_final_cas() {
        must_catch(
            "SkipFinalCas",
            || {
                history::<FrozenRef<W, SkipFinalCas>>(false);
            },
            "all references dropped but the counter is not frozen/0 (raw 0x00000000, count 0)",
        );
    }
    /// `IgnoreFrozenBit`: a get succeeds on the freed page, whose holder then
    /// reads it. Live history, 7 threads; PCT depth 3, at most 20 000 runs
    /// (fixed seed).
    #[test]
    fn ignore_frozen_bit() {
        must_catch(
            "IgnoreFrozenBit",
            || {
                history::<FrozenRef<W, IgnoreFrozenBit>>(false);
            },
            "a holder read a freed page",
        );
    }
    /// `GuardClearsBit`: the guard's plain 0 makes the dead word live; a page
    /// is then freed while a reference is held. Near-limit history, 7 threads;
    /// PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn guard_clears_bit() {
        must_catch(
            "GuardClearsBit",
            || {
                history::<FrozenRef<W, GuardClearsBit>>(true);
            },
            "free of incarnation 1 while 1 reference(s) are held",
        );
    }
    /// `UndoByDecrement`: a failed get of 1024 undone by a decrement after the
    /// word was reset to FROZEN leaves the dead word below it (0x7ffffc00).
    /// Live history, 7 threads; PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn undo_by_decrement() {
        must_catch(
            "UndoByDecrement",
            || {
                history::<FrozenRef<W, UndoByDecrement>>(false);
            },
            "all references dropped but the counter is not frozen/0 (raw 0x7ffffc00",
        );
    }
    /// `FreezeStoresZero`: a get succeeds on the frozen page, and the owner's
    /// unfreeze finds a live counter (the core crate's check). Live history, 7
    /// threads; PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn freeze_stores_zero() {
        must_catch(
            "FreezeStoresZero",
            || {
                history::<FrozenRef<W, FreezeStoresZero>>(false);
            },
            "unfreeze of a live counter",
        );
    }
    /// `ClassicFetchAdd`: a failed get leaves the dead page at count 1. Live
    /// history, 7 threads; PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn classic_fetch_add() {
        must_catch(
            "ClassicFetchAdd",
            || {
                history::<ClassicRef<W, ClassicFetchAdd>>(false);
            },
            "all references dropped but the counter is not frozen/0 (raw 0x00000001, count 1)",
        );
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
    /// `OptimisticSkipZeroCheck`: the retry revives a dead counter: a count()
    /// of 0 is followed by a successful get. Live history, 7 threads; PCT depth
    /// 3, at most 20 000 runs (fixed seed).
    #[test]
    fn optimistic_skip_zero_check() {
        must_catch(
            "OptimisticSkipZeroCheck",
            || {
                history::<OptimisticRef<W, OptimisticSkipZeroCheck>>(false);
            },
            "count() returned 0, then a try_get succeeded",
        );
    }
    /// `LowBitOddIncrement`: the unshifted add corrupts the word: a put would
    /// take the count below zero (the core crate's check). Live history, 7
    /// threads; PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn lowbit_odd_increment() {
        must_catch(
            "LowBitOddIncrement",
            || {
                history::<LowBitRef<W, LowBitOddIncrement>>(false);
            },
            "sub_and_test: count would drop below zero",
        );
    }
    /// `LowBitSkipFinalCas`: the last put frees without the CAS, leaving a
    /// plain 0 (dead bit clear). Live history, 7 threads; PCT depth 3, at most
    /// 20 000 runs (fixed seed).
    #[test]
    fn lowbit_skip_final_cas() {
        must_catch(
            "LowBitSkipFinalCas",
            || {
                history::<LowBitRef<W, SkipFinalCas>>(false);
            },
            "all references dropped but the counter is not frozen/0 (raw 0x00000000, count 0)",
        );
    }
    /// `StickyIgnoresHelp`: a decrementer that lost to a helper ignores the
    /// flag: nobody frees (a leak). Live history, 7 threads; PCT depth 3, at
    /// most 20 000 runs (fixed seed).
    #[test]
    fn sticky_ignores_help() {
        must_catch(
            "StickyIgnoresHelp",
            || {
                history::<StickyRef<W, StickyIgnoresHelp>>(false);
            },
            "frees per incarnation: [0] (0 = leak)",
        );
    }
    /// `FileRefResetsGarbage`: a stale getter's DEAD store kills a live page:
    /// its owner's put finds a dead word (the core crate's check). Live
    /// history, 7 threads; PCT depth 3, at most 20 000 runs (fixed seed).
    #[test]
    fn fileref_resets_garbage() {
        must_catch(
            "FileRefResetsGarbage",
            || {
                history::<FileRef<W64, FileRefResetsGarbage>>(false);
            },
            "sub_and_test: put on a frozen counter",
        );
    }
}
