fn main() { println!("pageref bench: work in progress"); }
