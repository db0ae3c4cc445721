//! The catalogue of workloads: the one place that lists them.
//!
//! Each workload is a [`Kind`] with one [`WorkloadInfo`] entry (name,
//! description, plot title, who runs it, whether it frees pages, whether the
//! default sweep runs it) and a [`Workload`](crate::harness::Workload)
//! implementation in a file of its own: [`getput`](crate::getput),
//! [`pagecache`](crate::pagecache), [`kernel`](crate::kernel),
//! [`arc`](crate::arc).
//!
//! Adding a workload:
//!
//! 1. a variant here, in [`Kind::ALL`] and in [`Kind::info`];
//! 2. its `Workload` implementation;
//! 3. its arm in `MeasureScheme::visit` in `sweep.rs` (a per-scheme
//!    workload) or in `sweep.rs`'s `measure` (any other [`Field`]). The
//!    compiler points at each `match` that lacks it.
//!
//! Tables, CSV, JSON, Markdown, the plot and `pageref list` follow from the
//! entry. A workload whose contestants are not refcount schemes gets a new
//! [`Field`] with its own contestant list in `plan.rs`'s `contestants`, its
//! own arm in `sweep.rs`'s `measure`, and, if its table should compare with a
//! reference contestant, a ratio in
//! [`fill_ratios`](crate::report::fill_ratios): [`Field::Arc`] is one (std's
//! `Arc` against pageref's, with a "x std" column).

/// Every workload the sweep knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Every thread try_gets and puts one shared counter.
    GetPut,
    /// The series' benchmark on the page-cache model: 64 bytes at offset 0 of one shared file.
    Pread,
    /// As `Pread`, through `pread_fast`: no reference, validated by the seqcount.
    PreadFast,
    /// Each thread reads its own page (no sharing: the control).
    Spread,
    /// Readers plus a reclaimer/truncator that freeze, evict and refill.
    Churn,
    /// As `Churn`, the readers on `pread_fast` (reports the fallback rate).
    ChurnFast,
    /// `pread(fd, buf, 64, 0)` on one tmpfs file shared by all threads (the running kernel).
    KernelPread,
    /// As `KernelPread`, one file per thread (the no-sharing control).
    KernelPreadOwn,
    /// `Weak::upgrade` + drop of one shared `Weak` (std vs pageref `Arc`).
    ArcUpgrade,
    /// `Arc::clone` + drop of one shared `Arc` (std vs pageref).
    ArcClone,
    /// Upgrades racing the last drop, the object re-created (std vs pageref).
    ArcChurn,
}

/// Who runs a workload: the contestants of its table and its plot panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Every selected scheme (`--schemes`), each monomorphised; the table
    /// compares each with `classic` and with `floor`.
    Schemes,
    /// The running kernel's own refcount: one contestant, `kernel`.
    Kernel,
    /// `Arc` implementations, not page refcounts: `std` and `pageref`
    /// ([`crate::arc::CONTESTANTS`]), whatever `--schemes` says; the table
    /// compares `pageref` with `std`.
    Arc,
}

/// What the program says about a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadInfo {
    /// Command-line and report name.
    pub name: &'static str,
    /// One line for the reports and `pageref list`.
    pub about: &'static str,
    /// A short title for its plot panel.
    pub title: &'static str,
    /// Who runs it.
    pub field: Field,
    /// Whether it frees and freezes pages, so that only correct refcounts
    /// may run it (not the floor, whose get cannot fail).
    pub freezes: bool,
    /// Whether a sweep without `--workloads` runs it.
    pub default: bool,
}

impl Kind {
    /// Every workload, in report order.
    pub const ALL: [Kind; 11] = [
        Kind::GetPut,
        Kind::Pread,
        Kind::PreadFast,
        Kind::Spread,
        Kind::Churn,
        Kind::ChurnFast,
        Kind::KernelPread,
        Kind::KernelPreadOwn,
        Kind::ArcUpgrade,
        Kind::ArcClone,
        Kind::ArcChurn,
    ];

