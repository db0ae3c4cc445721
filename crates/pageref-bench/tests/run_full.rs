//! `bench/run-full.sh` as it is run on a machine without a Rust toolchain:
//! with a prebuilt binary (`BIN=...`) it runs no cargo, rustc or git; its
//! `--dry-run` prints the plan and the estimate from `pageref bench
//! --dry-run` and measures nothing; bad settings stop it with one line and
//! status 2; the 16-core profile's estimate is what its header says, within
//! its 6-minute budget.
//!
//! Nothing is measured here (dry runs only). Runtime: about a second.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/run-full.sh")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pageref-runfull-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A directory of stand-ins for `cargo`, `rustc` and `git` that record
/// their call in `calls.log` and fail: first on the script's PATH, they
/// catch any call of the toolchain.
fn fake_toolchain(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls.log");
    for tool in ["cargo", "rustc", "git"] {
        let p = bin.join(tool);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"{tool} $*\" >> '{}'\nexit 1\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// Runs the script with `vars` (and nothing inherited that it reads) on a
/// PATH whose cargo, rustc and git are the stand-ins.
fn run(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let fake = fake_toolchain(dir);
    let mut c = Command::new("bash");
    c.arg(script()).args(args);
    for v in [
        "BIN",
        "PROFILE",
        "OUT",
        "DURATION",
        "WARMUP",
        "RUNS",
        "THREADS",
        "CALLGRIND",
        "COMMIT",
        "NOTE",
    ] {
        c.env_remove(v);
    }
    c.env(
        "PATH",
        format!("{}:/usr/local/bin:/usr/bin:/bin", fake.display()),
    );
    c.env("OUT", dir.join("out"));
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().expect("run bash")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What the 16-core profile is sized for: its whole measurement within
/// 6 minutes on 16 cores (`docs/benchmark.md`).
const SIXTEEN_CORE_BUDGET_SECS: u64 = 6 * 60;

/// The numbers after "estimate: " in the plan lines: (runs, seconds per run).
fn plan_estimates(stdout: &str) -> Vec<(usize, f64)> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("estimate: "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[0].parse().unwrap(), w[3].parse().unwrap())
        })
        .collect()
}

/// The script's own total: "== estimate: N s of measurement".
fn total(stdout: &str) -> u64 {
    let l = stdout
        .lines()
        .find_map(|l| l.strip_prefix("== estimate: "))
        .unwrap_or_else(|| panic!("no total estimate:\n{stdout}"));
    l.split_whitespace().next().unwrap().parse().unwrap()
}

