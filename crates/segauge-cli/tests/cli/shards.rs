//! Sharded runs: `eval --shard K/N --partial DIR` then `merge` gives the bytes of one `eval`, also after a shard
//! was killed and resumed; partial files of other runs are refused; a missing shard's cases are listed failures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{segauge, text};

/// The example data set with two models (`a`: the example predictions; `b`: the same with two cases swapped and
/// one prediction missing, so that it differs and fails once) and its metadata.
fn two_models(dir: &Path) -> Vec<String> {
    segauge_tests::write_example(dir).unwrap();
    let (a, b) = (dir.join("pred"), dir.join("pred_b"));
    std::fs::create_dir_all(&b).unwrap();
    for entry in std::fs::read_dir(&a).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let to = match name.as_str() {
            "case_001.nii.gz" => "case_002.nii.gz",
            "case_002.nii.gz" => "case_001.nii.gz",
            "case_005.nii.gz" => continue,
            other => other,
        };
        std::fs::copy(&path, b.join(to)).unwrap();
    }
    let s = |p: PathBuf| p.to_str().unwrap().to_string();
    vec![
        "--model".into(),
        format!("a={}", s(a)),
        "--model".into(),
        format!("b={}", s(b)),
        "--gt".into(),
        s(dir.join("gt")),
    ]
}

const OUTPUTS: [(&str, &str); 5] = [
    ("--json", "results.json"),
    ("--csv", "cases.csv"),
    ("--summary-csv", "summary.csv"),
    ("--lesion-csv", "lesions.csv"),
    ("--report", "report.html"),
];

/// The statistics options of both the single run and the merge.
const STATS: [&str; 4] = ["--bootstrap", "300", "--seed", "7"];

/// Output flags writing into `out` (created).
fn outputs(out: &Path) -> Vec<String> {
    std::fs::create_dir_all(out).unwrap();
    OUTPUTS
        .iter()
        .flat_map(|(flag, name)| [flag.to_string(), out.join(name).to_str().unwrap().into()])
        .collect()
}

