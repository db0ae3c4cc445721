//! The SVG plot (plotters, no bitmap backend): one panel per workload,
//! Mops/s against threads, one line per contestant; then frozen's
//! page-cache read three ways side by side (`pread`, `pread-fast`,
//! `spread`) and the running kernel's pair.

use plotters::prelude::*;
use plotters::style::RGBColor;

use super::Report;
use super::Row;
use crate::workloads::{Field, Kind};

/// One line of a panel.
struct Series<'a> {
    /// The legend text: the name, and its marks on a second line
    /// ("(fails s04, s05)", "(NOT a refcount)"), if any.
    label: (String, Option<String>),
    /// What picks the colour: the scheme's name, or the workload's (the
    /// kernel pair, the read three ways).
    key: &'a str,
    /// Dashed: not a refcount (the floor).
    dashed: bool,
    /// Its rows, sorted by threads.
    rows: Vec<&'a Row>,
}

/// One panel: a title and its lines.
struct Panel<'a> {
    title: String,
    series: Vec<Series<'a>>,
}

fn rows_of<'a>(report: &'a Report, k: Kind, scheme: Option<&str>) -> Vec<&'a Row> {
    let mut rows: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.workload == k.name() && scheme.is_none_or(|s| r.scheme == s))
        .collect();
    rows.sort_by_key(|r| r.threads);
    rows
}

/// The panels in report order: one per workload; after the per-scheme
/// ones, frozen's read three ways; the kernel pair in one.
fn panels(report: &Report) -> Vec<Panel<'_>> {
    let mut panels = Vec::new();
    for k in Kind::ALL {
        // The contestants of the workload's panel, in legend order.
        let names: Vec<&str> = match k.field() {
            Field::Schemes => report.config.schemes.iter().map(String::as_str).collect(),
            Field::Arc => crate::arc::CONTESTANTS.iter().map(|a| a.name).collect(),
            Field::Kernel => {
                if k == Kind::KernelPread {
                    panels.extend(read_panel(report));
                    panels.extend(kernel_panel(report));
                }
                continue;
            }
        };
        let series: Vec<Series<'_>> = names
            .into_iter()
            .filter_map(|s| {
                let rows = rows_of(report, k, Some(s));
                let first = *rows.first()?;
                let label = first.label();
                let label = match label.split_once(" (") {
                    Some((name, marks)) => (name.to_string(), Some(format!("({marks}"))),
                    None => (label, None),
                };
                Some(Series {
                    label,
                    key: &first.scheme,
                    dashed: !first.correct_refcount,
                    rows,
                })
            })
            .collect();
        if !series.is_empty() {
            panels.push(Panel {
                title: format!("{}: {}", k.name(), k.info().title),
                series,
            });
        }
    }
    panels
}

/// Frozen's page-cache read three ways, side by side: through the refcount
/// on one shared page (`pread`), on the same page with no reference
/// (`pread-fast`), and through the refcount with no sharing (`spread`).
/// Only when at least two of them ran.
fn read_panel(report: &Report) -> Option<Panel<'_>> {
    let series: Vec<Series<'_>> = [
        (Kind::Pread, "(one shared page)"),
        (Kind::PreadFast, "(same page, no reference)"),
        (Kind::Spread, "(one page per thread)"),
    ]
    .into_iter()
    .map(|(k, what)| Series {
        label: (k.name().to_string(), Some(what.to_string())),
        key: k.name(),
        dashed: false,
        rows: rows_of(report, k, Some("frozen")),
    })
    .filter(|s| !s.rows.is_empty())
    .collect();
    (series.len() > 1).then(|| Panel {
        title: "frozen: pread, pread-fast, spread".to_string(),
        series,
    })
}

/// The running kernel's panel: the shared file and one file per thread.
fn kernel_panel(report: &Report) -> Option<Panel<'_>> {
    let kernel: Vec<Series<'_>> = [
        (Kind::KernelPread, "one shared file"),
        (Kind::KernelPreadOwn, "one file per thread"),
    ]
    .into_iter()
    .map(|(k, label)| Series {
        label: (label.to_string(), None),
        key: k.name(),
        dashed: false,
        rows: rows_of(report, k, None),
    })
    .filter(|s| !s.rows.is_empty())
    .collect();
    (!kernel.is_empty()).then(|| Panel {
        title: format!(
            "running kernel (Linux {}): pread 64 B at offset 0",
            report.machine.kernel
        ),
        series: kernel,
    })
}

