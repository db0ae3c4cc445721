//! The contestants of the per-scheme workloads: every scheme of the
//! registry (`pageref::for_each_scheme!`, `pageref::SCHEMES`), and the floor.
//!
//! Nothing here lists the schemes: their names, whether the default sweep
//! runs them, their one-line descriptions and the race scenarios they are
//! known to fail all come from the registry in `crates/pageref/src/registry.rs`.
//! A scheme added there is in `pageref list`, the default bench, every
//! workload, every table and plot, and the divan benches, with no change
//! here. The one thing this module adds is the [`Floor`], which is bench-only
//! and **not** a refcount.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use pageref::PageRef;

/// What the reports say about a contestant scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeInfo {
    /// Command-line and report name.
    pub name: &'static str,
    /// Whether it is a refcount at all. Only `floor` is not.
    pub correct: bool,
    /// The race scenarios of `docs/races.md` it is known to fail ("s05"):
    /// it keeps its place everywhere, marked "fails s05".
    pub fails: &'static [&'static str],
    /// Whether a sweep without `--schemes` includes it.
    pub default: bool,
    /// One line for the reports.
    pub about: &'static str,
    /// The width of its word in bits.
    pub word_bits: u32,
}

impl SchemeInfo {
    /// The bench's entry for a registry scheme.
    const fn registered(s: &'static pageref::SchemeInfo) -> SchemeInfo {
        SchemeInfo {
            name: s.name,
            correct: true,
            fails: s.fails,
            default: s.default,
            about: s.about,
            word_bits: s.word_bits,
        }
    }

    /// The name as the reports show it: `floor (NOT a refcount)`,
    /// `rcuref (fails s04, s05)`, or the bare name.
    pub fn label(&self) -> String {
        label(self.name, self.correct, self.fails)
    }
}

/// A contestant's report label: `NAME (NOT a refcount)` when `correct` is
/// false, `NAME (fails s04, s05)` when it has known failures, else `NAME`.
pub fn label(name: &str, correct: bool, fails: &[impl AsRef<str>]) -> String {
    if !correct {
        format!("{name} (NOT a refcount)")
    } else if fails.is_empty() {
        name.to_string()
    } else {
        let f: Vec<&str> = fails.iter().map(AsRef::as_ref).collect();
        format!("{name} (fails {})", f.join(", "))
    }
}

/// The floor's entry.
pub const FLOOR: SchemeInfo = SchemeInfo {
    name: "floor",
    correct: false,
    fails: &[],
    default: true,
    about: "plain fetch_add/fetch_sub on one word: the physical limit of one cache line, NOT a correct refcount",
    word_bits: 32,
};

const COUNT: usize = pageref::SCHEMES.len() + 1;

/// The floor, then every scheme of the registry in its order.
const fn all() -> [SchemeInfo; COUNT] {
    let mut out = [FLOOR; COUNT];
    let mut i = 0;
    while i < pageref::SCHEMES.len() {
        out[i + 1] = SchemeInfo::registered(&pageref::SCHEMES[i]);
        i += 1;
    }
    out
}

/// Every contestant scheme, in report order: the floor, then the registry's.
pub const SCHEMES: &[SchemeInfo] = &all();

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

/// The registry's callback: the name -> type dispatch.
macro_rules! dispatch {
    ([] $($id:ident $name:literal ($ty:ty) $info:tt)*) => {
        /// Calls `visitor` with the type of the scheme named `name`; `None` if
        /// there is no such scheme.
        pub fn with_scheme<V: SchemeVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            let info = info(name)?;
            match name {
                "floor" => Some(visitor.visit::<Floor>(info)),
                $($name => Some(visitor.visit::<$ty>(info)),)*
                _ => None,
            }
        }
    };
}

pageref::for_each_scheme!(dispatch, AtomicU32, AtomicU64);

/// The scheme named `name`.
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
/// with. Its orderings are those of [`FrozenRef`](pageref::FrozenRef)'s get and put, so that the
/// difference between the two is exactly the frozen-bit protocol. Dead is 0,
/// as for the classic scheme. No misuse checks.
#[derive(Debug)]
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
        // ORDERING: Release, the shipped FrozenRef's decrement (its
        // default policy `AcquireFinal`'s `PUT`, taken from there): our uses
        // precede whoever frees. FrozenRef gets its Acquire from the final
        // `0 -> FROZEN` CAS, which the floor has no use for (it never
        // frees). AcqRel here would be a stronger, dearer instruction than
        // FrozenRef's on arm64 (`ldaddal` for `ldaddl`): no longer a floor.
        self.word
            .fetch_sub(nr, <pageref::AcquireFinal as pageref::Policy>::PUT)
            == nr
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

    struct Bits;
    impl SchemeVisitor for Bits {
        type Output = u32;
        fn visit<R: PageRef + 'static>(self, _info: &'static SchemeInfo) -> u32 {
            R::WORD_BITS
        }
    }

    /// Every listed name dispatches to a type whose own NAME agrees with the
    /// list (up to the policy or width suffix), and unknown names dispatch
    /// to nothing.
    #[test]
    fn dispatch_matches_the_list() {
        for s in SCHEMES {
            let (name, type_name) = with_scheme(s.name, Name).unwrap();
            assert_eq!(name, s.name);
            assert!(s.name.starts_with(type_name), "{} vs {}", s.name, type_name);
            assert_eq!(with_scheme(s.name, Bits), Some(s.word_bits), "{}", s.name);
        }
        assert!(with_scheme("nope", Name).is_none());
        assert_eq!(SCHEMES.iter().filter(|s| !s.correct).count(), 1);
    }

    /// The bench's list is the floor followed by the registry, entry for
    /// entry: nothing is listed twice.
    #[test]
    fn the_list_is_the_registry() {
        assert_eq!(SCHEMES[0], FLOOR);
        assert_eq!(SCHEMES.len(), pageref::SCHEMES.len() + 1);
        for (b, r) in SCHEMES[1..].iter().zip(pageref::SCHEMES) {
            assert_eq!(
                (b.name, b.fails, b.default, b.about, b.word_bits),
                (r.name, r.fails, r.default, r.about, r.word_bits)
            );
            assert!(b.correct);
        }
        for name in ["rcuref", "fileref", "fileref32"] {
            assert!(info(name).is_some_and(|s| s.default), "{name}");
        }
    }

    /// The marks of every report: "NOT a refcount" for the floor only,
    /// "fails sN, ..." exactly for the schemes with known failures.
    #[test]
    fn labels() {
        assert_eq!(FLOOR.label(), "floor (NOT a refcount)");
        for s in &SCHEMES[1..] {
            let want = if s.fails.is_empty() {
                s.name.to_string()
            } else {
                format!("{} (fails {})", s.name, s.fails.join(", "))
            };
            assert_eq!(s.label(), want);
        }
        assert_eq!(label("x", true, &["s04", "s05"]), "x (fails s04, s05)");
        assert_eq!(info("frozen").unwrap().label(), "frozen");
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
