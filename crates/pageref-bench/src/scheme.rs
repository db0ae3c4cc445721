//! The schemes under test, as one list, and the floor.
//!
//! Adding a scheme is one line in the `scheme_list!` invocation below: its
//! command-line name, its type, whether it is a correct refcount, whether the
//! default sweep includes it, and a one-line description for every report.

use core::sync::atomic::{AtomicU32, Ordering};

use pageref::{ClassicRef, FrozenRef, LowBitRef, OptimisticRef, PageRef, RelaxedFinal, StickyRef};

/// What the reports say about a scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeInfo {
    /// Command-line and report name.
    pub name: &'static str,
    /// Whether it is a correct refcount. Only `floor` is not.
    pub correct: bool,
    /// Whether a sweep without `--schemes` includes it.
    pub default: bool,
    /// One line for the reports.
    pub about: &'static str,
}

/// Something to run once per scheme, with the scheme's type.
///
/// [`with_scheme`] calls [`visit`](Self::visit) with the type registered
/// under a name, so that the hot loops are monomorphised per scheme (no
/// dynamic dispatch on the measured path).
pub trait SchemeVisitor {
    /// What the visit returns.
    type Output;
    /// Runs with the scheme's type `R`.
    fn visit<R: PageRef + 'static>(self, info: &'static SchemeInfo) -> Self::Output;
}

macro_rules! scheme_list {
    ($($name:literal => $ty:ty, correct: $correct:literal, default: $default:literal, $about:literal;)*) => {
        /// Every scheme, in report order.
        pub const SCHEMES: &[SchemeInfo] = &[
            $(SchemeInfo { name: $name, correct: $correct, default: $default, about: $about },)*
        ];

        /// Calls `visitor` with the type of the scheme named `name`; `None` if
        /// there is no such scheme.
        pub fn with_scheme<V: SchemeVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            let info = info(name)?;
            match name {
                $($name => Some(visitor.visit::<$ty>(info)),)*
                _ => None,
            }
        }
    };
}

// One line per scheme.
scheme_list! {
    "floor" => Floor, correct: false, default: true,
        "plain fetch_add/fetch_sub on one word: the physical limit of one cache line, NOT a correct refcount";
    "classic" => ClassicRef, correct: true, default: true,
        "upstream: zero means dead, try_get is a load + CAS loop (add unless zero)";
    "frozen" => FrozenRef, correct: true, default: true,
        "the series' frozen bit: try_get is one fetch_add (add unless frozen), acquire final CAS";
    "frozen-posted" => FrozenRef<AtomicU32, RelaxedFinal>, correct: true, default: false,
        "frozen bit with the final 0 -> FROZEN CAS relaxed, as posted";
    "optimistic" => OptimisticRef, correct: true, default: true,
        "Torvalds' review: CAS guessing the count is 1, then the classic loop with the value it returned";
    "sticky" => StickyRef, correct: true, default: true,
        "sticky counter with helping (Anderson, Blelloch, Wei, PLDI 2022): fetch_add get, zero + help flags";
    "lowbit" => LowBitRef, correct: true, default: true,
        "low-bit dead flag (Parkinson, Clebsch, Simner, ISMM 2023): count << 1, get = fetch_add(2)";
}

/// The scheme registered under `name`.
pub fn info(name: &str) -> Option<&'static SchemeInfo> {
    SCHEMES.iter().find(|s| s.name == name)
}

