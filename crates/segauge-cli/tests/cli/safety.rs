//! Nothing is lost: outputs never replace inputs, are written whole or not at all, options are checked before
//! any work, and text from file names or file content can neither flood an output nor reach a terminal raw.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{example, example_with_metadata, segauge, text};

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn eval_args<'a>(pred: &'a Path, gt: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["eval", "--pred", pred.to_str().unwrap(), "--gt", gt.to_str().unwrap()];
    args.extend_from_slice(extra);
    args
}

/// Asserts a refusal: exit 2, one line on stderr naming `names`, nothing on stdout.
fn assert_refused(out: &Output, names: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for n in names {
        assert!(err.contains(n), "{n} missing from: {err}");
    }
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn every_output_option_pointed_at_an_input_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt, meta) = example_with_metadata(dir.path());
    let before = snapshot(dir.path());
    let inputs = [pred.join("case_003.nii.gz"), gt.join("case_000.nii.gz"), meta.clone()]
        .map(|p| p.display().to_string());
    let fresh = dir.path().join("fresh.json");
    // 5 options × 3 inputs; with a valid `--json` beside it that must not be written either (nothing computed).
    for flag in ["--csv", "--json", "--report", "--summary-csv", "--lesion-csv"] {
        for input in &inputs {
            let other = if flag == "--json" { "--report" } else { "--json" };
            let out = segauge(&eval_args(
                &pred,
                &gt,
                &["--metadata", meta.to_str().unwrap(), flag, input, other, fresh.to_str().unwrap()],
            ));
            let folder_or_file =
                if input.ends_with("cases.csv") { "over the input" } else { "inside the input folder" };
            assert_refused(&out, &[flag, input, folder_or_file]);
            assert!(!fresh.exists(), "{flag} {input}: another output was written");
        }
    }
    assert_eq!(snapshot(dir.path()), before, "an input changed");
}

#[test]
fn outputs_resolving_to_inputs_through_links_and_dot_dot_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let target = gt.join("case_001.nii.gz");
    let before = snapshot(dir.path());
    // A new file inside an input folder would be read as an input by the next run.
    let inside = gt.join("results.csv");
    let dotted = dir.path().join("pred/../gt/case_001.nii.gz");
    let mut cases: Vec<(PathBuf, &str)> =
        vec![(inside.clone(), "inside the input folder"), (dotted, "inside the input folder")];
    #[cfg(unix)]
    {
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&target, &hard).unwrap();
        let linked_folder = dir.path().join("gt_link");
        std::os::unix::fs::symlink(&gt, &linked_folder).unwrap();
        cases.push((link, "inside the input folder"));
        cases.push((hard, "over a hard link into the input folder"));
        cases.push((linked_folder.join("new.csv"), "inside the input folder"));
    }
    let before = {
        let mut b = before;
        b.extend(snapshot(dir.path()));
        b
    };
    for (path, relation) in &cases {
        let out = segauge(&eval_args(&pred, &gt, &["--csv", path.to_str().unwrap()]));
        assert_refused(&out, &["--csv", &path.display().to_string(), relation, &gt.display().to_string()]);
    }
    assert!(!inside.exists());
    assert_eq!(snapshot(dir.path()), before, "an input changed");
    // Two outputs that are one file, and outputs that cannot be written where asked.
    let same = dir.path().join("out.csv");
    let again = dir.path().join("pred/../out.csv");
    let out = segauge(&eval_args(
        &pred,
        &gt,
        &["--csv", same.to_str().unwrap(), "--json", again.to_str().unwrap()],
    ));
    assert_refused(&out, &["--csv", "--json", "two outputs resolve to the same file"]);
    let nowhere = dir.path().join("missing/out.csv");
    let out = segauge(&eval_args(&pred, &gt, &["--report", nowhere.to_str().unwrap()]));
    assert_refused(&out, &["--report", "missing", "No such file"]);
    let out = segauge(&eval_args(&pred, &gt, &["--report", dir.path().to_str().unwrap()]));
    assert_refused(&out, &["--report", "it is a folder"]);
}

