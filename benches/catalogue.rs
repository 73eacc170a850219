//! Benchmarks of the indicator catalogue (placeholder).

fn main() {}