/// `PROFILE=16core BIN=... --dry-run`: no cargo, rustc or git; threads
/// 1,2,4,8,16 with 3 runs of 0.05 + 0.25 s; the estimate is the header's,
/// and within the profile's 6 minutes.
#[test]
fn sixteen_core_profile_runs_without_a_toolchain() {
    let dir = scratch("16core");
    let out = run(
        &dir,
        &[
            ("BIN", env!("CARGO_BIN_EXE_pageref")),
            ("PROFILE", "16core"),
        ],
        &["--dry-run"],
    );
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{so}{se}");
    assert!(
        !dir.join("calls.log").exists(),
        "the toolchain was called: {}",
        std::fs::read_to_string(dir.join("calls.log")).unwrap_or_default()
    );
    assert!(
        !dir.join("out").exists(),
        "a dry run wrote its output directory"
    );
    assert!(
        so.contains("== run-full.sh: PROFILE=16core BIN=path/to/pageref bench/run-full.sh"),
        "{so}"
    );
    assert!(
        so.contains(
            "plan: threads 1,2,4,8,16; 3 runs per point; 0.05 s warm-up + 0.25 s measured per run"
        ),
        "{so}"
    );
    for s in pageref::SCHEMES {
        assert!(so.contains(s.name), "the plan lacks {}", s.name);
    }
    // Every workload of the catalogue, the arc-* and fast-read ones included.
    for k in pageref_bench::workloads::Kind::ALL {
        let line = format!("plan: {}: ", k.name());
        assert!(so.contains(&line), "the plan lacks {}", k.name());
    }
    // Two sweeps (every workload, then getput with delays).
    let plans = plan_estimates(&so);
    assert_eq!(plans.len(), 2, "{so}");
    let runs: usize = plans.iter().map(|p| p.0).sum();
    assert!(plans.iter().all(|p| (p.1 - 0.30).abs() < 1e-9), "{plans:?}");
    let secs = total(&so);
    assert!(
        (secs as f64 - runs as f64 * 0.30).abs() <= 1.0,
        "{secs} vs {runs} runs"
    );
    assert!(
        secs <= SIXTEEN_CORE_BUDGET_SECS,
        "the 16-core profile no longer fits {} minutes: {secs} s",
        SIXTEEN_CORE_BUDGET_SECS / 60
    );

    // The header states the same plan: "N points x 3 runs x 0.30 s".
    let header = std::fs::read_to_string(script()).unwrap();
    let line = header
        .lines()
        .skip_while(|l| !l.starts_with("#   16core"))
        .find(|l| l.contains("points x"))
        .expect("the header states the 16core estimate");
    let points: usize = line
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("a number of points");
    assert_eq!(points * 3, runs, "header: {line}");
    let want = format!("= {} s", (runs as f64 * 0.30).round());
    assert!(line.contains(&want), "header: {line} lacks {want}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Variables given by hand show in the command the reports carry, and
/// replace the profile's values in the plan.
#[test]
fn overrides_reach_the_plan() {
    let dir = scratch("overrides");
    let out = run(
        &dir,
        &[
            ("BIN", env!("CARGO_BIN_EXE_pageref")),
            ("PROFILE", "16core"),
            ("RUNS", "2"),
            ("THREADS", "1,4"),
        ],
        &["--dry-run"],
    );
    let so = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{so}{}", text(&out.stderr));
    assert!(
        so.contains("PROFILE=16core BIN=path/to/pageref RUNS=2 THREADS=1,4 bench/run-full.sh"),
        "{so}"
    );
    assert!(so.contains("plan: threads 1,4; 2 runs per point"), "{so}");
    assert!(!dir.join("calls.log").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Bad settings: one line on stderr naming the problem, status 2, nothing
/// measured or written.
#[test]
fn bad_settings_are_one_line_and_exit_2() {
    let bin = env!("CARGO_BIN_EXE_pageref");
    /// Variables, arguments, and what the error line must say.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: &[Case] = &[
        (
            &[("BIN", bin), ("PROFILE", "32core")],
            &[],
            "unknown profile",
        ),
        (
            &[("BIN", "/nonexistent/pageref")],
            &[],
            "not an executable file",
        ),
        (&[("BIN", bin)], &["--bogus"], "unknown argument"),
        (&[("BIN", bin), ("CALLGRIND", "maybe")], &[], "CALLGRIND"),
        (
            &[("BIN", bin), ("RUNS", "0")],
            &[],
            "--runs must be at least 1",
        ),
        (&[("BIN", bin), ("THREADS", "0")], &[], "at least 1"),
        (&[("BIN", bin), ("DURATION", "x")], &[], "--duration"),
        // A value clap itself refuses: the line is clap's message, not its
        // "For more information" footer.
        (
            &[("BIN", bin), ("RUNS", "x")],
            &[],
            "invalid value 'x' for '--runs",
        ),
    ];
    for (vars, args, needle) in cases {
        let dir = scratch("bad");
        let out = run(&dir, vars, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{vars:?} {args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{vars:?}: {err}");
        assert!(err.starts_with("run-full.sh: error: "), "{vars:?}: {err}");
        assert!(err.contains(needle), "{vars:?}: {err} lacks {needle:?}");
        assert!(!text(&out.stdout).contains("Mops/s"));
        assert!(!dir.join("out").exists());
        assert!(!dir.join("calls.log").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
