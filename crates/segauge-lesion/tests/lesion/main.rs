//! Integration tests of segauge-lesion: components against scipy and cc3d, matching against scipy's
//! `linear_sum_assignment` and panoptica (values in tests/data/lesion, see its PROVENANCE.md), the edge cases of
//! docs/METHODS.md B.4, and the BraTS 2023 rule on a case computed by hand.

use segauge_lesion::{Connectivity, LesionOptions, MatchRule, evaluate, label};
use segauge_mesh::{Frame, Mask};
use segauge_metrics::SurfaceOptions;
use serde_json::Value;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/lesion/expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("tests/data/lesion/expected.json")).unwrap()
}

fn dims(v: &Value) -> [usize; 3] {
    let d: Vec<usize> = v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    [d[0], d[1], d[2]]
}

fn mask(dims: [usize; 3], bits: &Value) -> Mask {
    Mask::new(dims, bits.as_str().unwrap().bytes().map(|b| b == b'1').collect()).unwrap()
}

/// Labels renumbered by first occurrence, so that two labellings of the same partition compare equal.
fn canonical(labels: &[u32]) -> Vec<u32> {
    let mut map = std::collections::HashMap::new();
    labels
        .iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let next = map.len() as u32 + 1;
            *map.entry(l).or_insert(next)
        })
        .collect()
}

