//! Criterion benchmarks of reading and counting full-size label maps (512×512×300 uint8 `.nii.gz`, 5 labels; see
//! the crate docs for the data):
//! - `io/read_nifti_gz`: read and decode one file;
//! - `io/overlap_counts_5_labels`: one-pass per-label counts of two volumes already in memory;
//! - `io/compare_pipeline`: what `segauge compare` does: read both files, check the grids, count.
//!
//! Run with `cargo bench -p segauge-benches --bench io` (or `cargo xtask bench io`, which adds whole-process
//! timings against `gzip -dc`). Flat sampling with 10 samples, 2 s warm-up and 8 s measurement per benchmark keeps
//! the whole run near 35 s even if an iteration grows to a second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_main};
use segauge_eval::EvalOptions;
use segauge_metrics::OverlapCounts;

fn io(c: &mut Criterion) {
    let data = segauge_benches::ensure_bench_data().expect("cannot write the benchmark data");
    let mut group = c.benchmark_group("io");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));

    group.bench_function("read_nifti_gz", |b| {
        b.iter(|| segauge_io::read_nifti(black_box(&data.gt)).expect("read"));
    });

    let pred = segauge_io::read_nifti(&data.pred).expect("read prediction");
    let gt = segauge_io::read_nifti(&data.gt).expect("read ground truth");
    group.bench_function("overlap_counts_5_labels", |b| {
        b.iter(|| OverlapCounts::compute(black_box(&pred), black_box(&gt)).expect("same shape"));
    });
    drop((pred, gt));

    // Reading, grid check and counting only (the surface metrics have their own benchmark).
    let options = EvalOptions { surface: None, ..EvalOptions::default() };
    group.bench_function("compare_pipeline", |b| {
        b.iter(|| {
            segauge_eval::compare(black_box(&data.pred), black_box(&data.gt), &options).expect("compare")
        });
    });
    group.finish();
}

/// The benchmark group, configured from the command line (what `criterion_group!` generates, with a doc comment).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    io(&mut criterion);
}

criterion_main!(benches);
