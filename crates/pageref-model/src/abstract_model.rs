//! An **abstract** explicit-state model of both protocols on a narrow
//! counter, checked exhaustively with stateright
//! (<https://docs.rs/stateright/0.31>).
//!
//! This is a model *of the protocol*, written from BRIEF §2/§3, not the
//! shipped code (loom and shuttle check the shipped code). Its purpose is
//! what the real 32-bit word puts out of reach: with a 5-bit word (4 count
//! bits plus the frozen bit, `FROZEN = 16`, the overflow guard scaled to
//! `GUARD = FROZEN | 8`), failed gets reach the guard and the wrap-around at
//! `2^5` in a handful of steps, so breadth-first search covers them together
//! with every interleaving of 3–4 threads.
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
    /// The frozen bit (BRIEF §3).
    Frozen,
    /// Zero means dead, add-unless-zero CAS loop (BRIEF §2).
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

impl PageModel {
    fn dead(&self, w: u8) -> bool {
        match self.scheme {
            Scheme::Frozen => w & FROZEN != 0,
            Scheme::Classic => w == 0,
        }
    }

    /// The frozen value a freeze stores.
    fn freeze_value(&self) -> u8 {
        match self.scheme {
            Scheme::Frozen if self.bug == Bug::FreezeStoresZero => 0,
            Scheme::Frozen => FROZEN,
            Scheme::Classic => 0,
        }
    }

    /// The frozen value a free stores.
    fn frozen_value(&self) -> u8 {
        match self.scheme {
            Scheme::Frozen if self.bug == Bug::FreeStoresZero => 0,
            Scheme::Frozen => FROZEN,
            Scheme::Classic => 0,
        }
    }

    fn free(&self, s: &mut State, t: usize) {
        s.frees[s.gen as usize] += 1;
        s.freed = true;
        s.threads[t].freed_it = true;
    }

    /// After a put: a thread that freed the page re-allocates it once (as
    /// in scenario 7); then getters go on with their rounds.
    fn after_put(&self, s: &mut State, t: usize) {
        let th = &mut s.threads[t];
        th.pc = if th.freed_it && !th.realloced {
            Pc::Init
        } else if matches!(self.roles[t], Role::Getter { .. }) {
            Pc::Start
        } else {
            Pc::Done
        };
    }