/// The SVG plot: one panel per workload, Mops/s (median, with min..max
/// bars) against threads, one line per scheme in a fixed colour, the floor
/// dashed, every label with its marks ("NOT a refcount", "fails sN").
pub fn svg(report: &Report) -> Result<String, String> {
    let panels = panels(report);
    if panels.is_empty() {
        return Err("nothing to plot".into());
    }
    let e = |x: &dyn std::fmt::Display| format!("plot: {x}");
    let cols = if panels.len() > 1 { 2 } else { 1 };
    let nrows = panels.len().div_ceil(cols);
    // The legend sits right of each chart, so that no line hides, wide
    // enough for its longest name (about 7 px per character at 13 px) and
    // marks (6 px at 11 px).
    let longest = panels
        .iter()
        .flat_map(|p| p.series.iter())
        .map(|s| {
            let name = 7 * s.label.0.chars().count();
            let marks = s.label.1.as_ref().map_or(0, |m| 6 * m.chars().count());
            name.max(marks)
        })
        .max()
        .unwrap_or(70) as u32;
    let (cw, lw, ph) = (470u32, 44 + longest, 420u32);
    let pw = cw + lw;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (pw * cols as u32, ph * nrows as u32 + 40))
            .into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let (title, body) = root.split_vertically(40);
        title
            .titled(
                &format!(
                    "pageref: Mops/s against threads ({}, {} cores, Linux {})",
                    report.machine.cpu, report.machine.cores, report.machine.kernel
                ),
                ("sans-serif", 18),
            )
            .map_err(|x| e(&x))?;
        let areas = body.split_evenly((nrows, cols));
        let max_t = report
            .config
            .threads
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .max(2);
        for (panel, area) in panels.iter().zip(areas.iter()) {
            let (left, legend) = area.split_horizontally(cw);
            let ymax = panel
                .series
                .iter()
                .flat_map(|s| s.rows.iter().map(|r| r.mops_max))
                .fold(0.0f64, f64::max)
                .max(1e-6)
                * 1.1;
            let mut chart = ChartBuilder::on(&left)
                .caption(panel.title.as_str(), ("sans-serif", 15))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(55)
                .build_cartesian_2d(0.5f64..(max_t as f64 + 0.5), 0.0f64..ymax)
                .map_err(|x| e(&x))?;
            chart
                .configure_mesh()
                .x_desc("threads")
                .y_desc("Mops/s (median; bars: min..max)")
                .x_labels(max_t.min(16))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(|x| e(&x))?;
            for (i, s) in panel.series.iter().enumerate() {
                let color = series_color(s.key);
                let pts: Vec<(f64, f64)> = s
                    .rows
                    .iter()
                    .map(|r| (r.threads as f64, r.mops_median))
                    .collect();
                if s.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(
                            pts.clone(),
                            6,
                            4,
                            color.stroke_width(2),
                        ))
                        .map_err(|x| e(&x))?;
                } else {
                    chart
                        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                        .map_err(|x| e(&x))?;
                }
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
                    .map_err(|x| e(&x))?;
                chart
                    .draw_series(s.rows.iter().map(|r| {
                        PathElement::new(
                            vec![
                                (r.threads as f64, r.mops_min),
                                (r.threads as f64, r.mops_max),
                            ],
                            color.stroke_width(1),
                        )
                    }))
                    .map_err(|x| e(&x))?;
                let y = 50 + 32 * i as i32;
                legend
                    .draw(&PathElement::new(
                        vec![(4, y), (28, y)],
                        color.stroke_width(if s.dashed { 1 } else { 3 }),
                    ))
                    .map_err(|x| e(&x))?;
                legend
                    .draw(&Text::new(
                        s.label.0.clone(),
                        (34, y - 7),
                        ("sans-serif", 13).into_font().color(&BLACK),
                    ))
                    .map_err(|x| e(&x))?;
                if let Some(marks) = &s.label.1 {
                    legend
                        .draw(&Text::new(
                            marks.clone(),
                            (34, y + 7),
                            ("sans-serif", 11).into_font().color(&BLACK),
                        ))
                        .map_err(|x| e(&x))?;
                }
            }
        }
        root.present().map_err(|x| e(&x))?;
    }
    Ok(text)
}

