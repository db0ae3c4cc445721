//! Page contents that say whose they are.
//!
//! Every 8-byte word of a page is a hash of (owner, version, word number),
//! or 0 where a zero range cleared it. A reader that validated a page for
//! (file, index, version, zeroed chunks) can recompute each byte it copied
//! and so detect that it read another incarnation's data, another file's
//! data, or a half-written page. The version is unique per (file, index)
//! (the slot's fill counter), so the stamps of two fills of one index
//! differ; migration copies a page's words, version and zeroed chunks to a
//! new page, which therefore reads the same. A private page of the churn
//! threads uses its generation as its version.

/// `owner` value of a page that belongs to no file (free, or private to an
/// allocation-churn thread).
pub(crate) const NO_OWNER: u64 = u64::MAX;

/// Packs a (file, index) pair into a page's `owner` word.
#[inline]
pub(crate) fn owner(file: u32, index: u32) -> u64 {
    (u64::from(file) << 32) | u64::from(index)
}

/// The splitmix64 finaliser (Steele, Lea, Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014): a cheap bijective mix.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The per-fill seed of a page's stamps.
#[inline]
pub(crate) fn base(owner: u64, version: u32) -> u64 {
    mix(owner ^ mix(u64::from(version) | 0x5a5a_0000_0000_0000))
}

/// Zeroed chunks of a page are a bitmask of 32 chunks of
/// `chunk_words(words_per_page)` words each.
#[inline]
pub(crate) fn chunk_words(words_per_page: usize) -> usize {
    words_per_page.div_ceil(32)
}

/// Word `word` of a page stamped with `base` whose chunks `zeroed` were
/// cleared, with `cw` words per chunk.
#[inline]
pub(crate) fn expected(base: u64, zeroed: u32, cw: usize, word: usize) -> u64 {
    if zeroed & (1 << (word / cw)) != 0 {
        0
    } else {
        self::word(base, word)
    }
}

/// The value of word `word` of a page stamped with `base`.
#[inline]
pub(crate) fn word(base: u64, word: usize) -> u64 {
    mix(base.wrapping_add((word as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

/// The byte at offset `off` of a page stamped with `base`.
#[cfg(test)]
pub(crate) fn byte(base: u64, off: usize) -> u8 {
    word(base, off / 8).to_le_bytes()[off % 8]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stamps of neighbouring incarnations differ in (almost) every word, so
    /// that the byte check cannot miss a swapped page.
    #[test]
    fn stamps_distinguish_owner_and_version() {
        let a = base(owner(1, 2), 3);
        for other in [
            base(owner(1, 3), 3),
            base(owner(2, 2), 3),
            base(owner(1, 2), 4),
            base(NO_OWNER, 3),
        ] {
            let same = (0..512).filter(|&w| word(a, w) == word(other, w)).count();
            assert_eq!(same, 0);
        }
        assert_ne!(word(a, 0), word(a, 1));
    }
}
