//! The command line: `pageref [bench] ...` and `pageref stress ...`.
//!
//! Bad input (an unknown scheme or workload, zero threads, a zero duration,
//! an unwritable output path, an unusable `--file`) ends the program with a
//! one-line message on stderr and exit status 2, before anything is measured.
//! A bug found while measuring (a get that failed where none can, ...) ends
//! it with status 1 after the reports are written.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use pageref::PageRef;

use crate::harness::{run_iterations, run_point, Cores, Sample, Tally, Timing, Workload};
use crate::kernel::{FileSpot, KernelPread};
use crate::machine::Machine;
use crate::model;
use crate::report::{self, Config, Report, Row, KERNEL};
use crate::scheme::{self, with_scheme, SchemeInfo, SchemeVisitor};
use crate::workloads::{GetPut, Kind};

/// Exit status for bad input.
pub const EXIT_USAGE: i32 = 2;
/// Exit status when a run found a bug (a failed get, a violation).
pub const EXIT_BUG: i32 = 1;

/// A one-line error for bad input; exits with [`EXIT_USAGE`].
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// `pageref`: scalability benchmarks of every page-refcount scheme, and the
/// page-cache stress test. Without a subcommand, runs `bench`.
#[derive(Debug, Parser)]
#[command(name = "pageref", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    bench: BenchArgs,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Thread sweeps of every scheme and workload (the default).
    Bench(Box<BenchArgs>),
    /// Hammer the page-cache model with readers, reclaim and truncation,
    /// checking its invariants; exit 1 on any violation.
    Stress(StressArgs),
    /// List the schemes and workloads.
    List,
}

/// Options of `pageref bench`.
#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Workloads, comma-separated, or `all`. [default: getput,pread,pread-fast,spread]
    #[arg(long, visible_alias = "workload", value_name = "LIST")]
    workloads: Option<String>,
    /// Schemes, comma-separated, or `all`. [default: every scheme except the
    /// extra variants (frozen-posted)]
    #[arg(long, visible_alias = "scheme", value_name = "LIST")]
    schemes: Option<String>,
    /// Thread counts, comma-separated. [default: 1, 2, 4, ... up to the cores]
    #[arg(long, value_name = "LIST")]
    threads: Option<String>,
    /// Measured seconds per run.
    #[arg(long, value_name = "SECONDS", default_value = "0.4")]
    duration: String,
    /// Unmeasured warm-up seconds per run.
    #[arg(long, value_name = "SECONDS", default_value = "0.1")]
    warmup: String,
    /// Runs per point (min / median / max are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Spin steps of work while holding the reference (getput).
    #[arg(long, default_value_t = 0)]
    critical: u32,
    /// Spin steps of work between two gets (getput).
    #[arg(long, default_value_t = 0)]
    parallel: u32,
    /// Where kernel-pread creates its files: a directory, or a new file's
    /// path (per-thread files get `.N` appended). Each file is unlinked as
    /// soon as it is open, so nothing is left behind. [default: /dev/shm]
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Write one CSV row per (workload, scheme, threads).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an SVG plot of Mops/s against threads.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Write a Markdown summary (machine, method, tables, targets).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Run exactly N operations per point on one thread instead of a timed
    /// run (for instruction counting under callgrind).
    #[arg(long, value_name = "N", hide = true)]
    iterations: Option<u64>,
    /// Let the floor run the workloads that freeze pages (churn), where it
    /// must be caught double-freeing: a check of the checkers.
    #[arg(long, hide = true)]
    allow_incorrect: bool,
}

/// Options of `pageref stress`.
#[derive(Debug, Args)]
pub struct StressArgs {
    /// The scheme to stress (a correct refcount: not `floor`).
    #[arg(long, default_value = "frozen")]
    scheme: String,
    /// Worker threads.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// How long to run.
    #[arg(long, default_value = "2")]
    seconds: String,
    /// Seed of the workers' random choices. [default: the model's own]
    #[arg(long)]
    seed: Option<u64>,
    /// The readers' path: `fast` (pread_fast, no reference, falling back to
    /// the refcounted read), `refcounted` (pread), or `both` (each read picks
    /// one). Migration and zero range run in every case.
    #[arg(long, default_value = "both", value_name = "fast|both|refcounted")]
    read_path: String,
    /// Allow the floor, which is not a refcount: its get cannot fail, so the
    /// stress test must report violations (a check of the checker).
    #[arg(long, hide = true)]
    allow_incorrect: bool,
}

