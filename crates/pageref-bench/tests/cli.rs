//! The `pageref` command as a user runs it: bad input is refused with one
//! line and exit status 2 before anything is measured; a tiny sweep of
//! every workload and scheme writes well-formed CSV, JSON, Markdown and SVG;
//! a refcount that is not one is caught (exit status 1).
//!
//! No test asserts on a timing: sweeps here are tiny (10 ms points) and
//! only their shape is checked. Runtime: a few seconds.

use std::path::PathBuf;
use std::process::{Command, Output};

use pageref_bench::scheme::SCHEMES;
use pageref_bench::workloads::Kind;

fn pageref(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pageref"))
        .args(args)
        .output()
        .expect("run pageref")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pageref-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Each bad input exits with 2, prints exactly one line on stderr naming
/// the problem, prints nothing on stdout (nothing was measured), and
/// leaves no output file behind.
#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = scratch("bad");
    let csv = dir.join("out.csv");
    let csv = csv.to_str().unwrap();
    let taken = dir.join("taken");
    std::fs::write(&taken, b"x").unwrap();
    let taken = taken.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--schemes", "nope", "--csv", csv], "unknown \"nope\""),
        (&["bench", "--workloads", "getput,nope"], "unknown \"nope\""),
        (&["--threads", "0"], "at least 1"),
        (&["--threads", "1,two"], "--threads"),
        (&["--duration", "0"], "--duration must be more than 0"),
        (&["--warmup=-1"], "--warmup"),
        (&["--runs", "0"], "--runs"),
        (&["--threads", "1,2,1"], "1 is given twice"),
        (&["--workloads", "all,getput"], "`all` must be alone"),
        (
            &["--schemes", "floor", "--workloads", "churn"],
            "nothing to run",
        ),
        (&["--csv", "/nonexistent-pageref-dir/x.csv"], "cannot write"),
        (&["--plot", dir.to_str().unwrap()], "is a directory"),
        (
            &[
                "--workloads",
                "kernel-pread",
                "--file",
                "/nonexistent-pageref-dir/f",
            ],
            "does not exist",
        ),
        (
            &["--workloads", "kernel-pread-own", "--file", taken],
            "already exists",
        ),
        (&["--iterations", "10", "--threads", "2"], "--iterations"),
        (&["stress", "--scheme", "nope"], "unknown \"nope\""),
        (&["stress", "--scheme", "floor"], "not a refcount"),
        (&["stress", "--seconds", "1e9"], "--seconds"),
        (&["stress", "--seconds", "0"], "more than 0"),
        (&["stress", "--read-path", "slow"], "unknown \"slow\""),
        // clap's own errors: bad typed values, unknown flags, conflicts.
        (&["--runs", "x"], "--runs"),
        (&["--critical", "-1"], "-1"),
        (&["--iterations", "x"], "--iterations"),
        (&["--no-such-flag"], "--no-such-flag"),
        (&["stress", "--threads", "x"], "--threads"),
        (&["stress", "--seed", "x"], "--seed"),
        (&["--runs", "2", "stress"], "stress"),
    ];
    // Stress settings the page-cache model refuses: the line is the
    // model's own reason (`StressConfig::validate`), not its panic.
    let refused = |threads: usize| {
        let cfg = pageref_mm::stress::StressConfig {
            threads,
            ..Default::default()
        };
        cfg.validate()
            .expect_err("the model accepts this thread count")
    };
    let (zero, many) = (refused(0), refused(5000));
    let model_cases: &[(&[&str], &str)] = &[
        (&["stress", "--threads", "0"], &zero),
        (&["stress", "--threads", "5000"], &many),
    ];
    for (args, needle) in cases.iter().chain(model_cases) {
        let out = pageref(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("pageref: error: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err} lacks {needle:?}");
        assert!(out.stdout.is_empty(), "{args:?} measured something");
    }
    assert!(!std::path::Path::new(csv).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--help` and `--version` are not errors: clap's text on stdout, status 0.
#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["stress", "--help"], &["--version"]] {
        let out = pageref(args);
        let so = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
        assert!(
            so.contains("Usage") || so.starts_with("pageref "),
            "{args:?}: {so}"
        );
    }
}

/// A tiny sweep of every workload and every scheme at 1 and 2 threads writes
/// one row per (workload, scheme, threads) to CSV and JSON, a Markdown
/// summary and an SVG plot with a line per scheme; it finds no bug.
#[test]
fn tiny_sweep_writes_every_format() {
    let dir = scratch("sweep");
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let (csv, json, svg, md) = (p("r.csv"), p("r.json"), p("r.svg"), p("r.md"));
    let files = dir.to_str().unwrap().to_string();
    let out = pageref(&[
        "bench",
        "--workloads",
        "all",
        "--schemes",
        "all",
        "--threads",
        "1,2",
        "--duration",
        "0.01",
        "--warmup",
        "0.002",
        "--runs",
        "2",
        "--file",
        &files,
        "--csv",
        &csv,
        "--json",
        &json,
        "--plot",
        &svg,
        "--markdown",
        &md,
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stdout}",
        text(&out.stderr)
    );

    // Expected rows: every scheme on getput, pread, pread-fast and spread;
    // the correct ones on churn and churn-fast; the kernel pair once each;
    // std and pageref on the three arc workloads; times 2 thread counts.
    let all = SCHEMES.len();
    let correct = SCHEMES.iter().filter(|s| s.correct).count();
    let expected = (4 * all + 2 * correct + 2 + 3 * 2) * 2;

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("well-formed JSON");
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), expected);
    assert!(j["machine"]["cpu"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(j["machine"]["kernel"].as_str().is_some());
    for r in rows {
        let (min, med, max) = (
            r["mops_min"].as_f64().unwrap(),
            r["mops_median"].as_f64().unwrap(),
            r["mops_max"].as_f64().unwrap(),
        );
        // Shape only: on a loaded machine a 10 ms point may even see 0 ops.
        assert!(min >= 0.0 && min <= med && med <= max, "{r}");
        assert_eq!(r["runs"], 2);
        assert_eq!(r["failed_gets"], 0, "{r}");
        let scheme = r["scheme"].as_str().unwrap();
        assert_eq!(r["correct_refcount"].as_bool().unwrap(), scheme != "floor");
    }
    for k in Kind::ALL {
        assert!(
            rows.iter().any(|r| r["workload"] == k.name()),
            "{}",
            k.name()
        );
    }
    let own2 = rows
        .iter()
        .find(|r| r["workload"] == "kernel-pread-own" && r["threads"] == 2)
        .unwrap();
    assert!(own2["vs_shared"].as_f64().is_some());
    // pread-fast never falls back (nothing writes), however long it ran.
    // (churn-fast's fallbacks are counted in `iterations_mode`: a timed
    // 10 ms point may not have run a single read.)
    for r in rows.iter().filter(|r| r["workload"] == "pread-fast") {
        assert_eq!(r["fallbacks"], 0, "{r}");
    }

    let c = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = c.lines().collect();
    assert_eq!(lines.len(), expected + 1);
    assert!(lines[0].starts_with("workload,scheme,correct_refcount,threads"));

    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
    for sc in SCHEMES {
        assert!(s.contains(sc.name), "plot lacks {}", sc.name);
    }
    assert!(s.contains("frozen: pread, pread-fast, spread"));

    let m = std::fs::read_to_string(&md).unwrap();
    assert!(m.contains("## Machine") && m.contains("## Targets\n"));
    assert!(m.contains("NOT a correct refcount"));

    // The stdout tables: one per workload, the kernel pair side by side.
    for k in [
        "== getput ==",
        "== pread ==",
        "== pread-fast ==",
        "== spread ==",
        "== churn ==",
        "== churn-fast ==",
        "== arc-upgrade ==",
        "== arc-clone ==",
        "== arc-churn ==",
    ] {
        assert!(stdout.contains(k), "{k}");
    }
    assert!(stdout.contains("own / shared"));
    assert!(stdout.contains("floor (NOT a refcount)"));
    assert!(stdout.contains("fast-read fallbacks"));
    // The kernel files were removed.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pageref-pread") || n.starts_with(".pageref"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The default run's shape, shortened: workloads getput, pread, pread-fast
/// and spread (the read three ways side by side), the default schemes, and
/// the targets section with the fast read's targets.
#[test]
fn default_sweep_shape() {
    let out = pageref(&[
        "--duration",
        "0.005",
        "--warmup",
        "0.001",
        "--runs",
        "1",
        "--threads",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for w in ["getput", "pread", "pread-fast", "spread"] {
        assert!(s.contains(&format!("== {w} ==")), "{w}");
    }
    assert!(!s.contains("== churn =="));
    assert!(s.contains("pread-fast: frozen >= 0.8x spread"), "{s}");
    for sc in SCHEMES.iter().filter(|s| s.default) {
        assert!(s.contains(sc.name), "{}", sc.name);
    }
    assert!(s.contains("targets"));
}

/// The fixed-work mode used for instruction counting runs exactly the
/// requested operations on one thread.
#[test]
fn iterations_mode() {
    let dir = scratch("iter");
    let json = dir.join("i.json");
    let out = pageref(&[
        "--workloads",
        "getput",
        "--schemes",
        "frozen",
        "--iterations",
        "5000",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["config"]["iterations"], 5000);
    assert_eq!(j["rows"].as_array().unwrap().len(), 1);

    // The fast reads, counted over a fixed number of reads: every read of
    // pread-fast completes without a reference; churn-fast's file starts
    // empty (no reclaimer runs in this mode), so its first reads fall back.
    let n: u64 = 500;
    let out = pageref(&[
        "--workloads",
        "pread-fast,churn-fast",
        "--schemes",
        "frozen",
        "--iterations",
        &n.to_string(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = j["rows"].as_array().unwrap();
    let row = |w: &str| rows.iter().find(|r| r["workload"] == w).unwrap();
    let (fast, churn) = (row("pread-fast"), row("churn-fast"));
    assert_eq!(fast["fast_reads"].as_u64(), Some(n), "{fast}");
    assert_eq!(fast["fallbacks"].as_u64(), Some(0), "{fast}");
    let (f, b) = (
        churn["fast_reads"].as_u64().unwrap(),
        churn["fallbacks"].as_u64().unwrap(),
    );
    assert!(b > 0, "{churn}");
    assert_eq!(f + b, n, "{churn}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A report that cannot be written after measuring (`/dev/full` accepts
/// the check before the sweep, then refuses the bytes) is a failed run,
/// status 1, not bad input; the other reports are still written.
#[test]
fn unwritable_report_after_measuring_is_status_1() {
    let full = std::path::Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    let dir = scratch("full");
    let json = dir.join("r.json");
    let md = dir.join("r.md");
    let out = pageref(&[
        "--workloads",
        "getput",
        "--schemes",
        "frozen",
        "--iterations",
        "100",
        "--csv",
        "/dev/full",
        "--json",
        json.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("pageref: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("--csv /dev/full: cannot write"), "{err}");
    assert!(!text(&out.stdout).contains("BUG"));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["rows"].as_array().unwrap().len(), 1);
    assert!(std::fs::read_to_string(&md).unwrap().contains("## Machine"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `stress` with a correct scheme prints one summary line and exits 0.
#[test]
fn stress_correct_scheme_passes() {
    for path in ["fast", "both", "refcounted"] {
        let out = pageref(&[
            "stress",
            "--scheme",
            "frozen",
            "--read-path",
            path,
            "--threads",
            "2",
            "--seconds",
            "0.3",
        ]);
        let s = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{s}{}", text(&out.stderr));
        assert_eq!(s.trim_end().lines().count(), 1);
        assert!(s.contains("violations=0"), "{s}");
        assert!(s.contains(&format!("read_path={path}")), "{s}");
    }
}

/// Checks of the checkers through the command line: the floor is not a
/// refcount (its get succeeds on a frozen or free page), so the stress test
/// and the churn workload must both catch it and exit with status 1.
#[test]
fn floor_is_caught_when_allowed_to_run() {
    let out = pageref(&[
        "stress",
        "--scheme",
        "floor",
        "--allow-incorrect",
        "--threads",
        "2",
        "--seconds",
        "1",
    ]);
    let s = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{s}{}", text(&out.stderr));
    assert!(!s.contains("violations=0"), "{s}");

    let out = pageref(&[
        "--workloads",
        "churn",
        "--schemes",
        "floor",
        "--allow-incorrect",
        "--threads",
        "2",
        "--duration",
        "0.5",
        "--runs",
        "2",
    ]);
    let s = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{s}{}", text(&out.stderr));
    assert!(s.contains("BUG:"), "{s}");
}

/// `pageref list` names every scheme and workload, one per line, first
/// word = name: `bench/run-full.sh` reads the scheme names from it.
#[test]
fn list_names_everything() {
    let out = pageref(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    let firsts: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for sc in SCHEMES {
        assert!(firsts.contains(&sc.name), "{}", sc.name);
    }
    for k in Kind::ALL {
        assert!(firsts.contains(&k.name()), "{}", k.name());
    }
}

/// `pageref list` shows every scheme of the registry (`pageref::SCHEMES`),
/// the kernel's rcuref and file_ref among them, each on its own line with
/// "fails sN, ..." exactly when the registry lists known failures.
#[test]
fn list_marks_known_failures() {
    let out = pageref(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    let line = |name: &str| -> String {
        s.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{s}"))
            .to_string()
    };
    for r in pageref::SCHEMES {
        let l = line(r.name);
        assert!(l.contains(r.about), "{l}");
        let mark = format!("[fails {}]", r.fails.join(", "));
        assert_eq!(l.contains(&mark), !r.fails.is_empty(), "{l}");
        assert_eq!(l.contains("fails"), !r.fails.is_empty(), "{l}");
        assert_eq!(l.contains("[not in the default set]"), !r.default, "{l}");
    }
    for name in ["rcuref", "fileref", "fileref32"] {
        line(name);
    }
    assert!(line("floor").contains("NOT a correct refcount"));
}

/// `--dry-run` validates like a real run, prints the plan (every default
/// scheme with its marks, the threads, the estimate) and measures nothing.
#[test]
fn dry_run_prints_the_plan() {
    let out = pageref(&["--dry-run", "--threads", "1,2", "--runs", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(!s.contains("Mops/s"), "measured something:\n{s}");
    let getput = s.lines().find(|l| l.starts_with("plan: getput: ")).unwrap();
    for sc in SCHEMES.iter().filter(|s| s.default) {
        assert!(
            getput.contains(&sc.label()),
            "{getput} lacks {}",
            sc.label()
        );
    }
    let n = SCHEMES.iter().filter(|s| s.default).count();
    // getput, pread, pread-fast and spread, every default scheme, 2 thread
    // counts, 2 runs, of 0.1 s warm-up + 0.3 s measured each (the defaults).
    let runs = 4 * n * 2 * 2;
    let want = format!(
        "estimate: {runs} runs x 0.40 s = {:.0} s",
        runs as f64 * 0.4
    );
    assert!(s.contains(&want), "{s} lacks {want}");
    // Bad input is still refused.
    let out = pageref(&["--dry-run", "--runs", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The `arc-*` workloads run std's and pageref's `Arc`, whatever
/// `--schemes` names (it selects page refcounts), and count in the estimate.
#[test]
fn dry_run_arc_contestants() {
    let out = pageref(&[
        "--dry-run",
        "--workloads",
        "getput,arc-upgrade,arc-churn",
        "--schemes",
        "frozen",
        "--threads",
        "1,2",
        "--runs",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("plan: getput: frozen (1)\n"), "{s}");
    assert!(s.contains("plan: arc-upgrade: std, pageref (2)\n"), "{s}");
    assert!(s.contains("plan: arc-churn: std, pageref (2)\n"), "{s}");
    // (1 + 2 + 2) contestants x 2 thread counts x 2 runs.
    assert!(s.contains("estimate: 20 runs x 0.40 s = 8 s"), "{s}");
}
