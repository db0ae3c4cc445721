//! Results: the data of a sweep ([`Report`], its [`Row`]s and their
//! ratios), and every way of showing it.
//!
//! * this module: rows, statistics, ratios;
//! * [`text`]: the aligned tables (stdout and Markdown) and the summary;
//! * [`targets`]: the verdicts against the program's targets, and caveats;
//! * [`formats`]: CSV, JSON, the Markdown report;
//! * [`svg`](mod@svg): the plot.

use serde::Serialize;

pub mod formats;
pub mod svg;
pub mod targets;
pub mod text;

pub use formats::{csv, json, markdown};
pub use svg::svg;
pub use targets::{
    arc_verdicts, caveats, fast_read_verdicts, verdict_lines, verdicts, Verdict, TARGETS,
};
pub use text::{legend, summary, tables};

use crate::harness::Tally;
use crate::machine::Machine;
use crate::workloads::{Field, Kind};

/// The scheme name used for the scheme-independent kernel workloads.
pub const KERNEL: &str = "kernel";

/// How the sweep was run (part of every JSON file and Markdown summary).
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The command line as a user would type it (`cargo run --release --
    /// ...`): see [`shown_command`](crate::machine::shown_command).
    pub command: String,
    /// The script that ran this command, if any (`PAGEREF_RUN_BY`, set by
    /// `bench/run-full.sh`).
    pub run_by: Option<String>,
    /// Workload names, in order.
    pub workloads: Vec<String>,
    /// Scheme names, in order.
    pub schemes: Vec<String>,
    /// Thread counts, in order.
    pub threads: Vec<usize>,
    /// Measured runs per point.
    pub runs: usize,
    /// Measured milliseconds per run.
    pub duration_ms: u64,
    /// Unmeasured warm-up milliseconds per run.
    pub warmup_ms: u64,
    /// `--critical` spin steps (work while holding a reference).
    pub critical: u32,
    /// `--parallel` spin steps (work between two gets).
    pub parallel: u32,
    /// `--iterations`: fixed work per point instead of a duration (instruction counting).
    pub iterations: Option<u64>,
    /// The filesystem of the kernel workloads' files, if any ran.
    pub kernel_fs: Option<String>,
}

/// One (workload, scheme, threads) result over all runs.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Workload name.
    pub workload: String,
    /// Scheme name ([`KERNEL`] for the kernel workloads, `std` or `pageref`
    /// for the `arc-*` workloads).
    pub scheme: String,
    /// False for the floor (not a correct refcount) only.
    pub correct_refcount: bool,
    /// The race scenarios the scheme is known to fail (`docs/races.md`).
    pub known_failures: Vec<String>,
    /// Threads measured.
    pub threads: usize,
    /// Runs measured.
    pub runs: usize,
    /// Slowest run, millions of operations per second (all threads together).
    pub mops_min: f64,
    /// Median run.
    pub mops_median: f64,
    /// Fastest run.
    pub mops_max: f64,
    /// Nanoseconds per operation per thread at the median (at 1 thread: the
    /// single-thread cost of one operation, e.g. one try_get + put).
    pub ns_per_op: f64,
    /// Median over the classic scheme's median at the same point.
    pub vs_classic: Option<f64>,
    /// Median over the floor's median at the same point.
    pub vs_floor: Option<f64>,
    /// For `kernel-pread-own`: median over `kernel-pread`'s median.
    pub vs_shared: Option<f64>,
    /// For the `arc-*` workloads: median over std's `Arc`
    /// ([`crate::arc::REFERENCE`]) at the same point.
    pub vs_std: Option<f64>,
    /// Median over the ideal linear scaling of this series' 1-thread median.
    pub of_linear: Option<f64>,
    /// Anomalies and event counts, summed over the runs.
    #[serde(flatten)]
    pub tally: Tally,
}

/// Every result of one sweep, with its context.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The machine and build.
    pub machine: Machine,
    /// How the sweep was run.
    pub config: Config,
    /// One row per (workload, scheme, threads), in sweep order.
    pub rows: Vec<Row>,
}

/// Minimum, median and maximum of `v` (median of an even count: the mean
/// of the middle two). Panics on an empty slice.
pub fn min_median_max(v: &[f64]) -> (f64, f64, f64) {
    assert!(!v.is_empty());
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (s[0], median, s[n - 1])
}

