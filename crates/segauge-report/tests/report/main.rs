//! Integration tests of segauge-report: the outputs of real evaluations (JSON, CSV) and of a hand-built report
//! (HTML).

mod html;

use segauge_eval::{AggregateOptions, EvalOptions, Inputs, Options, pair_dirs, run};

/// The example data set evaluated (B = 499) with one unreadable ground truth and a prediction without partner.
fn example_report(dir: &std::path::Path) -> segauge_eval::Report {
    segauge_tests::write_example(dir).unwrap();
    let (pred, gt) = (dir.join("pred"), dir.join("gt"));
    std::fs::write(gt.join("case_003.nii.gz"), b"not a nifti").unwrap();
    std::fs::copy(pred.join("case_000.nii.gz"), pred.join("orphan.nii.gz")).unwrap();
    let inputs = Inputs {
        models: vec![("pred".into(), pair_dirs(&pred, &gt).unwrap())],
        gt_dir: Some(gt),
        ..Default::default()
    };
    let options = Options {
        eval: EvalOptions::default(),
        aggregate: AggregateOptions { resamples: 499, ..Default::default() },
    };
    run(inputs, &options, &|_| {}).unwrap()
}

#[test]
fn the_json_states_settings_rows_failures_and_denominators() {
    let dir = tempfile::tempdir().unwrap();
    let r = example_report(dir.path());
    let doc: serde_json::Value = serde_json::from_str(&segauge_report::report_json(&r)).unwrap();
    assert_eq!(doc["schema"], "segauge-eval/3");
    assert_eq!(doc["surface"], r.options.eval.surface.as_ref().unwrap().surface.as_str());
    assert_eq!(doc["tau"].as_f64(), Some(2.0));
    assert_eq!(doc["n_failed"], 2);
    assert_eq!(doc["cases"].as_array().unwrap().len(), 3 * (segauge_tests::EXAMPLE_CASES - 1));
    assert!(doc["failures"][0]["error"].as_str().unwrap().contains("case_003.nii.gz"));
    assert_eq!(doc["summary"][0]["n_failed"], 2);
    assert_eq!(doc["gt_dir"], dir.path().join("gt").display().to_string());
}

/// The JSON written to a file, its case rows made one at a time, is the document `report_json` returns, byte for
/// byte: one model with failures, and two models with their comparison and ranking.
#[test]
fn the_json_written_row_by_row_is_the_whole_document() {
    let dir = tempfile::tempdir().unwrap();
    for r in [example_report(dir.path()), html::fixture()] {
        let mut written = Vec::new();
        segauge_report::write_report_json(&r, &mut written, std::path::Path::new("r.json")).unwrap();
        let whole = segauge_report::report_json(&r);
        assert_eq!(String::from_utf8(written).unwrap(), whole);
        let doc: serde_json::Value = serde_json::from_str(&whole).unwrap();
        let keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
        let at = |k: &str| keys.iter().position(|&x| x == k).unwrap();
        assert!(at("n_failed") + 1 == at("cases") && at("cases") + 1 == at("failures"), "{keys:?}");
        let rows: usize = r.models.iter().flat_map(|m| &m.evaluation.cases).map(|c| c.labels.len()).sum();
        assert_eq!(doc["cases"].as_array().unwrap().len(), rows);
    }
}

#[test]
fn failed_cases_keep_the_label_column_integer_in_the_per_case_csv() {
    // One failure row per label the evaluated cases report, so that pandas reads `label` as integers.
    let dir = tempfile::tempdir().unwrap();
    let r = example_report(dir.path());
    let mut buf = Vec::new();
    segauge_report::write_cases_csv(&r, &mut buf, std::path::Path::new("cases.csv")).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let (case_col, label_col, error_col) = (
        header.iter().position(|h| h == "case").unwrap(),
        header.iter().position(|h| h == "label").unwrap(),
        header.iter().position(|h| h == "error").unwrap(),
    );
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert!(records.iter().all(|r| r[label_col].parse::<u32>().is_ok()), "{text}");
    let failed: Vec<(&str, &str)> =
        records.iter().filter(|r| !r[error_col].is_empty()).map(|r| (&r[case_col], &r[label_col])).collect();
    assert_eq!(
        failed,
        [
            ("case_003", "1"),
            ("case_003", "2"),
            ("case_003", "3"),
            ("orphan", "1"),
            ("orphan", "2"),
            ("orphan", "3")
        ]
    );
}
