//! From the command line to a validated [`Plan`]: who runs which workload at
//! which thread counts, how long, and where the results go.
//!
//! Everything the user can get wrong is caught here, before anything is
//! measured: each problem is one [`UsageError`] line (exit status 2).

use std::fs::OpenOptions;
use std::path::Path;
use std::time::Duration;

use crate::cli::BenchArgs;
use crate::kernel::FileSpot;
use crate::report::{Config, KERNEL};
use crate::scheme::{self, SchemeInfo};
use crate::workloads::{Field, Kind};

/// A one-line error for bad input; the program exits with status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Err(UsageError(msg))`.
pub fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Parses a positive number of seconds ("0.5", "2").
pub fn seconds(opt: &str, s: &str) -> Result<Duration, UsageError> {
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

/// The most thread counts a point may have (`--threads`).
pub const MAX_THREADS: usize = 4096;
/// The most runs per point (`--runs`): keeps [`Plan::point_runs`] and the
/// estimate far from overflowing.
pub const MAX_RUNS: usize = 1000;

/// Parses `--threads`: positive counts up to [`MAX_THREADS`], each once (a
/// count given twice would be measured twice, as two rows of one point).
fn parse_threads(s: &str) -> Result<Vec<usize>, UsageError> {
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim) {
        match part.parse::<usize>() {
            Ok(0) => return usage("--threads: a thread count must be at least 1"),
            Ok(n) if v.contains(&n) => {
                return usage(format!("--threads {s:?}: {n} is given twice"))
            }
            Ok(n) if n <= MAX_THREADS => v.push(n),
            _ => {
                let max = MAX_THREADS;
                return usage(format!(
                    "--threads {s:?}: expected counts like 1,2,4, each at most {max}"
                ));
            }
        }
    }
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
    if s.split(',').any(|part| part.trim() == "all") {
        return usage(format!(
            "--{opt} {s:?}: `all` must be alone (it already names every one)"
        ));
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

/// One contestant of a group: a workload run by a scheme, or by whatever a
/// [`Field`] other than schemes names (the running kernel, an `Arc`
/// implementation).
#[derive(Debug, Clone, Copy)]
pub struct Contestant {
    /// The workload.
    pub kind: Kind,
    /// The name in the reports ("frozen", "kernel", "std").
    pub name: &'static str,
    /// The scheme, for [`Field::Schemes`].
    pub scheme: Option<&'static SchemeInfo>,
}

impl Contestant {
    /// Whether it is a refcount (false for the floor only).
    pub fn correct(&self) -> bool {
        self.scheme.is_none_or(|s| s.correct)
    }

    /// The race scenarios it is known to fail.
    pub fn fails(&self) -> &'static [&'static str] {
        self.scheme.map_or(&[], |s| s.fails)
    }
}

/// The contestants of workload `k`, with the notes on any left out.
fn contestants(
    k: Kind,
    schemes: &[&'static SchemeInfo],
    allow_incorrect: bool,
    notes: &mut Vec<String>,
) -> Vec<Contestant> {
    match k.field() {
        Field::Schemes => schemes
            .iter()
            .filter(|s| {
                let skip = k.freezes() && !s.correct && !allow_incorrect;
                if skip {
                    notes.push(format!(
                        "note: {} is skipped for {}: it is not a refcount (its get cannot fail), and {} freezes pages",
                        s.name,
                        k.name(),
                        k.name()
                    ));
                }
                !skip
            })
            .map(|&s| Contestant {
                kind: k,
                name: s.name,
                scheme: Some(s),
            })
            .collect(),
        Field::Kernel => vec![Contestant {
            kind: k,
            name: KERNEL,
            scheme: None,
        }],
        // Both Arc implementations, always: `--schemes` names page refcounts.
        Field::Arc => crate::arc::CONTESTANTS
            .iter()
            .map(|a| Contestant {
                kind: k,
                name: a.name,
                scheme: None,
            })
            .collect(),
    }
}

/// Everything a sweep needs, validated.
#[derive(Debug)]
pub struct Plan {
    /// Groups of contestants measured side by side (interleaved) at each
    /// thread count: one group per per-scheme or `arc-*` workload, one for
    /// the kernel workloads together.
    pub groups: Vec<Vec<Contestant>>,
    /// Thread counts, in order.
    pub threads: Vec<usize>,
    /// Runs per point.
    pub runs: usize,
    /// Warm-up and measured time of each run.
    pub timing: crate::harness::Timing,
    /// `--iterations`: fixed work on one thread instead of timed runs.
    pub iterations: Option<u64>,
    /// Where the kernel workloads' files go, if any runs.
    pub spot: Option<FileSpot>,
    /// What the reports say about the run.
    pub config: Config,
    /// Notes and warnings for stderr.
    pub notes: Vec<String>,
}

impl Plan {
    /// Measured runs in all: contestants x thread counts x runs.
    pub fn point_runs(&self) -> usize {
        self.groups.iter().map(Vec::len).sum::<usize>() * self.threads.len() * self.runs
    }

    /// The time the sweep should take, in seconds: every run is a warm-up
    /// plus a measured duration (`None` in the untimed `--iterations` mode).
    pub fn estimate_secs(&self) -> Option<f64> {
        self.iterations.is_none().then(|| {
            self.point_runs() as f64 * (self.timing.warmup + self.timing.duration).as_secs_f64()
        })
    }

    /// The estimate as one line: `estimate: 108 runs x 0.40 s = 43 s`.
    /// `bench/run-full.sh` reads the figure after `=`.
    pub fn estimate_line(&self) -> String {
        match self.estimate_secs() {
            Some(s) => format!(
                "estimate: {} runs x {:.2} s = {:.0} s ({})",
                self.point_runs(),
                (self.timing.warmup + self.timing.duration).as_secs_f64(),
                s,
                minutes(s)
            ),
            None => format!(
                "estimate: {} untimed runs of {} operations (--iterations)",
                self.point_runs(),
                self.iterations.unwrap_or(0)
            ),
        }
    }

    /// What `--dry-run` prints: the contestants of each workload, the thread
    /// counts and timing, and the estimate.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for g in &self.groups {
            let mut kinds: Vec<Kind> = g.iter().map(|c| c.kind).collect();
            kinds.dedup();
            for k in kinds {
                let names: Vec<String> = g
                    .iter()
                    .filter(|c| c.kind == k)
                    .map(|c| scheme::label(c.name, c.correct(), c.fails()))
                    .collect();
                out.push_str(&format!(
                    "plan: {}: {} ({})\n",
                    k.name(),
                    names.join(", "),
                    names.len()
                ));
            }
        }
        let t: Vec<String> = self.threads.iter().map(usize::to_string).collect();
        out.push_str(&format!(
            "plan: threads {}; {} runs per point; {} s warm-up + {} s measured per run\n",
            t.join(","),
            self.runs,
            self.timing.warmup.as_secs_f64(),
            self.timing.duration.as_secs_f64()
        ));
        out.push_str(&self.estimate_line());
        out.push('\n');
        out
    }
}

