//! The aligned tables (plain text for stdout, or Markdown) and the text
//! printed after a sweep.

use std::fmt::Write as _;

use super::targets::{caveats, verdict_lines, verdicts, TARGETS};
use super::{Report, Row};
use crate::workloads::{Field, Kind};

pub(crate) fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.digits$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{:.0}%", x * 100.0))
}

/// The notes column: anomalies that are bugs, marked as expected for a
/// scheme with known failures, then the legal event counts.
fn anomalies(r: &Row) -> String {
    let t = &r.tally;
    let mut out = Vec::new();
    if t.failed_gets > 0 {
        out.push(format!("BUG: {} failed gets", t.failed_gets));
    }
    if t.bad_puts > 0 {
        out.push(format!("BUG: {} puts reached zero", t.bad_puts));
    }
    if t.bad_frees > 0 {
        out.push(format!("BUG: {} double/bad frees", t.bad_frees));
    }
    if t.short_reads > 0 {
        out.push(format!("BUG: {} short reads", t.short_reads));
    }
    if t.bugs() > 0 && !r.known_failures.is_empty() {
        out.push(format!(
            "expected of a scheme that fails {}",
            r.known_failures.join(", ")
        ));
    }
    if t.expected_failures + t.retries + t.misses > 0 {
        out.push(format!(
            "failed gets {} retries {} misses {}",
            t.expected_failures, t.retries, t.misses
        ));
    }
    if t.fallbacks > 0 {
        out.push(format!(
            "fast-read fallbacks {} of {} ({:.2}%)",
            t.fallbacks,
            t.fast_reads + t.fallbacks,
            100.0 * t.fallbacks as f64 / (t.fast_reads + t.fallbacks) as f64
        ));
    }
    out.join("; ")
}