    /// The workload's entry.
    pub const fn info(self) -> &'static WorkloadInfo {
        match self {
            Kind::GetPut => &WorkloadInfo {
                name: "getput",
                about: "every thread try_gets and puts one shared counter (lockhammer style)",
                title: "try_get + put on one shared counter",
                field: Field::Schemes,
                freezes: false,
                default: true,
            },
            Kind::Pread => &WorkloadInfo {
                name: "pread",
                about: "page-cache model: each thread reads 64 bytes at offset 0 of the same file (lookup, try_get, re-check, copy, put)",
                title: "page-cache model, one shared page",
                field: Field::Schemes,
                freezes: false,
                default: true,
            },
            Kind::PreadFast => &WorkloadInfo {
                name: "pread-fast",
                about: "page-cache model: as pread, through pread_fast (no reference: seqcount-validated copy, refcounted fallback)",
                title: "page-cache model, one shared page, no reference",
                field: Field::Schemes,
                freezes: false,
                default: true,
            },
            Kind::Spread => &WorkloadInfo {
                name: "spread",
                about: "page-cache model: each thread reads its own page (no sharing: the control)",
                title: "page-cache model, one page per thread",
                field: Field::Schemes,
                freezes: false,
                default: true,
            },
            Kind::Churn => &WorkloadInfo {
                name: "churn",
                about: "page-cache model: readers, plus one unmeasured reclaimer/truncator thread that freezes, evicts and refills",
                title: "page-cache model with reclaim/truncate",
                field: Field::Schemes,
                freezes: true,
                default: false,
            },
            Kind::ChurnFast => &WorkloadInfo {
                name: "churn-fast",
                about: "page-cache model: churn with the readers on pread_fast (the notes give the fallback rate)",
                title: "reclaim/truncate, readers on pread_fast",
                field: Field::Schemes,
                freezes: true,
                default: false,
            },
            Kind::KernelPread => &WorkloadInfo {
                name: "kernel-pread",
                about: "running kernel: pread(fd, buf, 64, 0) on one shared tmpfs file (will-it-scale pread2)",
                title: "running kernel, one shared file",
                field: Field::Kernel,
                freezes: false,
                default: false,
            },
            Kind::KernelPreadOwn => &WorkloadInfo {
                name: "kernel-pread-own",
                about: "running kernel: pread(fd, buf, 64, 0), one tmpfs file per thread (will-it-scale pread1)",
                title: "running kernel, one file per thread",
                field: Field::Kernel,
                freezes: false,
                default: false,
            },
            Kind::ArcUpgrade => &WorkloadInfo {
                name: "arc-upgrade",
                about: "std vs pageref Arc: every thread upgrades one shared Weak and drops the Arc, while an owner holds a strong reference",
                title: "Weak::upgrade + drop, one shared Weak",
                field: Field::Arc,
                freezes: false,
                default: false,
            },
            Kind::ArcClone => &WorkloadInfo {
                name: "arc-clone",
                about: "std vs pageref Arc: every thread clones one shared Arc and drops the clone",
                title: "Arc::clone + drop, one shared Arc",
                field: Field::Arc,
                freezes: false,
                default: false,
            },
            Kind::ArcChurn => &WorkloadInfo {
                name: "arc-churn",
                about: "std vs pageref Arc: upgrades racing the last drop; each thread re-creates the object every 64 steps",
                title: "upgrades racing the last drop, object re-created",
                field: Field::Arc,
                freezes: false,
                default: false,
            },
        }
    }

    /// Command-line and report name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// One line for the reports.
    pub fn about(self) -> &'static str {
        self.info().about
    }

    /// Who runs it.
    pub fn field(self) -> Field {
        self.info().field
    }

    /// The workloads of a sweep without `--workloads`, in report order.
    pub fn defaults() -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| k.info().default).collect()
    }

    /// The workload named `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The names of every workload, comma-separated.
    pub fn all_names() -> String {
        Kind::ALL.map(|k| k.name()).join(", ")
    }

    /// Whether the workload runs once per scheme (false: the running
    /// kernel's own refcount, and the `arc-*` workloads, whose contestants
    /// are `Arc` implementations).
    pub fn per_scheme(self) -> bool {
        self.field() == Field::Schemes
    }

    /// Whether the workload freezes pages, so that only correct refcounts
    /// may run it (not the floor).
    pub fn freezes(self) -> bool {
        self.info().freezes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
        }
        assert_eq!(Kind::parse("getputs"), None);
        // The default run: the refcount alone, then the page-cache read
        // three ways side by side (one shared page through the refcount,
        // the same page with no reference, one page per thread).
        assert_eq!(
            Kind::defaults(),
            vec![Kind::GetPut, Kind::Pread, Kind::PreadFast, Kind::Spread]
        );
    }

    /// Every entry is complete, and no two workloads share a name.
    #[test]
    fn entries_are_complete() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            let w = k.info();
            assert!(!w.name.is_empty() && !w.about.is_empty() && !w.title.is_empty());
            assert!(
                Kind::ALL[..i].iter().all(|o| o.name() != w.name),
                "{}",
                w.name
            );
        }
    }
}
