//! A tour of both schemes: the life cycle of a page's count, and what a
//! failed speculative get leaves behind.
//!
//! `cargo run --release -p pageref --example demo`

use pageref::{ClassicRef, FrozenRef, PageRef};

fn tour<R: PageRef + core::fmt::Debug>() {
    println!("== {} ==", R::NAME);
    let page = R::new_frozen();
    println!("free in the allocator:     {page:?}");
    page.init();
    println!(
        "allocated (init):          {page:?}  count = {}",
        page.count()
    );
    assert!(page.try_get());
    println!(
        "speculative get:           {page:?}  count = {}",
        page.count()
    );
    assert!(!page.freeze(1));
    println!("reclaim freeze(1) fails:   {page:?}");
    assert!(!page.dec_and_test());
    assert!(page.freeze(1));
    println!(
        "reclaim freeze(1) wins:    {page:?}  frozen = {}",
        page.is_frozen()
    );
    assert!(!page.try_get());
    assert!(!page.add_unless_frozen(1024));
    println!(
        "two failed gets:           {page:?}  count = {}",
        page.count()
    );
    page.unfreeze(1);
    println!("unfreeze(1) wipes them:    {page:?}");
    assert!(page.dec_and_test());
    println!(
        "last put frees:            {page:?}  frozen = {}",
        page.is_frozen()
    );
    println!();
}

fn main() {
    tour::<ClassicRef>();
    tour::<FrozenRef>();
}