fn run(args: &[String]) -> Output {
    segauge(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn eval_shard(inputs: &[String], shard: &str, parts: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["eval".to_string()];
    args.extend(inputs.iter().cloned());
    args.extend(["--shard".into(), shard.into(), "--partial".into(), parts.to_str().unwrap().into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

fn merge(parts: &[&Path], metadata: &Path, out: &Path) -> Output {
    let mut args = vec!["merge".to_string()];
    args.extend(parts.iter().map(|p| p.to_str().unwrap().to_string()));
    args.extend(["--metadata".into(), metadata.to_str().unwrap().into()]);
    args.extend(STATS.iter().map(|s| s.to_string()));
    args.extend(outputs(out));
    run(&args)
}

/// One `eval` of everything into `out`.
fn single(inputs: &[String], metadata: &Path, out: &Path) -> Output {
    let mut args = vec!["eval".to_string()];
    args.extend(inputs.iter().cloned());
    args.extend(["--metadata".into(), metadata.to_str().unwrap().into()]);
    args.extend(STATS.iter().map(|s| s.to_string()));
    args.extend(outputs(out));
    run(&args)
}

fn assert_same_outputs(one: &Path, merged: &Path) {
    for (_, name) in OUTPUTS {
        let (a, b) = (std::fs::read(one.join(name)).unwrap(), std::fs::read(merged.join(name)).unwrap());
        assert!(
            a == b,
            "{name} differs between the single run and the merge ({} and {} bytes)",
            a.len(),
            b.len()
        );
    }
}

#[test]
fn three_shards_merge_to_the_bytes_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = two_models(dir.path());
    let metadata = dir.path().join("cases.csv");
    let one = single(&inputs, &metadata, &dir.path().join("one"));
    assert_eq!(one.status.code(), Some(1), "model b lacks a prediction: {}", text(&one.stderr));

    let parts = dir.path().join("parts");
    let mut recorded = 0;
    for k in 1..=3 {
        let out = eval_shard(&inputs, &format!("{k}/3"), &parts, &[]);
        assert_eq!(out.status.code(), Some(0), "shard {k}: {}", text(&out.stderr));
        let file = parts.join(format!("segauge-shard-{k}-of-3.jsonl"));
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(lines >= 2, "shard {k} has a header and records");
        recorded += lines - 1;
    }
    assert_eq!(recorded, segauge_tests::EXAMPLE_CASES, "every case in exactly one shard");
    let merged = merge(&[&parts], &metadata, &dir.path().join("merged"));
    assert_eq!(merged.status.code(), one.status.code(), "{}", text(&merged.stderr));
    assert_same_outputs(&dir.path().join("one"), &dir.path().join("merged"));
    assert_eq!(merged.stdout, one.stdout, "the summary on the terminal");
}

#[test]
fn a_killed_shard_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = two_models(dir.path());
    let metadata = dir.path().join("cases.csv");
    single(&inputs, &metadata, &dir.path().join("one"));

    let parts = dir.path().join("parts");
    let mut args: Vec<String> = vec!["eval".into()];
    args.extend(inputs.iter().cloned());
    args.extend(["--shard", "1/1", "--partial", parts.to_str().unwrap(), "--threads", "1"].map(String::from));
    // Each record waits 400 ms before it is written (test-only variable): the kill lands between records.
    let mut child = Command::new(env!("CARGO_BIN_EXE_segauge"))
        .args(&args)
        .env("SEGAUGE_TEST_RECORD_DELAY_MS", "400")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let file = parts.join("segauge-shard-1-of-1.jsonl");
    let lines = || std::fs::read_to_string(&file).map_or(0, |t| t.lines().count());
    let start = std::time::Instant::now();
    while lines() < 3 {
        assert!(start.elapsed().as_secs() < 120, "the shard never recorded two cases");
        assert!(child.try_wait().unwrap().is_none(), "the shard ended before it was killed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = lines();
    assert!((3..=segauge_tests::EXAMPLE_CASES).contains(&kept), "{kept} lines");
    // A write cut short by the kill: half a record without its newline.
    let mut torn = std::fs::read(&file).unwrap();
    torn.extend_from_slice(br#"{"case":"case_00"#);
    std::fs::write(&file, &torn).unwrap();

    // A rerun without --resume refuses to overwrite what was recorded.
    let again = run(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("--resume"), "{}", text(&again.stderr));

    args.push("--resume".into());
    let resumed = run(&args);
    let err = text(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("{} case(s) already recorded", kept - 1)), "{err}");
    assert!(err.contains("cut an incomplete last line"), "{err}");
    let records = std::fs::read_to_string(&file).unwrap();
    assert_eq!(records.lines().count(), segauge_tests::EXAMPLE_CASES + 1, "each case once");
    assert!(records.ends_with('\n'));

    let merged = merge(&[&parts], &metadata, &dir.path().join("merged"));
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged.stderr));
    assert_same_outputs(&dir.path().join("one"), &dir.path().join("merged"));
}

#[test]
fn partials_of_other_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = two_models(dir.path());
    let parts = dir.path().join("parts");
    assert_eq!(eval_shard(&inputs, "1/2", &parts, &[]).status.code(), Some(0));
    // Shard 2 with another tolerance: its records are not comparable with shard 1's.
    assert_eq!(eval_shard(&inputs, "2/2", &parts, &["--tau", "1"]).status.code(), Some(0));
    let out = merge(&[&parts], &dir.path().join("cases.csv"), &dir.path().join("merged"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("segauge-shard-1-of-2.jsonl")
            && err.contains("segauge-shard-2-of-2.jsonl")
            && err.contains("per-case options"),
        "{err}"
    );
    assert!(!dir.path().join("merged/results.json").exists(), "nothing is written");
    // Resuming a shard with other options is refused too, naming the file.
    let resumed = eval_shard(&inputs, "2/2", &parts, &["--resume"]);
    assert_eq!(resumed.status.code(), Some(2));
    assert!(text(&resumed.stderr).contains("another run"), "{}", text(&resumed.stderr));
    // Partial files are outputs: never inside an input folder.
    let inside = eval_shard(&inputs, "1/2", &dir.path().join("gt/parts"), &[]);
    assert_eq!(inside.status.code(), Some(2));
    assert!(text(&inside.stderr).contains("inside the input folder"), "{}", text(&inside.stderr));
    assert!(!dir.path().join("gt/parts").exists(), "the refused folder is not left behind");
}

#[test]
fn a_missing_shard_is_listed_as_failures() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = two_models(dir.path());
    let parts = dir.path().join("parts");
    for k in [1, 3] {
        assert_eq!(eval_shard(&inputs, &format!("{k}/3"), &parts, &[]).status.code(), Some(0));
    }
    let out = merge(&[&parts], &dir.path().join("cases.csv"), &dir.path().join("merged"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no partial file of shard(s) 2/3"), "{err}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("merged/results.json")).unwrap()).unwrap();
    let failures = json["failures"].as_array().unwrap();
    let missing: Vec<&serde_json::Value> =
        failures.iter().filter(|f| f["error"] == "not evaluated: shard 2/3 missing").collect();
    // Shard 2 of 3 holds about a third of the 8 cases, for both models (b has one case fewer to evaluate).
    assert!(missing.len() >= 4, "{failures:?}");
    let evaluated = json["cases"].as_array().unwrap();
    for f in &missing {
        assert!(!evaluated.iter().any(|c| c["case"] == f["case"] && c["model"] == f["model"]), "{f}");
    }
}
