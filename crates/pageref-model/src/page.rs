//! A modelled page: the shipped refcount `R`, the page's contents, and a
//! shadow of the protocol's intended state that every step is checked
//! against.
//!
//! * The **contents** live in a [`DataCell`]: under loom, a
//!   `loom::cell::UnsafeCell`, so that a holder's read racing with the
//!   freer's or re-initialiser's write (no happens-before between them under
//!   C11) is reported by loom as a causality violation. Under shuttle, which
//!   has no race detector, a plain cell.
//! * The **shadow** (a `std` mutex the checkers do not see) counts the
//!   references the harness handed out, the incarnation (generation)
//!   number, whether the page is freed or frozen, and how many times each
//!   incarnation was freed. Loom and shuttle switch threads only at their
//!   own operations, so a shadow update right after a refcount operation
//!   returns happens atomically with that operation's last atomic step.
//!
//! The properties checked (the race catalogue, `docs/races.md`): a free happens with no reference
//! held and at most once per incarnation; a holder never reads a freed page;
//! a successful get never happens on a freed or frozen page; a successful
//! freeze never coexists with another holder; at the end, every incarnation
//! was freed exactly once (no leak) or the count is what the references
//! held say.

use core::marker::PhantomData;
use std::sync::Mutex;

use pageref::PageRef;

use crate::trace::{note, ThreadIndex};

/// What the page holds: its incarnation number and whether it is free.
/// The freer reads the incarnation from the page itself: it frees the page
/// as it finds it, never with a destructor chosen by the caller (scenario 7
/// of `docs/races.md`, "different zeros").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contents {
    /// Incarnation (generation) number, 1 for the first allocation.
    pub gen: u32,
    /// Freed and not yet re-allocated.
    pub freed: bool,
    /// Written by an exclusive owner (a freezer) to model its work.
    pub scribble: u32,
}

/// Storage for the page contents, per checker.
pub trait DataCell: Send + Sync {
    /// A cell holding `c`.
    fn new(c: Contents) -> Self;
    /// A shared access (a holder reading the page).
    fn read(&self) -> Contents;
    /// An exclusive access (free, re-allocation, a freezer's work).
    fn write(&self, f: impl FnOnce(&mut Contents));
}

#[derive(Debug)]
struct Shadow {
    gen: u32,
    freed: bool,
    /// References the harness handed out and that were not yet put.
    holders: u32,
    /// A freezer owns the page exclusively.
    frozen_by_owner: bool,
    /// frees[g - 1]: how many times incarnation g was freed.
    frees: Vec<u32>,
    /// Successful gets on a freed page (a bug; reported at the latest by
    /// the final check, usually earlier by a read or a double free).
    gets_on_freed: u32,
    /// How many times the page came back to life legitimately (init,
    /// unfreeze): a count of 0 is final only between two of these.
    revivals: u32,
}

/// A modelled page on refcount `R`, contents in `C`, model threads named by `T`.
pub struct Page<R, C, T> {
    /// The shipped refcount under test.
    pub rc: R,
    cell: C,
    shadow: Mutex<Shadow>,
    threads: PhantomData<fn() -> T>,
}

impl<R: PageRef, C, T> std::fmt::Debug for Page<R, C, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("scheme", &R::NAME)
            .field("raw", &format_args!("{:#x}", self.rc.raw()))
            .finish_non_exhaustive()
    }
}

impl<R: PageRef, C: DataCell, T: ThreadIndex> Page<R, C, T> {
    /// A live page (incarnation 1) with `refs` references held.
    pub fn new(refs: u32) -> Self {
        Page {
            rc: R::new(refs),
            cell: C::new(Contents {
                gen: 1,
                freed: false,
                scribble: 0,
            }),
            shadow: Mutex::new(Shadow {
                gen: 1,
                freed: false,
                holders: refs,
                frozen_by_owner: false,
                frees: vec![0],
                gets_on_freed: 0,
                revivals: 0,
            }),
            threads: PhantomData,
        }
    }

