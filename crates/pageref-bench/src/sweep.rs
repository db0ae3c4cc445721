//! Running a [`Plan`]: every contestant at every thread count, the runs
//! interleaved, then the reports.

use pageref::PageRef;

use crate::cli::{BenchArgs, EXIT_BUG, EXIT_FAILED};
use crate::getput::GetPut;
use crate::harness::{run_iterations, run_point, Cores, Sample, Tally, Workload};
use crate::kernel::KernelPread;
use crate::machine::Machine;
use crate::pagecache;
use crate::plan::{plan, Contestant, Plan, UsageError};
use crate::report::{self, Report, Row};
use crate::scheme::{with_scheme, SchemeInfo, SchemeVisitor};
use crate::workloads::{Field, Kind};

/// Measures one point of a per-scheme workload with the scheme's type.
struct MeasureScheme<'a> {
    kind: Kind,
    threads: usize,
    cores: &'a Cores,
    plan: &'a Plan,
    critical: u32,
    parallel: u32,
}

/// One point of workload `w`: timed, or fixed work under `--iterations`.
fn run<W: Workload>(w: &W, threads: usize, plan: &Plan, cores: &Cores) -> Sample {
    match plan.iterations {
        Some(n) => run_iterations(w, n, cores),
        None => run_point(w, threads, cores, plan.timing),
    }
}

impl SchemeVisitor for MeasureScheme<'_> {
    type Output = Sample;
    fn visit<R: PageRef + 'static>(self, _info: &'static SchemeInfo) -> Sample {
        let (t, p, c) = (self.threads, self.plan, self.cores);
        match self.kind {
            Kind::GetPut => run(&GetPut::<R>::new(self.critical, self.parallel), t, p, c),
            Kind::Pread => run(&pagecache::Pread::<R>::new(), t, p, c),
            Kind::PreadFast => run(&pagecache::Pread::<R>::fast(), t, p, c),
            Kind::Spread => run(&pagecache::Pread::<R>::per_thread(t), t, p, c),
            Kind::Churn => run(&pagecache::Churn::<R>::new(), t, p, c),
            Kind::ChurnFast => run(&pagecache::Churn::<R>::fast(), t, p, c),
            Kind::KernelPread | Kind::KernelPreadOwn => {
                unreachable!("kernel workloads are scheme-independent")
            }
            Kind::ArcUpgrade | Kind::ArcClone | Kind::ArcChurn => {
                unreachable!("arc workloads compare Arc implementations")
            }
        }
    }
}

/// Measures one run of contestant `c` at `threads` threads. `Err` is a
/// failure of the machine while measuring (a kernel workload's file could
/// not be created), not of the command line, which `plan()` checked.
fn measure(
    c: Contestant,
    threads: usize,
    plan: &Plan,
    a: &BenchArgs,
    cores: &Cores,
) -> Result<Sample, String> {
    match c.kind.field() {
        Field::Schemes => {
            let s = c.scheme.expect("a per-scheme contestant has a scheme");
            let m = MeasureScheme {
                kind: c.kind,
                threads,
                cores,
                plan,
                critical: a.critical,
                parallel: a.parallel,
            };
            Ok(with_scheme(s.name, m).expect("schemes were validated"))
        }
        Field::Kernel => {
            let spot = plan.spot.as_ref().expect("checked in plan()");
            let own = c.kind == Kind::KernelPreadOwn;
            let handles = spot.create(own, threads)?;
            Ok(run(&KernelPread::new(handles), threads, plan, cores))
        }
        Field::Arc => Ok(crate::arc::measure(
            c.kind,
            c.name,
            threads,
            cores,
            plan.timing,
            plan.iterations,
        )),
    }
}

