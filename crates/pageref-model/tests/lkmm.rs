//! The frozen-bit refcount's races under the Linux-kernel memory model:
//! every litmus test in `litmus/` through herd7, as part of `cargo test`.
//!
//! `litmus/run` runs each test and compares herd7's verdict (Never,
//! Sometimes, Always) and its data-race flag with the `Result:` line the
//! test records; any mismatch fails [`litmus_tests_give_their_expected_verdicts`].
//! The 47 tests take about 30 s on the 2-core development VM when it is
//! quiet (two herd7 runs at a time, 37 s of CPU in all; most tests take
//! under a second, the two "different zeros" tests about 10 s each), plus
//! about 2 minutes once per machine to build herd7 through
//! `../shared/tools/lkmm/get-herd7`. See `docs/lkmm.md`.
//!
//! Where herd7 or the LKMM model files cannot be found (a fresh clone
//! without `../shared/tools/lkmm`, no `$HERD7`/`$LKMM_DIR`, no herd7 on
//! PATH) or `python3` is missing, these tests print one line and pass
//! without checking anything; under `CI=true` that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// One `litmus/run` at a time: on a machine without herd7 yet, two runs
/// would both start building it into the same cache.
static RUNNER: Mutex<()> = Mutex::new(());

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Runs `litmus/run` with `args`; `None` when python3 is missing outside CI.
fn litmus_run(args: &[&str]) -> Option<Output> {
    let _one_at_a_time = RUNNER.lock().unwrap_or_else(|e| e.into_inner());
    let script = repo_root().join("litmus").join("run");
    match Command::new("python3").arg(&script).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if !under_ci() => {
            println!("skipped the LKMM litmus tests: cannot run python3 ({e})");
            None
        }
        Err(e) => panic!("CI=true: cannot run python3 {}: {e}", script.display()),
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `litmus/run` skipped for want of herd7 or the model (it then
/// exits 0 after one line saying so; under `CI=true` it fails instead).
fn skipped(out: &Output) -> bool {
    out.status.success() && text(out).contains("litmus/run: skipped")
}

/// Every litmus test gives the verdict and data-race flag it records.
#[test]
fn litmus_tests_give_their_expected_verdicts() {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let Some(out) = litmus_run(&["-j", &jobs.to_string()]) else {
        return;
    };
    let t = text(&out);
    println!("{t}");
    assert!(
        out.status.success(),
        "litmus/run: a litmus test gave an unexpected verdict, or herd7 failed:\n{t}"
    );
}

/// The runner is not a test that cannot fail: copies of three tests, each
/// with one part of its expectation changed, must each be reported as a
/// mismatch: a wrong verdict (`frozen-final-cas-relaxed-free-reads`, herd7:
/// Sometimes, claimed Never), a data race left out
/// (`frozen-final-cas-relaxed-plain`, herd7: Sometimes DATARACE, claimed
/// without the flag) and a data race claimed where there is none
/// (`frozen-final-cas-acquire`, herd7: Never).
#[test]
fn runner_rejects_a_wrong_expectation() {
    let cases = [
        (
            "frozen-final-cas-relaxed-free-reads.litmus",
            " * Result: Sometimes\n",
            " * Result: Never\n",
        ),
        (
            "frozen-final-cas-relaxed-plain.litmus",
            " * Result: Sometimes DATARACE\n",
            " * Result: Sometimes\n",
        ),
        (
            "frozen-final-cas-acquire.litmus",
            " * Result: Never\n",
            " * Result: Never DATARACE\n",
        ),
    ];
    let dir = std::env::temp_dir().join(format!("pageref-lkmm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, right, wrong) in cases {
        let original = std::fs::read_to_string(repo_root().join("litmus").join(name)).unwrap();
        assert!(original.contains(right), "{name} changed: no {right:?}");
        let path = dir.join(name);
        std::fs::write(&path, original.replace(right, wrong)).unwrap();
        files.push(path.to_str().unwrap().to_string());
    }
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = litmus_run(&args);
    std::fs::remove_dir_all(&dir).ok();
    let Some(out) = out else { return };
    let t = text(&out);
    println!("{t}");
    if skipped(&out) {
        return;
    }
    assert!(
        !out.status.success(),
        "litmus/run passed wrong expectations:\n{t}"
    );
    for (name, _, _) in cases {
        assert!(
            t.lines()
                .any(|l| l.starts_with(name) && l.contains("MISMATCH")),
            "litmus/run accepted the wrong expectation of {name}:\n{t}"
        );
    }
}
