//! Integration tests of segauge-eval: data-set evaluation on generated cases, label selection, failures,
//! aggregates against independent recomputations, and the domain rules every front end relies on.

mod aggregate;
mod conventions;
mod peers;
mod structures;

use segauge_eval::{EvalOptions, Metric, Options, evaluate, pair_dirs};

#[test]
fn a_label_absent_from_one_case_gets_both_empty_rows_with_known_values() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
    let data = pair_dirs(&pred, &gt).unwrap();
    assert_eq!(data.cases.len(), segauge_tests::EXAMPLE_CASES);
    let options = EvalOptions::default();
    let eval = evaluate(&data, &options, &|| {}).unwrap();
    assert!(eval.failures.is_empty());
    let case2 = eval.cases.iter().find(|c| c.case == "case_002").unwrap();
    let lesion = case2.labels.iter().find(|l| l.structure.label == Some(3)).unwrap();
    assert_eq!(lesion.empty_state(), segauge_metrics::EmptyState::BothEmpty);
    let s = lesion.surface.as_ref().unwrap();
    assert_eq!((s.hd, s.hd_percentile, s.assd, s.masd, s.nsd, s.biou), (0.0, 0.0, 0.0, 0.0, 1.0, 1.0));
    // Every case reports the same labels, and the evaluation says which.
    assert!(eval.cases.iter().all(|c| c.labels.iter().map(|l| l.structure.label).eq([1, 2, 3].map(Some))));
    assert_eq!(eval.structures, [1, 2, 3].map(|l| segauge_eval::Structure::label(l, None)));
}

#[test]
fn a_prediction_without_partner_and_a_duplicate_are_failures() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
    std::fs::copy(pred.join("case_000.nii.gz"), pred.join("extra.nii.gz")).unwrap();
    std::fs::copy(gt.join("case_001.nii.gz"), gt.join("case_001.nii")).unwrap();
    let data = pair_dirs(&pred, &gt).unwrap();
    let eval = evaluate(&data, &EvalOptions { surface: None, ..EvalOptions::default() }, &|| {}).unwrap();
    let failed: Vec<&str> = eval.failures.iter().map(|f| f.case.as_str()).collect();
    assert_eq!(failed, ["case_001", "extra"]);
    assert!(eval.failures[0].error.starts_with("2 files for one case: "));
    assert!(eval.failures[1].error.starts_with("no ground truth for prediction "));
    assert_eq!(eval.cases.len(), segauge_tests::EXAMPLE_CASES - 1);
    assert!(eval.cases.iter().all(|c| c.labels.iter().all(|l| l.surface.is_none())));
}

#[test]
fn invalid_options_are_refused_before_any_case_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = segauge_eval::DataSet {
        cases: vec![segauge_eval::Case {
            id: "a".into(),
            pred: Some(dir.path().join("missing.nii")),
            gt: Some(dir.path().join("missing.nii")),
            metadata: Default::default(),
            volumes: None,
        }],
        failures: vec![],
        not_evaluated: vec![],
    };
    for (options, want) in [
        (EvalOptions { labels: Some(vec![]), ..Default::default() }, "labels must be a non-empty list"),
        (
            EvalOptions {
                surface: Some(segauge_metrics::SurfaceOptions { tau: f64::NAN, ..Default::default() }),
                ..Default::default()
            },
            "tau NaN",
        ),
        (
            EvalOptions {
                surface: Some(segauge_metrics::SurfaceOptions { percentile: 0.0, ..Default::default() }),
                ..Default::default()
            },
            "percentile 0 is not in (0, 100]",
        ),
    ] {
        let err = evaluate(&data, &options, &|| {}).unwrap_err().to_string();
        assert!(err.starts_with("invalid option: ") && err.contains(want), "{err}");
        assert!(!err.contains("invalid option: invalid option"), "{err}");
    }
    let mut options = Options::default();
    options.aggregate.subgroups = Some(vec!["hospital".into()]);
    let err = options.validate(&Default::default()).unwrap_err().to_string();
    assert!(err.contains("subgroup column \"hospital\" is not in the metadata"), "{err}");
}

/// Two bars of 10 voxels along x, the prediction shifted by one: lesion-wise Dice 0.9 and HD95 1 mm.
fn shifted_bar(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let dims = [16, 3, 3];
    let bar = |x0: usize| {
        segauge_tests::label_map(dims, move |x, y, z| {
            u8::from(y == 1 && z == 1 && (x0..x0 + 10).contains(&x))
        })
    };
    let (pred, gt) = (dir.join("pred"), dir.join("gt"));
    std::fs::create_dir_all(&pred).unwrap();
    std::fs::create_dir_all(&gt).unwrap();
    segauge_tests::Nifti::u8(dims, [1.0, 1.0, 1.0], bar(1)).write(&pred.join("a.nii.gz")).unwrap();
    segauge_tests::Nifti::u8(dims, [1.0, 1.0, 1.0], bar(0)).write(&gt.join("a.nii.gz")).unwrap();
    (pred, gt)
}