/// A simple aligned text table (or Markdown table with `markdown`).
struct Table {
    head: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(cols: &[(&'static str, bool)]) -> Table {
        Table {
            head: cols.iter().map(|c| c.0).collect(),
            right: cols.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    fn render(&self, markdown: bool) -> String {
        let mut w: Vec<usize> = self.head.iter().map(|h| h.len()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if self.right[i] {
                        format!("{c:>width$}", width = w[i])
                    } else {
                        format!("{c:<width$}", width = w[i])
                    }
                })
                .collect();
            if markdown {
                format!("| {} |", parts.join(" | "))
            } else {
                parts.join("  ").trim_end().to_string()
            }
        };
        let mut out = String::new();
        let head: Vec<String> = self.head.iter().map(|s| s.to_string()).collect();
        out.push_str(&line(&head));
        out.push('\n');
        if markdown {
            let sep: Vec<String> = (0..w.len())
                .map(|i| {
                    let d = "-".repeat(w[i].max(3) - 1);
                    if self.right[i] {
                        format!("{d}:")
                    } else {
                        format!(":{d}")
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", sep.join(" | ")));
        }
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// The table of one per-scheme workload.
fn scheme_table(rows: &[&Row], markdown: bool) -> String {
    let mut t = Table::new(&[
        ("threads", true),
        ("scheme", false),
        ("Mops/s", true),
        ("min .. max", true),
        ("ns/op/thread", true),
        ("x classic", true),
        ("x floor", true),
        ("ideal linear (share)", true),
        ("notes", false),
    ]);
    let mut last = None;
    for r in rows {
        let first_of_group = last != Some(r.threads);
        last = Some(r.threads);
        t.rows.push(vec![
            if first_of_group {
                r.threads.to_string()
            } else {
                String::new()
            },
            r.label(),
            format!("{:.2}", r.mops_median),
            format!("{:.2} .. {:.2}", r.mops_min, r.mops_max),
            format!("{:.2}", r.ns_per_op),
            opt(r.vs_classic, 2),
            opt(r.vs_floor, 2),
            r.of_linear.filter(|f| *f > 0.0).map_or_else(
                || "-".into(),
                |f| format!("{:.2} ({})", r.mops_median / f, pct(Some(f))),
            ),
            anomalies(r),
        ]);
    }
    t.render(markdown)
}

/// The kernel table: shared file against one file per thread, side by side.
fn kernel_table(shared: &[&Row], own: &[&Row], markdown: bool) -> String {
    let mut threads: Vec<usize> = shared.iter().chain(own).map(|r| r.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let mut t = Table::new(&[
        ("threads", true),
        ("shared file Mops/s", true),
        ("min .. max", true),
        ("of linear", true),
        ("file per thread Mops/s", true),
        ("min .. max", true),
        ("of linear", true),
        ("own / shared", true),
        ("notes", false),
    ]);
    for n in threads {
        let s = shared.iter().find(|r| r.threads == n);
        let o = own.iter().find(|r| r.threads == n);
        let cells = |r: Option<&&Row>| -> [String; 3] {
            match r {
                Some(r) => [
                    format!("{:.3}", r.mops_median),
                    format!("{:.3} .. {:.3}", r.mops_min, r.mops_max),
                    pct(r.of_linear),
                ],
                None => ["-".into(), "-".into(), "-".into()],
            }
        };
        let [a, b, c] = cells(s);
        let [d, e, f] = cells(o);
        let notes = [s, o]
            .iter()
            .flatten()
            .map(|r| anomalies(r))
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        t.rows.push(vec![
            n.to_string(),
            a,
            b,
            c,
            d,
            e,
            f,
            opt(o.and_then(|r| r.vs_shared), 2),
            notes,
        ]);
    }
    t.render(markdown)
}

/// The notes column of an `arc-*` row: what its checks counted, in the
/// words of `Arc` (an upgrade, a reference, an object).
fn arc_notes(r: &Row) -> String {
    let t = &r.tally;
    let mut v = Vec::new();
    if t.failed_gets > 0 {
        v.push(format!("BUG: {} failed upgrades", t.failed_gets));
    }
    if t.bad_puts > 0 {
        v.push("BUG: references left over".to_string());
    }
    if t.bad_frees > 0 {
        v.push(format!(
            "BUG: {} objects not dropped exactly once",
            t.bad_frees
        ));
    }
    if t.expected_failures + t.misses > 0 {
        v.push(format!(
            "failed upgrades {} re-creations {}",
            t.expected_failures, t.misses
        ));
    }
    v.join(", ")
}

/// The table of one `arc-*` workload: std's `Arc` and pageref's side by
/// side at each thread count, with pageref over std.
fn arc_table(rows: &[&Row], markdown: bool) -> String {
    let mut threads: Vec<usize> = rows.iter().map(|r| r.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let mut t = Table::new(&[
        ("threads", true),
        ("std Mops/s", true),
        ("min .. max", true),
        ("pageref Mops/s", true),
        ("min .. max", true),
        ("pageref / std", true),
        ("notes", false),
    ]);
    for n in threads {
        let find = |s: &str| rows.iter().find(|r| r.scheme == s && r.threads == n);
        let cells = |r: Option<&&Row>| -> [String; 2] {
            match r {
                Some(r) => [
                    format!("{:.2}", r.mops_median),
                    format!("{:.2} .. {:.2}", r.mops_min, r.mops_max),
                ],
                None => ["-".into(), "-".into()],
            }
        };
        let (s, p) = (find(crate::arc::REFERENCE), find("pageref"));
        let [a, b] = cells(s);
        let [c, d] = cells(p);
        let notes = [(s, "std"), (p, "pageref")]
            .into_iter()
            .filter_map(|(r, name)| r.map(|r| (arc_notes(r), name)))
            .filter(|(n, _)| !n.is_empty())
            .map(|(n, name)| format!("{name}: {n}"))
            .collect::<Vec<_>>()
            .join("; ");
        t.rows.push(vec![
            n.to_string(),
            a,
            b,
            c,
            d,
            opt(p.and_then(|r| r.vs_std), 2),
            notes,
        ]);
    }
    t.render(markdown)
}

/// Every table of `report`, as plain text (stdout) or Markdown.
pub fn tables(report: &Report, markdown: bool) -> String {
    let mut out = String::new();
    let h = if markdown { "### " } else { "== " };
    let tail = if markdown { "" } else { " ==" };
    for k in Kind::ALL
        .into_iter()
        .filter(|k| k.field() == Field::Schemes)
    {
        let rows: Vec<&Row> = report
            .rows
            .iter()
            .filter(|r| r.workload == k.name())
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{h}{}{tail}\n", k.name());
        let _ = writeln!(out, "{}\n", k.about());
        let mut sorted = rows.clone();
        sorted.sort_by_key(|r| r.threads);
        out.push_str(&scheme_table(&sorted, markdown));
        out.push('\n');
    }
    let shared: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.workload == Kind::KernelPread.name())
        .collect();
    let own: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.workload == Kind::KernelPreadOwn.name())
        .collect();
    if !shared.is_empty() || !own.is_empty() {
        let fs = report.config.kernel_fs.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "{h}kernel-pread / kernel-pread-own (the running kernel, Linux {}, files on {fs}){tail}\n",
            report.machine.kernel
        );
        let _ = writeln!(
            out,
            "pread(fd, buf, 64, 0) in a loop; scheme-independent: this is the running kernel's own page refcount.\n"
        );
        out.push_str(&kernel_table(&shared, &own, markdown));
        out.push('\n');
    }
    for k in Kind::ALL.into_iter().filter(|k| k.field() == Field::Arc) {
        let rows: Vec<&Row> = report
            .rows
            .iter()
            .filter(|r| r.workload == k.name())
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{h}{}{tail}\n", k.name());
        let _ = writeln!(out, "{}\n", k.about());
        out.push_str(&arc_table(&rows, markdown));
        out.push('\n');
    }
    out
}

/// Legend lines for the schemes that appear in `report`.
pub fn legend(report: &Report) -> String {
    let mut out = String::new();
    for name in &report.config.schemes {
        if let Some(s) = crate::scheme::info(name) {
            let marks = if s.fails.is_empty() {
                String::new()
            } else {
                format!(
                    " **Fails {}** (race scenarios of docs/races.md).",
                    s.fails.join(", ")
                )
            };
            let _ = writeln!(out, "- `{}`: {}.{marks}", s.name, s.about);
        }
    }
    let arc = |r: &Row| Kind::parse(&r.workload).is_some_and(|k| k.field() == Field::Arc);
    if report.rows.iter().any(arc) {
        for a in crate::arc::CONTESTANTS {
            let _ = writeln!(out, "- `{}` (the `arc-*` workloads): {}.", a.name, a.about);
        }
    }
    out
}

/// The text printed on stdout after a sweep: the machine, the method, the
/// tables, the verdicts against the targets, and the caveats.
pub fn summary(report: &Report) -> String {
    let mut out = format!("pageref bench on {}\n", report.machine.one_line());
    out.push_str(&format!(
        "{} runs per point, {} ms each after {} ms warm-up; Mops/s = millions of operations per second, all threads together (median of the runs)\n\n",
        report.config.runs, report.config.duration_ms, report.config.warmup_ms
    ));
    out.push_str(&tables(report, false));
    let v = verdicts(report);
    if !v.is_empty() {
        out.push_str(&format!("targets ({TARGETS}):\n"));
        out.push_str(&verdict_lines(&v, false));
        out.push('\n');
    }
    for c in caveats(report) {
        out.push_str(&format!("note: {c}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::sample;
    use super::*;

    /// The marks reach the tables: the floor is not a refcount, a scheme
    /// with known failures says which; the kernel pair sits side by side.
    #[test]
    fn tables_carry_the_marks() {
        let r = sample();
        let txt = tables(&r, false);
        assert!(txt.contains("floor (NOT a refcount)"));
        assert!(txt.contains("rcuref (fails s04, s05)"));
        assert!(txt.contains("own / shared"));
        let md = tables(&r, true);
        assert!(md.contains("| threads |"));
        assert!(md.contains("rcuref (fails s04, s05)"));
        let s = summary(&r);
        assert!(s.contains("targets (") && !s.contains("issue"), "{s}");
        assert!(!txt.contains("arc-upgrade") && !legend(&r).contains("`std`"));
    }

    /// The `arc-*` tables: std and pageref side by side with their ratio,
    /// after the other tables; their contestants in the legend; the Arc
    /// targets in the summary.
    #[test]
    fn arc_tables() {
        let r = super::super::fixtures::with_arc();
        let txt = tables(&r, false);
        let at = txt.find("== arc-upgrade ==").expect("arc-upgrade table");
        assert!(at > txt.find("own / shared").unwrap());
        assert!(txt.contains("== arc-clone =="));
        assert!(txt.contains("pageref / std"));
        let two = txt[at..]
            .lines()
            .find(|l| l.trim_start().starts_with("2 "))
            .unwrap();
        let cells: Vec<&str> = two.split_whitespace().collect();
        assert_eq!(cells[1], "20.00", "{two}");
        assert_eq!(cells[5], "30.00", "{two}");
        assert_eq!(cells.last(), Some(&"1.50"), "{two}");
        assert!(tables(&r, true).contains("### arc-upgrade"));
        let l = legend(&r);
        assert!(
            l.contains("- `std` (the `arc-*` workloads): std::sync::Arc"),
            "{l}"
        );
        assert!(l.contains("- `pageref` (the `arc-*` workloads)"), "{l}");
        let s = summary(&r);
        assert!(
            s.contains("arc-upgrade: pageref >= 1.3x std at 2 threads: 2t 1.50"),
            "{s}"
        );
        assert!(!s.contains("issue"), "{s}");
    }

    /// Bugs counted by a scheme with known failures are marked expected;
    /// the same bugs elsewhere are not.
    #[test]
    fn expected_bugs_are_marked() {
        let mut r = sample();
        for x in r.rows.iter_mut() {
            x.tally.bad_frees = 2;
        }
        let txt = tables(&r, false);
        let line = |s: &str| txt.lines().find(|l| l.contains(s)).unwrap().to_string();
        assert!(line("rcuref (fails").contains("expected of a scheme that fails s04, s05"));
        assert!(line("frozen").contains("BUG: 2 double/bad frees"));
        assert!(!line("frozen").contains("expected"));
    }
}
