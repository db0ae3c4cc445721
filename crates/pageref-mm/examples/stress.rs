//! Runs the page-cache stress test from the command line, without the
//! `pageref` binary:
//!
//! ```text
//! cargo run --release -p pageref-mm --example stress -- <scheme> <threads> <seconds>
//! ```
//!
//! Prints the one-line report; exits with status 1 on any violation and 2
//! on bad arguments.

use std::process::ExitCode;
use std::time::Duration;

use pageref_mm::stress::{self, StressConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = format!(
        "usage: stress <scheme> <threads> <seconds>; schemes: {}",
        stress::SCHEMES.join(", ")
    );
    let [scheme, threads, seconds] = &args[..] else {
        eprintln!("error: expected 3 arguments; {usage}");
        return ExitCode::from(2);
    };
    let Ok(threads) = threads.parse::<usize>() else {
        eprintln!("error: threads must be a positive integer, got {threads:?}; {usage}");
        return ExitCode::from(2);
    };
    let Ok(seconds) = seconds.parse::<f64>() else {
        eprintln!("error: seconds must be a number, got {seconds:?}; {usage}");
        return ExitCode::from(2);
    };
    let Ok(duration) = Duration::try_from_secs_f64(seconds) else {
        eprintln!("error: seconds must be a non-negative number, got {seconds}; {usage}");
        return ExitCode::from(2);
    };
    let cfg = StressConfig {
        threads,
        duration,
        ..StressConfig::default()
    };
    if let Err(e) = cfg.validate() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let Some(report) = stress::run_named(scheme, &cfg) else {
        eprintln!("error: unknown scheme {scheme:?}; {usage}");
        return ExitCode::from(2);
    };
    println!("{report}");
    if report.violations() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
