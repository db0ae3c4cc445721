//! The continuous checks: the state shared by a run's workers, and the
//! read-path hook that checks every byte a reader returns.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pageref::AtomicWord;

use super::report::{Kind, Violations};
use crate::cache::{Page, ReadHook, Window};
use crate::env::Env;
use crate::stamp;
use crate::FileId;

/// State shared by the workers of one run.
pub(crate) struct Shared {
    stop: AtomicBool,
    pub(crate) start: Instant,
    stop_on_violation: bool,
    counts: [AtomicU64; 6],
    first: Mutex<Option<(Duration, String)>>,
}

impl Shared {
    pub(crate) fn new(stop_on_violation: bool) -> Self {
        Shared {
            stop: AtomicBool::new(false),
            start: Instant::now(),
            stop_on_violation,
            counts: Default::default(),
            first: Mutex::new(None),
        }
    }

    /// Records `n` violations of `kind`; the message is built only for the
    /// first violation of the run.
    pub(crate) fn violations_of(&self, kind: Kind, n: u64, what: impl FnOnce() -> String) {
        if n == 0 {
            return;
        }
        // ORDERING: Relaxed; statistics, read after the workers are joined.
        self.counts[kind as usize].fetch_add(n, Ordering::Relaxed);
        self.note_first(what);
    }

    /// Records one violation.
    pub(crate) fn violation(&self, kind: Kind, what: impl FnOnce() -> String) {
        self.violations_of(kind, 1, what)
    }

    /// Notes `what` as the first violation if there was none yet (for
    /// problems counted elsewhere, like the allocator's reports).
    pub(crate) fn note_first(&self, what: impl FnOnce() -> String) {
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some((self.start.elapsed(), what()));
        }
        drop(first);
        if self.stop_on_violation {
            self.stop();
        }
    }

    pub(crate) fn first(&self) -> Option<(Duration, String)> {
        self.first.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn stop(&self) {
        // ORDERING: Relaxed; a hint to stop, nothing is published with it.
        self.stop.store(true, Ordering::Relaxed);
    }

    pub(crate) fn stopped(&self) -> bool {
        // ORDERING: Relaxed; see stop().
        self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn violations(&self) -> Violations {
        // ORDERING: Relaxed; the workers have been joined.
        Violations(Kind::ALL.map(|k| self.counts[k as usize].load(Ordering::Relaxed)))
    }
}

/// A small, fast PRNG (splitmix64) for the workers' choices.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        stamp::mix(self.0)
    }
    /// Uniform in `0..n` (`n > 0`), by Lemire's multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// What a reader saw of a page's metadata: when it pinned it (refcounted
/// read) or inside its seqcount section (fast read).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pin {
    pub(crate) gen: u32,
    pub(crate) version: u32,
    pub(crate) owner: u64,
    pub(crate) zeroed: u32,
}

impl Pin {
    fn load<R, E: Env>(page: &Page<R, E>) -> Pin {
        // ORDERING: Relaxed for all four. A refcounted reader's Acquire slot
        // load and try_get made the incarnation's metadata visible; a fast
        // reader's loads are inside its seqcount section and are validated
        // by its re-check like its data (if the path is right: checking that
        // is the point).
        Pin {
            gen: page.gen.load(Ordering::Relaxed),
            version: page.version.load(Ordering::Relaxed),
            owner: page.owner.load(Ordering::Relaxed),
            zeroed: page.zeroed.load(Ordering::Relaxed),
        }
    }
}

/// The read-path hook of the stress harness (and of the unit and shuttle
/// tests): widens race windows and checks every page a reader copies from.
pub(crate) struct Checker<'a> {
    shared: &'a Shared,
    rng: Rng,
    widen_one_in: u32,
    deadline: Option<Instant>,
    polls: u32,
    /// The deadline has passed (seen once, kept: the clock is read only
    /// every 256 polls, and a read must not miss it between two reads).
    expired: bool,
    pin: Option<Pin>,
    /// Words per zero-range chunk of the cache under test.
    chunk_words: usize,
    /// A read gave up because the run was over (not a short read).
    pub(crate) gave_up: bool,
}

impl<'a> Checker<'a> {
    /// A checker for a cache of `page_size`-byte pages.
    pub(crate) fn new(
        shared: &'a Shared,
        page_size: usize,
        seed: u64,
        widen_one_in: u32,
        deadline: Option<Instant>,
    ) -> Self {
        Checker {
            shared,
            rng: Rng::new(seed),
            widen_one_in,
            deadline,
            polls: 0,
            expired: false,
            pin: None,
            chunk_words: stamp::chunk_words(page_size / 8),
            gave_up: false,
        }
    }

    pub(crate) fn maybe_yield(&mut self) {
        if self.widen_one_in > 0 && self.rng.below(u64::from(self.widen_one_in)) == 0 {
            std::thread::yield_now();
        }
    }