#[test]
fn components_equal_scipy_label_and_cc3d() {
    let f = fixtures();
    let mut checked = 0;
    for case in f["components"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let m = mask(dims(&case["dims"]), &case["voxels"]);
        for (key, expected) in case["expected"].as_object().unwrap() {
            let (tool, conn) = key.split_at(if key.starts_with("scipy") { 5 } else { 4 });
            let cc = label(&m, conn.parse::<Connectivity>().unwrap());
            let want: Vec<u32> =
                expected["labels"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
            assert_eq!(cc.len() as u64, expected["count"].as_u64().unwrap(), "{name} {key}");
            let got = cc.label_image();
            if tool == "scipy" {
                // scipy numbers components in C order of the (z, y, x) array: our raster order, so the labels
                // themselves agree.
                assert_eq!(got, want, "{name} {key}");
            } else {
                // cc3d's numbering is its own; the voxel sets must agree.
                assert_eq!(canonical(&got), canonical(&want), "{name} {key}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 64, "labellings checked");
}

fn close(a: f64, b: &Value) -> bool {
    match b.as_f64() {
        Some(b) => (a - b).abs() <= 1e-12,
        None => a.is_nan(),
    }
}

#[test]
fn matching_equals_linear_sum_assignment_and_panoptica() {
    let f = fixtures();
    let frame = Frame::scaled([1.0; 3]);
    for case in f["matching"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let d = dims(&case["dims"]);
        let (gt, pred) = (mask(d, &case["gt"]), mask(d, &case["pred"]));
        for (key, rule, threshold) in [
            ("iou_0.5", MatchRule::Iou, 0.5),
            ("iou_0.1", MatchRule::Iou, 0.1),
            ("iou_0.0", MatchRule::Iou, 0.0),
            ("dice_0.3", MatchRule::Dice, 0.3),
        ] {
            let options = LesionOptions { rule, threshold, ..LesionOptions::default() };
            let r = evaluate(&pred, &gt, &frame, &options).unwrap();
            let e = &case[key];
            assert_eq!(
                (r.tp, r.fp, r.fn_),
                (e["tp"].as_u64().unwrap(), e["fp"].as_u64().unwrap(), e["fn"].as_u64().unwrap()),
                "{name} {key}"
            );
            let sum: f64 =
                r.matches.iter().map(|m| if rule == MatchRule::Iou { m.iou } else { m.dice }).sum();
            assert!(close(sum, &e["score_sum"]), "{name} {key}: {sum} vs {}", e["score_sum"]);
        }
        let r = evaluate(&pred, &gt, &frame, &LesionOptions::default()).unwrap();
        let p = &case["panoptica"];
        assert_eq!(
            (r.tp, r.fp, r.fn_),
            (p["tp"].as_u64().unwrap(), p["fp"].as_u64().unwrap(), p["fn"].as_u64().unwrap())
        );
        assert!(close(r.rq(), &p["rq"]), "{name} rq {} vs {}", r.rq(), p["rq"]);
        if r.tp == 0 {
            // No matched pair: SQ is undefined here; panoptica writes 0 (or None without any lesion).
            assert!(r.sq().is_nan() && (p["sq"] == 0.0 || p["sq"].is_null()), "{name} sq {}", p["sq"]);
        } else {
            assert!(close(r.sq(), &p["sq"]), "{name} sq {} vs {}", r.sq(), p["sq"]);
        }
        assert!(close(r.pq(), &p["pq"]), "{name} pq {} vs {}", r.pq(), p["pq"]);
    }
}

fn cube(m: &mut [bool], d: [usize; 3], lo: [usize; 3], side: usize) {
    for k in lo[2]..lo[2] + side {
        for j in lo[1]..lo[1] + side {
            for i in lo[0]..lo[0] + side {
                m[i + d[0] * (j + d[1] * k)] = true;
            }
        }
    }
}

#[test]
fn edge_cases_of_methods_b4() {
    let d = [6, 6, 6];
    let frame = Frame::scaled([1.0; 3]);
    let empty = Mask::new(d, vec![false; 216]).unwrap();
    let mut v = vec![false; 216];
    cube(&mut v, d, [1, 1, 1], 2);
    let one = Mask::new(d, v).unwrap();
    let o = LesionOptions::default();

    // No lesion on either side: every detection score undefined, flagged, never 1.
    let r = evaluate(&empty, &empty, &frame, &o).unwrap();
    assert!(r.precision().is_nan() && r.recall().is_nan() && r.f1().is_nan() && r.pq().is_nan());
    assert_eq!(r.undefined(), ["precision", "recall", "f1", "sq", "pq"]);

    // GT empty, one prediction: P = 0, R undefined, F1 = 0.
    let r = evaluate(&one, &empty, &frame, &o).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_), (0, 1, 0));
    assert_eq!((r.precision(), r.f1(), r.pq()), (0.0, 0.0, 0.0));
    assert!(r.recall().is_nan());
    // SQ has no matched pair to average; PQ = ΣIoU/(TP + FP/2 + FN/2) = 0.
    assert_eq!(r.undefined(), ["recall", "sq"]);

    // GT lesion, no prediction: P undefined, R = 0, F1 = 0, SQ undefined, PQ = 0; the list says exactly that.
    let r = evaluate(&empty, &one, &frame, &o).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_), (0, 0, 1));
    assert_eq!((r.recall(), r.f1(), r.pq()), (0.0, 0.0, 0.0));
    assert!(r.precision().is_nan() && r.sq().is_nan());
    assert_eq!(r.undefined(), ["precision", "sq"]);

    // Identical: everything 1.
    let r = evaluate(&one, &one, &frame, &o).unwrap();
    assert_eq!((r.precision(), r.recall(), r.f1(), r.sq(), r.pq()), (1.0, 1.0, 1.0, 1.0, 1.0));
    assert!(r.undefined().is_empty());

    // Mismatched shapes are an error, not a panic.
    let small = Mask::new([2, 2, 2], vec![false; 8]).unwrap();
    assert!(evaluate(&small, &one, &frame, &o).unwrap_err().to_string().contains("shape mismatch"));
}

#[test]
fn overlap_rule_and_strata() {
    // One GT bar split in two predictions: no pair has IoU > 0.5, but both touch it.
    let d = [12, 4, 3];
    let gt = Mask::from_fn(d, |i, j, k| k == 1 && (1..3).contains(&j) && (1..11).contains(&i));
    let pred = Mask::from_fn(d, |i, j, k| {
        k == 1 && (1..3).contains(&j) && ((1..5).contains(&i) || (7..11).contains(&i))
    });
    let frame = Frame::scaled([1.0; 3]);
    let iou = evaluate(&pred, &gt, &frame, &LesionOptions::default()).unwrap();
    assert_eq!((iou.tp, iou.fp, iou.fn_), (0, 2, 1));
    let o = LesionOptions { rule: MatchRule::Overlap, ..LesionOptions::default() };
    let r = evaluate(&pred, &gt, &frame, &o).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_), (1, 0, 0));
    assert_eq!(r.matches[0].pred, [1, 2]);
    // 16 shared voxels of 20 GT and 16 predicted: IoU 16/20, Dice 32/36.
    assert_eq!((r.matches[0].iou, r.matches[0].dice), (0.8, 32.0 / 36.0));
    // Strata by equivalent diameter: the GT bar (20 mm³, d = 3.37 mm) is in [3, 10); each prediction (8 mm³,
    // d = 2.48 mm) in [0, 3).
    let s = &r.strata;
    assert_eq!(s.len(), 3);
    assert_eq!((s[0].gt, s[0].pred, s[0].pred_matched), (0, 2, 2));
    assert_eq!((s[1].gt, s[1].gt_detected, s[1].pred), (1, 1, 0));
    assert!(s[0].recall().is_nan() && s[1].recall() == 1.0 && s[0].precision() == 1.0);
}

