//! The transitions of the abstract model: one atomic operation (or one
//! harness step) of one thread per transition.

use super::*;

impl PageModel {
    pub(super) fn dead(&self, w: u8) -> bool {
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
    pub(super) fn step(&self, last: &State, t: usize) -> Option<State> {
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
