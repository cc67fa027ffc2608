//! Criterion benchmarks of per-lesion detection on a 512×512×300 mask holding ~200 lesions (ellipsoids of 1 to
//! 12 voxel radii at random positions, fixed seed), and a prediction that keeps ~80 % of them, moved by up to a
//! voxel, plus invented ones:
//! - `lesion/components_26`: connected components (26-connectivity) of the ground truth;
//! - `lesion/components_6`: the same with 6-connectivity;
//! - `lesion/evaluate_iou`: both labellings, overlaps, Hungarian matching, counts and strata.
//!
//! Run with `cargo bench -p segauge-benches --bench lesion`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_main};
use segauge_lesion::{Connectivity, LesionOptions, evaluate, label};
use segauge_mesh::{Frame, Mask};
use segauge_tests::SplitMix;

const DIMS: [usize; 3] = [512, 512, 300];

/// Ellipsoids `(centre, radii)` in voxels.
fn lesions(rng: &mut SplitMix, n: usize) -> Vec<([f64; 3], [f64; 3])> {
    (0..n)
        .map(|_| {
            let r = 1.0 + 11.0 * rng.next_f64() * rng.next_f64();
            let radii = [r * (0.7 + 0.6 * rng.next_f64()), r * (0.7 + 0.6 * rng.next_f64()), r * 0.5];
            let centre = std::array::from_fn(|a| 15.0 + (DIMS[a] as f64 - 30.0) * rng.next_f64());
            (centre, radii)
        })
        .collect()
}

fn paint(shapes: &[([f64; 3], [f64; 3])]) -> Mask {
    let [nx, ny, _] = DIMS;
    let mut v = vec![false; DIMS.iter().product()];
    for (c, r) in shapes {
        let lo: [usize; 3] = std::array::from_fn(|a| (c[a] - r[a]).floor().max(0.0) as usize);
        let hi: [usize; 3] = std::array::from_fn(|a| ((c[a] + r[a]).ceil() as usize).min(DIMS[a] - 1));
        for k in lo[2]..=hi[2] {
            for j in lo[1]..=hi[1] {
                for i in lo[0]..=hi[0] {
                    let d = [i as f64 - c[0], j as f64 - c[1], k as f64 - c[2]];
                    if (0..3).map(|a| (d[a] / r[a]).powi(2)).sum::<f64>() <= 1.0 {
                        v[i + nx * (j + ny * k)] = true;
                    }
                }
            }
        }
    }
    Mask::new(DIMS, v).expect("dims")
}

fn lesion(c: &mut Criterion) {
    let mut rng = SplitMix(2026);
    let gt_shapes = lesions(&mut rng, 200);
    let mut pred_shapes = Vec::new();
    for (c, r) in &gt_shapes {
        if rng.next_f64() < 0.8 {
            pred_shapes.push((c.map(|x| x + rng.next_f64() * 2.0 - 1.0), *r));
        }
    }
    pred_shapes.extend(lesions(&mut rng, 30));
    let (gt, pred) = (paint(&gt_shapes), paint(&pred_shapes));
    let frame = Frame::scaled([0.8, 0.8, 1.5]);
    let mut group = c.benchmark_group("lesion");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("components_26", |b| b.iter(|| label(black_box(&gt), Connectivity::C26).len()));
    group.bench_function("components_6", |b| b.iter(|| label(black_box(&gt), Connectivity::C6).len()));
    let options = LesionOptions::default();
    group.bench_function("evaluate_iou", |b| {
        b.iter(|| evaluate(black_box(&pred), black_box(&gt), &frame, &options).expect("lesions").tp)
    });
    group.finish();
}

/// The benchmark group, configured from the command line.
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    lesion(&mut criterion);
}

criterion_main!(benches);
