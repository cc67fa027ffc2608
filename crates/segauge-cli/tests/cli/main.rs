//! Integration tests of the segauge command: the JSON contract, the bad-input suite and batch robustness.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod kubernetes;
mod safety;
mod shards;

use segauge_tests::{EXAMPLE_CASES, EXAMPLE_DIMS, EXAMPLE_SPACING, Nifti, example_case, naive_counts};

fn segauge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segauge")).args(args).output().expect("segauge runs")
}

/// `segauge compare --pred P --gt G --format json EXTRA…`.
fn compare_json(p: &Path, g: &Path, extra: &[&str]) -> Output {
    let mut args =
        vec!["compare", "--pred", p.to_str().unwrap(), "--gt", g.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    segauge(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes the example data set into `dir` and returns (pred dir, gt dir).
fn example(dir: &Path) -> (PathBuf, PathBuf) {
    segauge_tests::write_example(dir).expect("example written");
    (dir.join("pred"), dir.join("gt"))
}

fn case_u8(dims: [usize; 3], spacing: [f32; 3], f: impl Fn(usize, usize, usize) -> u8) -> Nifti {
    Nifti::u8(dims, spacing, segauge_tests::label_map(dims, f))
}

fn blob(i: usize, j: usize, k: usize) -> u8 {
    u8::from((2..6).contains(&i) && (2..5).contains(&j) && (1..3).contains(&k))
}

/// Each kind of bad input, as (case id, what to write as prediction, what to write as ground truth, expected text).
fn bad_cases(dir: &Path) -> Vec<(&'static str, PathBuf, PathBuf, &'static str)> {
    let (pd, gd) = (dir.join("pred"), dir.join("gt"));
    let dims = [8, 7, 4];
    let good = case_u8(dims, [1.0, 1.0, 2.0], blob);
    let mut out = Vec::new();
    let mut add = |id: &'static str, pred: Option<Vec<u8>>, gt: Option<Vec<u8>>, want: &'static str| {
        let (p, g) = (pd.join(format!("{id}.nii.gz")), gd.join(format!("{id}.nii.gz")));
        if let Some(bytes) = pred {
            segauge_tests::write_maybe_gz(&p, &bytes).unwrap();
        }
        if let Some(bytes) = gt {
            std::fs::write(&g, bytes).unwrap();
        }
        out.push((id, p, g, want));
    };
    let gz = |n: &Nifti| {
        let tmp = tempfile::NamedTempFile::with_suffix(".nii.gz").unwrap();
        n.write(tmp.path()).unwrap();
        std::fs::read(tmp.path()).unwrap()
    };
    let good_gz = gz(&good);
    add("bad_truncated", Some(good.to_bytes()), Some(good_gz[..good_gz.len() / 2].to_vec()), "truncated");
    add("bad_trailer", Some(good.to_bytes()), Some(good_gz[..good_gz.len() - 4].to_vec()), "truncated");
    add(
        "bad_not_nifti",
        Some(good.to_bytes()),
        Some(b"hello, I am a text file\n".to_vec()),
        "not a NIfTI-1 file",
    );
    add("bad_missing_gt", Some(good.to_bytes()), None, "no ground truth");
    add(
        "bad_shape",
        Some(good.to_bytes()),
        Some(gz(&case_u8([8, 7, 5], [1.0, 1.0, 2.0], blob))),
        "shape mismatch",
    );
    add(
        "bad_spacing",
        Some(good.to_bytes()),
        Some(gz(&case_u8(dims, [1.0, 1.0, 2.5], blob))),
        "spacing mismatch",
    );
    let mut shifted = good.clone();
    shifted.srow[2][3] = 10.0;
    add("bad_origin", Some(good.to_bytes()), Some(gz(&shifted)), "origin mismatch");
    let mut float = good.clone();
    float.datatype = 16;
    float.data = good.data.iter().flat_map(|&v| (f32::from(v) * 0.5).to_le_bytes()).collect();
    add("bad_fractional", Some(good.to_bytes()), Some(gz(&float)), "not an integer label");
    let mut nan_slope = good.clone();
    nan_slope.scl_slope = 2.0;
    nan_slope.scl_inter = f32::NAN;
    add("bad_header", Some(good.to_bytes()), Some(gz(&nan_slope)), "invalid header");
    out
}

#[test]
fn eval_writes_every_good_case_and_lists_every_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let bad = bad_cases(dir.path());
    // A prediction without ground truth on the other side, too.
    let csv = dir.path().join("rows.csv");
    let json = dir.path().join("rows.json");
    let out = segauge(&[
        "eval",
        "--pred",
        pred.to_str().unwrap(),
        "--gt",
        gt.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let failures = doc["failures"].as_array().unwrap();
    assert_eq!(failures.len(), bad.len());
    assert_eq!(doc["n_cases"], EXAMPLE_CASES + bad.len());
    assert_eq!(doc["n_failed"], bad.len());
    for (id, p, g, want) in &bad {
        let f = failures.iter().find(|f| f["case"] == *id).unwrap_or_else(|| panic!("{id} listed"));
        let msg = f["error"].as_str().unwrap();
        assert!(!msg.contains('\n'), "{id}: one line: {msg}");
        assert!(msg.contains(want), "{id}: {msg}");
        let names_file = msg.contains(&g.display().to_string()) || msg.contains(&p.display().to_string());
        assert!(names_file, "{id}: names the file: {msg}");
        assert!(stderr.contains(&format!("error: case {id}: ")), "{id} on stderr");
    }
    // Every good case is complete: 3 labels each, counts equal to a naive recount.
    let rows = doc["cases"].as_array().unwrap();
    assert_eq!(rows.len(), EXAMPLE_CASES * 3);
    for case in 0..EXAMPLE_CASES {
        let (p, g) = example_case(case);
        let want = naive_counts(&p, &g);
        for (label, vp, vg, both) in want {
            let row = rows
                .iter()
                .find(|r| r["case"] == format!("case_{case:03}") && r["label"] == label)
                .expect("row present");
            assert_eq!((row["voxels_pred"].as_u64(), row["voxels_gt"].as_u64()), (Some(vp), Some(vg)));
            assert_eq!(row["tp"].as_u64(), Some(both));
        }
    }
    // The CSV has the same rows plus one per failure and label, with the error filled in.
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = csv_text.lines().collect();
    assert_eq!(lines.len(), 1 + EXAMPLE_CASES * 3 + bad.len() * 3);
    assert!(lines[0].ends_with(
        ",empty_state,lesion_gt,lesion_pred,lesion_tp,lesion_fp,lesion_fn,lesion_precision,lesion_recall,\
         lesion_f1,lesion_pq,error,convention"
    ));
    for (id, ..) in &bad {
        for label in 1..=3 {
            let start = format!("{id},{label},{label},,");
            assert!(lines.iter().any(|l| l.starts_with(&start) && !l.ends_with(',')), "{id} in csv");
        }
    }
}

#[test]
fn compare_fails_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["pred", "gt"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let mut bad = bad_cases(dir.path());
    let missing = dir.path().join("gt/does_not_exist.nii.gz");
    bad.push(("missing", dir.path().join("pred/bad_shape.nii.gz"), missing, "cannot read"));
    for (id, p, g, want) in bad {
        if id == "bad_missing_gt" {
            continue;
        }
        let out = segauge(&["compare", "--pred", p.to_str().unwrap(), "--gt", g.to_str().unwrap()]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{id}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{id}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(want), "{id}: {stderr}");
        assert!(stderr.contains(&g.display().to_string()), "{id}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn compare_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let (p, g) = (pred.join("case_001.nii.gz"), gt.join("case_001.nii.gz"));
    let out = compare_json(&p, &g, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["segauge_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["pred"], p.display().to_string());
    assert_eq!(doc["gt"], g.display().to_string());
    assert_eq!(doc["shape"], serde_json::json!(EXAMPLE_DIMS));
    let spacing: Vec<f64> = EXAMPLE_SPACING.iter().map(|&s| f64::from(s)).collect();
    assert_eq!(doc["spacing"], serde_json::json!(spacing));
    let voxel_mm3 = spacing.iter().product::<f64>();
    let (pv, gv) = example_case(1);
    let want = naive_counts(&pv, &gv);
    let labels = doc["labels"].as_array().unwrap();
    assert_eq!(labels.len(), want.len());
    for (row, (label, vp, vg, both)) in labels.iter().zip(want) {
        assert_eq!(row["label"], label);
        assert_eq!(row["voxels_pred"], vp);
        assert_eq!(row["voxels_gt"], vg);
        assert_eq!(row["tp"], both);
        assert_eq!(row["fp"], vp - both);
        assert_eq!(row["fn"], vg - both);
        let dice = if vp + vg == 0 { 1.0 } else { 2.0 * both as f64 / (vp + vg) as f64 };
        assert_eq!(row["dice"].as_f64(), Some(dice));
        let union = vp + vg - both;
        let iou = if union == 0 { 1.0 } else { both as f64 / union as f64 };
        assert_eq!(row["iou"].as_f64(), Some(iou));
        assert_eq!(row["volume_pred_mm3"].as_f64(), Some(vp as f64 * voxel_mm3));
        assert_eq!(row["volume_gt_mm3"].as_f64(), Some(vg as f64 * voxel_mm3));
        let state = match (vp == 0, vg == 0) {
            (false, false) => "none",
            (true, false) => "pred_empty",
            (false, true) => "gt_empty",
            (true, true) => "both_empty",
        };
        assert_eq!(row["empty_state"], state);
    }
    // Case 1 misses the lesion (label 3): Dice 0, pred_empty.
    assert_eq!(labels[2]["empty_state"], "pred_empty");
    assert_eq!(labels[2]["dice"].as_f64(), Some(0.0));
}

#[test]
fn requested_labels_absent_from_both_are_both_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let (p, g) = (pred.join("case_002.nii.gz"), gt.join("case_002.nii.gz"));
    let out = compare_json(&p, &g, &["--labels", "2-3,9"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels: Vec<&serde_json::Value> = doc["labels"].as_array().unwrap().iter().collect();
    assert_eq!(labels.iter().map(|l| l["label"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 3, 9]);
    // Case 2 has no lesion in either volume.
    for l in &labels[1..] {
        assert_eq!(l["empty_state"], "both_empty");
        assert_eq!(l["dice"].as_f64(), Some(1.0));
        assert_eq!(l["iou"].as_f64(), Some(1.0));
    }
}

#[test]
fn eval_gives_a_both_empty_row_for_labels_seen_in_other_cases() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let out = segauge(&["eval", "--pred", pred.to_str().unwrap(), "--gt", gt.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let csv = text(&out.stdout);
    // Case 2 has label 3 in neither volume; case 5 neither (5 % 3 == 2, 5 % 4 == 1).
    // No lesion on either side: lesion counts 0, detection scores undefined (nan), never 1.
    let row = "case_002,3,3,1,1,0,0,0,0,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,both_empty,0,0,0,0,0,nan,nan,nan,nan,,segauge";
    assert!(csv.lines().any(|l| l == row), "{csv}");
    assert_eq!(csv.lines().count(), 1 + EXAMPLE_CASES * 3);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Per-case metrics, bootstrap intervals, subgroups and the report: bit-identical on 1, 2, 4 and 8 threads.
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt, meta) = example_with_metadata(dir.path());
    let run = |threads: &str| {
        let (json, html, csv) = (
            dir.path().join(format!("{threads}.json")),
            dir.path().join(format!("{threads}.html")),
            dir.path().join(format!("{threads}.csv")),
        );
        let out = segauge(&[
            "eval",
            "--pred",
            pred.to_str().unwrap(),
            "--gt",
            gt.to_str().unwrap(),
            "--metadata",
            meta.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            "--threads",
            threads,
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        (std::fs::read(json).unwrap(), std::fs::read(html).unwrap(), std::fs::read(csv).unwrap())
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
    assert_eq!(one, run("8"));
}

#[test]
fn usage_errors_exit_2() {
    let out = segauge(&["compare", "--pred", "a.nii", "--gt", "b.nii", "--labels", "3-1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = segauge(&["eval", "--pred", "/nonexistent/dir", "--gt", "/nonexistent/dir2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a directory"));
}

#[test]
fn npy_inputs_with_spacing_flag_and_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let dims = [6, 5, 4];
    let pred = segauge_tests::label_map(dims, |i, j, _| u8::from(i < 3 && j < 3));
    let gt = segauge_tests::label_map(dims, |i, j, _| u8::from(i < 4 && j < 3));
    let (p, g) = (dir.path().join("p.npy"), dir.path().join("g.npy"));
    // Fortran order keeps x fastest, exactly our layout.
    segauge_tests::write_npy(&p, "|u1", true, &dims, &pred).unwrap();
    segauge_tests::write_npy(&g, "|u1", true, &dims, &gt).unwrap();
    let out = compare_json(&p, &g, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("spacing unknown"));
    let out = compare_json(&p, &g, &["--spacing", "0.5,0.5,2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // pred 3x3x4 = 36 voxels, gt 4x3x4 = 48, overlap 36: Dice = 72/84.
    assert_eq!(doc["labels"][0]["dice"].as_f64(), Some(72.0 / 84.0));
    assert_eq!(doc["labels"][0]["volume_gt_mm3"].as_f64(), Some(48.0 * 0.5));
}

#[test]
fn surface_flags_name_the_fields_and_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let (p, g) = (pred.join("case_000.nii.gz"), gt.join("case_000.nii.gz"));
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = compare_json(&p, &g, extra);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let doc = run(&["--surface", "grid", "--percentile", "99", "--tau", "1.5"]);
    assert_eq!(
        (doc["surface"].as_str(), doc["percentile"].as_f64(), doc["tau"].as_f64()),
        (Some("grid"), Some(99.0), Some(1.5))
    );
    assert_eq!(doc["percentile_rule"], "directed-max");
    let row = &doc["labels"][0];
    for key in ["hd", "hd99", "assd", "masd", "nsd", "biou"] {
        assert!(row[key].is_number(), "{key} in {row}");
    }
    assert!(row.get("hd95").is_none());
    // HD is the largest directed distance, so no percentile exceeds it.
    assert!(row["hd99"].as_f64() <= row["hd"].as_f64());
    let none = run(&["--surface", "none"]);
    assert!(none["surface"].is_null());
    assert!(none["labels"][0].get("hd").is_none());
    // The label missed by the prediction (case 0 has all three) and infinite distances: case 1 misses label 3.
    let (p1, g1) = (pred.join("case_001.nii.gz"), gt.join("case_001.nii.gz"));
    let out = compare_json(&p1, &g1, &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["labels"][2]["hd"], "inf");
    assert_eq!(doc["labels"][2]["nsd"].as_f64(), Some(0.0));
}

#[test]
fn lesion_object_and_flags() {
    // Label 1: three GT cubes (2³ voxels at 1×1×2 mm); the prediction has the first exactly, the second shifted
    // by one voxel in x (IoU 2/6 = 1/3: touches, but fails IoU > 0.5), and a false positive far away.
    let dir = tempfile::tempdir().unwrap();
    let dims = [20, 6, 4];
    let cube =
        |i: usize, j: usize, k: usize, x0: usize| (x0..x0 + 2).contains(&i) && (2..4).contains(&j) && k < 2;
    let gt = case_u8(dims, [1.0, 1.0, 2.0], |i, j, k| {
        u8::from(cube(i, j, k, 1) || cube(i, j, k, 6) || cube(i, j, k, 11))
    });
    let pred = case_u8(dims, [1.0, 1.0, 2.0], |i, j, k| {
        u8::from(cube(i, j, k, 1) || cube(i, j, k, 7) || (i == 18 && j == 0 && k == 3))
    });
    let (p, g) = (dir.path().join("p.nii.gz"), dir.path().join("g.nii.gz"));
    pred.write(&p).unwrap();
    gt.write(&g).unwrap();
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = compare_json(&p, &g, extra);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let doc = run(&[]);
    assert_eq!(doc["lesions"]["connectivity"], 26);
    assert_eq!(doc["lesions"]["rule"], "iou");
    assert_eq!(doc["lesions"]["threshold"], 0.5);
    let l = &doc["labels"][0]["lesions"];
    assert_eq!((l["n_gt"].as_u64(), l["n_pred"].as_u64()), (Some(3), Some(3)));
    assert_eq!((l["tp"].as_u64(), l["fp"].as_u64(), l["fn"].as_u64()), (Some(1), Some(2), Some(2)));
    assert_eq!(
        (l["precision"].as_f64(), l["recall"].as_f64(), l["f1"].as_f64()),
        (Some(1.0 / 3.0), Some(1.0 / 3.0), Some(1.0 / 3.0))
    );
    assert_eq!(l["matches"], serde_json::json!([{"gt": 1, "pred": [1], "iou": 1.0, "dice": 1.0}]));
    // Lesion geometry in world mm (identity affine from the writer: origin 0): the first cube's centre.
    assert_eq!(l["gt_lesions"][0]["volume_mm3"].as_f64(), Some(16.0));
    assert_eq!(l["gt_lesions"][0]["centroid_mm"], serde_json::json!([1.5, 2.5, 1.0]));
    assert_eq!(l["undefined"], serde_json::json!([]));

    // A lower threshold matches the shifted cube; overlap does too; 6-connectivity changes nothing here.
    let low = run(&["--match-threshold", "0.3"]);
    assert_eq!(low["labels"][0]["lesions"]["tp"].as_u64(), Some(2));
    let overlap = run(&["--lesion-rule", "overlap"]);
    assert_eq!(overlap["lesions"]["rule"], "overlap");
    assert!(overlap["lesions"].get("threshold").is_none());
    assert_eq!(overlap["labels"][0]["lesions"]["tp"].as_u64(), Some(2));
    let six = run(&["--connectivity", "6"]);
    assert_eq!(six["labels"][0]["lesions"]["n_gt"].as_u64(), Some(3));
    // Per-pair distances on request: identical cubes are 0 apart.
    let dist = run(&["--lesion-distances", "--surface", "voxel-faces"]);
    assert_eq!(dist["labels"][0]["lesions"]["matches"][0]["hd"].as_f64(), Some(0.0));
    assert_eq!(dist["lesions"]["pair_distances"], true);
    // --no-lesions drops the object and the setting.
    let none = run(&["--no-lesions"]);
    assert!(none["lesions"].is_null());
    assert!(none["labels"][0].get("lesions").is_none());
    // BraTS preset: the lesion-wise scores appear.
    let brats = run(&["--lesion-rule", "brats2023", "--dilation", "1", "--min-gt-volume", "0"]);
    assert!(brats["labels"][0]["lesions"]["brats"]["lesion_wise_dice"].is_number());

    // Bad lesion options are usage errors whose first line names the option and the problem.
    for (bad, word) in [
        (&["--connectivity", "7"][..], "connectivity"),
        (&["--match-threshold", "1.5"], "threshold"),
        (&["--lesion-strata", "10,3"], "strata"),
    ] {
        let out = compare_json(&p, &g, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = text(&out.stderr);
        assert!(err.starts_with("error:") && err.lines().next().unwrap().contains(word), "{err}");
    }
}

/// The example data set plus a metadata file (`scanner` for every case but one) and one unreadable ground truth.
fn example_with_metadata(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (pred, gt) = example(dir);
    std::fs::copy(pred.join("case_000.nii.gz"), pred.join("broken.nii.gz")).unwrap();
    std::fs::write(gt.join("broken.nii.gz"), b"\x1f\x8b truncated").unwrap();
    let meta = dir.join("cases.csv");
    let mut text = String::from("case,scanner,age\n");
    for i in 0..EXAMPLE_CASES - 1 {
        text.push_str(&format!("case_{i:03},{},{}\n", ["GE", "Siemens"][i % 2], 40 + i));
    }
    text.push_str("broken,GE,50\n");
    std::fs::write(&meta, text).unwrap();
    (pred, gt, meta)
}

#[test]
fn eval_writes_aggregates_subgroups_and_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt, meta) = example_with_metadata(dir.path());
    let out_file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let out = segauge(&[
        "eval",
        "--pred",
        pred.to_str().unwrap(),
        "--gt",
        gt.to_str().unwrap(),
        "--metadata",
        meta.to_str().unwrap(),
        "--subgroups",
        "scanner",
        "--bootstrap",
        "999",
        "--report",
        &out_file("report.html"),
        "--json",
        &out_file("results.json"),
        "--summary-csv",
        &out_file("summary.csv"),
        "--lesion-csv",
        &out_file("lesions.csv"),
        "--csv",
        &out_file("per_case.csv"),
    ]);
    // One case failed: exit 1, everything else written.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("error: case broken:"));
    // stdout: the summary table with intervals.
    let table = text(&out.stdout);
    assert!(
        table.contains("95% CI") && table.contains("dice") && table.contains("1 failed cases not included")
    );

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_file("results.json")).unwrap()).unwrap();
    assert_eq!(doc["schema"], "segauge-eval/3");
    assert_eq!(
        (doc["n_cases"].as_u64(), doc["n_failed"].as_u64()),
        (Some(EXAMPLE_CASES as u64 + 1), Some(1))
    );
    assert_eq!(doc["failures"][0]["case"], "broken");
    assert_eq!(doc["bootstrap"]["resamples"], 999);
    assert_eq!(doc["subgroup_columns"], serde_json::json!(["scanner"]));
    let dice =
        doc["summary"].as_array().unwrap().iter().find(|r| r["metric"] == "dice" && r["label"] == 1).unwrap();
    assert_eq!((dice["n"].as_u64(), dice["n_failed"].as_u64()), (Some(EXAMPLE_CASES as u64), Some(1)));
    assert!(dice["ci_low"].as_f64().unwrap() <= dice["estimate"].as_f64().unwrap());
    // The mean Dice is the mean of the per-case rows.
    let rows: Vec<f64> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["label"] == 1)
        .map(|r| r["dice"].as_f64().unwrap())
        .collect();
    let mean = rows.iter().sum::<f64>() / rows.len() as f64;
    assert!((dice["estimate"].as_f64().unwrap() - mean).abs() < 1e-15);
    // Subgroups: GE holds the failed case and 4 evaluated ones; the case without a scanner is `(missing)`.
    let sub = |value: &str| {
        doc["subgroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["value"] == value && r["metric"] == "dice" && r["label"] == 1)
            .cloned()
            .unwrap()
    };
    assert_eq!((sub("GE")["n_cases"].as_u64(), sub("GE")["n_failed"].as_u64()), (Some(4), Some(1)));
    assert_eq!(sub("Siemens")["n_cases"].as_u64(), Some(3));
    assert_eq!(sub("(missing)")["n_cases"].as_u64(), Some(1));
    assert!(sub("(missing)")["flags"].as_array().unwrap().iter().any(|f| f == "too_few_cases"));

    let summary = std::fs::read_to_string(out_file("summary.csv")).unwrap();
    assert!(summary.starts_with("column,value,metric,label,name,kind,estimate,ci_low,ci_high,method,n,"));
    assert!(summary.lines().any(|l| l.starts_with("scanner,GE,dice,1,1,mean,")));
    let lesions = std::fs::read_to_string(out_file("lesions.csv")).unwrap();
    assert!(lesions.starts_with("model,case,label,name,side,lesion,"));
    assert!(lesions.lines().any(|l| l.starts_with("pred,case_000,1,1,gt,1,")));
    let cases = std::fs::read_to_string(out_file("per_case.csv")).unwrap();
    // A failed case has one row per structure.
    for label in 1..=3 {
        assert!(cases.lines().any(|l| l.starts_with(&format!("broken,{label},{label},,"))), "{cases}");
    }
    let html = std::fs::read_to_string(out_file("report.html")).unwrap();
    for id in &segauge_tests::browser::REPORT_SECTIONS[..8] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    assert!(html.contains("broken") && !html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("id=\"comparison\""));
}

/// `segauge eval` of two models against `gt`, B = 999: `net` (the predictions) and `oracle` (the ground truth
/// itself, Dice 1 everywhere).
fn eval_net_and_oracle(pred: &Path, gt: &Path, extra: &[&str]) -> Output {
    let (a, b) = (format!("net={}", pred.display()), format!("oracle={}", gt.display()));
    let mut args =
        vec!["eval", "--model", &a, "--model", &b, "--gt", gt.to_str().unwrap(), "--bootstrap", "999"];
    args.extend_from_slice(extra);
    segauge(&args)
}

#[test]
fn eval_compares_several_models() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let json = dir.path().join("results.json");
    let out = eval_net_and_oracle(&pred, &gt, &["--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(doc["cases"].as_array().unwrap().iter().all(|r| r["model"] == "net" || r["model"] == "oracle"));
    let p =
        doc["paired"].as_array().unwrap().iter().find(|r| r["metric"] == "dice" && r["label"] == 1).unwrap();
    assert_eq!((p["model_a"].as_str(), p["model_b"].as_str()), (Some("net"), Some("oracle")));
    // The oracle is the ground truth itself: Dice 1 everywhere, so the difference is negative.
    assert!(p["mean_diff"].as_f64().unwrap() < 0.0 && p["ci_high"].as_f64().unwrap() < 0.0);
    assert!(p["p_holm"].as_f64().unwrap() >= p["p_value"].as_f64().unwrap());
    let r =
        doc["ranking"].as_array().unwrap().iter().find(|r| r["metric"] == "dice" && r["label"] == 1).unwrap();
    assert_eq!(r["models"][1]["model"], "oracle");
    assert_eq!(r["models"][1]["rank"], 1);
}

#[test]
fn eval_option_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt, meta) = example_with_metadata(dir.path());
    let run = |extra: &[&str]| {
        let mut args = vec!["eval", "--pred", pred.to_str().unwrap(), "--gt", gt.to_str().unwrap()];
        args.extend_from_slice(extra);
        segauge(&args)
    };
    let out = run(&["--metadata", meta.to_str().unwrap(), "--subgroups", "hospital"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("subgroup column \"hospital\" is not in the metadata"));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,scanner\na,b\n").unwrap();
    let out = run(&["--metadata", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.csv") && err.contains("no `case` column"), "{err}");
    let out = run(&["--bootstrap", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("0 is not in 1..=10000000"));
}

#[test]
fn the_report_of_a_real_run_renders_in_a_browser() {
    use segauge_tests::browser::{chromium, console_lines, render_in_chromium};
    if chromium().is_none() {
        // CI installs Chromium (.ci/run): there the test must run.
        assert!(std::env::var_os("CI").is_none(), "CI must have chromium on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt, meta) = example_with_metadata(dir.path());
    let report = dir.path().join("report.html");
    let out = eval_net_and_oracle(
        &pred,
        &gt,
        &["--metadata", meta.to_str().unwrap(), "--report", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    let (dom, stderr, png) = render_in_chromium(&report).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 50_000, "screenshot of {} bytes", png.len());
    for id in segauge_tests::browser::REPORT_SECTIONS {
        assert!(dom.contains(&format!("id=\"{id}\"")), "DOM lacks section {id}");
    }
    assert!(dom.contains("broken"), "the failed case is in the report");
    assert_eq!(console_lines(&stderr), Vec::<&str>::new());
}

/// The DICOM conformance cases (tests/data/dicom) whose SimpleITK-written NIfTI label map exists.
fn dicom_twins() -> Vec<(String, PathBuf, PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/dicom/cases");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let twin = dir.join("nifti/labels.nii.gz");
        if !twin.is_file() {
            continue;
        }
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let series = dir.join(case["reference_series"].as_str().unwrap());
        out.push((
            dir.file_name().unwrap().to_string_lossy().into_owned(),
            dir.join("input.dcm"),
            twin,
            series,
        ));
    }
    out.sort();
    out
}

#[test]
fn every_dicom_segmentation_equals_its_nifti_twin() {
    let twins = dicom_twins();
    assert_eq!(
        twins.len(),
        5,
        "gen_seg_binary_3seg, gen_seg_labelmap, gen_seg_oblique, gen_seg_sparse, gen_rtstruct_holes"
    );
    for (id, dcm, nifti, series) in &twins {
        // With its series, and (SEG: grid of its own frames; RTSTRUCT: the NIfTI's grid) without.
        for with_series in [true, false] {
            let mut extra = vec!["--surface", "none", "--no-lesions"];
            if with_series {
                extra.extend(["--gt-series", series.to_str().unwrap()]);
            }
            let out = compare_json(nifti, dcm, &extra);
            assert_eq!(out.status.code(), Some(0), "{id}: {}", text(&out.stderr));
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let labels = doc["labels"].as_array().unwrap();
            assert!(!labels.is_empty(), "{id}");
            for row in labels {
                assert_eq!(row["dice"], 1.0, "{id} label {} (series: {with_series})", row["label"]);
            }
        }
    }
}

#[test]
fn convert_writes_a_dicom_segmentation_as_nifti() {
    let dir = tempfile::tempdir().unwrap();
    let (id, dcm, nifti, series) = dicom_twins().into_iter().find(|t| t.0 == "gen_seg_oblique").unwrap();
    let out_path = dir.path().join("seg.nii.gz");
    let out = segauge(&[
        "convert",
        dcm.to_str().unwrap(),
        out_path.to_str().unwrap(),
        "--series",
        series.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{id}: {}", text(&out.stderr));
    // The converted file and the SimpleITK twin: same grid (the oblique orientation survives), same voxels.
    let out = compare_json(&out_path, &nifti, &["--surface", "none", "--no-lesions"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["labels"].as_array().unwrap().iter().all(|r| r["dice"] == 1.0));
}

#[test]
fn bad_dicom_inputs_fail_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, dcm, nifti, _) = dicom_twins().into_iter().find(|t| t.0 == "gen_rtstruct_holes").unwrap();
    // Not DICOM at all.
    let fake = dir.path().join("fake.dcm");
    std::fs::write(&fake, b"hello, not a DICOM file at all").unwrap();
    let out = compare_json(&nifti, &fake, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("fake.dcm") && err.contains("not a DICOM file") && err.lines().count() == 1,
        "{err}"
    );
    // Truncated.
    let bytes = std::fs::read(&dcm).unwrap();
    let cut = dir.path().join("cut.dcm");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = compare_json(&nifti, &cut, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cut.dcm"), "{}", text(&out.stderr));
    // An RTSTRUCT with neither series nor another volume to land on.
    let out = segauge(&["convert", dcm.to_str().unwrap(), dir.path().join("x.nii.gz").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("input.dcm") && err.contains("needs its image series") && err.lines().count() == 1,
        "{err}"
    );
    // An ROI name that does not exist.
    let out = compare_json(&nifti, &dcm, &["--roi", "liver=1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no ROI named \"liver\""), "{}", text(&out.stderr));
}

#[test]
fn eval_folders_may_mix_nifti_and_dicom_with_series_beside_or_under_a_root() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt, root) = (dir.path().join("pred"), dir.path().join("gt"), dir.path().join("series"));
    for d in [&pred, &gt, &root] {
        std::fs::create_dir_all(d).unwrap();
    }
    let copy_dir = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    };
    let twins = dicom_twins();
    // Case a: SEG ground truth with its series beside it; case b: RTSTRUCT with its series under --series-root;
    // case c: NIfTI on both sides.
    let (_, seg, seg_nifti, seg_series) = twins.iter().find(|t| t.0 == "gen_seg_sparse").unwrap();
    std::fs::copy(seg, gt.join("a.dcm")).unwrap();
    copy_dir(seg_series, &gt.join("a"));
    std::fs::copy(seg_nifti, pred.join("a.nii.gz")).unwrap();
    let (_, rt, rt_nifti, rt_series) = twins.iter().find(|t| t.0 == "gen_rtstruct_holes").unwrap();
    std::fs::copy(rt, gt.join("b.dcm")).unwrap();
    copy_dir(rt_series, &root.join("b"));
    std::fs::copy(rt_nifti, pred.join("b.nii.gz")).unwrap();
    std::fs::copy(rt_nifti, gt.join("c.nii.gz")).unwrap();
    std::fs::copy(rt_nifti, pred.join("c.nii.gz")).unwrap();
    let json = dir.path().join("r.json");
    let run = || {
        segauge(&[
            "eval",
            "--pred",
            pred.to_str().unwrap(),
            "--gt",
            gt.to_str().unwrap(),
            "--series-root",
            root.to_str().unwrap(),
            "--surface",
            "none",
            "--no-lesions",
            "--bootstrap",
            "100",
            "--json",
            json.to_str().unwrap(),
        ])
    };
    let rows_of = |case: &str| -> Vec<serde_json::Value> {
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let rows = doc["cases"].as_array().unwrap().clone();
        rows.into_iter().filter(|r| r["case"] == case && r["empty_state"] != "both_empty").collect()
    };
    // The SEG names its segment 1 "slab", the RTSTRUCT its ROI 1 "ring": one label, two structures. The later
    // case fails, naming both names, rather than pooling two structures under one label.
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("case b: label 1 is \"ring\"") && err.contains("but \"slab\" in case a"), "{err}");
    for case in ["a", "c"] {
        let mine = rows_of(case);
        assert!(!mine.is_empty() && mine.iter().all(|r| r["dice"] == 1.0), "case {case}: {mine:?}");
    }
    assert_eq!(rows_of("a")[0]["name"], "slab");
    // Without case a, the RTSTRUCT (series under --series-root) is evaluated, its ROI named.
    std::fs::remove_file(gt.join("a.dcm")).unwrap();
    std::fs::remove_file(pred.join("a.nii.gz")).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for case in ["b", "c"] {
        let mine = rows_of(case);
        assert!(!mine.is_empty() && mine.iter().all(|r| r["dice"] == 1.0), "case {case}: {mine:?}");
    }
    assert_eq!(rows_of("b")[0]["name"], "ring");
    std::fs::copy(seg, gt.join("a.dcm")).unwrap();
    // A DICOM ground truth against a volume on another grid: one line naming both files and the difference.
    let (_, _, oblique_nifti, _) = twins.iter().find(|t| t.0 == "gen_seg_oblique").unwrap();
    let out = compare_json(oblique_nifti, &gt.join("a.dcm"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("a.dcm") && err.contains("mismatch") && err.lines().count() == 1, "{err}");
}

#[test]
fn the_cli_and_the_library_write_the_same_report_byte_for_byte() {
    // One pipeline for every front end: `segauge eval` and `segauge::evaluate_dirs` + `Results::to_json`/`to_csv`.
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let (cli_json, cli_csv) = (dir.path().join("cli.json"), dir.path().join("cli.csv"));
    let out = segauge(&[
        "eval",
        "--pred",
        pred.to_str().unwrap(),
        "--gt",
        gt.to_str().unwrap(),
        "--bootstrap",
        "999",
        "--json",
        cli_json.to_str().unwrap(),
        "--csv",
        cli_csv.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut options = segauge::Options::default();
    options.aggregate.resamples = 999;
    let results = segauge::evaluate_dirs(&pred, &gt, &options).unwrap();
    let (lib_json, lib_csv) = (dir.path().join("lib.json"), dir.path().join("lib.csv"));
    results.to_json(&lib_json).unwrap();
    results.to_csv(&lib_csv).unwrap();
    assert_eq!(std::fs::read(&cli_json).unwrap(), std::fs::read(&lib_json).unwrap());
    assert_eq!(std::fs::read(&cli_csv).unwrap(), std::fs::read(&lib_csv).unwrap());
}

#[test]
fn convert_offers_only_the_options_it_uses() {
    // `convert --labels 1` used to be accepted and ignored (every label was written), and its help listed about
    // 25 metric options.
    let dir = tempfile::tempdir().unwrap();
    let (_, gt) = example(dir.path());
    let (input, output) = (gt.join("case_000.nii.gz"), dir.path().join("out.nii.gz"));
    let out = segauge(&["convert", input.to_str().unwrap(), output.to_str().unwrap(), "--labels", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unexpected argument '--labels'"), "{}", text(&out.stderr));
    assert!(!output.exists());
    let help = text(&segauge(&["convert", "--help"]).stdout);
    for flag in ["--tau", "--surface", "--percentile", "--lesion-rule", "--labels", "--dilation"] {
        assert!(!help.contains(flag), "convert --help lists {flag}");
    }
    for flag in ["--series", "--reference", "--spacing", "--roi"] {
        assert!(help.contains(flag), "convert --help lacks {flag}");
    }
    // eval's help groups its options under headings and shows examples.
    let help = text(&segauge(&["eval", "--help"]).stdout);
    for heading in ["Inputs:", "Outputs:", "Metrics:", "Lesions:", "Statistics:", "Run:", "Examples:"] {
        assert!(help.contains(heading), "eval --help lacks {heading}");
    }
}

#[test]
fn the_lesion_wise_distance_ranks_lower_as_better_and_is_shown_in_mm() {
    // The oracle (the ground truth itself) has lesion-wise HD95 0 mm: it must rank first. It used to rank second,
    // behind a model at 1.47 mm, and the report showed the metric without a unit.
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let (json, html) = (dir.path().join("r.json"), dir.path().join("r.html"));
    let out = eval_net_and_oracle(
        &pred,
        &gt,
        &["--lesion-rule", "brats2023", "--json", json.to_str().unwrap(), "--report", html.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mean = |model: &str| {
        let e = doc["summary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["metric"] == "lesion_wise_hd95" && e["label"] == 1 && e["model"] == model);
        e.unwrap()["estimate"].as_f64().unwrap()
    };
    assert_eq!(mean("oracle"), 0.0);
    assert!(mean("net") > 0.0);
    let r = doc["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "lesion_wise_hd95" && r["label"] == 1)
        .expect("a ranking of lesion_wise_hd95");
    let oracle = r["models"].as_array().unwrap().iter().find(|m| m["model"] == "oracle").unwrap();
    assert_eq!(oracle["rank"], 1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<td class=\"metric\">Lesion-wise HD95</td>"), "no display name");
    assert!(page.contains("0.00 mm"), "no unit");
}

// ---------------------------------------------------------------------------------------------------------------
// Structures and layouts (TotalSegmentator, nnU-Net, MONAI, DICOM-SEG overlaps) and their usage errors
// ---------------------------------------------------------------------------------------------------------------

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A TotalSegmentator data set of one case: predictions `pred/s01/segmentations/*.nii.gz` (the fast model's
/// folder of masks) and ground truth `gt/s01.nii.gz` (the full model's multi-label file with its class map).
fn totalseg_dataset(dir: &Path) -> (PathBuf, PathBuf) {
    let ts = data("totalsegmentator");
    let (pred, gt) = (dir.join("pred"), dir.join("gt"));
    let masks = pred.join("s01/segmentations");
    std::fs::create_dir_all(&masks).unwrap();
    std::fs::create_dir_all(&gt).unwrap();
    for e in std::fs::read_dir(ts.join("example_seg_fast")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, masks.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(ts.join("example_seg.nii.gz"), gt.join("s01.nii.gz")).unwrap();
    (pred, gt)
}

#[test]
fn eval_reads_a_totalsegmentator_case_folder_against_a_multilabel_file_with_names() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = totalseg_dataset(dir.path());
    let csv = dir.path().join("cases.csv");
    let report = dir.path().join("report.html");
    let out = segauge(&[
        "eval",
        "--pred",
        s(&pred),
        "--gt",
        s(&gt),
        "--surface",
        "none",
        "--no-lesions",
        "--bootstrap",
        "100",
        "--csv",
        s(&csv),
        "--report",
        s(&report),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows = std::fs::read_to_string(&csv).unwrap();
    // One row per mask of the folder, named by file and numbered by the class map; liver counts as numpy says.
    assert_eq!(rows.lines().count(), 1 + 117);
    let liver = rows.lines().find(|l| l.starts_with("s01,5,liver,")).expect("liver row");
    let dice = 2.0 * 38265.0 / (39350.0 + 38634.0);
    assert!(liver.starts_with(&format!("s01,5,liver,{dice},")), "{liver}");
    // stdout: one line per structure (117, plus the header lines and notes), not one per metric.
    let summary = text(&out.stdout);
    assert!(summary.lines().count() < 117 + 10, "{} lines", summary.lines().count());
    assert!(summary.lines().any(|l| l.starts_with("liver (5) ")), "{summary}");
    // The report opens with the overview and folds the structures.
    let html = std::fs::read_to_string(&report).unwrap();
    let first = html.find("<section id=").map(|i| &html[i..i + 30]).unwrap();
    assert!(first.starts_with("<section id=\"overview\""), "{first}");
    assert!(html.contains("<details class=\"structure\"><summary><h3>liver (5)</h3>"));
    assert!(!html.contains("<details class=\"structure\" open>"));
}

#[test]
fn eval_nnunet_fold_against_labelstr_with_dataset_json_and_only_predicted() {
    let nn = data("layouts/nnunet");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let (pred, gt) = (nn.join("fold_0/validation"), nn.join("labelsTr"));
    let base = [
        "eval",
        "--pred",
        s(&pred),
        "--gt",
        s(&gt),
        "--surface",
        "none",
        "--no-lesions",
        "--bootstrap",
        "100",
    ];
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = base.iter().map(|x| x.to_string()).collect();
        a.extend(["--json".to_string(), s(&json).to_string()]);
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    let segauge = |a: Vec<String>| segauge(&a.iter().map(String::as_str).collect::<Vec<_>>());
    // Without --only-predicted the unpredicted ground truth is a failure, and the message says what to do.
    let out = segauge(args(&[]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("note: label names from") && err.contains("dataset.json"), "{err}");
    assert!(err.contains("case case_003: no prediction") && err.contains("--only-predicted"), "{err}");
    let out = segauge(args(&["--only-predicted"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("1 ground truths without prediction not evaluated"));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["n_failed"], 0);
    assert_eq!(doc["not_evaluated"][0]["case"], "case_003");
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("layouts/expected.json")).unwrap()).unwrap();
    let rows = doc["cases"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * 5);
    for r in rows {
        let w = &want["nnunet"][r["case"].as_str().unwrap()][r["name"].as_str().unwrap()];
        assert_eq!(r["tp"], w["tp"], "{r}");
        assert_eq!((&r["voxels_pred"], &r["voxels_gt"]), (&w["voxels_pred"], &w["voxels_gt"]), "{r}");
    }
    let wt = rows.iter().find(|r| r["name"] == "whole tumor").unwrap();
    assert_eq!((&wt["label"], &wt["region"]), (&serde_json::Value::Null, &serde_json::json!([1, 2, 3])));
    // Selecting by name, a region included.
    let out = segauge(args(&["--only-predicted", "--labels", "tumor core,edema"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<&str> =
        doc["cases"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["edema", "tumor core", "edema", "tumor core"]);
}

#[test]
fn eval_monai_layout_pairs_without_options() {
    let m = data("layouts/monai");
    let out = segauge(&[
        "eval",
        "--pred",
        s(&m.join("pred")),
        "--gt",
        s(&m.join("gt")),
        "--surface",
        "none",
        "--no-lesions",
        "--bootstrap",
        "100",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert_eq!(csv.lines().filter(|l| l.starts_with("pat_a,") || l.starts_with("pat_b,")).count(), 6);
}

#[test]
fn structure_options_refuse_bad_input_with_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let nn = data("layouts/nnunet");
    let (pred, gt) = (s(&nn.join("fold_0/validation")).to_string(), s(&nn.join("labelsTr")).to_string());
    let run = |extra: &[&str]| {
        let mut a = vec![
            "eval",
            "--pred",
            pred.as_str(),
            "--gt",
            gt.as_str(),
            "--only-predicted",
            "--bootstrap",
            "50",
        ];
        a.extend_from_slice(extra);
        let out = segauge(&a);
        let err = text(&out.stderr);
        let last = err.lines().filter(|l| l.starts_with("error:")).collect::<Vec<_>>();
        (out.status.code(), last.join("\n"))
    };
    let (code, err) = run(&["--labels", "edma"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no structure is named \"edma\"") && err.contains("edema"), "{err}");
    let (code, err) = run(&["--region", "WT=1,2,9"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("region \"WT\" names label 9, which the label names do not define"), "{err}");
    let (code, err) = run(&["--label-names", "1=oedema"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("label 1 is \"oedema\" here but \"edema\" in") && err.contains("dataset.json"),
        "{err}"
    );
    let (code, err) = run(&["--region", "whole tumor=1,2"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("region \"whole tumor\": ") && err.contains("defines it as [1, 2, 3], here [1, 2]"),
        "{err}"
    );
    let (code, err) = run(&["--gt-pattern", "{case}_0000.nii.gz"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no case pairs") && err.contains("e.g. case_001.nii.gz"), "{err}");
    let (code, err) = run(&["--gt-pattern", "labels.nii.gz"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("has no {case}"), "{err}");
    let (code, err) = run(&["--labels-from", s(&dir.path().join("missing.json"))]);
    assert_eq!(code, Some(2));
    assert!(err.contains("missing.json") && err.lines().count() == 1, "{err}");
    // A mask file that is no structure of the other side fails its case (a data error, exit 1).
    let (tpred, tgt) = totalseg_dataset(dir.path());
    std::fs::copy(tpred.join("s01/segmentations/liver.nii.gz"), tpred.join("s01/segmentations/hepar.nii.gz"))
        .unwrap();
    let out = segauge(&[
        "eval",
        "--pred",
        s(&tpred),
        "--gt",
        s(&tgt),
        "--surface",
        "none",
        "--no-lesions",
        "--bootstrap",
        "50",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("hepar.nii.gz: \"hepar\" is no structure of"), "{err}");
}

#[test]
fn compare_selects_segments_of_a_seg_whose_other_segments_overlap() {
    let case = data("dicom/cases/dcmqi_partial_overlaps");
    let series = data("dicom/series/dcmqi_ct_3slice_512");
    let seg = case.join("input.dcm");
    let out = compare_json(
        &seg,
        &seg,
        &["--pred-series", s(&series), "--gt-series", s(&series), "--labels", "4,5"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let rows = doc["labels"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["label"].as_u64().unwrap()).collect::<Vec<_>>(), [4, 5]);
    assert!(rows.iter().all(|r| r["dice"] == 1.0));
    // All five, overlapping ones included, each on its own.
    let out = compare_json(&seg, &seg, &["--pred-series", s(&series), "--gt-series", s(&series)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(doc["labels"].as_array().unwrap().len(), 5);
}

#[test]
fn both_empty_nan_leaves_absent_structures_out_of_means_as_nnunet_does() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let summary = dir.path().join("summary.csv");
    let run = |extra: &[&str]| {
        let mut a = vec![
            "eval",
            "--pred",
            s(&pred),
            "--gt",
            s(&gt),
            "--surface",
            "none",
            "--no-lesions",
            "--bootstrap",
            "200",
        ];
        a.extend_from_slice(extra);
        let out = segauge(&a);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // nnU-Net's rule, recomputed here from the per-case rows: Dice of label 3 over the cases where the label is
    // present on a side (its `nanmean`), the both-empty cases left out.
    let rows = run(&[]);
    let dice: Vec<f64> = rows
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("3") && !l.contains("both_empty"))
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    let nanmean = dice.iter().sum::<f64>() / dice.len() as f64;
    assert_eq!(dice.len(), EXAMPLE_CASES - 2);
    let cases = dir.path().join("cases.csv");
    let stdout = run(&["--both-empty", "nan", "--csv", s(&cases), "--summary-csv", s(&summary)]);
    let rows = std::fs::read_to_string(&cases).unwrap();
    assert!(rows.lines().any(|l| l.starts_with("case_002,3,3,nan,nan,")), "{rows}");
    assert!(stdout.contains("note: dice: nan left out (3)"), "{stdout}");
    let line = std::fs::read_to_string(&summary).unwrap();
    let row: Vec<&str> = line.lines().find(|l| l.starts_with(",,dice,3,")).unwrap().split(',').collect();
    // column,value,metric,label,name,kind,estimate,ci_low,ci_high,method,n,n_cases,…
    let estimate: f64 = row[6].parse().unwrap();
    assert!((estimate - nanmean).abs() < 1e-15, "{estimate} vs {nanmean}");
    assert!((estimate - 0.3264).abs() < 5e-5, "nnU-Net gives 0.3264 on the example data: {estimate}");
    assert_eq!((row[10], row[11]), ("6", "8"));
}
