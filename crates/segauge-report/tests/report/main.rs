//! Integration tests of segauge-report: data-set evaluation on generated cases, label selection and settings.

mod aggregate;
mod html;

use segauge_report::{EvalOptions, eval_json, evaluate, pair_dirs};

#[test]
fn a_label_absent_from_one_case_gets_both_empty_rows_with_known_values() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
    let data = pair_dirs(&pred, &gt).unwrap();
    assert_eq!(data.cases.len(), segauge_tests::EXAMPLE_CASES);
    let options = EvalOptions::default();
    let eval = evaluate(&data, &options, &|| {});
    assert!(eval.failures.is_empty());
    let case2 = eval.cases.iter().find(|c| c.case == "case_002").unwrap();
    let lesion = case2.labels.iter().find(|l| l.label == 3).unwrap();
    assert_eq!(lesion.empty_state(), segauge_metrics::EmptyState::BothEmpty);
    let s = lesion.surface.as_ref().unwrap();
    assert_eq!((s.hd, s.hd_percentile, s.assd, s.masd, s.nsd, s.biou), (0.0, 0.0, 0.0, 0.0, 1.0, 1.0));
    // Every case reports the same labels.
    assert!(eval.cases.iter().all(|c| c.labels.iter().map(|l| l.label).eq([1, 2, 3])));
    // The JSON says what was computed.
    let doc: serde_json::Value = serde_json::from_str(&eval_json(&eval, &pred, &gt, &options)).unwrap();
    assert_eq!(doc["surface"], options.surface.as_ref().unwrap().surface.as_str());
    assert_eq!(doc["tau"].as_f64(), Some(2.0));
    assert_eq!(doc["cases"].as_array().unwrap().len(), 3 * segauge_tests::EXAMPLE_CASES);
}

#[test]
fn a_prediction_without_partner_and_a_duplicate_are_failures() {
    let dir = tempfile::tempdir().unwrap();
    segauge_tests::write_example(dir.path()).unwrap();
    let (pred, gt) = (dir.path().join("pred"), dir.path().join("gt"));
    std::fs::copy(pred.join("case_000.nii.gz"), pred.join("extra.nii.gz")).unwrap();
    std::fs::copy(gt.join("case_001.nii.gz"), gt.join("case_001.nii")).unwrap();
    let data = pair_dirs(&pred, &gt).unwrap();
    let eval = evaluate(&data, &EvalOptions { surface: None, ..EvalOptions::default() }, &|| {});
    let failed: Vec<&str> = eval.failures.iter().map(|f| f.case.as_str()).collect();
    assert_eq!(failed, ["case_001", "extra"]);
    assert!(eval.failures[0].error.starts_with("2 files for one case: "));
    assert!(eval.failures[1].error.starts_with("no ground truth for prediction "));
    assert_eq!(eval.cases.len(), segauge_tests::EXAMPLE_CASES - 1);
    assert!(eval.cases.iter().all(|c| c.labels.iter().all(|l| l.surface.is_none())));
}