#[test]
fn brats2023_gets_lesion_wise_distances_however_the_options_were_built() {
    // Before, only the command line knew that the rule needs per-lesion distances: a library user got no
    // lesion_wise_hd95.
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = shifted_bar(dir.path());
    let brats = segauge_lesion::LesionOptions {
        rule: segauge_lesion::MatchRule::Brats2023,
        brats: segauge_lesion::BratsOptions { min_gt_volume_mm3: 0.0, ..Default::default() },
        ..Default::default()
    };
    let options = EvalOptions { lesions: Some(brats), ..Default::default() };
    let case = segauge_eval::compare(&pred.join("a.nii.gz"), &gt.join("a.nii.gz"), &options).unwrap();
    let b = case.labels[0].lesions.as_ref().unwrap().brats.unwrap();
    // Dice 2·9/20 = 0.9; the end faces of the bars are 1 mm apart, the rest coincide.
    assert!((b.lesion_wise_dice - 0.9).abs() < 1e-12);
    let hd = b.lesion_wise_hd95.expect("lesion-wise HD95 computed");
    assert!(hd > 0.0 && hd <= 1.0 + 1e-9, "{hd}");
    assert_eq!(Metric::LesionWiseHd95.value(&case.labels[0]), segauge_eval::Value::Number(hd));
}

#[test]
fn propagate_gives_an_infinite_mean_without_interval_instead_of_aborting() {
    // Case 1 of the example misses label 3 entirely (HD inf); the policy `propagate` must say so, not fail.
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
    let mut options = Options::default();
    options.aggregate.resamples = 99;
    options.aggregate.inf_policy = segauge_eval::InfPolicy::Propagate;
    let inputs = segauge_eval::Inputs {
        models: vec![("pred".into(), pair_dirs(&pred, &gt).unwrap())],
        ..Default::default()
    };
    let two = segauge_eval::Inputs {
        models: vec![
            ("a".into(), pair_dirs(&pred, &gt).unwrap()),
            ("b".into(), pair_dirs(&gt, &gt).unwrap()),
        ],
        ..Default::default()
    };
    let r = segauge_eval::run(inputs, &options, &|_| {}).unwrap();
    let hd = r.summary.iter().find(|e| e.metric == Metric::Hd && e.structure.label == Some(3)).unwrap();
    assert_eq!(hd.estimate, f64::INFINITY);
    assert!(hd.ci_low.is_nan() && hd.ci_high.is_nan());
    assert_eq!(hd.flags, ["non_finite"]);
    assert_eq!((hd.n_inf, hd.n_capped), (1, 0));
    // Finite metrics keep their intervals.
    let dice = r.summary.iter().find(|e| e.metric == Metric::Dice && e.structure.label == Some(3)).unwrap();
    assert!(dice.ci_low.is_finite());
    // Two models: comparisons and rankings still run.
    let r = segauge_eval::run(two, &options, &|_| {}).unwrap();
    assert!(!r.paired.is_empty() && !r.ranking.is_empty());
}

#[test]
fn cases_in_memory_give_the_records_of_their_files() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
    let files = pair_dirs(&pred, &gt).unwrap();
    let read = |p: &std::path::Path| segauge_io::read_labels(p, &Default::default()).unwrap();
    let memory: Vec<segauge_eval::Case> = files
        .cases
        .iter()
        .map(|c| {
            segauge_eval::Case::in_memory(&c.id, read(c.pred.as_ref().unwrap()), read(c.gt.as_ref().unwrap()))
        })
        .collect();
    let options = EvalOptions::default();
    let a = evaluate(&files, &options, &|| {}).unwrap();
    let b =
        evaluate(&segauge_eval::DataSet { cases: memory, ..Default::default() }, &options, &|| {}).unwrap();
    assert_eq!(a.cases.len(), b.cases.len());
    for (x, y) in a.cases.iter().zip(&b.cases) {
        assert_eq!((&x.case, &x.labels), (&y.case, &y.labels));
        assert_eq!((y.pred.to_str(), y.gt.to_str()), (Some("pred"), Some("gt")));
    }
}

#[test]
fn lesion_boxes_are_voxel_indices_of_the_image() {
    use segauge_io::{Grid, LabelVolume, Labels};
    let dims = [20, 20, 20];
    let grid = Grid::new(dims, [1.0, 1.0, 2.0]).unwrap();
    // A box over i in 10..=14, j in 11..=14, k in 12..=15 (far from the image's corner).
    let inside = |i: usize, j: usize, k: usize| {
        (10..=14).contains(&i) && (11..=14).contains(&j) && (12..=15).contains(&k)
    };
    let labels: Vec<u8> = (0..8000).map(|v| u8::from(inside(v % 20, (v / 20) % 20, v / 400))).collect();
    let vol = LabelVolume::new(grid, Labels::U8(labels)).unwrap();
    let r = segauge_eval::compare_volumes(&vol, &vol, &EvalOptions::default()).unwrap();
    let lesions = r.labels[0].lesions.as_ref().unwrap();
    for l in lesions.gt.iter().chain(&lesions.pred) {
        assert_eq!((l.lo, l.hi), ([10, 11, 12], [14, 14, 15]));
    }
}
