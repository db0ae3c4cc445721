//! The behaviours that std's own `Arc` tests check (in
//! `library/alloc/src/sync/tests.rs` and the alloc test crate's `arc.rs`),
//! written from what std's documentation promises, run on
//! `pageref::sync::{Arc, Weak}`: counts, `get_mut` / `make_mut` rules,
//! `try_unwrap`, `into_inner` (also raced), weak self-cycles, drop
//! canaries, `new_cyclic`, raw pointers, the trait impls, and the `Send` /
//! `Sync` bounds compared with std's at compile time. Plus races of our own
//! protocol: upgrades against the last drop.
//!
//! The whole binary also runs under valgrind memcheck (test `memcheck`,
//! with fewer rounds of the threaded tests): no leak, no invalid access.
//! Run time on a 2-vCPU AMD EPYC VM: ~2 s natively, ~5 s under valgrind.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Barrier, Mutex};
use std::thread;

use pageref::sync::{Arc, Weak};

/// Rounds of the threaded tests: fewer under valgrind, which runs one
/// thread at a time and ~50x slower.
fn rounds(native: usize) -> usize {
    if std::env::var_os(UNDER_VALGRIND).is_some() {
        (native / 20).max(20)
    } else {
        native
    }
}

const UNDER_VALGRIND: &str = "PAGEREF_ARC_UNDER_VALGRIND";

/// Counts drops of a value: the canary.
#[derive(Debug)]
struct Canary(std::sync::Arc<AtomicUsize>);

impl Canary {
    fn new() -> (Canary, std::sync::Arc<AtomicUsize>) {
        let c = std::sync::Arc::new(AtomicUsize::new(0));
        (Canary(c.clone()), c)
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

mod memcheck;
mod races;
mod rules;
mod traits;