/// Parses arguments and runs; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.cmd {
        None => bench(&cli.bench),
        Some(Cmd::Bench(b)) => bench(&b),
        Some(Cmd::Stress(s)) => stress(&s),
        Some(Cmd::List) => {
            list();
            Ok(0)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pageref: error: {e}");
            EXIT_USAGE
        }
    }
}

fn list() {
    println!("schemes (--schemes):");
    for s in scheme::SCHEMES {
        println!(
            "  {:<14} {}{}",
            s.name,
            s.about,
            if s.default {
                ""
            } else {
                " [not in the default set]"
            }
        );
    }
    println!("workloads (--workloads):");
    for k in Kind::ALL {
        println!(
            "  {:<17} {}{}",
            k.name(),
            k.about(),
            if Kind::DEFAULT.contains(&k) {
                " [default]"
            } else {
                ""
            }
        );
    }
}

/// Parses a positive number of seconds ("0.5", "2").
fn seconds(opt: &str, s: &str) -> Result<Duration, UsageError> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(Duration::from_secs_f64(v)),
        Ok(v) if v.is_finite() && v == 0.0 => usage(format!("--{opt} must be more than 0 seconds")),
        _ => usage(format!(
            "--{opt} {s:?}: expected a number of seconds in (0, 3600]"
        )),
    }
}

/// The default thread counts: 1, 2, 4, ... up to `cores`, and `cores` itself.
pub fn default_threads(cores: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut t = 1;
    while t < cores {
        v.push(t);
        t *= 2;
    }
    v.push(cores.max(1));
    v
}

fn parse_threads(s: &str) -> Result<Vec<usize>, UsageError> {
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim) {
        match part.parse::<usize>() {
            Ok(0) => return usage("--threads: a thread count must be at least 1"),
            Ok(n) if n <= 4096 => v.push(n),
            _ => {
                return usage(format!(
                    "--threads {s:?}: expected thread counts like 1,2,4"
                ))
            }
        }
    }
    v.dedup();
    Ok(v)
}

fn parse_list<T>(
    opt: &str,
    s: &str,
    all: Vec<T>,
    parse: impl Fn(&str) -> Option<T>,
    names: String,
) -> Result<Vec<T>, UsageError>
where
    T: PartialEq,
{
    if s.trim() == "all" {
        return Ok(all);
    }
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim) {
        match parse(part) {
            Some(x) if !v.contains(&x) => v.push(x),
            Some(_) => {}
            None => return usage(format!("--{opt}: unknown {part:?} (known: {names}, all)")),
        }
    }
    if v.is_empty() {
        return usage(format!("--{opt}: empty list"));
    }
    Ok(v)
}

/// Checks that `path` can be written, without leaving a file behind (an
/// existing file is opened for writing, not truncated).
fn check_writable(opt: &str, path: &Path) -> Result<(), UsageError> {
    let existed = path.exists();
    if path.is_dir() {
        return usage(format!("--{opt} {}: is a directory", path.display()));
    }
    match OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
    {
        Ok(_) => {
            if !existed {
                let _ = std::fs::remove_file(path);
            }
            Ok(())
        }
        Err(e) => usage(format!("--{opt} {}: cannot write: {e}", path.display())),
    }
}

fn write_out(opt: &str, path: &Path, text: &str) -> Result<(), UsageError> {
    std::fs::write(path, text)
        .or_else(|e| usage(format!("--{opt} {}: cannot write: {e}", path.display())))
}

/// One contestant of a group: a workload run with a scheme (or the kernel).
#[derive(Debug, Clone, Copy)]
struct Contestant {
    kind: Kind,
    scheme: Option<&'static SchemeInfo>,
}

impl Contestant {
    fn scheme_name(&self) -> &'static str {
        self.scheme.map_or(KERNEL, |s| s.name)
    }
}

/// Measures one point of a per-scheme workload with the scheme's type.
struct Measure<'a> {
    kind: Kind,
    threads: usize,
    cores: &'a Cores,
    timing: Timing,
    iterations: Option<u64>,
    critical: u32,
    parallel: u32,
}

