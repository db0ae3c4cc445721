//! The command line: `pageref [bench] ...`, `pageref stress ...`,
//! `pageref list`.
//!
//! Validation is in [`plan`](crate::plan), the measuring loop in
//! [`sweep`](crate::sweep). Exit statuses:
//!
//! * 0: the run completed and found no bug;
//! * 1 ([`EXIT_BUG`], [`EXIT_FAILED`]): the run failed: a bug found while
//!   measuring (a get that failed where none can, ...; the reports are
//!   written), or a failure of the machine after the plan was accepted (a
//!   report that cannot be written, the others still are);
//! * 2 ([`EXIT_USAGE`]): bad input (a value clap refuses, an unknown flag,
//!   scheme or workload, zero threads, a zero duration, an unwritable output
//!   path, an unusable `--file`), before anything is measured.
//!
//! Every error is one line on stderr, `pageref: error: ...`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::pagecache;
pub use crate::plan::UsageError;
use crate::plan::{seconds, usage};
use crate::scheme;
use crate::workloads::Kind;

/// Exit status for bad input (the command line, found before anything is
/// measured).
pub const EXIT_USAGE: i32 = 2;
/// Exit status when a run found a bug (a failed get, a violation).
pub const EXIT_BUG: i32 = 1;
/// Exit status when the machine failed a run the command line asked for
/// correctly: a report that cannot be written after measuring, a kernel
/// workload's file that cannot be created. The status of a failed run, as
/// [`EXIT_BUG`]; the message on stderr says which.
pub const EXIT_FAILED: i32 = 1;

/// `pageref --version`: the version and how this binary was built (what a
/// report made with a prebuilt binary can say about its compiler).
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PAGEREF_BUILD_PROFILE"),
    ", ",
    env!("PAGEREF_RUSTC_VERSION"),
    ", ",
    env!("PAGEREF_BUILD_TARGET"),
    ")"
);

/// The exit statuses, as `--help` states them.
const EXIT_STATUS_HELP: &str = "Exit status: 0 done, no bug found; 1 a bug was found, or a report could not be written (the others are); 2 bad command line (nothing measured).";

/// `pageref`: scalability benchmarks of every page-refcount scheme, and the
/// page-cache stress test. Without a subcommand, runs `bench`.
#[derive(Debug, Parser)]
#[command(
    name = "pageref",
    version,
    long_version = LONG_VERSION,
    args_conflicts_with_subcommands = true,
    after_help = EXIT_STATUS_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    bench: BenchArgs,
}

impl Cli {
    /// The bench options of a command line without a subcommand.
    pub fn bench_args(&self) -> &BenchArgs {
        match &self.cmd {
            Some(Cmd::Bench(b)) => b,
            _ => &self.bench,
        }
    }
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
    pub(crate) workloads: Option<String>,
    /// Schemes, comma-separated, or `all`. [default: every scheme except the
    /// extra variants (frozen-posted)]; `pageref list` names them
    #[arg(long, visible_alias = "scheme", value_name = "LIST")]
    pub(crate) schemes: Option<String>,
    /// Thread counts, comma-separated. [default: 1, 2, 4, ... up to the cores]
    #[arg(long, value_name = "LIST")]
    pub(crate) threads: Option<String>,
    /// Measured seconds per run.
    #[arg(long, value_name = "SECONDS", default_value = "0.3")]
    pub(crate) duration: String,
    /// Unmeasured warm-up seconds per run.
    #[arg(long, value_name = "SECONDS", default_value = "0.1")]
    pub(crate) warmup: String,
    /// Runs per point (min / median / max are reported).
    #[arg(long, default_value_t = 3)]
    pub(crate) runs: usize,
    /// Spin steps of work while holding the reference (getput).
    #[arg(long, default_value_t = 0)]
    pub(crate) critical: u32,
    /// Spin steps of work between two gets (getput).
    #[arg(long, default_value_t = 0)]
    pub(crate) parallel: u32,
    /// Where kernel-pread creates its files: a directory, or a new file's
    /// path (per-thread files get `.N` appended). Each file is unlinked as
    /// soon as it is open, so nothing is left behind. [default: /dev/shm]
    #[arg(long, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,
    /// Write one CSV row per (workload, scheme, threads).
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<PathBuf>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Write an SVG plot of Mops/s against threads.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,
    /// Write a Markdown summary (machine, method, tables, targets).
    #[arg(long, value_name = "FILE")]
    pub(crate) markdown: Option<PathBuf>,
    /// Run exactly N operations per point on one thread instead of a timed
    /// run (for instruction counting under callgrind).
    #[arg(long, value_name = "N", hide = true)]
    pub(crate) iterations: Option<u64>,
    /// Print the plan (contestants, thread counts, timing, estimated
    /// duration) and exit without measuring.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Let the floor run the workloads that freeze pages (churn), where it
    /// must be caught double-freeing: a check of the checkers.
    #[arg(long, hide = true)]
    pub(crate) allow_incorrect: bool,
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(&e),
    };
    let result = match cli.cmd {
        None => crate::sweep::bench(&cli.bench),
        Some(Cmd::Bench(b)) => crate::sweep::bench(&b),
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

/// Reports a command line clap refused: `--help` and `--version` are
/// printed as clap formats them (status 0); anything else (a bad value, an
/// unknown flag, a conflict) becomes the one-line usage error (status 2).
fn clap_error(e: &clap::Error) -> i32 {
    if !e.use_stderr() {
        // --help, --version: not errors.
        let _ = e.print();
        return 0;
    }
    eprintln!("pageref: error: {}", clap_line(e));
    EXIT_USAGE
}

/// clap's message as one line: its first line, without the "error: "
/// prefix (the usage and "For more information" lines are dropped).
pub fn clap_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    let first = first.unwrap_or("bad command line");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// What `pageref list` prints: one line per scheme and per workload, the
/// name first (`bench/run-full.sh` reads the scheme names from it), with
/// the marks of every report: "NOT a refcount", "fails sN, ...".
pub fn list_text() -> String {
    let mut out = String::from("schemes (--schemes):\n");
    for s in scheme::SCHEMES {
        let mut marks = String::new();
        if !s.fails.is_empty() {
            marks.push_str(&format!(" [fails {}]", s.fails.join(", ")));
        }
        if s.word_bits != 32 {
            marks.push_str(&format!(" [{}-bit word]", s.word_bits));
        }
        if !s.default {
            marks.push_str(" [not in the default set]");
        }
        out.push_str(&format!("  {:<14} {}{}\n", s.name, s.about, marks));
    }
    out.push_str("workloads (--workloads):\n");
    for k in Kind::ALL {
        out.push_str(&format!(
            "  {:<17} {}{}\n",
            k.name(),
            k.about(),
            if k.info().default { " [default]" } else { "" }
        ));
    }
    out
}

fn list() {
    print!("{}", list_text());
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
    let duration = seconds("seconds", &a.seconds)?;
    let read_path = pageref_mm::stress::ReadPath::from_name(&a.read_path).ok_or_else(|| {
        UsageError(format!(
            "--read-path: unknown {:?} (known: fast, both, refcounted)",
            a.read_path
        ))
    })?;
    let cfg = pagecache::stress_config(a.threads, duration, a.seed, read_path);
    // The model's own check (threads in 1..=1024, ...): what it would
    // otherwise panic on.
    cfg.validate()
        .map_err(|e| UsageError(format!("stress: {e}")))?;
    let (line, violations) = pagecache::stress(info.name, &cfg).expect("scheme was validated");
    println!("{line}");
    Ok(if violations > 0 { EXIT_BUG } else { 0 })
}
