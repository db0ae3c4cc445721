//! An **abstract** explicit-state model of the frozen-bit and classic
//! protocols on a narrow counter, checked exhaustively with stateright
//! (<https://docs.rs/stateright/0.31>).
//!
//! This is a model *of the protocol*, written from its description in the
//! series (RFC <https://lkml.iu.edu/hypermail/linux/kernel/2512.2/08447.html>,
//! v1 <https://lkml.iu.edu/hypermail/linux/kernel/2602.3/05653.html>) and
//! from upstream's `include/linux/page_ref.h`, not the shipped code (loom and shuttle check the shipped code). Its purpose is
//! what the real 32-bit word puts out of reach: with a 5-bit word (4 count
//! bits plus the frozen bit, `FROZEN = 16`, the overflow guard scaled to
//! `GUARD = FROZEN | 8`), failed gets reach the guard and the wrap-around at
//! `2^5` in a handful of steps, so an exhaustive search (breadth-first, or
//! depth-first with symmetry reduction for the near-guard models) covers
//! them together with every interleaving of 3–4 threads.
//!
//! Every atomic operation is one transition (one thread's step), so the
//! model is sequentially consistent: it checks the protocol's logic, not
//! its memory orderings. Properties (each an invariant over every reachable
//! state):
//!
//! * at most one free per incarnation;
//! * no holder after a free (a successful get on a freed page);
//! * the frozen bit is never cleared except by `init`/`unfreeze` (stores);
//! * `count()` never reports garbage: a word that decodes as live equals
//!   the references actually held (so a failed get never shows, and a
//!   wrapped-around garbage word is caught);
//! * no debug misuse check of the real code would fire (put on a frozen
//!   word, init of a live word);
//! * at the end, every incarnation was freed exactly once (no leak).
//!
//! Planted bugs ([`Bug`]) switch single transitions, as the mutant policies
//! do in the real code.

use std::fmt::Write as _;

use stateright::{Checker, Model, Property};

use crate::trace::{self, Event, What};

// The transition function (`PageModel::step`).
mod step;

/// Bits of the abstract word: 4 count bits and the frozen bit.
pub const BITS: u32 = 5;
/// Mask of the word.
pub const MASK: u8 = (1 << BITS) - 1;
/// The frozen bit (the real `1 << 31`).
pub const FROZEN: u8 = 1 << (BITS - 1);
/// The overflow guard's limit (the real `FROZEN | 1 << 30`).
pub const GUARD: u8 = FROZEN | (1 << (BITS - 2));

/// Which protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// The frozen bit (the series; `pageref::FrozenRef`).
    Frozen,
    /// Zero means dead, add-unless-zero CAS loop (upstream; `pageref::ClassicRef`).
    Classic,
}

/// A planted bug in the abstract model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The faithful protocol.
    None,
    /// Frozen: the final CAS stores plain 0 (request (b) violated).
    FreeStoresZero,
    /// Frozen: the overflow guard resets garbage to plain 0.
    GuardClearsBit,
    /// Frozen: a failed get undoes its add with a decrement.
    UndoByDecrement,
    /// Frozen: the last put frees at 0 without the `0 -> FROZEN` CAS.
    SkipFinalCas,
    /// Frozen: freeze stores plain 0.
    FreezeStoresZero,
    /// Classic: add-unless-zero as an unconditional fetch_add.
    ClassicFetchAdd,
}

/// What a model thread does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Holds one reference at the start. If `migrate`, first tries
    /// `freeze(1)` and on success `unfreeze(1)`. Then puts its reference; if
    /// that freed the page, re-allocates it (`init`, one reference) and puts
    /// that one too (reuse: the "different zeros" of scenario 7).
    Owner {
        /// Try a freeze/unfreeze first.
        migrate: bool,
    },
    /// `rounds` speculative gets of `nr`; each success is put back.
    Getter {
        /// References per get (a GUP pin takes many).
        nr: u8,
        /// How many gets.
        rounds: u8,
    },
    /// For a page that starts free: `init` (one reference), then put it.
    Allocator,
}

/// The starting state of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Start {
    /// Live, incarnation 1; each `Owner` holds one reference.
    Live,
    /// Free (incarnation 0 freed) with garbage `GUARD - 1` under the frozen
    /// bit, as failed gets leave it.
    NearGuard,
}

/// A model: scheme, planted bug, threads, start.
#[derive(Debug, Clone)]
pub struct PageModel {
    /// The protocol.
    pub scheme: Scheme,
    /// The planted bug.
    pub bug: Bug,
    /// One role per thread.
    pub roles: Vec<Role>,
    /// The page's starting state.
    pub start: Start,
}

/// A thread's program counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pc {
    /// Choose the next operation.
    Start,
    /// Frozen get: `fetch_add(nr)`.
    GetAdd,
    /// Frozen get: the overflow guard's CAS `seen -> FROZEN`.
    GetGuard,
    /// (Bug `UndoByDecrement`) `fetch_sub(nr)` after a failed add.
    GetUndo,
    /// Classic get: the initial load.
    GetLoad,
    /// Classic get: CAS `seen -> seen + nr` unless `seen == 0`.
    GetCas,
    /// Put: `fetch_sub(nr)`.
    PutSub,
    /// Frozen put: the final CAS `0 -> FROZEN`.
    PutCas,
    /// `freeze(1)`.
    Freeze,
    /// `unfreeze(1)`.
    Unfreeze,
    /// `init`: store 1.
    Init,
    /// Finished.
    Done,
}