impl Measure<'_> {
    fn run<W: Workload>(&self, w: &W) -> Sample {
        match self.iterations {
            Some(n) => run_iterations(w, n, self.cores),
            None => run_point(w, self.threads, self.cores, self.timing),
        }
    }
}

impl SchemeVisitor for Measure<'_> {
    type Output = Sample;
    fn visit<R: PageRef + 'static>(self, _info: &'static SchemeInfo) -> Sample {
        match self.kind {
            Kind::GetPut => self.run(&GetPut::<R>::new(self.critical, self.parallel)),
            Kind::Pread => self.run(&model::Pread::<R>::new()),
            Kind::PreadFast => self.run(&model::Pread::<R>::fast()),
            Kind::Spread => self.run(&model::Pread::<R>::per_thread(self.threads)),
            Kind::Churn => self.run(&model::Churn::<R>::new()),
            Kind::ChurnFast => self.run(&model::Churn::<R>::fast()),
            Kind::KernelPread | Kind::KernelPreadOwn => {
                unreachable!("kernel workloads are scheme-independent")
            }
            Kind::ArcUpgrade | Kind::ArcClone | Kind::ArcChurn => {
                unreachable!("arc workloads compare Arc implementations")
            }
        }
    }
}

/// Everything a sweep needs, validated.
struct Plan {
    groups: Vec<Vec<Contestant>>,
    threads: Vec<usize>,
    runs: usize,
    timing: Timing,
    iterations: Option<u64>,
    spot: Option<FileSpot>,
    config: Config,
    notes: Vec<String>,
}

fn plan(a: &BenchArgs, cores: usize) -> Result<Plan, UsageError> {
    let kinds = match &a.workloads {
        Some(s) => parse_list(
            "workloads",
            s,
            Kind::ALL.to_vec(),
            Kind::parse,
            Kind::all_names(),
        )?,
        None => Kind::DEFAULT.to_vec(),
    };
    let schemes: Vec<&'static SchemeInfo> = match &a.schemes {
        Some(s) => parse_list(
            "schemes",
            s,
            scheme::SCHEMES.iter().collect(),
            scheme::info,
            scheme::all_names(),
        )?,
        None => scheme::SCHEMES.iter().filter(|s| s.default).collect(),
    };
    let duration = seconds("duration", &a.duration)?;
    let warmup = seconds("warmup", &a.warmup)?;
    if a.runs == 0 {
        return usage("--runs must be at least 1");
    }
    if a.iterations == Some(0) {
        return usage("--iterations must be at least 1");
    }
    let threads = match &a.threads {
        Some(s) => parse_threads(s)?,
        None if a.iterations.is_some() => vec![1],
        None => default_threads(cores),
    };
    if a.iterations.is_some() && threads != [1] {
        return usage("--iterations runs one thread: use --threads 1");
    }
    for (opt, p) in [
        ("csv", &a.csv),
        ("json", &a.json),
        ("plot", &a.plot),
        ("markdown", &a.markdown),
    ] {
        if let Some(p) = p {
            check_writable(opt, p)?;
        }
    }
    let mut notes = Vec::new();
    let kernel: Vec<Kind> = kinds.iter().copied().filter(|k| k.is_kernel()).collect();
    let spot = if kernel.is_empty() {
        if a.file.is_some() {
            notes.push("note: --file is only used by kernel-pread and kernel-pread-own".into());
        }
        None
    } else {
        let spot = FileSpot::check(a.file.as_deref()).map_err(UsageError)?;
        notes.extend(spot.warning.clone());
        Some(spot)
    };
    let mut groups = Vec::new();
    for k in kinds.iter().copied().filter(|k| k.per_scheme()) {
        let mut g = Vec::new();
        for s in &schemes {
            if k.freezes() && !s.correct && !a.allow_incorrect {
                notes.push(format!(
                    "note: {} is skipped for {}: it is not a refcount (its get cannot fail), and {} freezes pages",
                    s.name,
                    k.name(),
                    k.name()
                ));
                continue;
            }
            g.push(Contestant {
                kind: k,
                scheme: Some(s),
            });
        }
        if !g.is_empty() {
            groups.push(g);
        }
    }
    for k in kinds.iter().copied().filter(|k| k.is_arc()) {
        groups.push(
            crate::arc::CONTESTANTS
                .iter()
                .map(|s| Contestant {
                    kind: k,
                    scheme: Some(s),
                })
                .collect(),
        );
    }
    if !kernel.is_empty() {
        groups.push(
            kernel
                .iter()
                .map(|&k| Contestant {
                    kind: k,
                    scheme: None,
                })
                .collect(),
        );
    }
    if threads.iter().any(|&t| t > cores) {
        notes.push(format!(
            "warning: only {cores} cores: thread counts above {cores} share cores (time-slicing, not scaling)"
        ));
    }
    if cfg!(debug_assertions) {
        notes.push(
            "warning: debug build (misuse checks on): run with --release for meaningful numbers"
                .into(),
        );
    }
    let runs = if a.iterations.is_some() { 1 } else { a.runs };
    let config = Config {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        workloads: kinds.iter().map(|k| k.name().to_string()).collect(),
        schemes: schemes.iter().map(|s| s.name.to_string()).collect(),
        threads: threads.clone(),
        runs,
        duration_ms: duration.as_millis() as u64,
        warmup_ms: warmup.as_millis() as u64,
        critical: a.critical,
        parallel: a.parallel,
        iterations: a.iterations,
        kernel_fs: spot.as_ref().map(|s| s.fs_type.clone()),
    };
    Ok(Plan {
        groups,
        threads,
        runs,
        timing: Timing { warmup, duration },
        iterations: a.iterations,
        spot,
        config,
        notes,
    })
}

