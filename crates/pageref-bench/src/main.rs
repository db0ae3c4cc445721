//! `pageref`: see `pageref --help` and the `pageref_bench` library.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(pageref_bench::cli::main());
}
