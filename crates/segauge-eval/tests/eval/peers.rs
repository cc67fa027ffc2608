//! The peers' own test cases (tests/data/peers, values asserted by the peers' tests), each under its tool's
//! convention preset ([`Convention`], docs/METHODS.md A.10) and within the test's own tolerance: `monai`
//! reproduces MONAI's Euclidean Hausdorff, surface-distance and surface-Dice cases (the background class as label
//! 0; its `use_subvoxels` cases on the surfels surface), `medpy` medpy's `asd`/`assd` tests, `deepmind` every
//! DeepMind case, `meshmetrics` MeshMetrics' 3D and 2D examples. Cases that need what segauge does not do (MONAI's
//! aggregates, medpy's per-object metrics) are counted and listed, so the table in the README can say how many are
//! reproduced.

use std::path::{Path, PathBuf};

use segauge_eval::Convention;
use segauge_io::{LabelVolume, NpyOptions};
use segauge_metrics::{
    BothEmpty, OverlapCounts, Surface, SurfaceMetrics, SurfaceOptions, label_surface_distances,
    surface_metrics,
};
use serde_json::Value;

/// The preset of `convention` with the tolerance and percentile a test passes as arguments.
fn preset(convention: Convention, tau: f64, percentile: f64) -> SurfaceOptions {
    SurfaceOptions { tau, percentile, ..convention.surface_options() }
}

fn peers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/peers")
}

fn cases(peer: &str) -> Vec<Value> {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(peers().join(peer).join("cases.json")).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn read(dir: &Path, name: &str) -> LabelVolume {
    segauge_io::read_npy(&dir.join(name), &NpyOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A JSON number or the strings "inf"/"nan".
fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        v => v.as_f64().unwrap_or_else(|| panic!("{v} is not a number")),
    }
}

/// Within the test's own tolerance (`rtol` and/or `abs`; exact when neither), inf equal to inf, NaN to NaN.
fn within(got: f64, want: f64, tolerance: &Value) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    let rtol = tolerance["rtol"].as_f64().unwrap_or(0.0);
    let abs = tolerance["abs"].as_f64().unwrap_or(0.0);
    (got - want).abs() <= abs + rtol * want.abs()
}

/// Label 1 under a preset, at HD percentile `percentile` and segauge's τ.
fn under(convention: Convention, pred: &LabelVolume, gt: &LabelVolume, percentile: f64) -> SurfaceMetrics {
    surface_metrics(pred, gt, &[1], &preset(convention, 2.0, percentile)).unwrap()[&1].clone()
}

#[test]
fn monai_euclidean_hausdorff_and_surface_distance_cases() {
    let dir = peers().join("monai");
    let (mut reproduced, mut checked, mut left) = (0, 0, Vec::new());
    for case in cases("monai") {
        let name = case["case"].as_str().unwrap();
        let metric = case["args"]["metric"].as_str().unwrap_or("");
        let aggregate = case["args"]["get_not_nans"].as_bool().unwrap_or(false);
        if !matches!(metric, "HausdorffDistanceMetric" | "SurfaceDistanceMetric") || aggregate {
            left.push(format!("{name} ({metric}{})", if aggregate { ", aggregate" } else { "" }));
            continue;
        }
        let (pred, gt) =
            (read(&dir, case["pred"].as_str().unwrap()), read(&dir, case["gt"].as_str().unwrap()));
        let percentile = case["args"]["percentile"].as_f64();
        let m = under(Convention::Monai, &pred, &gt, percentile.unwrap_or(100.0));
        for (key, want) in case["expected"].as_object().unwrap() {
            let want = number(want);
            let got = match (key.contains("directed=True"), key.contains("symmetric=False"), percentile) {
                // Hausdorff: directed (prediction to ground truth), or the larger of the two directions.
                (true, _, None) => m.hd_pred_to_gt,
                (true, _, Some(_)) => m.hd_percentile_pred_to_gt,
                _ if key.starts_with("hausdorff") && percentile.is_some() => m.hd_percentile,
                _ if key.starts_with("hausdorff") => m.hd,
                // Average surface distance: from the prediction, or both directions pooled.
                (_, true, _) => m.asd_pred_to_gt,
                _ => m.assd,
            };
            checked += 1;
            assert!(within(got, want, &case["tolerance"]), "{name} {key}: segauge {got}, MONAI {want}");
            reproduced += 1;
        }
    }
    assert_eq!(reproduced, checked);
    // Every value of the Hausdorff and surface-distance tables (the directed ones from an empty mask are +inf
    // under MONAI's empty-mask convention); the NaN tests' aggregates are left.
    assert_eq!(reproduced, 28, "not checked: {left:?}");
    let aggregates = left.iter().filter(|l| l.contains("DistanceMetric, aggregate)")).count();
    assert_eq!(aggregates, 4, "{left:?}");
}