/// A fixed colour per scheme (and per kernel series), the same in every
/// panel and every plot; the floor is black (and dashed).
fn series_color(key: &str) -> RGBColor {
    match key {
        "floor" => RGBColor(0, 0, 0),
        "classic" => RGBColor(214, 39, 40),
        "frozen" => RGBColor(31, 119, 180),
        "frozen-posted" => RGBColor(23, 190, 207),
        "optimistic" => RGBColor(255, 127, 14),
        "sticky" => RGBColor(148, 103, 189),
        "lowbit" => RGBColor(44, 160, 44),
        "rcuref" => RGBColor(140, 86, 75),
        "fileref" => RGBColor(227, 119, 194),
        "fileref32" => RGBColor(188, 189, 34),
        // The arc-* panels: std's Arc in upstream's colour, pageref's in
        // the frozen bit's.
        "std" => RGBColor(214, 39, 40),
        "pageref" => RGBColor(31, 119, 180),
        "kernel-pread" => RGBColor(214, 39, 40),
        "kernel-pread-own" => RGBColor(44, 160, 44),
        // Frozen's read three ways (one panel): the shared page in
        // upstream's red, no reference in the frozen bit's blue, one page
        // per thread in the no-sharing green of the kernel pair.
        "pread" => RGBColor(214, 39, 40),
        "pread-fast" => RGBColor(31, 119, 180),
        "spread" => RGBColor(44, 160, 44),
        _ => {
            // A contestant added later: a stable pick from its name.
            let h = key
                .bytes()
                .fold(7usize, |h, b| h.wrapping_mul(31) + b as usize);
            let c = Palette99::pick(h).to_rgba();
            RGBColor(c.0, c.1, c.2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::sample;
    use super::*;

    /// A well-formed SVG with every contestant's label, marks included, and
    /// a colour of its own for every scheme of the registry.
    #[test]
    fn svg_shape() {
        let r = sample();
        let s = svg(&r).unwrap();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains("classic") && s.contains("one file per thread"));
        assert!(!s.contains("arc-upgrade"));
        let a = svg(&super::super::fixtures::with_arc()).unwrap();
        let texts: Vec<&str> = a.lines().map(str::trim).collect();
        for t in ["std", "pageref"] {
            assert!(texts.contains(&t), "the arc legend lacks {t}");
        }
        assert!(a.contains("arc-upgrade: ") && a.contains("arc-clone: "));
        let texts: Vec<&str> = s.lines().map(str::trim).collect();
        for t in ["rcuref", "(fails s04, s05)", "floor", "(NOT a refcount)"] {
            assert!(texts.contains(&t), "the legend lacks {t}");
        }
        let mut colours: Vec<RGBColor> = crate::scheme::SCHEMES
            .iter()
            .map(|s| series_color(s.name))
            .collect();
        let n = colours.len();
        colours.sort_by_key(|c| (c.0, c.1, c.2));
        colours.dedup();
        assert_eq!(colours.len(), n, "two schemes share a colour");
    }

    /// Frozen's read three ways get one panel, with a line per workload in
    /// a colour of its own; a sweep without them has no such panel.
    #[test]
    fn read_three_ways_panel() {
        assert!(!svg(&sample()).unwrap().contains("pread-fast"));
        let s = svg(&super::super::fixtures::with_fast_read()).unwrap();
        assert!(s.contains("frozen: pread, pread-fast, spread"), "no panel");
        let texts: Vec<&str> = s.lines().map(str::trim).collect();
        for t in [
            "pread",
            "(one shared page)",
            "pread-fast",
            "(same page, no reference)",
            "spread",
            "(one page per thread)",
        ] {
            assert!(texts.contains(&t), "the panel's legend lacks {t}");
        }
        let c: Vec<RGBColor> = ["pread", "pread-fast", "spread"]
            .iter()
            .map(|k| series_color(k))
            .collect();
        assert!(c[0] != c[1] && c[1] != c[2] && c[0] != c[2]);
    }
}