fn measure(
    c: Contestant,
    threads: usize,
    plan: &Plan,
    a: &BenchArgs,
    cores: &Cores,
) -> Result<Sample, UsageError> {
    match c.scheme {
        Some(s) if c.kind.is_arc() => Ok(crate::arc::measure(
            c.kind,
            s.name,
            threads,
            cores,
            plan.timing,
            plan.iterations,
        )),
        Some(s) => Ok(with_scheme(
            s.name,
            Measure {
                kind: c.kind,
                threads,
                cores,
                timing: plan.timing,
                iterations: plan.iterations,
                critical: a.critical,
                parallel: a.parallel,
            },
        )
        .expect("schemes were validated")),
        None => {
            let spot = plan.spot.as_ref().expect("checked in plan()");
            let own = c.kind == Kind::KernelPreadOwn;
            let handles = spot.create(own, threads).map_err(UsageError)?;
            let w = KernelPread::new(handles);
            Ok(match plan.iterations {
                Some(n) => run_iterations(&w, n, cores),
                None => run_point(&w, threads, cores, plan.timing),
            })
        }
    }
}

/// `pageref bench`: returns the exit status.
pub fn bench(a: &BenchArgs) -> Result<i32, UsageError> {
    let cores = Cores::detect();
    let plan = plan(a, cores.count())?;
    for n in &plan.notes {
        eprintln!("{n}");
    }
    let machine = Machine::detect(cores.count());
    let total: usize =
        plan.groups.iter().map(Vec::len).sum::<usize>() * plan.threads.len() * plan.runs;
    let pb = indicatif::ProgressBar::new(total as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:20} {pos}/{len} points, ~{eta} left: {msg}")
            .expect("static template"),
    );
    let mut rows = Vec::new();
    // Schemes are interleaved at each thread count: run r of every scheme,
    // then run r + 1 of every scheme, so that drift (thermal, frequency,
    // other load) spreads over all of them equally.
    for group in &plan.groups {
        for &t in &plan.threads {
            let mut mops: Vec<Vec<f64>> = vec![Vec::new(); group.len()];
            let mut tallies = vec![Tally::default(); group.len()];
            for run in 0..plan.runs {
                for (i, c) in group.iter().enumerate() {
                    pb.set_message(format!(
                        "{} {} {}t run {}/{}",
                        c.kind.name(),
                        c.scheme_name(),
                        t,
                        run + 1,
                        plan.runs
                    ));
                    let s = measure(*c, t, &plan, a, &cores)?;
                    mops[i].push(s.mops());
                    tallies[i].add(&s.tally);
                    pb.inc(1);
                }
            }
            for (i, c) in group.iter().enumerate() {
                rows.push(Row::new(
                    c.kind,
                    c.scheme_name(),
                    c.scheme.is_none_or(|s| s.correct),
                    t,
                    &mops[i],
                    tallies[i],
                ));
            }
        }
    }
    pb.finish_and_clear();
    report::fill_ratios(&mut rows);
    let report = Report {
        machine,
        config: plan.config,
        rows,
    };
    print!("{}", summary(&report));
    if let Some(p) = &a.csv {
        write_out("csv", p, &report::csv(&report))?;
    }
    if let Some(p) = &a.json {
        write_out("json", p, &report::json(&report))?;
    }
    if let Some(p) = &a.markdown {
        write_out("markdown", p, &report::markdown(&report))?;
    }
    if let Some(p) = &a.plot {
        let svg = report::svg(&report).map_err(UsageError)?;
        write_out("plot", p, &svg)?;
    }
    let bugs: u64 = report.rows.iter().map(|r| r.tally.bugs()).sum();
    if bugs > 0 {
        eprintln!("pageref: {bugs} anomalies that are bugs were counted (see the notes column)");
        return Ok(EXIT_BUG);
    }
    Ok(0)
}

