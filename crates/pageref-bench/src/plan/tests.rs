//! Unit tests of the plan: option validation and the plan it builds.

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

/// A thread count given twice is refused, wherever it repeats (not
/// only next to itself).
#[test]
fn thread_counts_given_twice() {
    for list in ["1,2,1", "2,2", "4, 1, 2, 4"] {
        let e = parse_threads(list).unwrap_err().0;
        assert!(e.contains("given twice"), "{list}: {e}");
    }
    assert!(parse_threads(&MAX_THREADS.to_string()).is_ok());
    assert!(parse_threads(&(MAX_THREADS + 1).to_string()).is_err());
}

fn plan_of(args: &[&str]) -> Result<Plan, UsageError> {
    use clap::Parser;
    let mut argv = vec!["pageref"];
    argv.extend_from_slice(args);
    let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
    plan(cli.bench_args(), 2)
}

/// `all` mixed with names is refused as such, not as an unknown name.
#[test]
fn all_must_be_alone() {
    for (opt, name) in [("--workloads", "getput"), ("--schemes", "frozen")] {
        for list in [
            format!("all,{name}"),
            format!("{name}, all"),
            "all,nope".into(),
        ] {
            let list = list.as_str();
            let e = plan_of(&[opt, list, "--dry-run"]).unwrap_err().0;
            assert!(e.contains("`all` must be alone"), "{opt} {list}: {e}");
            assert!(!e.contains("unknown"), "{opt} {list}: {e}");
        }
    }
}

/// A plan whose every contestant is skipped is a usage error; with a
/// correct scheme beside the floor it runs that scheme.
#[test]
fn nothing_to_run() {
    let e = plan_of(&["--schemes", "floor", "--workloads", "churn,churn-fast"])
        .unwrap_err()
        .0;
    assert!(e.starts_with("nothing to run: floor"), "{e}");
    assert!(e.contains("churn, churn-fast"), "{e}");
    let p = plan_of(&["--schemes", "floor,frozen", "--workloads", "churn"]).unwrap();
    assert_eq!(p.groups.len(), 1);
    assert_eq!(p.groups[0].len(), 1);
    assert_eq!(p.groups[0][0].name, "frozen");
}

/// `--runs` is capped, so that the number of runs cannot overflow.
#[test]
fn runs_are_capped() {
    let max = MAX_RUNS.to_string();
    let p = plan_of(&["--runs", &max]).unwrap();
    assert_eq!(p.runs, MAX_RUNS);
    let over = (MAX_RUNS + 1).to_string();
    let e = plan_of(&["--runs", &over]).unwrap_err().0;
    assert!(e.contains("--runs must be at most"), "{e}");
}

#[test]
fn durations() {
    assert_eq!(seconds("d", "0.5").unwrap(), Duration::from_millis(500));
    assert!(seconds("d", "0").is_err());
    assert!(seconds("d", "-1").is_err());
    assert!(seconds("d", "nan").is_err());
    assert!(seconds("d", "1s").is_err());
}

#[test]
fn minutes_and_seconds() {
    assert_eq!(minutes(43.4), "43 s");
    assert_eq!(minutes(277.0), "4 min 37 s");
}

/// The estimate is runs x (warm-up + duration), counted over every
/// contestant of every group.
#[test]
fn estimates() {
    use clap::Parser;
    let cli = crate::cli::Cli::try_parse_from([
        "pageref",
        "--workloads",
        "getput,churn",
        "--schemes",
        "floor,frozen,classic",
        "--threads",
        "1,2,4",
        "--runs",
        "2",
        "--duration",
        "0.3",
        "--warmup",
        "0.1",
    ])
    .unwrap();
    let p = plan(cli.bench_args(), 4).unwrap();
    // getput: 3 schemes; churn: 2 (the floor is left out).
    assert_eq!(p.point_runs(), (3 + 2) * 3 * 2);
    assert!((p.estimate_secs().unwrap() - 30.0 * 0.4).abs() < 1e-9);
    let d = p.describe();
    assert!(d.contains("plan: churn: frozen, classic (2)"), "{d}");
    assert!(d.contains("plan: threads 1,2,4; 2 runs"), "{d}");
    assert!(
        d.ends_with("estimate: 30 runs x 0.40 s = 12 s (12 s)\n"),
        "{d}"
    );
}