    /// One step of thread `t`; `None` if it is done.
    fn step(&self, last: &State, t: usize) -> Option<State> {
        let mut s = last.clone();
        let w = s.word;
        let frozen = self.scheme == Scheme::Frozen;
        match s.threads[t].pc {
            Pc::Done => return None,
            Pc::Start => match self.roles[t] {
                Role::Owner { migrate } => {
                    let th = &mut s.threads[t];
                    th.nr = 1;
                    th.pc = if migrate { Pc::Freeze } else { Pc::PutSub };
                }
                Role::Getter { nr, rounds } => {
                    let th = &mut s.threads[t];
                    if th.left >= rounds {
                        th.pc = Pc::Done;
                    } else {
                        th.left += 1;
                        th.nr = nr;
                        th.pc = if frozen || self.bug == Bug::ClassicFetchAdd {
                            Pc::GetAdd
                        } else {
                            Pc::GetLoad
                        };
                    }
                }
                Role::Allocator => s.threads[t].pc = Pc::Init,
            },
            Pc::GetAdd => {
                let nr = s.threads[t].nr;
                let new = w.wrapping_add(nr) & MASK;
                s.word = new;
                let ok = if frozen { new & FROZEN == 0 } else { w != 0 };
                if frozen && self.dead(w) && !self.dead(new) {
                    s.cleared = true;
                }
                let th = &mut s.threads[t];
                if ok {
                    th.held += nr;
                    th.pc = Pc::PutSub;
                } else if self.bug == Bug::UndoByDecrement {
                    th.pc = Pc::GetUndo;
                } else if frozen && new >= GUARD {
                    th.seen = new;
                    th.pc = Pc::GetGuard;
                } else {
                    th.pc = Pc::Start;
                }
            }
            Pc::GetGuard => {
                let seen = s.threads[t].seen;
                if w == seen {
                    s.word = if self.bug == Bug::GuardClearsBit {
                        0
                    } else {
                        FROZEN
                    };
                    s.guard_fired = true;
                    if !self.dead(s.word) {
                        s.cleared = true;
                    }
                    s.threads[t].pc = Pc::Start;
                } else if w >= GUARD {
                    s.threads[t].seen = w;
                } else {
                    s.threads[t].pc = Pc::Start;
                }
            }
            Pc::GetUndo => {
                let nr = s.threads[t].nr;
                s.word = w.wrapping_sub(nr) & MASK;
                if self.dead(w) && !self.dead(s.word) {
                    s.cleared = true;
                }
                s.threads[t].pc = Pc::Start;
            }
            Pc::GetLoad => {
                s.threads[t].seen = w;
                s.threads[t].pc = Pc::GetCas;
            }
            Pc::GetCas => {
                let (seen, nr) = (s.threads[t].seen, s.threads[t].nr);
                if seen == 0 {
                    s.threads[t].pc = Pc::Start;
                } else if w == seen {
                    s.word = (w + nr) & MASK;
                    s.threads[t].held += nr;
                    s.threads[t].pc = Pc::PutSub;
                } else {
                    s.threads[t].seen = w;
                }
            }
            Pc::PutSub => {
                let nr = s.threads[t].nr;
                if self.dead(w) || w < nr {
                    s.misuse = true; // "put on a frozen counter" / below zero
                }
                s.word = w.wrapping_sub(nr) & MASK;
                s.threads[t].held -= nr;
                s.threads[t].freed_it = false;
                s.threads[t].put_gen = s.gen;
                if w == nr {
                    if !frozen || self.bug == Bug::SkipFinalCas {
                        self.free(&mut s, t);
                        self.after_put(&mut s, t);
                    } else {
                        s.threads[t].pc = Pc::PutCas;
                    }
                } else {
                    self.after_put(&mut s, t);
                }
            }
            Pc::PutCas => {
                if w == 0 {
                    s.word = self.frozen_value();
                    // The putter decremented another incarnation: the page
                    // was freed and re-allocated between its two steps.
                    if s.gen != s.threads[t].put_gen {
                        s.different_zero = true;
                    }
                    self.free(&mut s, t);
                }
                self.after_put(&mut s, t);
            }
            Pc::Freeze => {
                if w == 1 {
                    s.word = self.freeze_value();
                    s.exclusive = true;
                    s.threads[t].pc = Pc::Unfreeze;
                } else {
                    s.threads[t].pc = Pc::PutSub;
                }
            }
            Pc::Unfreeze => {
                if !self.dead(w) {
                    s.misuse = true; // "unfreeze of a live counter"
                }
                s.word = 1;
                s.exclusive = false;
                s.threads[t].pc = Pc::PutSub;
            }
            Pc::Init => {
                if !self.dead(w) {
                    s.misuse = true; // "init of a live counter"
                }
                s.word = 1;
                s.gen += 1;
                s.freed = false;
                let th = &mut s.threads[t];
                th.held = 1;
                th.nr = 1;
                th.realloced = true;
                th.freed_it = false;
                th.pc = Pc::PutSub;
            }
        }
        Some(s)
    }

    /// What thread `t`'s step from `last` does, for counterexample tables.
    fn describe(&self, last: &State, t: usize) -> String {
        let th = &last.threads[t];
        match th.pc {
            Pc::Start => "next operation".into(),
            Pc::GetAdd => format!("get: fetch_add({})", th.nr),
            Pc::GetGuard => format!(
                "guard: cas({:#04x} -> {:#04x})",
                th.seen,
                if self.bug == Bug::GuardClearsBit {
                    0
                } else {
                    FROZEN
                }
            ),
            Pc::GetUndo => format!("undo: fetch_sub({})", th.nr),
            Pc::GetLoad => "get: load".into(),
            Pc::GetCas => format!("get: cas({:#04x} -> +{})", th.seen, th.nr),
            Pc::PutSub => format!("put: fetch_sub({})", th.nr),
            Pc::PutCas => format!("put: cas(0 -> {:#04x})", self.frozen_value()),
            Pc::Freeze => format!("freeze(1): cas(1 -> {:#04x})", self.freeze_value()),
            Pc::Unfreeze => "unfreeze(1)".into(),
            Pc::Init => "init: store 1".into(),
            Pc::Done => "done".into(),
        }
    }

