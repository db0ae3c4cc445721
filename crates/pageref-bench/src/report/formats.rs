//! The machine-readable and shareable formats: CSV, JSON, and the Markdown
//! report.

use std::fmt::Write as _;

use super::targets::{caveats, verdict_lines, verdicts, TARGETS};
use super::text::{legend, tables};
use super::Report;

/// The CSV text: a header and one line per row, the machine description in
/// every line.
pub fn csv(report: &Report) -> String {
    let mut out = String::from(
        "workload,scheme,correct_refcount,threads,known_failures,runs,mops_min,mops_median,mops_max,ns_per_op,\
         vs_classic,vs_floor,vs_shared,vs_std,of_linear,failed_gets,bad_puts,short_reads,bad_frees,\
         expected_failures,retries,misses,fast_reads,fallbacks,critical,parallel,duration_ms,cpu,cores,kernel,profile,\
         debug_assertions,rustc,date\n",
    );
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let o = |v: Option<f64>| v.map_or_else(String::new, |x| format!("{x:.4}"));
    let m = &report.machine;
    for r in &report.rows {
        let t = &r.tally;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{:.4},{:.4},{:.4},{:.3},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.workload,
            r.scheme,
            r.correct_refcount,
            r.threads,
            r.known_failures.join(" "),
            r.runs,
            r.mops_min,
            r.mops_median,
            r.mops_max,
            r.ns_per_op,
            o(r.vs_classic),
            o(r.vs_floor),
            o(r.vs_shared),
            o(r.vs_std),
            o(r.of_linear),
            t.failed_gets,
            t.bad_puts,
            t.short_reads,
            t.bad_frees,
            t.expected_failures,
            t.retries,
            t.misses,
            t.fast_reads,
            t.fallbacks,
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
    if let Some(by) = &c.run_by {
        let _ = writeln!(out, "By `{by}`, which ran:\n");
    }
    let _ = writeln!(out, "```sh\n{}\n```\n", c.command);
    let _ = writeln!(
        out,
        "Threads {:?}, pinned to distinct cores and started together on a barrier; {} ms warm-up, then {} ms measured per run; {} runs per point (median reported, min .. max beside it); schemes interleaved at each thread count so that drift hits all of them equally. Delay knobs: --critical {} --parallel {} spin steps. Event counts in the notes column (failed gets, retries, misses, fast-read fallbacks) cover whole runs, warm-up included.\n",
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
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "{TARGETS}.\n");
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::sample;
    use super::*;

    /// Every CSV line has the header's number of fields (counted outside
    /// quotes); the JSON has every row and the machine.
    #[test]
    fn csv_json_shapes() {
        let r = sample();
        let c = csv(&r);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 1 + r.rows.len());
        let ncols = lines[0].split(',').count();
        for l in &lines[1..] {
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
        assert!(c.contains("getput,rcuref,true,1,s04 s05,3,"), "{c}");
        let j: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(j["rows"].as_array().unwrap().len(), r.rows.len());
        assert!(j["machine"]["cpu"].is_string());
        assert_eq!(
            j["rows"][3]["known_failures"],
            serde_json::json!(["s04", "s05"])
        );
    }

    /// The Markdown report: the command a user would type, the script that
    /// ran it, the targets, the marks.
    #[test]
    fn markdown_report() {
        let mut r = sample();
        r.config.run_by = Some("PROFILE=16core bench/run-full.sh".into());
        let md = markdown(&r);
        assert!(md.contains("By `PROFILE=16core bench/run-full.sh`, which ran:"));
        assert!(md.contains("```sh\ncargo run --release -- bench\n```"));
        assert!(md.contains("## Targets\n") && !md.contains("issue"), "{md}");
        assert!(md.contains("NOT a correct refcount"));
        assert!(md.contains("rcuref (fails s04, s05)"));
        // The legend takes its marks from the registry.
        r.config.schemes = crate::scheme::SCHEMES
            .iter()
            .map(|s| s.name.to_string())
            .collect();
        let md = markdown(&r);
        for s in crate::scheme::SCHEMES {
            let line = md
                .lines()
                .find(|l| l.starts_with(&format!("- `{}`: ", s.name)))
                .unwrap_or_else(|| panic!("no legend line for {}", s.name));
            let mark = format!("**Fails {}**", s.fails.join(", "));
            assert_eq!(line.contains(&mark), !s.fails.is_empty(), "{line}");
        }
    }
}