    /// A page on refcount `rc` that is already free (incarnation 0, freed
    /// once by construction): `rc` must be frozen, e.g. garbage near the
    /// overflow guard's limit.
    pub fn new_free(rc: R) -> Self {
        assert!(rc.is_frozen(), "new_free needs a frozen counter");
        Page {
            rc,
            cell: C::new(Contents {
                gen: 0,
                freed: true,
                scribble: 0,
            }),
            shadow: Mutex::new(Shadow {
                gen: 0,
                freed: true,
                holders: 0,
                frozen_by_owner: false,
                frees: Vec::new(),
                gets_on_freed: 0,
                revivals: 0,
            }),
            threads: PhantomData,
        }
    }

    fn shadow(&self) -> std::sync::MutexGuard<'_, Shadow> {
        // A panicking model thread may poison the mutex; the shadow itself
        // stays consistent (every update is one short critical section).
        self.shadow.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Speculative get (`add_unless_frozen(nr)`), as a lookup that found the
    /// page without a reference.
    pub fn get(&self, nr: u32) -> bool {
        let ok = self.rc.add_unless_frozen(nr);
        let mut s = self.shadow();
        if ok {
            s.holders += nr;
            assert!(
                !s.frozen_by_owner,
                "try_get({nr}) succeeded on a page frozen by its owner (incarnation {})",
                s.gen
            );
            if s.freed {
                s.gets_on_freed += 1;
            }
        }
        drop(s);
        note::<T>(format!("try_get({nr}) -> {ok}"));
        ok
    }

    /// A holder reads the page; returns the incarnation it saw. Panics if
    /// the page is free.
    pub fn read(&self) -> u32 {
        note::<T>("reads the page");
        let c = self.cell.read();
        assert!(
            !c.freed,
            "a holder read a freed page (incarnation {}): use after free",
            c.gen
        );
        c.gen
    }

    /// Drops `nr` references with `sub_and_test`; the caller that gets
    /// `true` frees the page (done here). Returns the incarnation this put
    /// freed, `None` if it returned `false`.
    pub fn put(&self, nr: u32) -> Option<u32> {
        {
            let mut s = self.shadow();
            assert!(s.holders >= nr, "harness bug: put without a reference");
            s.holders -= nr;
        }
        let last = self.rc.sub_and_test(nr);
        note::<T>(format!("sub_and_test({nr}) -> {last}"));
        if last {
            Some(self.free())
        } else {
            None
        }
    }

    /// Drops `nr` references that are not the last with the void `sub`
    /// (`page_ref_sub`): the caller knows another holder keeps the page live.
    pub fn sub(&self, nr: u32) {
        self.drop_shadow(nr);
        self.rc.sub(nr);
        note::<T>(format!("sub({nr})"));
    }

    /// Drops `nr` references that are not the last with `sub_return`
    /// (`page_ref_sub_return`); returns the count it reports.
    pub fn sub_return(&self, nr: u32) -> u32 {
        self.drop_shadow(nr);
        let c = self.rc.sub_return(nr);
        note::<T>(format!("sub_return({nr}) -> {c}"));
        c
    }

    /// Takes one more reference while holding one, with `inc_return`
    /// (`page_ref_inc_return`); returns the count it reports.
    pub fn inc_return(&self) -> u32 {
        let c = self.rc.inc_return();
        self.shadow().holders += 1;
        note::<T>(format!("inc_return() -> {c}"));
        c
    }

    /// The shadow of a put that must not be the last.
    fn drop_shadow(&self, nr: u32) {
        let mut s = self.shadow();
        assert!(
            s.holders > nr,
            "harness bug: a void put of the last reference"
        );
        s.holders -= nr;
    }

    /// Frees the page: the caller won the last put (or owns it frozen).
    fn free(&self) -> u32 {
        let gen = {
            let mut s = self.shadow();
            assert!(
                !s.freed,
                "double free of incarnation {} (its refcount was freed twice)",
                s.gen
            );
            assert!(
                s.holders == 0,
                "free of incarnation {} while {} reference(s) are held",
                s.gen,
                s.holders
            );
            s.freed = true;
            let g = s.gen as usize;
            s.frees[g - 1] += 1;
            s.gen
        };
        note::<T>(format!("free incarnation {gen} (writes the page)"));
        // The allocator poisons the page: an exclusive write that must
        // happen after every holder's access.
        self.cell.write(|c| c.freed = true);
        gen
    }