/// The text printed on stdout after a sweep.
pub fn summary(report: &Report) -> String {
    let mut out = format!("pageref bench on {}\n", report.machine.one_line());
    out.push_str(&format!(
        "{} runs per point, {} ms each after {} ms warm-up; Mops/s = millions of operations per second, all threads together (median of the runs)\n\n",
        report.config.runs, report.config.duration_ms, report.config.warmup_ms
    ));
    out.push_str(&report::tables(report, false));
    let v = report::verdicts(report);
    if !v.is_empty() {
        out.push_str("targets (issue: frozen >= 1.35x classic from 4 threads, >= 0.95x floor, 1-thread within 5% of floor):\n");
        out.push_str(&report::verdict_lines(&v, false));
        out.push('\n');
    }
    let arc = crate::arc::verdict_lines(report);
    if !arc.is_empty() {
        out.push_str("targets (issue 11: pageref::sync::Arc against std's):\n");
        out.push_str(&arc);
        out.push('\n');
    }
    for c in report::caveats(report) {
        out.push_str(&format!("note: {c}\n"));
    }
    out
}

/// `pageref stress`: returns the exit status.
pub fn stress(a: &StressArgs) -> Result<i32, UsageError> {
    let info = scheme::info(&a.scheme).ok_or_else(|| {
        UsageError(format!(
            "--scheme: unknown {:?} (known: {})",
            a.scheme,
            scheme::all_names()
        ))
    })?;
    if !info.correct && !a.allow_incorrect {
        return usage(format!(
            "--scheme {}: not a refcount (its get cannot fail); stress needs a correct scheme",
            info.name
        ));
    }
    if a.threads == 0 {
        return usage("--threads must be at least 1");
    }
    let duration = seconds("seconds", &a.seconds)?;
    let read_path = pageref_mm::stress::ReadPath::from_name(&a.read_path).ok_or_else(|| {
        UsageError(format!(
            "--read-path: unknown {:?} (known: fast, both, refcounted)",
            a.read_path
        ))
    })?;
    let (line, violations) = model::stress(info.name, a.threads, duration, a.seed, read_path)
        .expect("scheme was validated");
    println!("{line}");
    Ok(if violations > 0 { EXIT_BUG } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_lists() {
        assert_eq!(default_threads(1), vec![1]);
        assert_eq!(default_threads(2), vec![1, 2]);
        assert_eq!(default_threads(16), vec![1, 2, 4, 8, 16]);
        assert_eq!(default_threads(12), vec![1, 2, 4, 8, 12]);
        assert_eq!(parse_threads("1, 2,4").unwrap(), vec![1, 2, 4]);
        assert!(parse_threads("0").is_err());
        assert!(parse_threads("1,x").is_err());
        assert!(parse_threads("").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(seconds("d", "0.5").unwrap(), Duration::from_millis(500));
        assert!(seconds("d", "0").is_err());
        assert!(seconds("d", "-1").is_err());
        assert!(seconds("d", "nan").is_err());
        assert!(seconds("d", "1s").is_err());
    }
}
