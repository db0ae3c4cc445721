//! The shape of a page cache, the names of its files, and the read path's
//! counters.

/// The shape of a [`PageCache`](crate::PageCache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Number of files.
    pub files: usize,
    /// Pages (index slots) per file.
    pub pages_per_file: usize,
    /// Pages in the arena (the machine's memory).
    pub arena_pages: usize,
    /// Bytes per page; a positive multiple of 8.
    pub page_size: usize,
}

impl Default for CacheConfig {
    /// 4 files of 16 pages of 4 KiB, over an arena of 128 pages (twice the
    /// files' size, so that nothing needs reclaiming to fill them).
    fn default() -> Self {
        CacheConfig {
            files: 4,
            pages_per_file: 16,
            arena_pages: 128,
            page_size: 4096,
        }
    }
}

impl CacheConfig {
    /// Checks the configuration; `Err` holds a one-line reason.
    pub fn validate(&self) -> Result<(), String> {
        if self.files == 0 || self.files > u32::MAX as usize {
            return Err(format!("files must be in 1..=2^32-1, got {}", self.files));
        }
        if self.pages_per_file == 0 || self.pages_per_file > u32::MAX as usize {
            return Err(format!(
                "pages_per_file must be in 1..=2^32-1, got {}",
                self.pages_per_file
            ));
        }
        if self.arena_pages == 0 || self.arena_pages >= u32::MAX as usize {
            return Err(format!(
                "arena_pages must be in 1..2^32-1, got {}",
                self.arena_pages
            ));
        }
        if self.page_size == 0 || !self.page_size.is_multiple_of(8) {
            return Err(format!(
                "page_size must be a positive multiple of 8, got {}",
                self.page_size
            ));
        }
        if self
            .arena_pages
            .checked_mul(self.page_size)
            .is_none_or(|b| b > 1 << 34)
        {
            return Err("arena_pages * page_size must stay below 16 GiB".to_string());
        }
        Ok(())
    }
}

/// A file of a [`PageCache`](crate::PageCache): `0 .. CacheConfig::files`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId(pub u32);

/// Counters of the read paths, kept by the caller (one per thread).
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadStats {
    /// Pages found cached and pinned.
    pub hits: u64,
    /// Pages found missing (each followed by a fill attempt).
    pub misses: u64,
    /// `try_get`s that failed (page frozen or free): the lookup retried.
    pub failed_gets: u64,
    /// Lookups retried after a re-check mismatch, or fills that lost the
    /// race to another filler.
    pub retries: u64,
    /// Reads that [`pread_fast`](crate::PageCache::pread_fast) completed
    /// without a reference.
    pub fast: u64,
    /// Reads that `pread_fast` tried and handed to the refcounted read: a
    /// writer was active or finished during the copy, or the page was not
    /// cached. (Reads that cannot take the fast path at all, longer than
    /// [`FAST_READ_MAX`](crate::FAST_READ_MAX) or crossing a page, go to the
    /// refcounted read without being counted.)
    pub fallbacks: u64,
}

impl ReadStats {
    /// Adds `o`'s counters to these.
    pub fn add(&mut self, o: &ReadStats) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.failed_gets += o.failed_gets;
        self.retries += o.retries;
        self.fast += o.fast;
        self.fallbacks += o.fallbacks;
    }
}