/// The names of every scheme, comma-separated (for error messages).
pub fn all_names() -> String {
    SCHEMES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The floor: one plain `fetch_add` per get and one `fetch_sub` per put on
/// one shared word — the least any refcount can cost on one cache line.
///
/// **Not a correct refcount**: `try_get` cannot fail (it "revives" a dead
/// counter), so it is only run where nothing is ever frozen (`getput`,
/// `pread`, `spread`), as the physical limit the real schemes are compared
/// with. Its orderings are those of [`FrozenRef`]'s get and put, so that the
/// difference between the two is exactly the frozen-bit protocol. Dead is 0,
/// as for the classic scheme. No misuse checks.
pub struct Floor {
    word: AtomicU32,
}

impl PageRef for Floor {
    const NAME: &'static str = "floor";
    const MAX_COUNT: u32 = i32::MAX as u32;
    const WORD_BITS: u32 = 32;
    // Its get "revives" anything, dead words included: see the type's docs.
    const REVIVES_ZERO: bool = true;
    const ZERO_IS_FINAL: bool = false;

    fn new(count: u32) -> Self {
        Floor {
            word: AtomicU32::new(count),
        }
    }
    fn new_frozen() -> Self {
        Floor {
            word: AtomicU32::new(0),
        }
    }
    fn raw(&self) -> u64 {
        // ORDERING: Relaxed; a diagnostic snapshot.
        self.word.load(Ordering::Relaxed).into()
    }
    fn count(&self) -> u32 {
        // ORDERING: Relaxed snapshot, like atomic_read().
        self.word.load(Ordering::Relaxed)
    }
    fn is_frozen(&self) -> bool {
        // ORDERING: Relaxed snapshot.
        self.word.load(Ordering::Relaxed) == 0
    }
    fn init(&self) {
        // ORDERING: Release, as FrozenRef::init (publishes the reallocation).
        self.word.store(1, Ordering::Release);
    }
    fn set_frozen(&self) {
        // ORDERING: Relaxed; the caller owns the object, a dead value publishes nothing.
        self.word.store(0, Ordering::Relaxed);
    }
    fn add(&self, nr: u32) {
        // ORDERING: Relaxed; the caller holds a reference (as Arc::clone).
        self.word.fetch_add(nr, Ordering::Relaxed);
    }
    fn sub(&self, nr: u32) {
        // ORDERING: Release; the dropped references' uses precede the free.
        self.word.fetch_sub(nr, Ordering::Release);
    }
    fn inc_return(&self) -> u32 {
        // ORDERING: AcqRel, as a fully ordered value-returning RMW.
        self.word.fetch_add(1, Ordering::AcqRel).wrapping_add(1)
    }
    fn sub_return(&self, nr: u32) -> u32 {
        // ORDERING: AcqRel, as a fully ordered value-returning RMW.
        self.word.fetch_sub(nr, Ordering::AcqRel).wrapping_sub(nr)
    }
    #[inline]
    fn sub_and_test(&self, nr: u32) -> bool {
        // ORDERING: AcqRel, as FrozenRef's put: Release so that our uses
        // precede the free, Acquire so that the one reaching 0 sees the rest.
        self.word.fetch_sub(nr, Ordering::AcqRel) == nr
    }
    #[inline]
    fn add_unless_frozen(&self, nr: u32) -> bool {
        // ORDERING: Acquire, as FrozenRef's get (we must see the incarnation
        // we pinned). Unconditional: this is what makes it not a refcount.
        self.word.fetch_add(nr, Ordering::Acquire);
        true
    }
    fn freeze(&self, expected: u32) -> bool {
        // ORDERING: Acquire on success (the freezer sees the holders' work);
        // Relaxed on failure (nothing gained).
        self.word
            .compare_exchange(expected, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }
    fn unfreeze(&self, count: u32) {
        // ORDERING: Release; publishes the freezer's work to later getters.
        self.word.store(count, Ordering::Release);
    }
    fn from_raw(raw: u64) -> Self {
        Floor {
            word: AtomicU32::new(raw as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;
    impl SchemeVisitor for Name {
        type Output = (&'static str, &'static str);
        fn visit<R: PageRef + 'static>(self, info: &'static SchemeInfo) -> Self::Output {
            (info.name, R::NAME)
        }
    }

    /// Every listed name dispatches to a type whose own NAME agrees with the
    /// list (up to the policy suffix), and unknown names dispatch to nothing.
    #[test]
    fn dispatch_matches_the_list() {
        for s in SCHEMES {
            let (name, type_name) = with_scheme(s.name, Name).unwrap();
            assert_eq!(name, s.name);
            assert!(s.name.starts_with(type_name), "{} vs {}", s.name, type_name);
        }
        assert!(with_scheme("nope", Name).is_none());
        assert_eq!(SCHEMES.iter().filter(|s| !s.correct).count(), 1);
    }

    /// The floor's get never fails, even on a dead word: it is not a refcount,
    /// which is why it is excluded from workloads that freeze.
    #[test]
    fn floor_is_not_a_refcount() {
        let f = Floor::new_frozen();
        assert!(f.try_get());
        assert_eq!(f.count(), 1);
        assert!(f.dec_and_test());
    }
}