#[test]
fn brats2023_rule_by_hand() {
    // GT: two 3³ cubes two voxels apart (their 1-dilations touch: one merged lesion of 54 voxels), and a single
    // voxel far away (1 mm³ ≤ 2 mm³: not scored). Prediction: the first cube exactly, a voxel next to the small GT
    // voxel (touches its dilation: not a false positive), and a far voxel (false positive).
    let d = [20, 8, 8];
    let mut g = vec![false; 20 * 64];
    cube(&mut g, d, [1, 2, 2], 3);
    cube(&mut g, d, [6, 2, 2], 3);
    g[17 + 20 * (6 + 8 * 6)] = true;
    let mut p = vec![false; 20 * 64];
    cube(&mut p, d, [1, 2, 2], 3);
    p[18 + 20 * (6 + 8 * 6)] = true;
    p[18 + 20 * (1 + 8)] = true; // voxel (18, 1, 1)
    let (gt, pred) = (Mask::new(d, g).unwrap(), Mask::new(d, p).unwrap());
    let mut o = LesionOptions { rule: MatchRule::Brats2023, ..LesionOptions::default() };
    o.brats.dilation = 1;
    o.brats.min_gt_volume_mm3 = 2.0;
    o.surface = Some(SurfaceOptions::default());
    let r = evaluate(&pred, &gt, &Frame::scaled([1.0; 3]), &o).unwrap();
    let b = r.brats.unwrap();
    assert_eq!((b.gt_kept, b.gt_dropped), (1, 1));
    assert_eq!((r.tp, r.fp, r.fn_), (1, 1, 0));
    assert_eq!(r.gt[0].voxels, 54);
    // Dice of the merged lesion against the first cube: 2·27/(54 + 27); lesion-wise Dice divides by kept + FP.
    assert_eq!(r.matches[0].dice, 54.0 / 81.0);
    assert_eq!(b.lesion_wise_dice, (54.0 / 81.0) / 2.0);
    let hd = r.matches[0].surface.as_ref().unwrap().hd_percentile;
    assert!(hd > 0.0 && hd.is_finite());
    assert_eq!(b.lesion_wise_hd95, Some((hd + 374.0) / 2.0));

    // Without dilation (k = 0) the cubes are two lesions: the second is missed.
    o.brats.dilation = 0;
    let r = evaluate(&pred, &gt, &Frame::scaled([1.0; 3]), &o).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_), (1, 2, 1));
    let b = r.brats.unwrap();
    assert_eq!(b.lesion_wise_dice, 1.0 / 4.0);
    assert_eq!(b.lesion_wise_hd95, Some((0.0 + 374.0 + 374.0 + 374.0) / 4.0));
}