    /// Whether the run is over (stopped, or past its deadline; the clock is
    /// read every 256 calls, and once past, the answer stays yes). Not
    /// sticky, a reader retrying on a page that stays frozen (a scheme that
    /// fails, whose worker panicked mid-reclaim) could see every 256th
    /// answer in `lookup` and the next in `get_page`, which refills, races
    /// the occupied slot and looks up again: forever (the unit test
    /// `reader_on_a_stuck_page_gives_up_at_the_deadline`).
    fn over(&mut self) -> bool {
        if self.expired || self.shared.stopped() {
            return true;
        }
        self.polls = self.polls.wrapping_add(1);
        if self.polls.is_multiple_of(256) {
            if let Some(d) = self.deadline {
                if Instant::now() >= d {
                    self.expired = true;
                    return true;
                }
            }
        }
        false
    }

    /// The first byte of `bytes` (from `page_off`) that is not what
    /// (`want`, `pin.version`) reads with the chunks `exact` zeroed, and
    /// the chunks `maybe` zeroed or not; `None` if all match.
    fn first_bad(
        &self,
        want: u64,
        pin: &Pin,
        exact: u32,
        maybe: u32,
        page_off: usize,
        bytes: &[u8],
    ) -> Option<usize> {
        let base = stamp::base(want, pin.version);
        let cw = self.chunk_words;
        bytes.iter().enumerate().position(|(i, &b)| {
            let off = page_off + i;
            let w = off / 8;
            let stamped = stamp::expected(base, exact, cw, w).to_le_bytes()[off % 8];
            let may_be_zero = maybe & (1 << (w / cw)) != 0;
            b != stamped && !(may_be_zero && b == 0)
        })
    }
}

impl<R, E: Env> ReadHook<R, E> for Checker<'_> {
    fn window(&mut self, _at: Window) {
        self.maybe_yield();
    }

    fn keep_going(&mut self) -> bool {
        let over = self.over();
        self.gave_up |= over;
        !over
    }

    fn pinned(&mut self, page: &Page<R, E>) {
        self.pin = Some(Pin::load(page));
    }

    fn copied(
        &mut self,
        file: FileId,
        index: u64,
        page: &Page<R, E>,
        seq: &E::U32,
        page_off: usize,
        bytes: &[u8],
    ) {
        let Some(pin) = self.pin.take() else {
            return;
        };
        // ORDERING: Relaxed; we still hold our reference, so a correct
        // refcount keeps the generation unchanged. (A buggy one may change
        // it; this read then sees the change or not, best effort.)
        let gen_now = page.gen.load(Ordering::Relaxed);
        if gen_now != pin.gen {
            self.shared.violation(Kind::GenChanged, || {
                format!(
                    "reader of ({}, {index}) held a page whose generation went {} -> {gen_now}",
                    file.0, pin.gen
                )
            });
        }
        // A zero range may clear words while we copy (legal: the read is not
        // atomic against a hole punch). Wait for any section we overlapped
        // to end, then read the mask: if we copied a cleared word, our
        // Acquire fence synchronises with that writer's Release fence, so
        // the count now reads odd or later, and the Acquire load that reads
        // it even again reads that writer's Release end (or a later RMW of
        // its release sequence), after which its mask store is visible.
        E::U32::fence(Ordering::Acquire);
        loop {
            // ORDERING: Acquire; see above.
            if seq.load(Ordering::Acquire) & 1 == 0 || !ReadHook::<R, E>::keep_going(self) {
                break;
            }
            E::relax();
        }
        // ORDERING: Relaxed; after the Acquire load above.
        let zeroed_now = page.zeroed.load(Ordering::Relaxed);
        let want = stamp::owner(file.0, index as u32);
        let bad = self.first_bad(want, &pin, 0, zeroed_now, page_off, bytes);
        if pin.owner != want || bad.is_some() {
            self.shared.violation(Kind::BadData, || {
                format!(
                    "reader of ({}, {index}) validated owner {:#x} version {} gen {} but byte {:?} of its copy differs",
                    file.0, pin.owner, pin.version, pin.gen, bad
                )
            });
        }
    }

    fn fast_slot(&mut self, _p: u32, page: &Page<R, E>) {
        self.pin = Some(Pin::load(page));
    }

    fn fast_copied(&mut self, file: FileId, index: u64, page_off: usize, bytes: &[u8]) {
        let Some(pin) = self.pin.take() else {
            return;
        };
        // The fast read validated its metadata loads with its data: the
        // bytes must be exactly (owner, version) with exactly the chunks
        // `zeroed` cleared, no mix.
        let want = stamp::owner(file.0, index as u32);
        let bad = self.first_bad(want, &pin, pin.zeroed, 0, page_off, bytes);
        if pin.owner != want || bad.is_some() {
            self.shared.violation(Kind::BadData, || {
                format!(
                    "fast reader of ({}, {index}) validated owner {:#x} version {} zeroed {:#x} but byte {:?} of its copy differs",
                    file.0, pin.owner, pin.version, pin.zeroed, bad
                )
            });
        }
    }
}
