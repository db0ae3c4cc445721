//! "Switching is a `use` line": one program written against std's
//! `Arc` / `Weak` (`tests/arc_use_line/program.rs`) is compiled twice, once
//! under `use std::sync::{Arc, Weak};` and once under
//! `use pageref::sync::{Arc, Weak};`, with no other change. That it compiles
//! is the test of the API; that both builds record the same observations is
//! the test of the semantics.

// Tests are not bound by the library's MSRV (std's `unwrap_or_clone` is 1.76).
#[allow(clippy::incompatible_msrv)]
mod with_std {
    use std::sync::{Arc, Weak};
    include!("arc_use_line/program.rs");
}

#[allow(clippy::incompatible_msrv)]
mod with_pageref {
    use pageref::sync::{Arc, Weak};
    include!("arc_use_line/program.rs");
}

#[test]
fn same_program_same_results() {
    let std_log = with_std::run();
    let ours = with_pageref::run();
    assert!(std_log.len() > 20, "{std_log:#?}");
    for (s, p) in std_log.iter().zip(&ours) {
        assert_eq!(s, p);
    }
    assert_eq!(std_log.len(), ours.len());
}