/// MONAI's `SurfaceDiceMetric` and `compute_surface_dice` tests, per image and class, under the `monai` preset: the
/// grid surface (in the plane for its 2D tests) with MONAI's empty-mask values, class 0 measured as label 0 (the
/// background, whose surface includes the image border); the `use_subvoxels=True` cases on the surfels surface
/// (MONAI's subvoxel path is DeepMind's surfels). Left: the aggregates and `not_nans` (MONAI's reduction API).
#[test]
fn monai_surface_dice_cases() {
    let dir = peers().join("monai");
    let (mut reproduced, mut left) = (0, Vec::new());
    let options = |surface, tau| SurfaceOptions { tau, ..Convention::Monai.surface_options_for(surface) };
    let nsd = |pred: &LabelVolume, gt: &LabelVolume, label: u32, surface, tau| {
        surface_metrics(pred, gt, &[label], &options(surface, tau)).unwrap()[&label].nsd
    };
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            v => v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        }
    };
    for case in cases("monai") {
        let name = case["case"].as_str().unwrap();
        let args = &case["args"];
        let subvoxels = args["use_subvoxels"].as_bool().unwrap_or(false);
        if args["metric"].as_str() != Some("SurfaceDiceMetric") && !subvoxels {
            continue;
        }
        let (preds, gts) = (list(&case["pred"]), list(&case["gt"]));
        let thresholds: Vec<f64> =
            args["class_thresholds"].as_array().unwrap().iter().map(|t| t.as_f64().unwrap()).collect();
        let background = args["include_background"].as_bool().unwrap();
        for (key, want) in case["expected"].as_object().unwrap() {
            // Keys are nsd[b<image>,c<class>].
            let Some(index) = key.strip_prefix("nsd[b").and_then(|k| k.strip_suffix(']')) else {
                left.push(format!("{name} {key} (aggregate)"));
                continue;
            };
            let (b, c) = index.split_once(",c").unwrap();
            let (b, c): (usize, u32) = (b.parse().unwrap(), c.parse().unwrap());
            let (pred, gt) =
                (read(&dir, &preds[b.min(preds.len() - 1)]), read(&dir, &gts[b.min(gts.len() - 1)]));
            // Thresholds are indexed from class 0 with the background, from class 1 without.
            let tau = thresholds[c as usize - usize::from(!background)];
            let want = number(want);
            let got = if subvoxels {
                nsd(&pred, &gt, 1, Surface::Surfels, tau)
            } else if args.get("input").is_some() {
                // torch.zeros as both inputs: every channel (class 0 too) is an empty mask, not a label map.
                nsd(&pred, &gt, 1 + c, Surface::Grid, tau)
            } else {
                // A one-slice image is measured in its plane (4-connected boundary pixels, docs/METHODS.md A.9).
                surface_metrics(&pred, &gt, &[c], &options(Surface::Grid, tau)).unwrap()[&c].nsd
            };
            assert!(within(got, want, &case["tolerance"]), "{name} {key}: segauge {got}, MONAI {want}");
            reproduced += 1;
        }
        // The relations of the per-class tests: NSD rises strictly with τ, then stops once every distance is within
        // it (on image 0; the other images of the 2D tests are all background). dice2d_spacing's third relation
        // (the same values with and without spacing at τ = 0) is left.
        if matches!(name, "dice3d" | "dice2d" | "dice2d_spacing") {
            let (pred, gt) = (read(&dir, &preds[0]), read(&dir, &gts[0]));
            for relation in case["relations"].as_array().unwrap() {
                let Some(over) = relation["over_class_thresholds"].as_array() else {
                    left.push(format!("{name} relation {}", relation["kind"]));
                    continue;
                };
                let taus: Vec<f64> = over.iter().map(|t| number(&t[0])).collect();
                for c in [0, 1] {
                    let v: Vec<f64> = taus.iter().map(|&t| nsd(&pred, &gt, c, Surface::Grid, t)).collect();
                    let holds = match relation["kind"].as_str().unwrap() {
                        "strictly_increasing" => v.windows(2).all(|w| w[0] < w[1]),
                        _ => v.windows(2).all(|w| w[0] == w[1]),
                    };
                    assert!(holds, "{name} class {c}: {relation} gives {v:?}");
                }
                reproduced += 1;
            }
        }
    }
    // Every per-image value: dice3d's 4 per-class values, the 4 subvoxel cases, dice2d's and dice2d_spacing's 14
    // (2D, in the plane), test_not_predicted_not_present's 7, the all-empty channels' 6; and 6 relations (dice3d 2,
    // dice2d 2, dice2d_spacing 2). Left: the aggregates and `not_nans`, one relation.
    assert_eq!(reproduced, 41, "left: {left:?}");
    assert_eq!(left.len(), 11, "{left:?}");
}

