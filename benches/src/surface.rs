//! Criterion benchmarks of the surface metrics on the surface case (one 1.5 L irregular organ against a perturbed
//! copy, 512×512×300 at 0.8×0.8×1.5 mm; see the crate docs), volumes already in memory:
//! - `surface/smooth_all_metrics`: HD, HD95, ASSD, MASD, NSD and BIoU on the default surface;
//! - `surface/voxel_faces_all_metrics`: the same on MeshMetrics' surface;
//! - `surface/grid_all_metrics`: the same with boundary voxels and the EDT.
//!
//! Run with `cargo bench -p segauge-benches --bench surface` (`cargo xtask bench surface` times whole processes
//! against MeshMetrics and DeepMind).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_main};
use segauge_metrics::{Surface, SurfaceOptions, surface_metrics};

fn surface(c: &mut Criterion) {
    let data = segauge_benches::ensure_surface_data().expect("cannot write the benchmark data");
    let pred = segauge_io::read_nifti(&data.pred).expect("read prediction");
    let gt = segauge_io::read_nifti(&data.gt).expect("read ground truth");
    let mut group = c.benchmark_group("surface");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    for (name, surface) in [
        ("smooth_all_metrics", Surface::Smooth),
        ("voxel_faces_all_metrics", Surface::VoxelFaces),
        ("grid_all_metrics", Surface::Grid),
        ("surfels_all_metrics", Surface::Surfels),
    ] {
        let options = SurfaceOptions { surface, ..SurfaceOptions::default() };
        group.bench_function(name, |b| {
            b.iter(|| surface_metrics(black_box(&pred), black_box(&gt), &[1], &options).expect("metrics"));
        });
    }
    group.finish();
}

/// The benchmark group, configured from the command line.
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    surface(&mut criterion);
}

criterion_main!(benches);
