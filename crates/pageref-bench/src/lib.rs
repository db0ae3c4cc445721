//! The `pageref` command's library: scalability sweeps of every page-refcount
//! scheme (will-it-scale / lockhammer style), the running kernel's `pread`
//! loop, and every report format.
//!
//! The binary is a thin wrapper around [`cli::main`]. The pieces:
//!
//! * [`scheme`]: the list of schemes (one line each) and the floor;
//! * [`harness`]: pinned threads, barrier start, warm-up, sampled counters;
//! * [`workloads`], [`model`], [`kernel`]: what is measured;
//! * [`arc`]: `std::sync::Arc` against `pageref::sync::Arc`;
//! * [`report`], [`machine`]: tables, CSV, JSON, Markdown, SVG.
#![warn(missing_docs)]

pub mod arc;
pub mod cli;
pub mod harness;
pub mod kernel;
pub mod machine;
pub mod model;
pub mod report;
pub mod scheme;
pub mod workloads;
