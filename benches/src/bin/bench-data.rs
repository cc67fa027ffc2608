//! `segauge-bench-data [io | surface | surface-SHAPE | many-totalseg | many-body117 | eval]`: makes sure the files
//! of one benchmark case exist (generating them when missing) and prints their paths, one per line: `pred=<path>`
//! then `gt=<path>` (and `metadata=<path>` for `eval`, whose paths are folders). SHAPE is one of
//! `segauge_benches::shapes::SHAPES`. Without an argument the case is `io`. `cargo xtask bench` runs it in release
//! mode.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the paths on stdout are this program's output; usage errors go to stderr"
)]

use std::process::ExitCode;

fn main() -> std::io::Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["io"] => segauge_benches::ensure_bench_data()?,
        ["surface"] => segauge_benches::ensure_surface_data()?,
        ["many-totalseg"] => segauge_benches::many::ensure_totalseg_data()?,
        ["many-body117"] => segauge_benches::many::ensure_body_data()?,
        [case] if case.starts_with("surface-") => {
            match segauge_benches::shapes::ensure_shape_data(&case["surface-".len()..])? {
                Some(data) => data,
                None => {
                    eprintln!(
                        "unknown shape {case:?}; known: surface-{}",
                        segauge_benches::shapes::SHAPES.join(", surface-")
                    );
                    return Ok(ExitCode::from(2));
                }
            }
        }
        ["eval"] => {
            let d = segauge_benches::ensure_eval_data()?;
            println!("pred={}", d.pred.display());
            println!("gt={}", d.gt.display());
            println!("metadata={}", d.metadata.display());
            return Ok(ExitCode::SUCCESS);
        }
        _ => {
            eprintln!(
                "usage: segauge-bench-data [io | surface | surface-SHAPE | many-totalseg | many-body117 | eval] (got {})",
                args.join(" ")
            );
            return Ok(ExitCode::from(2));
        }
    };
    println!("pred={}", data.pred.display());
    println!("gt={}", data.gt.display());
    Ok(ExitCode::SUCCESS)
}