    /// Whether thread `t`'s step from `last` writes the word.
    fn writes(&self, last: &State, t: usize) -> bool {
        let (th, w) = (&last.threads[t], last.word);
        match th.pc {
            Pc::GetLoad | Pc::Start | Pc::Done => false,
            Pc::GetGuard => w == th.seen,
            Pc::GetCas => w == th.seen && th.seen != 0,
            Pc::PutCas => w == 0,
            Pc::Freeze => w == 1,
            _ => true,
        }
    }

    /// Renders a path of the model as a thread-per-column table.
    pub fn render(&self, path: Vec<(State, Option<usize>)>) -> String {
        let mut events = Vec::new();
        for (state, action) in &path {
            let Some(t) = *action else { continue };
            let Some(next) = self.step(state, t) else {
                continue;
            };
            if state.threads[t].pc == Pc::Start {
                continue;
            }
            let mut op = self.describe(state, t);
            if next.frees != state.frees {
                let _ = write!(op, "; frees incarnation {}", state.gen);
            }
            if next.held() > state.held() && matches!(state.threads[t].pc, Pc::GetAdd | Pc::GetCas)
            {
                op.push_str("; get succeeds");
            }
            events.push(Event {
                thread: t,
                what: What::Atomic {
                    op,
                    read: state.word.into(),
                    wrote: self.writes(state, t).then_some(next.word.into()),
                    latest: state.word.into(),
                    bits: 32,
                },
            });
        }
        let mut out = trace::render(&events);
        if let Some((last, _)) = path.last() {
            let _ = writeln!(
                out,
                "final state: word {:#04x}, incarnation {}, frees per incarnation {:?}, references held {}, freed {}",
                last.word,
                last.gen,
                &last.frees[..=last.gen as usize],
                last.held(),
                last.freed
            );
        }
        out
    }

    /// Whether threads 1.. are interchangeable (same role), so that a
    /// state and its permutations of those threads are equivalent.
    fn symmetric(&self) -> bool {
        self.roles.len() > 2 && self.roles[1..].iter().all(|r| *r == self.roles[1])
    }

    /// Runs the exhaustive search over every reachable state. With
    /// interchangeable threads 1.., depth-first with symmetry reduction
    /// (states that differ only by a permutation of those threads are
    /// explored once); otherwise breadth-first. If `stop_at_failure`, stops
    /// at the first violated invariant (breadth-first, so its
    /// counterexample is a shortest one).
    pub fn check(self, stop_at_failure: bool) -> Outcome {
        let start = std::time::Instant::now();
        let model = self.clone();
        let builder = self.checker();
        let checker: Box<dyn Checker<PageModel>> = if stop_at_failure {
            Box::new(
                builder
                    .finish_when(stateright::HasDiscoveries::AnyFailures)
                    .spawn_bfs()
                    .join(),
            )
        } else if model.symmetric() {
            Box::new(builder.symmetry_fn(sort_symmetric).spawn_dfs().join())
        } else {
            Box::new(builder.spawn_bfs().join())
        };
        let mut violations = Vec::new();
        let mut reached = Vec::new();
        for p in model.properties() {
            let name = p.name;
            if let Some(path) = checker.discovery(name) {
                if SOMETIMES.contains(&name) {
                    reached.push(name);
                } else {
                    violations.push((name, model.render(path.into_vec())));
                }
            }
        }
        Outcome {
            states: checker.unique_state_count(),
            elapsed: start.elapsed(),
            violations,
            reached,
        }
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