/// Runs every group of `plan`: at each thread count, run r of every
/// contestant, then run r + 1 of every contestant, so that drift (thermal,
/// frequency, other load) spreads over all of them equally.
fn sweep(plan: &Plan, a: &BenchArgs, cores: &Cores) -> Result<Vec<Row>, String> {
    let pb = indicatif::ProgressBar::new(plan.point_runs() as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:20} {pos}/{len} points, ~{eta} left: {msg}")
            .expect("static template"),
    );
    let mut rows = Vec::new();
    for group in &plan.groups {
        for &t in &plan.threads {
            let mut mops: Vec<Vec<f64>> = vec![Vec::new(); group.len()];
            let mut tallies = vec![Tally::default(); group.len()];
            for run in 0..plan.runs {
                for (i, c) in group.iter().enumerate() {
                    pb.set_message(format!(
                        "{} {} {}t run {}/{}",
                        c.kind.name(),
                        c.name,
                        t,
                        run + 1,
                        plan.runs
                    ));
                    let s = measure(*c, t, plan, a, cores)?;
                    mops[i].push(s.mops());
                    tallies[i].add(&s.tally);
                    pb.inc(1);
                }
            }
            for (i, c) in group.iter().enumerate() {
                rows.push(Row::new(
                    c.kind,
                    c.name,
                    c.correct(),
                    c.fails(),
                    t,
                    &mops[i],
                    tallies[i],
                ));
            }
        }
    }
    pb.finish_and_clear();
    report::fill_ratios(&mut rows);
    Ok(rows)
}

/// Writes one report; `Err` is the one-line reason.
fn write_out(opt: &str, path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("--{opt} {}: cannot write: {e}", path.display()))
}

/// Writes every report asked for, each on its own: one that cannot be
/// written (the disk filled, the directory went away during the sweep) is
/// reported on stderr and the others are still written. Returns whether
/// all were.
fn write_reports(a: &BenchArgs, report: &Report) -> bool {
    let mut ok = true;
    let mut out = |opt: &str,
                   path: &Option<std::path::PathBuf>,
                   text: &dyn Fn() -> Result<String, String>| {
        let Some(p) = path else { return };
        if let Err(e) = text().and_then(|t| write_out(opt, p, &t)) {
            eprintln!("pageref: error: {e}");
            ok = false;
        }
    };
    out("csv", &a.csv, &|| Ok(report::csv(report)));
    out("json", &a.json, &|| Ok(report::json(report)));
    out("markdown", &a.markdown, &|| Ok(report::markdown(report)));
    out("plot", &a.plot, &|| report::svg(report));
    ok
}

/// `pageref bench`: returns the exit status.
///
/// `Err` (status 2) is bad input only, found before anything is measured.
/// Status 1 ([`EXIT_BUG`]) when a contestant that should be clean counted a
/// bug; the same anomalies in a scheme with known failures ("fails s05")
/// are findings the registry predicts: they are shown and noted, and do not
/// fail the run. Status 1 ([`EXIT_FAILED`]) as well when the machine failed
/// the run after the plan was accepted: a kernel workload's file could not
/// be created, or a report could not be written (the others still are).
pub fn bench(a: &BenchArgs) -> Result<i32, UsageError> {
    let cores = Cores::detect();
    let plan = plan(a, cores.count())?;
    for n in &plan.notes {
        eprintln!("{n}");
    }
    if a.dry_run {
        print!("{}", plan.describe());
        return Ok(0);
    }
    eprintln!("pageref: {}", plan.estimate_line());
    let machine = Machine::detect(cores.count());
    let rows = match sweep(&plan, a, &cores) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("pageref: error: {e}");
            return Ok(EXIT_FAILED);
        }
    };
    let report = Report {
        machine,
        config: plan.config.clone(),
        rows,
    };
    print!("{}", report::summary(&report));
    let written = write_reports(a, &report);
    let (known, unexpected): (Vec<&Row>, Vec<&Row>) = report
        .rows
        .iter()
        .filter(|r| r.tally.bugs() > 0)
        .partition(|r| !r.known_failures.is_empty());
    if !known.is_empty() {
        let mut names: Vec<String> = known.iter().map(|r| r.label()).collect();
        names.sort();
        names.dedup();
        eprintln!(
            "pageref: note: anomalies in schemes with known failures ({}): findings, not a failure of this run",
            names.join("; ")
        );
    }
    let bugs: u64 = unexpected.iter().map(|r| r.tally.bugs()).sum();
    if bugs > 0 {
        eprintln!("pageref: {bugs} anomalies that are bugs were counted (see the notes column)");
        return Ok(EXIT_BUG);
    }
    Ok(if written { 0 } else { EXIT_FAILED })
}
