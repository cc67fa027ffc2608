//! `cargo xtask`: project automation that needs no tool beyond cargo.
//!
//! - `cargo xtask tidy [--libraries]`: architecture checks (the allowed dependencies of every crate from
//!   `cargo metadata`, only the formats crate serialising, `//!` docs on every module); `--libraries` lists the
//!   library crates for CI.
//! - `cargo xtask bench [io | surface | accuracy | mesh-vs-grid | lesion | stats | eval | dicom | python]`: criterion benchmarks and whole-process timings
//!   against reference tools; accuracy of every surface against analytic truth.
//! - `cargo xtask gen-example`: regenerates the example data set in `examples/data`.
//! - `cargo xtask fuzz --minutes N [--out DIR] [--seed S]`: the hostile-input mutants of segauge-io's mutation test
//!   for N minutes with a new seed, keeping every failing input (see `fuzz.rs`).
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "xtask reports to the terminal")]

mod bench;
mod fuzz;
mod tidy;

use std::path::{Path, PathBuf};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("tidy") => tidy::run(&root, &args[1..]),
        Some("bench") => bench::run(&root, &args[1..]),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        Some("gen-example") => {
            let dir = root.join("examples/data");
            segauge_tests::write_example(&dir)?;
            println!("wrote {}", dir.display());
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <tidy [--libraries] | bench [io | surface | accuracy | mesh-vs-grid | lesion | stats | eval | dicom | python] | fuzz --minutes N [--out DIR] [--seed S] | gen-example>"
            );
            anyhow::bail!("unknown or missing task")
        }
    }
}

/// The workspace root (the parent of this package's directory).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
