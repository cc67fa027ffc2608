//! Integration tests of segauge-metrics: overlap counts against numpy (nibabel fixtures), hand-computed cases and a
//! naive recount on generated multi-label volumes.

use std::path::PathBuf;

use segauge_io::{Grid, LabelVolume, Labels};
use segauge_metrics::{EmptyState, LabelCounts, OverlapCounts};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/nifti").join(name)
}

/// The nibabel-written pair with numpy's counts recorded in `expected.json` (see tests/data/nifti/PROVENANCE.md).
#[test]
fn counts_match_numpy_on_the_nibabel_pair() {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("expected.json")).unwrap()).unwrap();
    let pred = segauge_io::read_nifti(&fixture("overlap_pred.nii.gz")).unwrap();
    let gt = segauge_io::read_nifti(&fixture("overlap_gt.nii.gz")).unwrap();
    let counts = OverlapCounts::compute(&pred, &gt).unwrap();
    let want = expected["overlap"]["labels"].as_object().unwrap();
    assert_eq!(
        counts.labels().map(|l| l.to_string()).collect::<Vec<_>>(),
        want.keys().cloned().collect::<Vec<_>>()
    );
    for (label, w) in want {
        let c = counts.get(label.parse().unwrap());
        assert_eq!(c.voxels_pred, w["voxels_pred"].as_u64().unwrap(), "label {label}");
        assert_eq!(c.voxels_gt, w["voxels_gt"].as_u64().unwrap(), "label {label}");
        assert_eq!(c.tp, w["tp"].as_u64().unwrap(), "label {label}");
        // numpy computed 2tp/(vp+vg) in float64 from the same integers: bit-identical.
        assert_eq!(c.dice(), w["dice"].as_f64().unwrap(), "label {label}");
        assert_eq!(c.iou(), w["iou"].as_f64().unwrap(), "label {label}");
    }
    assert_eq!(counts.get(4).empty_state(), EmptyState::GtEmpty);
    assert_eq!(counts.get(5).empty_state(), EmptyState::PredEmpty);
    assert_eq!(counts.get(2).dice(), 0.0);
}