#[test]
fn per_pair_surface_metrics_on_request() {
    // A 6-voxel cube and its copy shifted by one voxel along x: every sample of a face that moved is 1 mm from
    // the other surface, and no sample is farther, so HD = 1 mm; IoU = 5/7.
    let d = [10, 9, 9];
    let inside = |v: usize| (2..8).contains(&v);
    let gt = Mask::from_fn(d, |i, j, k| inside(i) && inside(j) && inside(k));
    let pred = Mask::from_fn(d, |i, j, k| i >= 1 && inside(i - 1) && inside(j) && inside(k));
    let o = LesionOptions {
        surface: Some(SurfaceOptions {
            surface: segauge_metrics::Surface::VoxelFaces,
            ..SurfaceOptions::default()
        }),
        ..LesionOptions::default()
    };
    let r = evaluate(&pred, &gt, &Frame::scaled([1.0, 1.0, 2.0]), &o).unwrap();
    let s = r.matches[0].surface.as_ref().unwrap();
    assert!((s.hd - 1.0).abs() < 1e-12, "{}", s.hd);
    assert!(s.assd > 0.0 && s.assd < 1.0);
    assert!((r.matches[0].iou - 5.0 / 7.0).abs() < 1e-15);
}

#[test]
fn brats2023_rule_equals_the_challenge_code() {
    // tests/data/lesion/brats_expected.json: the challenge's get_LesionWiseScores on synthetic NIfTI files (see
    // PROVENANCE.md), for GLI (dilation 3, 50 mm³) and MET (dilation 1, 2 mm³).
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/lesion/brats_expected.json");
    let f: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for case in f["cases"].as_array().unwrap() {
        let d = dims(&case["dims"]);
        let spacing: Vec<f64> =
            case["spacing"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let from = |key: &str| {
            let mut v = vec![false; d.iter().product()];
            for i in case[key].as_array().unwrap() {
                v[i.as_u64().unwrap() as usize] = true;
            }
            Mask::new(d, v).unwrap()
        };
        let (gt, pred) = (from("gt"), from("pred"));
        for (challenge, dilation, volume) in [("BraTS-GLI", 3, 50.0), ("BraTS-MET", 1, 2.0)] {
            let mut o = LesionOptions { rule: MatchRule::Brats2023, ..LesionOptions::default() };
            o.brats.dilation = dilation;
            o.brats.min_gt_volume_mm3 = volume;
            o.surface = Some(SurfaceOptions::default());
            let r = evaluate(&pred, &gt, &Frame::scaled([spacing[0], spacing[1], spacing[2]]), &o).unwrap();
            let e = &case["expected"][challenge];
            let name = format!("{} {challenge}", case["name"]);
            assert_eq!(
                (r.tp, r.fp, r.fn_),
                (e["tp"].as_u64().unwrap(), e["fp"].as_u64().unwrap(), e["fn"].as_u64().unwrap()),
                "{name}"
            );
            let b = r.brats.unwrap();
            assert_eq!((b.gt_kept + b.gt_dropped) as usize, r.gt.len() + b.gt_dropped as usize);
            assert_eq!(b.gt_kept + b.gt_dropped, e["gt_lesions"].as_u64().unwrap(), "{name}: merged lesions");
            let dice = e["lesion_wise_dice"].as_f64().unwrap();
            assert!((b.lesion_wise_dice - dice).abs() <= 1e-12, "{name}: {} vs {dice}", b.lesion_wise_dice);
            // HD95 comes from DeepMind's surfels there and from our surface here: equal only where every term is
            // the penalty (or there is nothing to score).
            let hd = e["lesion_wise_hd95"].as_f64().unwrap();
            if hd == 374.0 || hd == 0.0 {
                assert_eq!(b.lesion_wise_hd95, Some(hd), "{name}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 16);
}
