//! The description of the machine and build that every report carries,
//! and the command line as the reports show it.

use std::path::Path;

use serde::Serialize;

/// What a result was measured on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Machine {
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu: String,
    /// Cores this process may be pinned to.
    pub cores: usize,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// Cargo profile and optimisation level of this binary.
    pub profile: String,
    /// Whether debug assertions (and so the refcount's misuse checks) are on:
    /// a build with them is not a fair benchmark.
    pub debug_assertions: bool,
    /// `rustc --version` of the compiler that built this binary.
    pub rustc: String,
    /// Target triple.
    pub target: String,
    /// When the run started, UTC, ISO 8601.
    pub date: String,
}

impl Machine {
    /// Describes this machine and binary, with `cores` pinnable cores.
    pub fn detect(cores: usize) -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| cpu_model(&s))
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Machine {
            cpu,
            cores,
            kernel,
            profile: env!("PAGEREF_BUILD_PROFILE").to_string(),
            debug_assertions: cfg!(debug_assertions),
            rustc: env!("PAGEREF_RUSTC_VERSION").to_string(),
            target: env!("PAGEREF_BUILD_TARGET").to_string(),
            date: iso8601(secs),
        }
    }

    /// One line: "CPU, N cores, Linux K, profile, rustc".
    pub fn one_line(&self) -> String {
        format!(
            "{}, {} cores, Linux {}, {} build{}, {}, {}",
            self.cpu,
            self.cores,
            self.kernel,
            self.profile,
            if self.debug_assertions {
                " WITH debug assertions (not a fair benchmark)"
            } else {
                ""
            },
            self.rustc,
            self.date
        )
    }
}

/// The command line as a user would type it: `cargo run --release --`
/// instead of this binary's path, and absolute paths given as their file
/// names, so that no report carries a path of the machine it ran on.
pub fn shown_command(args: &[String]) -> String {
    let cargo = if cfg!(debug_assertions) {
        "cargo run --"
    } else {
        "cargo run --release --"
    };
    let shorten = |a: &str| -> String {
        let (flag, value) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (format!("{f}="), v),
            _ => (String::new(), a),
        };
        if value.starts_with('/') {
            let file = Path::new(value)
                .file_name()
                .map_or_else(|| value.to_string(), |f| f.to_string_lossy().into_owned());
            format!("{flag}{file}")
        } else {
            a.to_string()
        }
    };
    let mut out = cargo.to_string();
    for a in args.iter().skip(1) {
        let a = shorten(a);
        out.push(' ');
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
            out.push_str(&format!("'{}'", a.replace('\'', "'\\''")));
        } else {
            out.push_str(&a);
        }
    }
    out
}

/// The first `model name` (x86) or `Model`/`CPU part` line's value (Arm).
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    for key in ["model name", "Model", "Processor", "cpu model", "CPU part"] {
        for line in cpuinfo.lines() {
            if let Some((k, v)) = line.split_once(':') {
                if k.trim() == key && !v.trim().is_empty() {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic
/// Gregorian; the days-to-civil conversion of H. Hinnant's `chrono`-free
/// date algorithms, <https://howardhinnant.github.io/date_algorithms.html>).
pub fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shown command starts with cargo, keeps relative paths, and
    /// keeps no absolute path of the machine.
    #[test]
    fn commands_carry_no_machine_path() {
        let args: Vec<String> = [
            "/some/where/target/release/pageref",
            "bench",
            "--csv",
            "bench/results/sweep.csv",
            "--json=/out/x/r.json",
            "--plot",
            "/out/x/r.svg",
            "--threads",
            "1,2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = shown_command(&args);
        assert!(c.starts_with("cargo run --"), "{c}");
        assert!(c.ends_with(
            " -- bench --csv bench/results/sweep.csv --json=r.json --plot r.svg --threads 1,2"
        ));
        assert!(!c.contains("/out") && !c.contains("/some"), "{c}");
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 12:34:56 UTC, a leap day in a century leap year.
        assert_eq!(iso8601(951_827_696), "2000-02-29T12:34:56Z");
        assert_eq!(iso8601(1_798_761_599), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn cpu_names() {
        let x86 =
            "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold\n";
        assert_eq!(cpu_model(x86).as_deref(), Some("Intel(R) Xeon(R) Gold"));
        assert_eq!(cpu_model("processor : 0\n"), None);
        let m = Machine::detect(2);
        assert!(!m.rustc.is_empty() && !m.kernel.is_empty());
    }
}