    /// Re-allocates a page that this thread freed: new incarnation, one
    /// reference (`init`).
    pub fn alloc(&self) -> u32 {
        let gen = {
            let mut s = self.shadow();
            assert!(s.freed, "harness bug: alloc of a live page");
            s.gen += 1;
            s.freed = false;
            s.holders = 1;
            s.frees.push(0);
            s.gen
        };
        self.cell.write(|c| {
            c.gen = gen;
            c.freed = false;
        });
        self.rc.init();
        // Right after the store that revives the word (no checker operation
        // in between), so that a prober never sees one without the other.
        self.shadow().revivals += 1;
        note::<T>(format!("init: incarnation {gen}"));
        gen
    }

    /// `freeze(expected)` by a thread that holds `expected` references (all
    /// of which it owns); on success it owns the page exclusively.
    pub fn freeze(&self, expected: u32) -> bool {
        let ok = self.rc.freeze(expected);
        if ok {
            let mut s = self.shadow();
            assert!(
                s.holders == expected,
                "freeze({expected}) succeeded while {} references are held",
                s.holders
            );
            s.frozen_by_owner = true;
        }
        note::<T>(format!("freeze({expected}) -> {ok}"));
        ok
    }

    /// The exclusive owner's work on a frozen page (a write).
    pub fn scribble(&self) {
        assert!(self.shadow().frozen_by_owner, "harness bug: not frozen");
        note::<T>("owner writes the frozen page");
        self.cell.write(|c| c.scribble += 1);
    }

    /// `unfreeze(count)` by the freezer: `count` references, all its own.
    pub fn unfreeze(&self, count: u32) {
        {
            let mut s = self.shadow();
            assert!(s.frozen_by_owner, "harness bug: not frozen");
            s.frozen_by_owner = false;
            s.holders = count;
        }
        self.rc.unfreeze(count);
        // As in `alloc`: right after the reviving store.
        self.shadow().revivals += 1;
        note::<T>(format!("unfreeze({count})"));
    }

    /// For schemes whose `count()` of 0 is final (classic encodings, the
    /// sticky counter): reads `count()`, and if it is 0, try_gets, which
    /// must fail unless the page was re-allocated or unfrozen meanwhile.
    pub fn probe_zero_is_final(&self) {
        let before = self.shadow().revivals;
        if self.rc.count() != 0 {
            return;
        }
        if self.get(1) {
            let revived = self.shadow().revivals != before;
            assert!(
                revived,
                "count() returned 0, then a try_get succeeded on the same incarnation"
            );
            self.put(1);
        }
    }

    /// The incarnation now allocated (shadow).
    pub fn gen(&self) -> u32 {
        self.shadow().gen
    }

    /// Whether the page is free (shadow).
    pub fn is_freed(&self) -> bool {
        self.shadow().freed
    }

    /// End-of-execution check when every reference was dropped: the page is
    /// frozen, reports count 0, and every incarnation was freed exactly once.
    pub fn finish_all_dropped(&self) {
        crate::trace::all_joined();
        if crate::trace::infeasible() {
            return;
        }
        {
            // Scoped: never hold the shadow lock across a checker operation.
            let s = self.shadow();
            assert_eq!(s.gets_on_freed, 0, "a try_get succeeded on a freed page");
            assert_eq!(s.holders, 0, "harness bug: references left");
            assert!(
                s.frees.iter().all(|&f| f == 1),
                "every incarnation must be freed exactly once; frees per incarnation: {:?} (0 = leak)",
                s.frees
            );
        }
        assert!(
            self.rc.is_frozen() && self.rc.count() == 0,
            "all references dropped but the counter is not frozen/0 (raw {:#010x}, count {})",
            self.rc.raw(),
            self.rc.count()
        );
    }

    /// End-of-execution check when `refs` references are still held: the
    /// page is live with exactly that count.
    pub fn finish_live(&self, refs: u32) {
        crate::trace::all_joined();
        if crate::trace::infeasible() {
            return;
        }
        {
            // Scoped: never hold the shadow lock across a checker operation.
            let s = self.shadow();
            assert_eq!(s.gets_on_freed, 0, "a try_get succeeded on a freed page");
            assert_eq!(s.holders, refs, "harness bug: reference bookkeeping");
        }
        assert!(
            !self.rc.is_frozen() && self.rc.count() == refs,
            "{refs} references held but the counter says count {} (raw {:#010x}): a lost or phantom increment",
            self.rc.count(),
            self.rc.raw()
        );
    }
}
