//! `segauge-bench-data`: makes sure the benchmark files exist (generating them when missing) and prints their
//! paths, one per line: `pred=<path>` then `gt=<path>`. `cargo xtask bench` runs it in release mode.
#![allow(clippy::print_stdout, reason = "the paths on stdout are this program's output")]

fn main() -> std::io::Result<()> {
    let data = segauge_benches::ensure_bench_data()?;
    println!("pred={}", data.pred.display());
    println!("gt={}", data.gt.display());
    Ok(())
}