#[test]
fn medpy_asd_and_assd_tests() {
    let dir = peers().join("medpy");
    let mut reproduced = 0;
    for case in cases("medpy") {
        let name = case["case"].as_str().unwrap();
        let function = case["args"]["function"].as_str().unwrap();
        if function.starts_with("obj_") {
            continue; // per-object metrics: not in segauge
        }
        let (pred, gt) =
            (read(&dir, case["pred"].as_str().unwrap()), read(&dir, case["gt"].as_str().unwrap()));
        let forward = under(Convention::Medpy, &pred, &gt, 100.0);
        let backward = under(Convention::Medpy, &gt, &pred, 100.0);
        let value = |m: &SurfaceMetrics| if function == "asd" { m.asd_pred_to_gt } else { m.masd };
        for (key, want) in case["expected"].as_object().unwrap() {
            assert_eq!(value(&forward), number(want), "{name} {key}");
            reproduced += 1;
        }
        for relation in case["relations"].as_array().into_iter().flatten() {
            let equal = value(&forward) == value(&backward);
            match relation["kind"].as_str().unwrap() {
                "equal" => assert!(equal, "{name}"),
                _ => assert!(!equal, "{name}: {} both ways", value(&forward)),
            }
            reproduced += 1;
        }
    }
    assert_eq!(reproduced, 8, "medpy's asd/assd tests: 6 values and 2 symmetry relations");
}

#[test]
fn meshmetrics_notebook_3d_examples_on_voxel_faces() {
    let dir = peers().join("meshmetrics");
    let mut reproduced = 0;
    for case in cases("meshmetrics") {
        if !case["case"].as_str().unwrap().starts_with("3d") {
            continue; // 2D: meshmetrics_notebook_2d_examples_on_pixel_edges
        }
        let (pred, gt) =
            (read(&dir, case["pred"].as_str().unwrap()), read(&dir, case["gt"].as_str().unwrap()));
        let options = preset(Convention::MeshMetrics, 2.0, 95.0);
        let m = &surface_metrics(&pred, &gt, &[1], &options).unwrap()[&1];
        let e = &case["expected"];
        for (got, key) in [(m.hd, "HD_100"), (m.hd_percentile, "HD_95"), (m.masd, "MASD"), (m.assd, "ASSD")] {
            let want = number(&e[key]);
            // The notebook's two inputs of the same masks differ by 2e-15 relative; summation order here by 5e-14.
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{} {key}: {got} vs {want}", case["case"]);
            reproduced += 1;
        }
        assert_eq!((m.nsd, m.biou), (number(&e["NSD_2.0"]), number(&e["BIoU_2.0"])));
        reproduced += 2;
    }
    assert_eq!(reproduced, 12);
}

