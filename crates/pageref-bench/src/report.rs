//! Results: rows, ratios, and every output format (stdout table, CSV, JSON,
//! Markdown summary, SVG plot).

use std::fmt::Write as _;

use serde::Serialize;

use crate::harness::Tally;
use crate::machine::Machine;
use crate::workloads::Kind;

/// The scheme name used for the scheme-independent kernel workloads.
pub const KERNEL: &str = "kernel";

/// How the sweep was run (part of every JSON file and Markdown summary).
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The command line.
    pub command: String,
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
    /// Scheme name ([`KERNEL`] for the kernel workloads).
    pub scheme: String,
    /// False for the floor (not a correct refcount) only.
    pub correct_refcount: bool,
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
        threads: usize,
        mops: &[f64],
        tally: Tally,
    ) -> Row {
        let (min, median, max) = min_median_max(mops);
        Row {
            workload: workload.name().to_string(),
            scheme: scheme.to_string(),
            correct_refcount: correct,
            threads,
            runs: mops.len(),
            mops_min: min,
            mops_median: median,
            mops_max: max,
            ns_per_op: threads as f64 * 1e3 / median,
            vs_classic: None,
            vs_floor: None,
            vs_shared: None,
            of_linear: None,
            tally,
        }
    }
}

/// Fills every row's ratios from the other rows of the same sweep.
pub fn fill_ratios(rows: &mut [Row]) {
    let find = |rows: &[Row], w: &str, s: &str, t: usize| -> Option<f64> {
        rows.iter()
            .find(|r| r.workload == w && r.scheme == s && r.threads == t)
            .map(|r| r.mops_median)
    };
    let snapshot = rows.to_vec();
    for r in rows.iter_mut() {
        let ratio = |other: Option<f64>| other.filter(|o| *o > 0.0).map(|o| r.mops_median / o);
        if r.scheme != KERNEL {
            r.vs_classic = ratio(find(&snapshot, &r.workload, "classic", r.threads));
            r.vs_floor = ratio(find(&snapshot, &r.workload, "floor", r.threads));
        }
        if r.workload == Kind::KernelPreadOwn.name() {
            r.vs_shared = ratio(find(&snapshot, Kind::KernelPread.name(), KERNEL, r.threads));
        }
        r.of_linear = find(&snapshot, &r.workload, &r.scheme, 1)
            .filter(|one| *one > 0.0)
            .map(|one| r.mops_median / (one * r.threads as f64));
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.digits$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{:.0}%", x * 100.0))
}

fn scheme_label(r: &Row) -> String {
    if r.correct_refcount {
        r.scheme.clone()
    } else {
        format!("{} (NOT a refcount)", r.scheme)
    }
}

fn anomalies(t: &Tally) -> String {
    let mut out = Vec::new();
    if t.failed_gets > 0 {
        out.push(format!("BUG: {} failed gets", t.failed_gets));
    }
    if t.bad_puts > 0 {
        out.push(format!("BUG: {} puts reached zero", t.bad_puts));
    }
    if t.bad_frees > 0 {
        out.push(format!("BUG: {} double/bad frees", t.bad_frees));
    }
    if t.short_reads > 0 {
        out.push(format!("BUG: {} short reads", t.short_reads));
    }
    if t.expected_failures + t.retries + t.misses > 0 {
        out.push(format!(
            "failed gets {} retries {} misses {}",
            t.expected_failures, t.retries, t.misses
        ));
    }
    if t.fallbacks > 0 {
        out.push(format!(
            "fast-read fallbacks {} of {} ({:.2}%)",
            t.fallbacks,
            t.fast_reads + t.fallbacks,
            100.0 * t.fallbacks as f64 / (t.fast_reads + t.fallbacks) as f64
        ));
    }
    out.join("; ")
}

/// A simple aligned text table (or Markdown table with `markdown`).
struct Table {
    head: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(cols: &[(&'static str, bool)]) -> Table {
        Table {
            head: cols.iter().map(|c| c.0).collect(),
            right: cols.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    fn render(&self, markdown: bool) -> String {
        let mut w: Vec<usize> = self.head.iter().map(|h| h.len()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if self.right[i] {
                        format!("{c:>width$}", width = w[i])
                    } else {
                        format!("{c:<width$}", width = w[i])
                    }
                })
                .collect();
            if markdown {
                format!("| {} |", parts.join(" | "))
            } else {
                parts.join("  ").trim_end().to_string()
            }
        };
        let mut out = String::new();
        let head: Vec<String> = self.head.iter().map(|s| s.to_string()).collect();
        out.push_str(&line(&head));
        out.push('\n');
        if markdown {
            let sep: Vec<String> = (0..w.len())
                .map(|i| {
                    let d = "-".repeat(w[i].max(3) - 1);
                    if self.right[i] {
                        format!("{d}:")
                    } else {
                        format!(":{d}")
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", sep.join(" | ")));
        }
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// The table of one per-scheme workload.
fn scheme_table(rows: &[&Row], markdown: bool) -> String {
    let mut t = Table::new(&[
        ("threads", true),
        ("scheme", false),
        ("Mops/s", true),
        ("min .. max", true),
        ("ns/op/thread", true),
        ("x classic", true),
        ("x floor", true),
        ("ideal linear (share)", true),
        ("notes", false),
    ]);
    let mut last = None;
    for r in rows {
        let first_of_group = last != Some(r.threads);
        last = Some(r.threads);
        t.rows.push(vec![
            if first_of_group {
                r.threads.to_string()
            } else {
                String::new()
            },
            scheme_label(r),
            format!("{:.2}", r.mops_median),
            format!("{:.2} .. {:.2}", r.mops_min, r.mops_max),
            format!("{:.2}", r.ns_per_op),
            opt(r.vs_classic, 2),
            opt(r.vs_floor, 2),
            r.of_linear.filter(|f| *f > 0.0).map_or_else(
                || "-".into(),
                |f| format!("{:.2} ({})", r.mops_median / f, pct(Some(f))),
            ),
            anomalies(&r.tally),
        ]);
    }
    t.render(markdown)
}

/// The kernel table: shared file against one file per thread, side by side.
fn kernel_table(shared: &[&Row], own: &[&Row], markdown: bool) -> String {
    let mut threads: Vec<usize> = shared.iter().chain(own).map(|r| r.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let mut t = Table::new(&[
        ("threads", true),
        ("shared file Mops/s", true),
        ("min .. max", true),
        ("of linear", true),
        ("file per thread Mops/s", true),
        ("min .. max", true),
        ("of linear", true),
        ("own / shared", true),
        ("notes", false),
    ]);
    for n in threads {
        let s = shared.iter().find(|r| r.threads == n);
        let o = own.iter().find(|r| r.threads == n);
        let cells = |r: Option<&&Row>| -> [String; 3] {
            match r {
                Some(r) => [
                    format!("{:.3}", r.mops_median),
                    format!("{:.3} .. {:.3}", r.mops_min, r.mops_max),
                    pct(r.of_linear),
                ],
                None => ["-".into(), "-".into(), "-".into()],
            }
        };
        let [a, b, c] = cells(s);
        let [d, e, f] = cells(o);
        let notes = [s, o]
            .iter()
            .flatten()
            .map(|r| anomalies(&r.tally))
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        t.rows.push(vec![
            n.to_string(),
            a,
            b,
            c,
            d,
            e,
            f,
            opt(o.and_then(|r| r.vs_shared), 2),
            notes,
        ]);
    }
    t.render(markdown)
}

/// Every table of `report`, as plain text (stdout) or Markdown.
pub fn tables(report: &Report, markdown: bool) -> String {
    let mut out = String::new();
    let h = if markdown { "### " } else { "== " };
    let tail = if markdown { "" } else { " ==" };
    for k in Kind::ALL.into_iter().filter(|k| k.per_scheme()) {
        let rows: Vec<&Row> = report
            .rows
            .iter()
            .filter(|r| r.workload == k.name())
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{h}{}{tail}\n", k.name());
        let _ = writeln!(out, "{}\n", k.about());
        let mut sorted = rows.clone();
        sorted.sort_by_key(|r| r.threads);
        out.push_str(&scheme_table(&sorted, markdown));
        out.push('\n');
    }
    let shared: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.workload == Kind::KernelPread.name())
        .collect();
    let own: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.workload == Kind::KernelPreadOwn.name())
        .collect();
    if !shared.is_empty() || !own.is_empty() {
        let fs = report.config.kernel_fs.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "{h}kernel-pread / kernel-pread-own (the running kernel, Linux {}, files on {fs}){tail}\n",
            report.machine.kernel
        );
        let _ = writeln!(
            out,
            "pread(fd, buf, 64, 0) in a loop; scheme-independent: this is the running kernel's own page refcount.\n"
        );
        out.push_str(&kernel_table(&shared, &own, markdown));
        out.push('\n');
    }
    out.push_str(&crate::arc::tables(report, markdown));
    out
}

/// Legend lines for the schemes that appear in `report`.
pub fn legend(report: &Report) -> String {
    let mut out = String::new();
    for name in &report.config.schemes {
        if let Some(s) = crate::scheme::info(name) {
            let _ = writeln!(out, "- `{}`: {}", s.name, s.about);
        }
    }
    out
}

/// One verdict on a target of the issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// What is checked.
    pub target: String,
    /// `Some(true)` met, `Some(false)` missed, `None` not measurable here.
    pub met: Option<bool>,
    /// The figures behind it.
    pub detail: String,
}

/// Checks the issue's targets for `frozen` on `getput` and `pread`: at
/// least 1.35x classic from 4 threads up, at least 0.95x the floor at every
/// thread count, and within 5% of the floor's single-thread cost.
pub fn verdicts(report: &Report) -> Vec<Verdict> {
    let mut out = Vec::new();
    for w in [Kind::GetPut, Kind::Pread] {
        let frozen: Vec<&Row> = report
            .rows
            .iter()
            .filter(|r| r.workload == w.name() && r.scheme == "frozen")
            .collect();
        if frozen.is_empty() {
            continue;
        }
        let four_up: Vec<&&Row> = frozen.iter().filter(|r| r.threads >= 4).collect();
        let list = |rows: &[&&Row], f: fn(&Row) -> Option<f64>| -> String {
            rows.iter()
                .map(|r| format!("{}t {}", r.threads, opt(f(r), 2)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let all: Vec<&&Row> = frozen.iter().collect();
        let met = |rows: &[&&Row], f: fn(&Row) -> Option<f64>, min: f64| -> Option<bool> {
            let vals: Vec<f64> = rows.iter().filter_map(|r| f(r)).collect();
            (!vals.is_empty()).then(|| vals.iter().all(|v| *v >= min))
        };
        out.push(Verdict {
            target: format!(
                "{}: frozen >= 1.35x classic at every thread count from 4 up",
                w.name()
            ),
            met: met(&four_up, |r| r.vs_classic, 1.35),
            detail: if four_up.is_empty() {
                format!(
                    "no point with 4 or more threads on this {}-core machine; measured: {}",
                    report.machine.cores,
                    list(&all, |r| r.vs_classic)
                )
            } else {
                list(&four_up, |r| r.vs_classic)
            },
        });
        out.push(Verdict {
            target: format!("{}: frozen >= 0.95x floor at every thread count", w.name()),
            met: met(&all, |r| r.vs_floor, 0.95),
            detail: list(&all, |r| r.vs_floor),
        });
        if w == Kind::GetPut {
            let one = |s: &str| {
                report
                    .rows
                    .iter()
                    .find(|r| r.workload == w.name() && r.scheme == s && r.threads == 1)
            };
            let (f, fl) = (one("frozen"), one("floor"));
            out.push(Verdict {
                target: "getput: single-thread try_get+put of frozen within 5% of the floor".into(),
                met: f.zip(fl).map(|(f, fl)| f.ns_per_op <= fl.ns_per_op * 1.05),
                detail: match (f, fl) {
                    (Some(f), Some(fl)) => format!(
                        "frozen {:.2} ns/op, floor {:.2} ns/op ({:+.1}%)",
                        f.ns_per_op,
                        fl.ns_per_op,
                        (f.ns_per_op / fl.ns_per_op - 1.0) * 100.0
                    ),
                    _ => "no 1-thread point for frozen and floor".into(),
                },
            });
        }
    }
    out.extend(fast_read_verdicts(report));
    out
}

/// The fast read's targets, for `frozen`: `pread-fast` at least 0.8x
/// `spread` at every thread count; from 2 threads at least 2x `pread`
/// where the same-page `pread` collapses (its 2-thread throughput below its
/// 1-thread one), else the ratio is reported; at 1 thread no slower than
/// `pread` (within 2%, the run-to-run noise of a point).
fn fast_read_verdicts(report: &Report) -> Vec<Verdict> {
    let at = |w: Kind, t: usize| {
        report
            .rows
            .iter()
            .find(|r| r.workload == w.name() && r.scheme == "frozen" && r.threads == t)
            .map(|r| r.mops_median)
    };
    let mut threads: Vec<usize> = report
        .rows
        .iter()
        .filter(|r| r.workload == Kind::PreadFast.name() && r.scheme == "frozen")
        .map(|r| r.threads)
        .collect();
    threads.sort_unstable();
    if threads.is_empty() {
        return Vec::new();
    }
    let ratios = |w: Kind, ts: &[usize]| -> Vec<(usize, f64)> {
        ts.iter()
            .filter_map(|&t| Some((t, at(Kind::PreadFast, t)? / at(w, t)?)))
            .collect()
    };
    let list = |v: &[(usize, f64)]| {
        v.iter()
            .map(|(t, x)| format!("{t}t {x:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    let vs_spread = ratios(Kind::Spread, &threads);
    out.push(Verdict {
        target: "pread-fast: frozen >= 0.8x spread at every thread count".into(),
        met: (!vs_spread.is_empty()).then(|| vs_spread.iter().all(|(_, x)| *x >= 0.8)),
        detail: if vs_spread.is_empty() {
            "spread not measured".into()
        } else {
            list(&vs_spread)
        },
    });
    let two_up: Vec<usize> = threads.iter().copied().filter(|&t| t >= 2).collect();
    let vs_pread = ratios(Kind::Pread, &two_up);
    let collapses = at(Kind::Pread, 1)
        .zip(at(Kind::Pread, 2))
        .map(|(one, two)| two < one);
    out.push(Verdict {
        target:
            "pread-fast: frozen >= 2x pread from 2 threads, where the same-page pread collapses"
                .into(),
        met: match collapses {
            Some(true) if !vs_pread.is_empty() => Some(vs_pread.iter().all(|(_, x)| *x >= 2.0)),
            _ => None,
        },
        detail: match collapses {
            None => "pread not measured at 1 and 2 threads".into(),
            Some(c) => format!(
                "pread {} from 1 to 2 threads ({:.1} -> {:.1} Mops/s); pread-fast / pread: {}",
                if c { "collapses" } else { "does not collapse" },
                at(Kind::Pread, 1).unwrap_or(0.0),
                at(Kind::Pread, 2).unwrap_or(0.0),
                list(&vs_pread)
            ),
        },
    });
    let one = ratios(Kind::Pread, &[1]);
    out.push(Verdict {
        target: "pread-fast: frozen at 1 thread no slower than pread (within 2%)".into(),
        met: one.first().map(|(_, x)| *x >= 0.98),
        detail: if one.is_empty() {
            "no 1-thread point".into()
        } else {
            list(&one)
        },
    });
    out
}

/// The verdicts as text lines.
pub fn verdict_lines(v: &[Verdict], markdown: bool) -> String {
    let mut out = String::new();
    for x in v {
        let tag = match x.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measurable here",
        };
        if markdown {
            let _ = writeln!(out, "- **{tag}** — {}: {}", x.target, x.detail);
        } else {
            let _ = writeln!(out, "  [{tag}] {}: {}", x.target, x.detail);
        }
    }
    out
}

/// Notes that every report must carry.
pub fn caveats(report: &Report) -> Vec<String> {
    let mut v = Vec::new();
    if report.rows.iter().any(|r| !r.correct_refcount) {
        v.push("`floor` is plain fetch_add/fetch_sub: the physical limit of one shared cache line, NOT a correct refcount (its get cannot fail).".to_string());
    }
    if report.machine.debug_assertions {
        v.push("This binary has debug assertions on (the refcount misuse checks run): numbers are not representative; use --release.".to_string());
    }
    let max_threads = report.config.threads.iter().copied().max().unwrap_or(1);
    if report.machine.cores < 16 {
        v.push(format!(
            "Measured on a {0}-core machine, not the 16-core benchmark machine of the issue: thread counts up to {0} only, so the >= 4-thread targets cannot be judged from these numbers.",
            report.machine.cores
        ));
    }
    if max_threads > report.machine.cores {
        v.push(format!(
            "Thread counts above {} oversubscribe the cores: those points measure time-sharing, not scaling.",
            report.machine.cores
        ));
    }
    if report.config.iterations.is_some() {
        v.push("Fixed-iteration mode (--iterations): single runs without warm-up, for instruction counting; timings include start-up effects.".to_string());
    }
    v
}

/// The CSV text: a header and one line per row, the machine description in
/// every line.
pub fn csv(report: &Report) -> String {
    let mut out = String::from(
        "workload,scheme,correct_refcount,threads,runs,mops_min,mops_median,mops_max,ns_per_op,\
         vs_classic,vs_floor,vs_shared,of_linear,failed_gets,bad_puts,short_reads,bad_frees,\
         expected_failures,retries,misses,critical,parallel,duration_ms,cpu,cores,kernel,profile,\
         debug_assertions,rustc,date\n",
    );
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let o = |v: Option<f64>| v.map_or_else(String::new, |x| format!("{x:.4}"));
    let m = &report.machine;
    for r in &report.rows {
        let t = &r.tally;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{:.4},{:.4},{:.4},{:.3},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.workload,
            r.scheme,
            r.correct_refcount,
            r.threads,
            r.runs,
            r.mops_min,
            r.mops_median,
            r.mops_max,
            r.ns_per_op,
            o(r.vs_classic),
            o(r.vs_floor),
            o(r.vs_shared),
            o(r.of_linear),
            t.failed_gets,
            t.bad_puts,
            t.short_reads,
            t.bad_frees,
            t.expected_failures,
            t.retries,
            t.misses,
            report.config.critical,
            report.config.parallel,
            report.config.duration_ms,
            q(&m.cpu),
            m.cores,
            q(&m.kernel),
            q(&m.profile),
            m.debug_assertions,
            q(&m.rustc),
            m.date
        );
    }
    out
}

/// The pretty-printed JSON text.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report always serialises") + "\n"
}

/// A Markdown summary: machine, method, tables, targets, caveats.
pub fn markdown(report: &Report) -> String {
    let m = &report.machine;
    let c = &report.config;
    let mut out = String::new();
    let _ = writeln!(out, "# pageref benchmark results\n");
    let _ = writeln!(out, "Written by `pageref bench --markdown`; every figure below comes from the CSV/JSON of the same run.\n");
    let _ = writeln!(out, "## Machine\n");
    let _ = writeln!(out, "- CPU: {}", m.cpu);
    let _ = writeln!(
        out,
        "- cores available (threads pinned one per core): {}",
        m.cores
    );
    let _ = writeln!(out, "- kernel: Linux {}", m.kernel);
    let _ = writeln!(
        out,
        "- build: {}{}, {}, {}",
        m.profile,
        if m.debug_assertions {
            " with debug assertions"
        } else {
            ""
        },
        m.rustc,
        m.target
    );
    let _ = writeln!(out, "- date: {}\n", m.date);
    let _ = writeln!(out, "## How it was run\n");
    let _ = writeln!(out, "```sh\n{}\n```\n", c.command);
    let _ = writeln!(
        out,
        "Threads {:?}, pinned to distinct cores and started together on a barrier; {} ms warm-up, then {} ms measured per run; {} runs per point (median reported, min .. max beside it); schemes interleaved at each thread count so that drift hits all of them equally. Delay knobs: --critical {} --parallel {} spin steps. Event counts in the notes column (failed gets, retries, misses) cover whole runs, warm-up included.\n",
        c.threads, c.warmup_ms, c.duration_ms, c.runs, c.critical, c.parallel
    );
    let _ = writeln!(out, "Schemes:\n\n{}", legend(report));
    let notes = caveats(report);
    if !notes.is_empty() {
        let _ = writeln!(out, "## Caveats\n");
        for n in notes {
            let _ = writeln!(out, "- {n}");
        }
        out.push('\n');
    }
    let v = verdicts(report);
    if !v.is_empty() {
        let _ = writeln!(out, "## Targets of the issue\n");
        out.push_str(&verdict_lines(&v, true));
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "## Results (Mops/s = millions of operations per second, all threads together)\n"
    );
    out.push_str(&tables(report, true));
    out
}

/// One labelled series of rows, sorted by threads.
type Series<'a> = (String, Vec<&'a Row>);
/// A panel title and its series.
type Panel<'a> = (String, Vec<Series<'a>>);

/// The SVG plot: one panel per workload, Mops/s (median, with min..max
/// bars) against threads, one line per scheme.
pub fn svg(report: &Report) -> Result<String, String> {
    use plotters::prelude::*;

    let mut panels: Vec<Panel> = Vec::new();
    for k in Kind::ALL.into_iter().filter(|k| k.per_scheme()) {
        let mut series = Vec::new();
        for s in &report.config.schemes {
            let mut rows: Vec<&Row> = report
                .rows
                .iter()
                .filter(|r| r.workload == k.name() && &r.scheme == s)
                .collect();
            rows.sort_by_key(|r| r.threads);
            if !rows.is_empty() {
                let label = if crate::scheme::info(s).is_some_and(|i| !i.correct) {
                    format!("{s} (not a refcount)")
                } else {
                    s.clone()
                };
                series.push((label, rows));
            }
        }
        if !series.is_empty() {
            panels.push((format!("{}: {}", k.name(), short_about(k)), series));
        }
    }
    // The read three ways side by side, for frozen: through the refcount,
    // with no reference, and with no sharing.
    let mut three = Vec::new();
    for (k, label) in [
        (Kind::Pread, "pread (one shared page)"),
        (Kind::PreadFast, "pread-fast (same page, no reference)"),
        (Kind::Spread, "spread (one page per thread)"),
    ] {
        let mut rows: Vec<&Row> = report
            .rows
            .iter()
            .filter(|r| r.workload == k.name() && r.scheme == "frozen")
            .collect();
        rows.sort_by_key(|r| r.threads);
        if !rows.is_empty() {
            three.push((label.to_string(), rows));
        }
    }
    if three.len() > 1 {
        panels.push(("frozen: pread, pread-fast, spread".to_string(), three));
    }
    let mut kernel = Vec::new();
    for (k, label) in [
        (Kind::KernelPread, "one shared file"),
        (Kind::KernelPreadOwn, "one file per thread"),
    ] {
        let mut rows: Vec<&Row> = report
            .rows
            .iter()
            .filter(|r| r.workload == k.name())
            .collect();
        rows.sort_by_key(|r| r.threads);
        if !rows.is_empty() {
            kernel.push((label.to_string(), rows));
        }
    }
    if !kernel.is_empty() {
        panels.push((
            format!(
                "running kernel (Linux {}): pread 64 B at offset 0",
                report.machine.kernel
            ),
            kernel,
        ));
    }
    if panels.is_empty() {
        return Err("nothing to plot".into());
    }
    let cols = if panels.len() > 1 { 2 } else { 1 };
    let nrows = panels.len().div_ceil(cols);
    let (pw, ph) = (640u32, 420u32);
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (pw * cols as u32, ph * nrows as u32 + 40))
            .into_drawing_area();
        let e = |x: DrawingAreaErrorKind<_>| format!("plot: {x}");
        root.fill(&WHITE).map_err(e)?;
        let (title, body) = root.split_vertically(40);
        title
            .titled(
                &format!(
                    "pageref: Mops/s against threads ({}, {} cores, Linux {})",
                    report.machine.cpu, report.machine.cores, report.machine.kernel
                ),
                ("sans-serif", 18),
            )
            .map_err(e)?;
        let areas = body.split_evenly((nrows, cols));
        let max_t = report
            .config
            .threads
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .max(2);
        for ((name, series), area) in panels.iter().zip(areas.iter()) {
            // Chart on the left, legend on the right, so that no line hides.
            let (left, legend) = area.split_horizontally(pw - 170);
            let ymax = series
                .iter()
                .flat_map(|(_, rows)| rows.iter().map(|r| r.mops_max))
                .fold(0.0f64, f64::max)
                .max(1e-6)
                * 1.1;
            let mut chart = ChartBuilder::on(&left)
                .caption(name.as_str(), ("sans-serif", 15))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(55)
                .build_cartesian_2d(0.5f64..(max_t as f64 + 0.5), 0.0f64..ymax)
                .map_err(|x| format!("plot: {x}"))?;
            chart
                .configure_mesh()
                .x_desc("threads")
                .y_desc("Mops/s (median; bars: min..max)")
                .x_labels(max_t.min(16))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(|x| format!("plot: {x}"))?;
            for (i, (label, rows)) in series.iter().enumerate() {
                let color = series_color(label);
                let not_refcount = label.contains("not a refcount");
                let pts: Vec<(f64, f64)> = rows
                    .iter()
                    .map(|r| (r.threads as f64, r.mops_median))
                    .collect();
                if not_refcount {
                    chart
                        .draw_series(DashedLineSeries::new(
                            pts.clone(),
                            6,
                            4,
                            color.stroke_width(2),
                        ))
                        .map_err(|x| format!("plot: {x}"))?;
                } else {
                    chart
                        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                        .map_err(|x| format!("plot: {x}"))?;
                }
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
                    .map_err(|x| format!("plot: {x}"))?;
                chart
                    .draw_series(rows.iter().map(|r| {
                        PathElement::new(
                            vec![
                                (r.threads as f64, r.mops_min),
                                (r.threads as f64, r.mops_max),
                            ],
                            color.stroke_width(1),
                        )
                    }))
                    .map_err(|x| format!("plot: {x}"))?;
                let y = 50 + 22 * i as i32;
                legend
                    .draw(&PathElement::new(
                        vec![(4, y), (28, y)],
                        color.stroke_width(if not_refcount { 1 } else { 3 }),
                    ))
                    .map_err(e)?;
                legend
                    .draw(&Text::new(
                        label.clone(),
                        (34, y - 7),
                        ("sans-serif", 13).into_font().color(&BLACK),
                    ))
                    .map_err(e)?;
            }
        }
        root.present().map_err(e)?;
    }
    Ok(text)
}

/// A fixed colour per scheme (and per kernel series), the same in every
/// panel and every plot; the floor is black and dashed.
fn series_color(label: &str) -> plotters::style::RGBColor {
    use plotters::style::{Color, Palette, RGBColor};
    let name = label.split(' ').next().unwrap_or(label);
    match name {
        "floor" => RGBColor(0, 0, 0),
        "classic" => RGBColor(214, 39, 40),
        "frozen" => RGBColor(31, 119, 180),
        "frozen-posted" => RGBColor(23, 190, 207),
        "optimistic" => RGBColor(255, 127, 14),
        "sticky" => RGBColor(148, 103, 189),
        "lowbit" => RGBColor(44, 160, 44),
        "one" if label.contains("shared") => RGBColor(214, 39, 40),
        "one" => RGBColor(44, 160, 44),
        // The frozen read three ways (one panel): shared, no reference, own page.
        "pread" => RGBColor(214, 39, 40),
        "pread-fast" => RGBColor(31, 119, 180),
        "spread" => RGBColor(44, 160, 44),
        _ => {
            // A scheme added later: a stable pick from its name.
            let h = name
                .bytes()
                .fold(7usize, |h, b| h.wrapping_mul(31) + b as usize);
            let c = plotters::style::Palette99::pick(h).to_rgba();
            RGBColor(c.0, c.1, c.2)
        }
    }
}

fn short_about(k: Kind) -> &'static str {
    match k {
        Kind::GetPut => "try_get + put on one shared counter",
        Kind::Pread => "page-cache model, one shared page",
        Kind::PreadFast => "page-cache model, one shared page, no reference",
        Kind::Spread => "page-cache model, one page per thread",
        Kind::Churn => "page-cache model with reclaim/truncate",
        Kind::ChurnFast => "reclaim/truncate, readers on pread_fast",
        Kind::KernelPread | Kind::KernelPreadOwn => "running kernel",
        Kind::ArcUpgrade | Kind::ArcClone | Kind::ArcChurn => "std vs pageref Arc",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(w: Kind, s: &str, t: usize, m: f64) -> Row {
        Row::new(
            w,
            s,
            s != "floor",
            t,
            &[m * 0.9, m, m * 1.2],
            Tally::default(),
        )
    }

    #[test]
    fn stats() {
        assert_eq!(min_median_max(&[3.0, 1.0, 2.0]), (1.0, 2.0, 3.0));
        assert_eq!(min_median_max(&[4.0, 1.0, 2.0, 3.0]), (1.0, 2.5, 4.0));
        assert_eq!(min_median_max(&[5.0]), (5.0, 5.0, 5.0));
    }

    fn sample() -> Report {
        let mut rows = vec![
            row(Kind::GetPut, "floor", 1, 60.0),
            row(Kind::GetPut, "classic", 1, 50.0),
            row(Kind::GetPut, "frozen", 1, 58.0),
            row(Kind::GetPut, "floor", 4, 30.0),
            row(Kind::GetPut, "classic", 4, 20.0),
            row(Kind::GetPut, "frozen", 4, 29.0),
            row(Kind::KernelPread, KERNEL, 1, 2.8),
            row(Kind::KernelPread, KERNEL, 4, 1.9),
            row(Kind::KernelPreadOwn, KERNEL, 1, 2.5),
            row(Kind::KernelPreadOwn, KERNEL, 4, 12.0),
        ];
        fill_ratios(&mut rows);
        Report {
            machine: Machine::detect(4),
            config: Config {
                command: "pageref bench".into(),
                workloads: vec!["getput".into(), "kernel-pread".into()],
                schemes: vec!["floor".into(), "classic".into(), "frozen".into()],
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

    #[test]
    fn ratios_and_verdicts() {
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
        let v = verdicts(&r);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].met, Some(true)); // 1.45 >= 1.35
        assert_eq!(v[1].met, Some(true)); // 0.967, 0.967 >= 0.95
        assert_eq!(v[2].met, Some(true)); // 58 vs 60 Mops: +3.4% ns/op
        let txt = tables(&r, false);
        assert!(txt.contains("floor (NOT a refcount)"));
        assert!(txt.contains("own / shared"));
        let md = markdown(&r);
        assert!(md.contains("| threads |"));
        assert!(md.contains("NOT a correct refcount"));
    }

    #[test]
    fn missed_targets_are_reported() {
        let mut r = sample();
        for x in r.rows.iter_mut() {
            if x.scheme == "frozen" && x.threads == 4 {
                x.mops_median = 21.0;
            }
        }
        fill_ratios(&mut r.rows);
        let v = verdicts(&r);
        assert_eq!(v[0].met, Some(false));
        assert_eq!(v[1].met, Some(false));
    }

    #[test]
    fn csv_json_svg_shapes() {
        let r = sample();
        let c = csv(&r);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 1 + r.rows.len());
        let ncols = lines[0].split(',').count();
        for l in &lines[1..] {
            // No field here contains a comma except quoted ones; count outside quotes.
            let mut n = 1;
            let mut inq = false;
            for ch in l.chars() {
                match ch {
                    '"' => inq = !inq,
                    ',' if !inq => n += 1,
                    _ => {}
                }
            }
            assert_eq!(n, ncols, "{l}");
        }
        let j: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(j["rows"].as_array().unwrap().len(), r.rows.len());
        assert!(j["machine"]["cpu"].is_string());
        let s = svg(&r).unwrap();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains("classic") && s.contains("one file per thread"));
    }
}
