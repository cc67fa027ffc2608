//! Criterion benchmarks of segauge-stats at report scale: 1000 cases, B = 9999, 20 per-case metric columns
//! (synthetic values from a fixed seed):
//! - `stats/resample_matrix`: generating the shared B × n resample matrix alone (single-threaded by design);
//! - `stats/bca_20_metrics`: the replicates of 20 column means from an existing matrix, their jackknife values
//!   and 20 BCa intervals (rayon, `parallel` feature);
//! - `stats/bca_20_metrics_end_to_end`: both, as a report runs them.
//!
//! Run with `cargo bench -p segauge-benches --bench stats`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_main};
use segauge_stats::{BootstrapOptions, Replicates, ResampleMatrix, Stream};

const N_CASES: usize = 1000;
const N_METRICS: usize = 20;
const B: usize = 9999;
const SCOPE: &str = "boot/bench/all";

/// Twenty synthetic per-case columns: Dice-like values in (0, 1) and skewed distance-like values.
fn columns() -> Vec<Vec<f64>> {
    let mut stream = Stream::new(42, "bench/data").expect("stream");
    let mut uniform = move || (stream.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (0..N_METRICS)
        .map(|k| {
            (0..N_CASES)
                .map(|_| {
                    let u = uniform();
                    if k % 2 == 0 { 1.0 - 0.3 * u * u } else { -5.0 * (1.0 - u).ln() }
                })
                .collect()
        })
        .collect()
}

fn bca_all(matrix: &ResampleMatrix, refs: &[&[f64]]) -> Vec<f64> {
    let options = BootstrapOptions::default();
    Replicates::means(matrix, refs)
        .expect("replicates")
        .iter()
        .map(|r| r.interval(&options).expect("interval").low)
        .collect()
}

fn stats(c: &mut Criterion) {
    let data = columns();
    let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
    let matrix = ResampleMatrix::generate(0, SCOPE, N_CASES, B).expect("matrix");
    let mut group = c.benchmark_group("stats");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("resample_matrix", |b| {
        b.iter(|| ResampleMatrix::generate(black_box(0), SCOPE, N_CASES, B).expect("matrix"));
    });
    group.bench_function("bca_20_metrics", |b| b.iter(|| bca_all(black_box(&matrix), &refs)));
    group.bench_function("bca_20_metrics_end_to_end", |b| {
        b.iter(|| {
            let matrix = ResampleMatrix::generate(black_box(0), SCOPE, N_CASES, B).expect("matrix");
            bca_all(&matrix, &refs)
        });
    });
    group.finish();
}

/// The benchmark group, configured from the command line.
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    stats(&mut criterion);
}

criterion_main!(benches);
