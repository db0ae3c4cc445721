//! The `pageref` command's library: scalability sweeps of every page-refcount
//! scheme (will-it-scale / lockhammer style), the running kernel's `pread`
//! loop, and every report format.
//!
//! The binary is a thin wrapper around [`cli::main`]. The pieces:
//!
//! * [`cli`]: the command line; [`plan`]: its validation into a plan;
//!   [`sweep`]: running the plan;
//! * [`scheme`]: the contestant schemes (the registry's, and the floor);
//!   [`workloads`]: the catalogue of workloads;
//! * [`harness`]: pinned threads, barrier start, warm-up, sampled counters;
//! * what is measured: [`getput`], [`pagecache`] (the page-cache model of
//!   `pageref-mm`), [`kernel`] (the running kernel), [`arc`]
//!   (`std::sync::Arc` against `pageref::sync::Arc`);
//! * [`report`], [`machine`]: tables, verdicts, CSV, JSON, Markdown, SVG.
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]

pub mod arc;
pub mod cli;
pub mod getput;
pub mod harness;
pub mod kernel;
pub mod machine;
pub mod pagecache;
pub mod plan;
pub mod report;
pub mod scheme;
pub mod sweep;
pub mod workloads;
