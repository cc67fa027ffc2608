//! Structures on real layouts: TotalSegmentator's multi-label output and its folder of masks, an nnU-Net data set
//! with names, regions and an ignore label, MONAI's SaveImage layout, a DICOM-SEG whose segments overlap; and the
//! one-line errors of names that do not fit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use segauge_eval::{
    DatasetLabels, EvalOptions, LabelRef, PairOptions, Structure, compare, compare_files, evaluate,
    pair_dirs, pair_dirs_with,
};
use segauge_io::{Axes, LabelFile, NpyOptions, ReadOptions};
use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn expected(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(rel)).unwrap()).unwrap()
}

/// Equal but for serde_json's float parsing, which is not always correctly rounded (the counts are exact).
fn assert_close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-15, "{a} vs {b}");
}

fn overlap_only() -> EvalOptions {
    EvalOptions { surface: None, lesions: None, ..Default::default() }
}

#[test]
fn totalsegmentator_folder_and_multilabel_file_give_the_same_named_structures() {
    let ts = data("totalsegmentator");
    let want = expected("totalsegmentator/expected.json");
    let options = EvalOptions::default();
    let file =
        compare(&ts.join("example_seg_fast.nii.gz"), &ts.join("example_seg.nii.gz"), &options).unwrap();
    let folder = compare(&ts.join("example_seg_fast"), &ts.join("example_seg.nii.gz"), &options).unwrap();
    // The file reports the 41 labels present on either side, the folder all 117 of its masks.
    assert_eq!((file.labels.len(), folder.labels.len()), (41, 117));
    for row in &file.labels {
        let w = &want["structures"][&row.structure.name];
        assert_eq!(row.structure.label, Some(w["label"].as_u64().unwrap() as u32), "{}", row.structure.name);
        let c = row.counts;
        assert_eq!(
            (c.tp, c.voxels_pred, c.voxels_gt),
            (w["tp"].as_u64().unwrap(), w["voxels_pred"].as_u64().unwrap(), w["voxels_gt"].as_u64().unwrap()),
            "{}",
            row.structure.name
        );
        // Every number, surfaces and lesions included, is the same from either layout.
        assert_eq!(folder.get(&row.structure.name), Some(row), "{}", row.structure.name);
    }
    for row in &folder.labels {
        if file.get(&row.structure.name).is_none() {
            assert_eq!(row.empty_state(), segauge_metrics::EmptyState::BothEmpty, "{}", row.structure.name);
        }
    }
    let liver = file.get("liver").unwrap();
    assert_eq!(liver.structure, Structure::label(5, Some("liver")));
    assert_eq!(liver.dice(), 2.0 * 38265.0 / (39350.0 + 38634.0));
}

#[test]
fn totalsegmentator_names_select_and_a_disagreeing_name_fails_the_case() {
    let ts = data("totalsegmentator");
    let options = EvalOptions {
        labels: Some(vec![
            LabelRef::Name("liver".into()),
            LabelRef::Name("SPLEEN".into()),
            LabelRef::Number(3),
        ]),
        ..overlap_only()
    };
    let r = compare(&ts.join("example_seg_fast"), &ts.join("example_seg.nii.gz"), &options).unwrap();
    let names: Vec<&str> = r.labels.iter().map(|l| l.structure.name.as_str()).collect();
    assert_eq!(names, ["spleen", "kidney_left", "liver"]);
    // A given name that the file's class map contradicts: one line naming both names and the file.
    let wrong = EvalOptions { names: BTreeMap::from([(5, "spleen_2".to_string())]), ..overlap_only() };
    let e = compare(&ts.join("example_seg_fast.nii.gz"), &ts.join("example_seg.nii.gz"), &wrong).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("label 5 is \"spleen_2\" in the given label names but \"liver\" in ")
            && msg.contains("example_seg.nii.gz")
            && !msg.contains('\n'),
        "{msg}"
    );
    // A selected name that no side has.
    let typo = EvalOptions { labels: Some(vec![LabelRef::Name("livr".into())]), ..overlap_only() };
    let e = compare(&ts.join("example_seg_fast.nii.gz"), &ts.join("example_seg.nii.gz"), &typo).unwrap_err();
    assert!(e.to_string().contains("no structure named \"livr\""), "{e}");
}

#[test]
fn a_mask_file_that_is_no_structure_of_the_label_map_fails_with_one_line() {
    let ts = data("totalsegmentator");
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("s01");
    std::fs::create_dir_all(case.join("segmentations")).unwrap();
    std::fs::copy(ts.join("example_seg_fast/liver.nii.gz"), case.join("segmentations/liver.nii.gz")).unwrap();
    std::fs::copy(ts.join("example_seg_fast/liver.nii.gz"), case.join("segmentations/livr.nii.gz")).unwrap();
    let e = compare(&case, &ts.join("example_seg.nii.gz"), &overlap_only()).unwrap_err().to_string();
    assert!(e.contains("livr.nii.gz: \"livr\" is no structure of") && !e.contains('\n'), "{e}");
    // Selecting only known structures, the stray file is left alone.
    let liver = EvalOptions { labels: Some(vec![LabelRef::Name("liver".into())]), ..overlap_only() };
    let r = compare(&case, &ts.join("example_seg.nii.gz"), &liver).unwrap();
    assert_eq!(r.labels.len(), 1);
    assert_eq!(r.labels[0].counts.tp, 38265);
}

