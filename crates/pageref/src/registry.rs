//! The one list of schemes: [`for_each_scheme!`](crate::for_each_scheme)
//! and [`SCHEMES`].
//!
//! Every program that runs "all the schemes" — the benchmark, the divan
//! benches, the loom and shuttle models, the page-cache stress test, the
//! core tests — takes them from here. Adding a scheme is one line below,
//! plus its own file and its own tests.
//!
//! Each entry says which race scenarios (`docs/races.md`, numbered `s01` to
//! `s13`) the scheme is known to **fail**: a scheme that fails one keeps its
//! place everywhere, marked "fails sN", and the model checkers assert that
//! it fails exactly there (a counterexample is a finding, not a defect).

/// Calls `$callback!` once with every scheme, in report order.
///
/// ```text
/// pageref::for_each_scheme!(my_macro, W32, W64, extra tokens...);
/// ```
///
/// expands to
///
/// ```text
/// my_macro! { [extra tokens...]
///     classic "classic" (pageref::ClassicRef<W32>) { fails: [], default: true, about: "..." }
///     frozen "frozen" (pageref::FrozenRef<W32>) { ... }
///     ...
/// }
/// ```
///
/// where `W32` and `W64` are the 32- and 64-bit [`AtomicWord`](crate::AtomicWord)s
/// to instantiate the schemes with (`core`'s, loom's, shuttle's, a tracing
/// wrapper...). A callback that needs only the types matches each entry as
/// `$id:ident $name:literal ($ty:ty) $info:tt`.
#[macro_export]
macro_rules! for_each_scheme {
    ($callback:ident, $w32:ty, $w64:ty $(, $($extra:tt)*)?) => {
        $callback! { [$($($extra)*)?]
            classic "classic" ($crate::ClassicRef<$w32>) {
                fails: [], default: true,
                about: "upstream: zero means dead, try_get is a load + CAS loop (add unless zero)"
            }
            frozen "frozen" ($crate::FrozenRef<$w32>) {
                fails: [], default: true,
                about: "the series' frozen bit: try_get is one fetch_add (add unless frozen), acquire final CAS"
            }
            frozen_posted "frozen-posted" ($crate::FrozenRef<$w32, $crate::RelaxedFinal>) {
                fails: ["s01", "s03", "s05", "s07", "s09", "s10"], default: false,
                about: "frozen bit with the final 0 -> FROZEN CAS relaxed, as posted (a C11 data race)"
            }
            optimistic "optimistic" ($crate::OptimisticRef<$w32>) {
                fails: [], default: true,
                about: "Torvalds' review: CAS guessing the count is 1, then the classic loop with the value it returned"
            }
            sticky "sticky" ($crate::StickyRef<$w32>) {
                fails: [], default: true,
                about: "sticky counter with helping (Anderson, Blelloch, Wei, PLDI 2022): fetch_add get, zero + help flags"
            }
            lowbit "lowbit" ($crate::LowBitRef<$w32>) {
                fails: [], default: true,
                about: "low-bit dead flag (Parkinson, Clebsch, Simner, ISMM 2023): count << 1, get = fetch_add(2)"
            }
            rcuref "rcuref" ($crate::RcuRef<$w32>) {
                fails: ["s03", "s04", "s05"], default: true,
                about: "kernel rcuref_t: biased count, relaxed fetch_add get, a failed get stores DEAD back"
            }
            fileref "fileref" ($crate::FileRef<$w64>) {
                fails: [], default: true,
                about: "kernel file_ref_t: rcuref's zones on a 64-bit word, fully ordered, no garbage reset"
            }
            fileref32 "fileref32" ($crate::FileRef<$w32>) {
                fails: ["s08"], default: true,
                about: "file_ref_t on a 32-bit word: no garbage reset, so failed gets can wrap a dead word to live"
            }
        }
    };
}

/// What the reports say about a scheme: one entry of
/// [`for_each_scheme!`](crate::for_each_scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeInfo {
    /// Command-line and report name ("frozen", "frozen-posted", ...).
    pub name: &'static str,
    /// The race scenarios of `docs/races.md` it is known to fail ("s05").
    pub fails: &'static [&'static str],
    /// Whether a benchmark run without `--schemes` includes it.
    pub default: bool,
    /// One line for the reports.
    pub about: &'static str,
    /// [`PageRef::MAX_COUNT`](crate::PageRef::MAX_COUNT).
    pub max_count: u32,
    /// [`PageRef::WORD_BITS`](crate::PageRef::WORD_BITS).
    pub word_bits: u32,
    /// [`PageRef::ZERO_IS_FINAL`](crate::PageRef::ZERO_IS_FINAL).
    pub zero_is_final: bool,
}

impl SchemeInfo {
    /// Whether the scheme is known to fail scenario `s` ("s05").
    pub fn fails(&self, s: &str) -> bool {
        self.fails.contains(&s)
    }
}

macro_rules! scheme_infos {
    ([] $($id:ident $name:literal ($ty:ty) {
        fails: [$($f:literal),*], default: $d:literal, about: $about:literal
    })*) => {
        /// Every scheme, in report order (the same list as
        /// [`for_each_scheme!`](crate::for_each_scheme)).
        pub const SCHEMES: &[SchemeInfo] = &[$(SchemeInfo {
            name: $name,
            fails: &[$($f),*],
            default: $d,
            about: $about,
            max_count: <$ty as $crate::PageRef>::MAX_COUNT,
            word_bits: <$ty as $crate::PageRef>::WORD_BITS,
            zero_is_final: <$ty as $crate::PageRef>::ZERO_IS_FINAL,
        }),*];
    };
}

crate::for_each_scheme!(
    scheme_infos,
    core::sync::atomic::AtomicU32,
    core::sync::atomic::AtomicU64
);

/// The scheme named `name`.
pub fn info(name: &str) -> Option<&'static SchemeInfo> {
    SCHEMES.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `info` finds each scheme by its own name, and nothing by another.
    #[test]
    fn info_finds_each_scheme_by_name() {
        for s in SCHEMES {
            assert_eq!(info(s.name).map(|i| i.name), Some(s.name));
        }
        assert!(info("no-such-scheme").is_none());
    }
}