/// Hand-computed: a 4x4x1 slab. Prediction labels 1 (left half) and 2 (one voxel); ground truth label 1 (top
/// half) and 3 (one voxel). Label 1: |P| = 8, |G| = 8, overlap = the top-left quarter = 4 → Dice 0.5, IoU 1/3.
#[test]
fn hand_computed_slab() {
    #[rustfmt::skip]
    let pred = vec![
        1, 1, 0, 0,
        1, 1, 0, 0,
        1, 1, 0, 2,
        1, 1, 0, 0,
    ];
    #[rustfmt::skip]
    let gt = vec![
        1, 1, 1, 1,
        1, 1, 1, 1,
        0, 0, 0, 0,
        0, 3, 0, 0,
    ];
    let grid = Grid::new([4, 4, 1], [0.5, 0.5, 3.0]).unwrap();
    let p = LabelVolume::new(grid.clone(), Labels::U8(pred)).unwrap();
    let g = LabelVolume::new(grid, Labels::U8(gt)).unwrap();
    let c = OverlapCounts::compute(&p, &g).unwrap();
    assert_eq!(c.labels().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(c.get(1), LabelCounts { voxels_pred: 8, voxels_gt: 8, tp: 4 });
    assert_eq!((c.get(1).dice(), c.get(1).iou()), (0.5, 1.0 / 3.0));
    assert_eq!((c.get(1).fp(), c.get(1).fn_()), (4, 4));
    assert_eq!(c.get(2), LabelCounts { voxels_pred: 1, voxels_gt: 0, tp: 0 });
    assert_eq!(c.get(3).empty_state(), EmptyState::PredEmpty);
    assert_eq!(c.get(7), LabelCounts::default());
    assert_eq!(c.get(7).dice(), 1.0);
}

/// Larger generated volumes (more than one work chunk, mixed storage types) against a naive per-label recount.
#[test]
fn generated_multilabel_volumes_match_a_naive_recount() {
    let dims = [97, 83, 151]; // > 1 Mi voxels: several chunks
    let mut rng = segauge_tests::SplitMix(42);
    let centres: Vec<([f64; 3], [f64; 3], u8)> = (0..12)
        .map(|n| {
            let c = [rng.next_f64() * 97.0, rng.next_f64() * 83.0, rng.next_f64() * 151.0];
            let r = [3.0 + rng.next_f64() * 15.0, 3.0 + rng.next_f64() * 15.0, 3.0 + rng.next_f64() * 25.0];
            (c, r, (n % 6 + 1) as u8)
        })
        .collect();
    let paint = |shift: f64| {
        segauge_tests::label_map(dims, |i, j, k| {
            centres
                .iter()
                .find(|(c, r, _)| {
                    segauge_tests::in_ellipsoid([i, j, k], [1.0; 3], [c[0] + shift, c[1], c[2] - shift], *r)
                })
                .map_or(0, |s| s.2)
        })
    };
    let (p8, g8) = (paint(0.0), paint(2.0));
    let want = segauge_tests::naive_counts(&p8, &g8);
    assert!(want.len() >= 5);
    let grid = Grid::new(dims, [0.7, 0.7, 1.2]).unwrap();
    let as16 = |v: &[u8]| Labels::U16(v.iter().map(|&x| u16::from(x)).collect());
    for (p, g) in [
        (Labels::U8(p8.clone()), Labels::U8(g8.clone())),
        (as16(&p8), Labels::U8(g8.clone())),
        (Labels::U8(p8.clone()), as16(&g8)),
    ] {
        let c = OverlapCounts::compute(
            &LabelVolume::new(grid.clone(), p).unwrap(),
            &LabelVolume::new(grid.clone(), g).unwrap(),
        )
        .unwrap();
        let got: Vec<(u32, u64, u64, u64)> = c
            .labels()
            .map(|l| {
                let x = c.get(l);
                (l, x.voxels_pred, x.voxels_gt, x.tp)
            })
            .collect();
        assert_eq!(got, want);
    }
}

#[test]
fn shapes_must_match() {
    let a = LabelVolume::new(Grid::new([2, 2, 1], [1.0; 3]).unwrap(), Labels::U8(vec![0; 4])).unwrap();
    let b = LabelVolume::new(Grid::new([4, 1, 1], [1.0; 3]).unwrap(), Labels::U8(vec![0; 4])).unwrap();
    let err = OverlapCounts::compute(&a, &b).unwrap_err();
    assert_eq!(err.to_string(), "shape mismatch: prediction [2, 2, 1] vs ground truth [4, 1, 1]");
}

mod contour;
mod surface;
mod totalseg;

/// A cube mask `[lo, hi]³` (inclusive) in a 10³ volume.
fn cube(lo: usize, hi: usize) -> Vec<u8> {
    let inside = |v: usize| (lo..=hi).contains(&v);
    (0..1000).map(|v| u8::from(inside(v % 10) && inside((v / 10) % 10) && inside(v / 100))).collect()
}

#[test]
fn directed_distances_of_nested_cubes_on_the_grid_surface() {
    use segauge_metrics::{
        BothEmpty, EmptyState, PercentileInterpolation, Surface, SurfaceMetrics, SurfaceOptions,
    };
    let grid = Grid::new([10, 10, 10], [1.0, 1.0, 1.0]).unwrap();
    let vol = |v: Vec<u8>| LabelVolume::new(grid.clone(), Labels::U8(v)).unwrap();
    // The prediction [2, 7]³ inside the ground truth [0, 9]³: every prediction boundary voxel centre is 2 from the
    // ground truth's nearest boundary voxel centre (a face of the larger cube), while the ground truth's corner
    // voxel (0, 0, 0) is √12 from the prediction's corner (2, 2, 2), its face centres 2.
    let (pred, gt) = (vol(cube(2, 7)), vol(cube(0, 9)));
    let options = SurfaceOptions { surface: Surface::Grid, ..Default::default() };
    let m = &segauge_metrics::surface_metrics(&pred, &gt, &[1], &options).unwrap()[&1];
    assert_eq!((m.hd_pred_to_gt, m.asd_pred_to_gt, m.hd_percentile_pred_to_gt), (2.0, 2.0, 2.0));
    assert_eq!(m.hd_gt_to_pred, 12f64.sqrt());
    assert_eq!(m.hd, m.hd_gt_to_pred.max(m.hd_pred_to_gt));
    assert!(m.asd_gt_to_pred > 2.0 && m.asd_gt_to_pred < 12f64.sqrt());
    // MASD is the mean of the two directed means.
    assert_eq!(m.masd, (m.asd_pred_to_gt + m.asd_gt_to_pred) / 2.0);
    // Linear interpolation (medpy, MONAI) on the grid surface; refused on weighted surfaces.
    let linear = SurfaceOptions { interpolation: PercentileInterpolation::Linear, ..options.clone() };
    assert_eq!(
        segauge_metrics::surface_metrics(&pred, &gt, &[1], &linear).unwrap()[&1].hd_percentile_pred_to_gt,
        2.0
    );
    let smooth = SurfaceOptions { interpolation: PercentileInterpolation::Linear, ..Default::default() };
    assert!(segauge_metrics::surface_metrics(&pred, &gt, &[1], &smooth).is_err());
    // Empty masks: directed distances from an empty surface are NaN, towards one +inf; both empty follow the rule.
    let empty = vol(vec![0; 1000]);
    let m = &segauge_metrics::surface_metrics(&empty, &gt, &[1], &options).unwrap()[&1];
    assert_eq!((m.empty_state, m.hd_gt_to_pred), (EmptyState::PredEmpty, f64::INFINITY));
    assert!(m.hd_pred_to_gt.is_nan() && m.asd_pred_to_gt.is_nan());
    let nan = SurfaceOptions { both_empty: BothEmpty::Nan, ..options.clone() };
    let m = &segauge_metrics::surface_metrics(&empty, &empty, &[1], &nan).unwrap()[&1];
    assert!(m.hd.is_nan() && m.nsd.is_nan());
    assert_eq!(
        segauge_metrics::surface_metrics(&empty, &empty, &[1], &options).unwrap()[&1],
        SurfaceMetrics::empty(EmptyState::BothEmpty)
    );
    // tau 0: only coinciding boundary samples count.
    let zero = SurfaceOptions { tau: 0.0, ..options };
    assert_eq!(segauge_metrics::surface_metrics(&pred, &gt, &[1], &zero).unwrap()[&1].nsd, 0.0);
    assert_eq!(segauge_metrics::surface_metrics(&gt, &gt, &[1], &zero).unwrap()[&1].nsd, 1.0);
}