/// One thread's state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Thread {
    /// Program counter.
    pub pc: Pc,
    /// References held.
    pub held: u8,
    /// `nr` of the get or put in progress.
    pub nr: u8,
    /// Value seen by the last failed CAS / load.
    pub seen: u8,
    /// Gets done (getters).
    pub left: u8,
    /// This thread's last put freed the page.
    pub freed_it: bool,
    /// This thread already re-allocated the page once.
    pub realloced: bool,
    /// The incarnation its put in progress decremented.
    pub put_gen: u8,
}

/// The global state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct State {
    /// The abstract counter word.
    pub word: u8,
    /// The incarnation now allocated (0 = the free page of `NearGuard`).
    pub gen: u8,
    /// The page is free.
    pub freed: bool,
    /// A freezer owns the page.
    pub exclusive: bool,
    /// Frees per incarnation.
    pub frees: [u8; 8],
    /// An RMW cleared the frozen bit (frozen scheme).
    pub cleared: bool,
    /// A debug misuse check of the real code would have fired.
    pub misuse: bool,
    /// The overflow guard fired at least once (coverage).
    pub guard_fired: bool,
    /// A final CAS freed an incarnation other than the one its putter
    /// decremented (the "different zeros", coverage).
    pub different_zero: bool,
    /// Threads.
    pub threads: Vec<Thread>,
}

impl State {
    fn held(&self) -> u8 {
        self.threads.iter().map(|t| t.held).sum()
    }
}

/// The representative of a state under permutations of threads 1.. (used
/// only when those threads have the same role).
fn sort_symmetric(s: &State) -> State {
    let mut r = s.clone();
    r.threads[1..].sort();
    r
}

/// The coverage (`sometimes`) properties.
pub const SOMETIMES: [&str; 2] = [
    "the overflow guard fires",
    "a final CAS frees a different zero",
];

/// The result of a check.
#[derive(Debug)]
pub struct Outcome {
    /// Distinct states explored.
    pub states: usize,
    /// Wall time.
    pub elapsed: std::time::Duration,
    /// Violated invariants, each with its counterexample table.
    pub violations: Vec<(&'static str, String)>,
    /// Coverage properties reached.
    pub reached: Vec<&'static str>,
}

impl Model for PageModel {
    type State = State;
    type Action = usize;

    fn init_states(&self) -> Vec<State> {
        let owners = self
            .roles
            .iter()
            .filter(|r| matches!(r, Role::Owner { .. }))
            .count() as u8;
        let (word, gen, freed) = match self.start {
            Start::Live => (owners, 1, false),
            Start::NearGuard => (
                match self.scheme {
                    Scheme::Frozen => GUARD - 1,
                    Scheme::Classic => 0,
                },
                0,
                true,
            ),
        };
        let threads = self
            .roles
            .iter()
            .map(|r| Thread {
                pc: Pc::Start,
                held: u8::from(matches!(r, Role::Owner { .. }) && self.start == Start::Live),
                nr: 0,
                seen: 0,
                left: 0,
                freed_it: false,
                realloced: false,
                put_gen: 0,
            })
            .collect();
        vec![State {
            word,
            gen,
            freed,
            exclusive: false,
            // Incarnation 0 is the page's life before the model: freed.
            frees: [1, 0, 0, 0, 0, 0, 0, 0],
            cleared: false,
            misuse: false,
            guard_fired: false,
            different_zero: false,
            threads,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<usize>) {
        actions.extend((0..state.threads.len()).filter(|&t| state.threads[t].pc != Pc::Done));
    }

    fn next_state(&self, last: &State, t: usize) -> Option<State> {
        self.step(last, t)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("at most one free per incarnation", |_, s: &State| {
                s.frees.iter().all(|&f| f <= 1)
            }),
            Property::always("no holder after a free", |_, s: &State| {
                !(s.freed && s.held() > 0)
            }),
            Property::always(
                "the frozen bit is cleared only by init/unfreeze",
                |_, s: &State| !s.cleared,
            ),
            Property::always(
                "count() never reports garbage",
                |m: &PageModel, s: &State| {
                    // A word that decodes as live holds exactly the references
                    // held (the freezer's exclusive reference is not in the word).
                    m.dead(s.word) || s.exclusive || s.word == s.held()
                },
            ),
            Property::always("no debug misuse check fires", |_, s: &State| !s.misuse),
            Property::always(
                "no leak: every incarnation freed once at the end",
                |m: &PageModel, s: &State| {
                    let done = s.threads.iter().all(|t| t.pc == Pc::Done);
                    !done || (m.dead(s.word) && s.frees[..=s.gen as usize].iter().all(|&f| f == 1))
                },
            ),
            Property::sometimes(SOMETIMES[0], |_, s: &State| s.guard_fired),
            Property::sometimes(SOMETIMES[1], |_, s: &State| s.different_zero),
        ]
    }
}
