//! `pageref`: see `pageref --help` and the `pageref_bench` library.

fn main() {
    std::process::exit(pageref_bench::cli::main());
}