/// `s` seconds as "4 min 37 s" (or "43 s").
pub fn minutes(s: f64) -> String {
    let s = s.round() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// Validates `a` on a machine with `cores` cores.
pub fn plan(a: &BenchArgs, cores: usize) -> Result<Plan, UsageError> {
    let kinds = match &a.workloads {
        Some(s) => parse_list(
            "workloads",
            s,
            Kind::ALL.to_vec(),
            Kind::parse,
            Kind::all_names(),
        )?,
        None => Kind::defaults(),
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
    if a.runs > MAX_RUNS {
        return usage(format!("--runs must be at most {MAX_RUNS}"));
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
    let kernel: Vec<Kind> = kinds
        .iter()
        .copied()
        .filter(|k| k.field() == Field::Kernel)
        .collect();
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
    for k in kinds.iter().copied().filter(|k| k.field() != Field::Kernel) {
        let g = contestants(k, &schemes, a.allow_incorrect, &mut notes);
        if !g.is_empty() {
            groups.push(g);
        }
    }
    // The kernel workloads form one group, so that the shared file and the
    // file-per-thread runs interleave and drift hits both alike.
    let g: Vec<Contestant> = kernel
        .iter()
        .flat_map(|&k| contestants(k, &schemes, a.allow_incorrect, &mut notes))
        .collect();
    if !g.is_empty() {
        groups.push(g);
    }
    if groups.is_empty() {
        // Only schemes that are not refcounts, on workloads that free pages.
        let names: Vec<&str> = schemes.iter().map(|s| s.name).collect();
        let kinds: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        return usage(format!(
            "nothing to run: {} is not a refcount and is skipped for {} (they free pages); add a correct scheme",
            names.join(", "),
            kinds.join(", ")
        ));
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
        command: crate::machine::shown_command(&std::env::args().collect::<Vec<_>>()),
        run_by: std::env::var("PAGEREF_RUN_BY")
            .ok()
            .filter(|s| !s.trim().is_empty()),
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
        timing: crate::harness::Timing { warmup, duration },
        iterations: a.iterations,
        spot,
        config,
        notes,
    })
}

#[cfg(test)]
mod tests;