#[test]
fn convert_never_writes_over_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let (_, gt) = example(dir.path());
    let input = gt.join("case_002.nii.gz");
    let before = snapshot(dir.path());
    let out = segauge(&["convert", input.to_str().unwrap(), input.to_str().unwrap()]);
    assert_refused(&out, &["output", &input.display().to_string(), "over the input"]);
    #[cfg(unix)]
    {
        let link = dir.path().join("link.nii.gz");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let out = segauge(&["convert", input.to_str().unwrap(), link.to_str().unwrap()]);
        assert_refused(&out, &["output", "link.nii.gz", &input.display().to_string()]);
        std::fs::remove_file(&link).unwrap();
    }
    assert_eq!(snapshot(dir.path()), before, "the input changed");
    // A write that fails says so (it used to say "cannot read") and leaves no file.
    let copy = dir.path().join("copy.nii");
    #[cfg(unix)]
    {
        let out = segauge_with_file_limit(1, &["convert", input.to_str().unwrap(), copy.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("copy.nii: cannot write: File too large") && !err.contains("cannot read"),
            "{err}"
        );
        let names = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name());
        assert!(
            names.filter(|n| n.to_string_lossy().contains("copy")).count() == 0,
            "a file was left behind"
        );
    }
    // Into another folder it works, and says so.
    let copy = dir.path().join("copy.nii.gz");
    let out = segauge(&["convert", input.to_str().unwrap(), copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with(&format!("wrote {}", copy.display())));
}

/// Runs segauge with its file-size limit at `blocks` 512-byte blocks (1024 under bash) and SIGXFSZ ignored, so
/// that a write past the limit fails with EFBIG as on a full disk.
fn segauge_with_file_limit(blocks: u32, args: &[&str]) -> Output {
    Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_segauge"))
        .args(args)
        .output()
        .expect("sh runs")
}

#[cfg(unix)]
#[test]
fn an_output_that_cannot_be_written_is_not_written_and_the_others_are() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt, meta) = example_with_metadata(dir.path());
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let path = |name: &str| out_dir.join(name);
    // The summary CSV existed before the run: a failed write must leave it as it was.
    std::fs::write(path("summary.csv"), b"an earlier summary\n").unwrap();
    let names = ["cases.csv", "summary.csv", "lesions.csv", "results.json", "report.html"];
    let paths = names.map(|n| path(n).display().to_string());
    let mut args = eval_args(&pred, &gt, &["--metadata", meta.to_str().unwrap()]);
    for (flag, p) in ["--csv", "--summary-csv", "--lesion-csv", "--json", "--report"].iter().zip(&paths) {
        args.extend([*flag, p.as_str()]);
    }
    // 20 blocks (10 KiB under dash, 20 KiB under bash): the per-case and lesion CSVs (under 10 KiB) fit, the
    // summary CSV (27 KiB), the JSON and the report (over 100 KiB) do not.
    let out = segauge_with_file_limit(20, &args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for written in ["cases.csv", "lesions.csv"] {
        assert!(err.contains(&format!("wrote {}", path(written).display())), "{err}");
    }
    for (flag, failed) in
        [("--summary-csv", "summary.csv"), ("--json", "results.json"), ("--report", "report.html")]
    {
        let line = err.lines().find(|l| l.contains(failed)).unwrap_or_else(|| panic!("{failed}: {err}"));
        assert!(line.starts_with(&format!("error: {flag} ")) && line.contains("was not written"), "{line}");
    }
    assert_eq!(std::fs::read(path("summary.csv")).unwrap(), b"an earlier summary\n");
    assert!(!path("results.json").exists() && !path("report.html").exists());
    // The files written are complete: the same bytes as an unlimited run; no temporary file is left.
    let full = segauge(&args);
    assert_eq!(full.status.code(), Some(1), "{}", text(&full.stderr));
    let mut left: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["cases.csv", "lesions.csv", "report.html", "results.json", "summary.csv"]);
    let limited_cases = std::fs::read(path("cases.csv")).unwrap();
    let again = segauge_with_file_limit(20, &args);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read(path("cases.csv")).unwrap(), limited_cases);
    assert!(text(&limited_cases).ends_with('\n') && text(&limited_cases).lines().count() > 20);
}