/// DeepMind's own tests: every value `_assert_metrics` checks (8 per case, 10 cases), within the test's tolerance
/// and within 1e-6 relative of the peer's full-precision output (`peer_output.json`), plus the surfel arrays the
/// 2D tests assert exactly. Surfels surface, DeepMind's empty-mask convention, HD_p read as inverted-cdf.
#[test]
fn deepmind_surface_distance_cases_on_surfels() {
    let dir = peers().join("deepmind");
    let doc: Value = serde_json::from_slice(&std::fs::read(dir.join("peer_output.json")).unwrap()).unwrap();
    let (mut values, mut arrays, mut largest) = (0, 0, 0.0f64);
    for case in cases("deepmind") {
        let name = case["case"].as_str().unwrap();
        let (pred, gt) =
            (read(&dir, case["pred"].as_str().unwrap()), read(&dir, case["gt"].as_str().unwrap()));
        let args = &case["args"];
        let options = preset(Convention::DeepMind, args["tolerance_mm"].as_f64().unwrap(), 95.0);
        let m = surface_metrics(&pred, &gt, &[1], &options).unwrap()[&1].clone();
        let counts = OverlapCounts::compute(&pred, &gt).unwrap().get(1);
        let dice =
            if BothEmpty::DeepMind.overlap_is_nan(counts.empty_state()) { f64::NAN } else { counts.dice() };
        let peer = &doc["cases"][name];
        for (key, want) in case["expected"].as_object().unwrap() {
            let got = match key.as_str() {
                "average_surface_distance gt_to_pred" => m.asd_gt_to_pred,
                "average_surface_distance pred_to_gt" => m.asd_pred_to_gt,
                "robust_hausdorff 100" => m.hd,
                "robust_hausdorff 95" => m.hd_percentile,
                "surface_overlap gt at 1 mm" => m.nsd_gt_to_pred,
                "surface_overlap pred at 1 mm" => m.nsd_pred_to_gt,
                "surface_dice at 1 mm" => m.nsd,
                "volumetric_dice" => dice,
                other => panic!("{name}: unknown value {other}"),
            };
            let want = number(want);
            assert!(
                within(got, want, &case["tolerance"]),
                "{name} {key}: segauge {got}, DeepMind's test {want}"
            );
            let full = number(&peer[key]);
            let close =
                (got.is_nan() && full.is_nan()) || got == full || (got - full).abs() <= 1e-6 * full.abs();
            assert!(close, "{name} {key}: segauge {got}, DeepMind's output {full}");
            if got.is_finite() && full != 0.0 {
                largest = largest.max((got - full).abs() / full.abs());
            }
            values += 1;
        }
        // The 2D tests also assert the sorted [distance, area] arrays of both sides exactly.
        if let Some(surfels) = case.get("expected_surfels") {
            let d = label_surface_distances(&pred, &gt, 1, &options).unwrap().unwrap();
            for (side, directed) in [("gt", &d.gt_to_pred), ("pred", &d.pred_to_gt)] {
                let want: Vec<(f64, f64)> = surfels[side]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (number(&p[0]), number(&p[1])))
                    .collect();
                let got: Vec<(f64, f64)> =
                    directed.distances().iter().copied().zip(directed.weights().iter().copied()).collect();
                assert_eq!(got, want, "{name}: {side} surfels");
                arrays += 1;
            }
        }
    }
    assert_eq!((values, arrays), (80, 4), "every value of the 10 cases and the 4 surfel arrays");
    assert!(largest <= 1e-12, "largest relative difference from DeepMind's output: {largest:e}");
}

/// MeshMetrics' 2D examples: its contour mode (vtkSurfaceNets2D unsmoothed on the padded mask, one sample per
/// segment midpoint weighted by its length, distances to the other mask's pixel-edge boundary) is segauge's
/// voxel-faces surface on a 2D image (docs/METHODS.md A.9). MeshMetrics' points are float32 world coordinates, and
/// its two inputs of the same masks differ by 1.0e-7 relative (cases.json); segauge's exact f64 contours agree with
/// both within 2e-7 relative.
#[test]
fn meshmetrics_notebook_2d_examples_on_pixel_edges() {
    let dir = peers().join("meshmetrics");
    let mut reproduced = 0;
    for case in cases("meshmetrics") {
        if !case["case"].as_str().unwrap().starts_with("2d") {
            continue;
        }
        let (pred, gt) =
            (read(&dir, case["pred"].as_str().unwrap()), read(&dir, case["gt"].as_str().unwrap()));
        assert_eq!(gt.grid().dims(), [410, 410, 1]);
        let options = preset(Convention::MeshMetrics, 2.0, 95.0);
        let m = &surface_metrics(&pred, &gt, &[1], &options).unwrap()[&1];
        let e = &case["expected"];
        for (got, key) in [(m.hd, "HD_100"), (m.hd_percentile, "HD_95"), (m.masd, "MASD"), (m.assd, "ASSD")] {
            let want = number(&e[key]);
            assert!((got - want).abs() <= 2e-7 * want.abs(), "{} {key}: {got} vs {want}", case["case"]);
            reproduced += 1;
        }
        assert_eq!((m.nsd, m.biou), (number(&e["NSD_2.0"]), number(&e["BIoU_2.0"])));
        reproduced += 2;
    }
    assert_eq!(reproduced, 12);
}