#[test]
fn nnunet_names_regions_and_ignore_label_match_numpy() {
    let nn = data("layouts/nnunet");
    let want = &expected("layouts/expected.json")["nnunet"];
    let d = DatasetLabels::read(&nn.join("dataset.json")).unwrap();
    let options =
        EvalOptions { names: d.names, regions: d.regions, ignore_label: d.ignore, ..overlap_only() };
    let pairing = PairOptions { only_predicted: true, ..Default::default() };
    let set = pair_dirs_with(&nn.join("fold_0/validation"), &nn.join("labelsTr"), &pairing).unwrap();
    assert_eq!(set.cases.len(), 2);
    assert_eq!(set.not_evaluated.iter().map(|f| f.case.as_str()).collect::<Vec<_>>(), ["case_003"]);
    let eval = evaluate(&set, &options, &|| {}).unwrap();
    assert!(eval.failures.is_empty(), "{:?}", eval.failures);
    let order: Vec<String> = eval.structures.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        order,
        ["edema (1)", "necrosis (2)", "enhancing tumor (3)", "whole tumor (1+2+3)", "tumor core (2+3)"]
    );
    for case in &eval.cases {
        for row in &case.labels {
            let w = &want[&case.case][&row.structure.name];
            let c = row.counts;
            let got = [c.tp, c.voxels_pred, c.voxels_gt];
            let exp = ["tp", "voxels_pred", "voxels_gt"].map(|k| w[k].as_u64().unwrap());
            assert_eq!(got, exp, "{} {}", case.case, row.structure.name);
            assert_close(row.dice(), w["dice"].as_f64().unwrap());
        }
    }
    // Without the ignore label the counts differ: the ignored voxels are real in the data.
    let counted = EvalOptions { ignore_label: None, ..options.clone() };
    let plain = evaluate(&set, &counted, &|| {}).unwrap();
    assert_ne!(plain.cases[0].get("edema").unwrap().counts, eval.cases[0].get("edema").unwrap().counts);
}

#[test]
fn monai_saveimage_layout_pairs_by_folder_and_patterns_find_suffixes() {
    let m = data("layouts/monai");
    let want = &expected("layouts/expected.json")["monai"];
    let set = pair_dirs(&m.join("pred"), &m.join("gt")).unwrap();
    let ids: Vec<&str> = set.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["pat_a", "pat_b"]);
    assert!(set.failures.is_empty());
    let eval = evaluate(&set, &overlap_only(), &|| {}).unwrap();
    for case in &eval.cases {
        for row in &case.labels {
            let w = &want[&case.case][&row.structure.name];
            assert_eq!(row.counts.tp, w["tp"].as_u64().unwrap());
            assert_close(row.dice(), w["dice"].as_f64().unwrap());
        }
    }
    // The same ground truths with nnU-Net's channel suffix, found by a pattern.
    let dir = tempfile::tempdir().unwrap();
    for id in ["pat_a", "pat_b"] {
        std::fs::copy(m.join(format!("gt/{id}.nii.gz")), dir.path().join(format!("{id}_0000.nii.gz")))
            .unwrap();
    }
    let pattern = PairOptions {
        pred_pattern: Some("{case}/{case}_seg.nii.gz".into()),
        gt_pattern: Some("{case}_0000.nii.gz".into()),
        ..Default::default()
    };
    let set = pair_dirs_with(&m.join("pred"), dir.path(), &pattern).unwrap();
    assert_eq!(set.cases.iter().filter(|c| c.pred.is_some() && c.gt.is_some()).count(), 2);
}

#[test]
fn overlapping_dicom_segments_are_measured_each_against_its_own_mask() {
    let case = data("dicom/cases/dcmqi_partial_overlaps");
    let series = data("dicom/series/dcmqi_ct_3slice_512");
    let read = ReadOptions::default();
    let seg = segauge_io::read_label_file_on(&case.join("input.dcm"), &read, Some(&series), None).unwrap();
    assert!(seg.layers().len() >= 2, "segments 1, 2 and 3 overlap");
    // The ground truth: highdicom's masks of each segment (tests/data/dicom), packed onto the SEG's grid.
    let npy = NpyOptions { spacing: Some([1.0; 3]), axes: Axes::Zyx };
    let mut masks = Vec::new();
    let mut sums = BTreeMap::new();
    for n in 1..=5u32 {
        let v = segauge_io::read_npy(&case.join(format!("expected/seg-{n}.npy")), &npy).unwrap();
        let mask: Vec<bool> = (0..v.labels().len()).map(|i| v.labels().get(i) == Some(1)).collect();
        sums.insert(n, mask.iter().filter(|&&b| b).count() as u64);
        masks.push((n, mask));
    }
    let gt = LabelFile::layered(segauge_io::pack(seg.grid(), masks).unwrap()).unwrap();
    let r = compare_files(&seg, &gt, &overlap_only()).unwrap();
    assert_eq!(r.labels.len(), 5);
    for row in &r.labels {
        let n = row.structure.label.unwrap();
        assert_eq!(
            (row.counts.tp, row.counts.voxels_pred, row.counts.voxels_gt),
            (sums[&n], sums[&n], sums[&n])
        );
        assert!(!row.structure.name.is_empty());
    }
    // Selecting segments never fails because of the others.
    let some = EvalOptions { labels: Some(vec![LabelRef::Number(1), LabelRef::Number(2)]), ..overlap_only() };
    let r = compare_files(&seg, &gt, &some).unwrap();
    assert_eq!(r.labels.iter().map(|l| l.dice()).collect::<Vec<_>>(), [1.0, 1.0]);
    // A label map cannot hold them: read_labels still says so.
    assert!(segauge_io::read_labels_on(&case.join("input.dcm"), &read, Some(&series), None).is_err());
}