#[test]
fn numeric_options_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let report = dir.path().join("r.html");
    for (flag, value, range) in [
        ("--bootstrap", "1000000000", "1..=10000000"),
        ("--bootstrap", "0", "1..=10000000"),
        ("--tau", "nan", "[0, inf) mm"),
        ("--tau", "-1", "[0, inf) mm"),
        ("--percentile", "0", "(0, 100]"),
        ("--percentile", "100.5", "(0, 100]"),
        ("--hd-cap", "0", "(0, inf) mm"),
        ("--hd-cap", "inf", "(0, inf) mm"),
        ("--threads", "0", "1..=1024"),
        ("--dilation", "3000", "0..=1000"),
        ("--match-threshold", "1", "[0, 1)"),
        ("--fractional-threshold", "0", "(0, 1]"),
        ("--min-gt-volume", "-5", "[0, inf) mm³"),
        ("--hd-penalty", "nan", "[0, inf) mm"),
    ] {
        let option = format!("{flag}={value}");
        let out = segauge(&eval_args(&pred, &gt, &[&option, "--report", report.to_str().unwrap()]));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag) && err.contains(value) && err.contains(range), "{flag} {value}: {err}");
        assert!(!report.exists());
    }
    // compare and convert take the same checks.
    let (p, g) = (pred.join("case_000.nii.gz"), gt.join("case_000.nii.gz"));
    let out =
        segauge(&["compare", "--pred", p.to_str().unwrap(), "--gt", g.to_str().unwrap(), "--tau", "NaN"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_bootstrap_that_cannot_fit_in_memory_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    let json = dir.path().join("r.json");
    // 8 cases, B = 9999: two resample matrices of 8 × 9999 indices (640 kB) and the replicates exceed 100 kB.
    let out = Command::new(env!("CARGO_BIN_EXE_segauge"))
        .args(eval_args(&pred, &gt, &["--json", json.to_str().unwrap()]))
        .env("SEGAUGE_MEMORY_LIMIT", "100000")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--bootstrap 9999") && err.contains("8 cases") && err.contains("use fewer resamples"),
        "{err}"
    );
    assert!(!json.exists());
    // With room, the same run goes through.
    let out = Command::new(env!("CARGO_BIN_EXE_segauge"))
        .args(eval_args(&pred, &gt, &["--json", json.to_str().unwrap()]))
        .env("SEGAUGE_MEMORY_LIMIT", "1000000000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[cfg(unix)]
#[test]
fn control_characters_in_file_names_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    // A case whose name clears the screen, and a failure whose message carries it.
    let evil = "case_\u{1b}[2J\u{202e}x";
    std::fs::copy(pred.join("case_000.nii.gz"), pred.join(format!("{evil}.nii.gz"))).unwrap();
    std::fs::copy(gt.join("case_000.nii.gz"), gt.join(format!("{evil}.nii.gz"))).unwrap();
    std::fs::copy(pred.join("case_001.nii.gz"), pred.join(format!("{evil}2.nii.gz"))).unwrap();
    let out = segauge(&eval_args(&pred, &gt, &[]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let t = text(bytes);
        assert!(!t.contains('\u{1b}') && !t.contains('\u{202e}'), "{stream}: {t:?}");
        assert!(t.contains("case_\\u{1b}[2J\\u{202e}x"), "{stream}: {t}");
    }
    // Files get the same escapes (JSON escapes them its own way).
    let (csv, html) = (dir.path().join("c.csv"), dir.path().join("r.html"));
    let out = segauge(&eval_args(
        &pred,
        &gt,
        &["--csv", csv.to_str().unwrap(), "--report", html.to_str().unwrap()],
    ));
    assert_eq!(out.status.code(), Some(1));
    for f in [&csv, &html] {
        let t = std::fs::read_to_string(f).unwrap();
        assert!(!t.contains('\u{1b}') && !t.contains('\u{202e}'), "{}", f.display());
    }
}

#[test]
fn a_huge_error_from_a_damaged_file_stays_small_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let (pred, gt) = example(dir.path());
    // A .npy whose header length covers 8 MB of zero bytes: its text used to be quoted whole in the error (a
    // 52 MB header gave 100 MB of text in every output, and 33 s in the per-case CSV writer).
    let n: u32 = 8 << 20;
    let mut npy = b"\x93NUMPY\x02\x00".to_vec();
    npy.extend(n.to_le_bytes());
    npy.resize(npy.len() + n as usize, 0);
    std::fs::write(pred.join("case_000.npy"), npy).unwrap();
    std::fs::remove_file(pred.join("case_000.nii.gz")).unwrap();
    let (csv, json, html) = (dir.path().join("c.csv"), dir.path().join("r.json"), dir.path().join("r.html"));
    let out = segauge(&eval_args(
        &pred,
        &gt,
        &[
            "--csv",
            csv.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let line = err.lines().find(|l| l.contains("case_000")).expect("the failure is listed");
    assert!(line.len() < 2_500, "{} bytes", line.len());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let reason = doc["failures"][0]["error"].as_str().expect("a failure in the JSON");
    assert!(reason.len() <= 2_000 && reason.contains("case_000.npy"), "{} bytes", reason.len());
    for f in [&csv, &html] {
        assert!(std::fs::metadata(f).unwrap().len() < 1_000_000, "{}", f.display());
    }
}