impl Row {
    /// A row from the per-run throughputs (Mops/s) and summed tally; the
    /// ratios are filled in by [`fill_ratios`].
    pub fn new(
        workload: Kind,
        scheme: &str,
        correct: bool,
        fails: &[&str],
        threads: usize,
        mops: &[f64],
        tally: Tally,
    ) -> Row {
        let (min, median, max) = min_median_max(mops);
        Row {
            workload: workload.name().to_string(),
            scheme: scheme.to_string(),
            correct_refcount: correct,
            known_failures: fails.iter().map(|f| f.to_string()).collect(),
            threads,
            runs: mops.len(),
            mops_min: min,
            mops_median: median,
            mops_max: max,
            ns_per_op: threads as f64 * 1e3 / median,
            vs_classic: None,
            vs_floor: None,
            vs_shared: None,
            vs_std: None,
            of_linear: None,
            tally,
        }
    }

    /// The scheme as the reports show it: `floor (NOT a refcount)`,
    /// `rcuref (fails s04, s05)`, `frozen`.
    pub fn label(&self) -> String {
        crate::scheme::label(&self.scheme, self.correct_refcount, &self.known_failures)
    }
}

/// Fills every row's ratios from the other rows of the same sweep.
///
/// A per-scheme row is compared with `classic` (upstream) and `floor` (the
/// limit of one cache line) at the same workload and thread count;
/// `kernel-pread-own` with `kernel-pread`; an `arc-*` row with std's `Arc`
/// ([`Field::Arc`]). A workload whose contestants are not schemes compares
/// with its own reference here.
pub fn fill_ratios(rows: &mut [Row]) {
    let find = |rows: &[Row], w: &str, s: &str, t: usize| -> Option<f64> {
        rows.iter()
            .find(|r| r.workload == w && r.scheme == s && r.threads == t)
            .map(|r| r.mops_median)
    };
    let snapshot = rows.to_vec();
    for r in rows.iter_mut() {
        let ratio = |other: Option<f64>| other.filter(|o| *o > 0.0).map(|o| r.mops_median / o);
        match Kind::parse(&r.workload).map(Kind::field) {
            Some(Field::Schemes) => {
                r.vs_classic = ratio(find(&snapshot, &r.workload, "classic", r.threads));
                r.vs_floor = ratio(find(&snapshot, &r.workload, "floor", r.threads));
            }
            Some(Field::Arc) => {
                let reference = crate::arc::REFERENCE;
                r.vs_std = ratio(find(&snapshot, &r.workload, reference, r.threads));
            }
            Some(Field::Kernel) | None => {}
        }
        if r.workload == Kind::KernelPreadOwn.name() {
            r.vs_shared = ratio(find(&snapshot, Kind::KernelPread.name(), KERNEL, r.threads));
        }
        r.of_linear = find(&snapshot, &r.workload, &r.scheme, 1)
            .filter(|one| *one > 0.0)
            .map(|one| r.mops_median / (one * r.threads as f64));
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub(crate) fn row(w: Kind, s: &str, t: usize, m: f64) -> Row {
        let fails: &[&str] = if s == "rcuref" { &["s04", "s05"] } else { &[] };
        Row::new(
            w,
            s,
            s != "floor",
            fails,
            t,
            &[m * 0.9, m, m * 1.2],
            Tally::default(),
        )
    }

    /// [`sample`] with the `arc-*` workloads at 1, 2 and 4 threads
    /// (arc-upgrade: pageref 1.5x std at 2 threads, 1.2x at 4).
    pub(crate) fn with_arc() -> Report {
        let mut r = sample();
        for (t, std, pageref) in [(1, 40.0, 42.0), (2, 20.0, 30.0), (4, 10.0, 12.0)] {
            r.rows.push(row(Kind::ArcUpgrade, "std", t, std));
            r.rows.push(row(Kind::ArcUpgrade, "pageref", t, pageref));
            r.rows.push(row(Kind::ArcClone, "std", t, 50.0));
            r.rows.push(row(Kind::ArcClone, "pageref", t, 50.0));
        }
        fill_ratios(&mut r.rows);
        r.config
            .workloads
            .extend(["arc-upgrade".into(), "arc-clone".into()]);
        r
    }

    /// [`sample`] with frozen's page-cache read three ways at 1 and 2
    /// threads: `pread` 40 -> 20 Mops/s (it collapses), `pread-fast` 44 ->
    /// 50, `spread` 40 -> 40.
    pub(crate) fn with_fast_read() -> Report {
        let mut r = sample();
        for (t, pread, fast, spread) in [(1, 40.0, 44.0, 40.0), (2, 20.0, 50.0, 40.0)] {
            r.rows.push(row(Kind::Pread, "frozen", t, pread));
            r.rows.push(row(Kind::PreadFast, "frozen", t, fast));
            r.rows.push(row(Kind::Spread, "frozen", t, spread));
        }
        fill_ratios(&mut r.rows);
        r.config
            .workloads
            .extend(["pread".into(), "pread-fast".into(), "spread".into()]);
        r
    }

    /// A small report: getput on three schemes and a scheme with known
    /// failures at 1 and 4 threads, and the kernel pair.
    pub(crate) fn sample() -> Report {
        let mut rows = vec![
            row(Kind::GetPut, "floor", 1, 60.0),
            row(Kind::GetPut, "classic", 1, 50.0),
            row(Kind::GetPut, "frozen", 1, 58.0),
            row(Kind::GetPut, "rcuref", 1, 59.0),
            row(Kind::GetPut, "floor", 4, 30.0),
            row(Kind::GetPut, "classic", 4, 20.0),
            row(Kind::GetPut, "frozen", 4, 29.0),
            row(Kind::GetPut, "rcuref", 4, 28.0),
            row(Kind::KernelPread, KERNEL, 1, 2.8),
            row(Kind::KernelPread, KERNEL, 4, 1.9),
            row(Kind::KernelPreadOwn, KERNEL, 1, 2.5),
            row(Kind::KernelPreadOwn, KERNEL, 4, 12.0),
        ];
        fill_ratios(&mut rows);
        Report {
            machine: Machine::detect(4),
            config: Config {
                command: "cargo run --release -- bench".into(),
                run_by: None,
                workloads: vec!["getput".into(), "kernel-pread".into()],
                schemes: vec![
                    "floor".into(),
                    "classic".into(),
                    "frozen".into(),
                    "rcuref".into(),
                ],
                threads: vec![1, 4],
                runs: 3,
                duration_ms: 100,
                warmup_ms: 10,
                critical: 0,
                parallel: 0,
                iterations: None,
                kernel_fs: Some("tmpfs".into()),
            },
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::sample;
    use super::*;

    #[test]
    fn stats() {
        assert_eq!(min_median_max(&[3.0, 1.0, 2.0]), (1.0, 2.0, 3.0));
        assert_eq!(min_median_max(&[4.0, 1.0, 2.0, 3.0]), (1.0, 2.5, 4.0));
        assert_eq!(min_median_max(&[5.0]), (5.0, 5.0, 5.0));
    }

    #[test]
    fn ratios() {
        let r = sample();
        let get = |w: &str, s: &str, t| {
            r.rows
                .iter()
                .find(|x| x.workload == w && x.scheme == s && x.threads == t)
                .unwrap()
        };
        let f4 = get("getput", "frozen", 4);
        assert!((f4.vs_classic.unwrap() - 29.0 / 20.0).abs() < 1e-9);
        assert!((f4.vs_floor.unwrap() - 29.0 / 30.0).abs() < 1e-9);
        assert!((f4.of_linear.unwrap() - 29.0 / (4.0 * 58.0)).abs() < 1e-9);
        let own4 = get("kernel-pread-own", KERNEL, 4);
        assert!((own4.vs_shared.unwrap() - 12.0 / 1.9).abs() < 1e-9);
        assert!(get("kernel-pread", KERNEL, 4).vs_classic.is_none());
        assert!(get("getput", "frozen", 4).vs_std.is_none());
        assert_eq!(
            get("getput", "rcuref", 1).label(),
            "rcuref (fails s04, s05)"
        );
        assert_eq!(get("getput", "floor", 1).label(), "floor (NOT a refcount)");
    }

    /// An `arc-*` row is compared with std's `Arc` at the same point, and
    /// with neither classic nor the floor.
    #[test]
    fn arc_ratios() {
        let r = super::fixtures::with_arc();
        let get = |w: &str, s: &str, t| {
            r.rows
                .iter()
                .find(|x| x.workload == w && x.scheme == s && x.threads == t)
                .unwrap()
        };
        let p2 = get("arc-upgrade", "pageref", 2);
        assert!((p2.vs_std.unwrap() - 30.0 / 20.0).abs() < 1e-9);
        assert!((get("arc-upgrade", "pageref", 4).vs_std.unwrap() - 1.2).abs() < 1e-9);
        assert!((get("arc-upgrade", "std", 2).vs_std.unwrap() - 1.0).abs() < 1e-9);
        assert!(p2.vs_classic.is_none() && p2.vs_floor.is_none());
        assert!((p2.of_linear.unwrap() - 30.0 / (2.0 * 42.0)).abs() < 1e-9);
    }
}
