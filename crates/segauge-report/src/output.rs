//! Writers: the JSON documents of `compare` and `eval`, the per-case CSV, and a plain-text table.
//!
//! Numbers are written with the shortest representation that reads back to the same f64. Non-finite numbers are
//! the strings `"inf"`, `"-inf"` and `"nan"` everywhere (JSON and CSV), never `null`.

use std::io::Write;
use std::path::Path;

use serde::ser::{Serialize, Serializer};

use crate::Error;
use crate::eval::{CaseResult, Evaluation, LabelResult};

/// The version written into every output.
pub const SEGAUGE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// An f64 that serialises non-finite values as strings.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Num(f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match non_finite(self.0) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_f64(self.0),
        }
    }
}

fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// Formats a number for CSV and text: shortest round-trip form, or `inf`/`-inf`/`nan`.
pub fn format_number(v: f64) -> String {
    non_finite(v).map_or_else(|| format!("{v}"), str::to_string)
}

#[derive(serde::Serialize)]
struct LabelJson {
    label: u32,
    dice: Num,
    iou: Num,
    tp: u64,
    fp: u64,
    #[serde(rename = "fn")]
    fn_: u64,
    voxels_pred: u64,
    voxels_gt: u64,
    volume_pred_mm3: Num,
    volume_gt_mm3: Num,
    empty_state: &'static str,
}

impl From<&LabelResult> for LabelJson {
    fn from(l: &LabelResult) -> Self {
        LabelJson {
            label: l.label,
            dice: Num(l.dice()),
            iou: Num(l.iou()),
            tp: l.counts.tp,
            fp: l.counts.fp(),
            fn_: l.counts.fn_(),
            voxels_pred: l.counts.voxels_pred,
            voxels_gt: l.counts.voxels_gt,
            volume_pred_mm3: Num(l.volume_pred_mm3()),
            volume_gt_mm3: Num(l.volume_gt_mm3()),
            empty_state: l.empty_state().as_str(),
        }
    }
}

#[derive(serde::Serialize)]
struct CompareJson {
    segauge_version: &'static str,
    pred: String,
    gt: String,
    shape: [usize; 3],
    spacing: [Num; 3],
    labels: Vec<LabelJson>,
}

/// The JSON document of `segauge compare` (see the README for the contract).
pub fn compare_json(result: &CaseResult) -> String {
    let doc = CompareJson {
        segauge_version: SEGAUGE_VERSION,
        pred: result.pred.display().to_string(),
        gt: result.gt.display().to_string(),
        shape: result.shape,
        spacing: result.spacing.map(Num),
        labels: result.labels.iter().map(LabelJson::from).collect(),
    };
    to_json(&doc)
}

#[derive(serde::Serialize)]
struct RowJson {
    case: String,
    #[serde(flatten)]
    label: LabelJson,
}

#[derive(serde::Serialize)]
struct FailureJson<'a> {
    case: &'a str,
    error: &'a str,
}

#[derive(serde::Serialize)]
struct EvalJson<'a> {
    segauge_version: &'static str,
    pred_dir: String,
    gt_dir: String,
    n_cases: usize,
    n_failed: usize,
    cases: Vec<RowJson>,
    failures: Vec<FailureJson<'a>>,
}

/// The JSON document of `segauge eval`: one row per case and label, and the failures.
pub fn eval_json(eval: &Evaluation, pred_dir: &Path, gt_dir: &Path) -> String {
    let doc = EvalJson {
        segauge_version: SEGAUGE_VERSION,
        pred_dir: pred_dir.display().to_string(),
        gt_dir: gt_dir.display().to_string(),
        n_cases: eval.cases.len() + eval.failures.len(),
        n_failed: eval.failures.len(),
        cases: eval
            .cases
            .iter()
            .flat_map(|c| c.labels.iter().map(|l| RowJson { case: c.case.clone(), label: l.into() }))
            .collect(),
        failures: eval.failures.iter().map(|f| FailureJson { case: &f.case, error: &f.error }).collect(),
    };
    to_json(&doc)
}

fn to_json<T: Serialize>(doc: &T) -> String {
    // Serialising plain structs of numbers and strings cannot fail.
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The per-case CSV columns.
pub const CSV_COLUMNS: [&str; 13] = [
    "case",
    "label",
    "dice",
    "iou",
    "tp",
    "fp",
    "fn",
    "voxels_pred",
    "voxels_gt",
    "volume_pred_mm3",
    "volume_gt_mm3",
    "empty_state",
    "error",
];

/// Writes the per-case CSV: one row per case and label, then one row per failed case (label and metrics empty,
/// `error` filled) so that failures are never silently missing from a table.
///
/// # Errors
/// [`Error::Write`] when the writer fails.
pub fn write_eval_csv<W: Write>(eval: &Evaluation, out: W, path: &Path) -> Result<(), Error> {
    let err = |e: csv::Error| Error::Write { path: path.to_path_buf(), detail: e.to_string() };
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS).map_err(err)?;
    for c in &eval.cases {
        for l in &c.labels {
            w.write_record([
                c.case.clone(),
                l.label.to_string(),
                format_number(l.dice()),
                format_number(l.iou()),
                l.counts.tp.to_string(),
                l.counts.fp().to_string(),
                l.counts.fn_().to_string(),
                l.counts.voxels_pred.to_string(),
                l.counts.voxels_gt.to_string(),
                format_number(l.volume_pred_mm3()),
                format_number(l.volume_gt_mm3()),
                l.empty_state().as_str().to_string(),
                String::new(),
            ])
            .map_err(err)?;
        }
    }
    for f in &eval.failures {
        let mut row = vec![String::new(); CSV_COLUMNS.len()];
        row[0] = f.case.clone();
        row[CSV_COLUMNS.len() - 1] = f.error.clone();
        w.write_record(&row).map_err(err)?;
    }
    w.flush().map_err(|e| Error::Write { path: path.to_path_buf(), detail: e.to_string() })
}

/// A plain-text table of one comparison, for reading in a terminal.
pub fn compare_table(result: &CaseResult) -> String {
    let mut s = format!(
        "pred: {}\ngt:   {}\ngrid: {} x {} x {} voxels, spacing {} x {} x {} mm\n\n",
        result.pred.display(),
        result.gt.display(),
        result.shape[0],
        result.shape[1],
        result.shape[2],
        format_number(result.spacing[0]),
        format_number(result.spacing[1]),
        format_number(result.spacing[2]),
    );
    let header = ["label", "dice", "iou", "tp", "fp", "fn", "vol_pred_mm3", "vol_gt_mm3", "empty_state"];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for l in &result.labels {
        rows.push(vec![
            l.label.to_string(),
            format!("{:.4}", l.dice()),
            format!("{:.4}", l.iou()),
            l.counts.tp.to_string(),
            l.counts.fp().to_string(),
            l.counts.fn_().to_string(),
            format!("{:.1}", l.volume_pred_mm3()),
            format!("{:.1}", l.volume_gt_mm3()),
            l.empty_state().as_str().to_string(),
        ]);
    }
    if result.labels.is_empty() {
        s.push_str("no labels: both volumes are all background\n");
        return s;
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
    for r in rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:>w$}")).collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_numbers_are_strings() {
        assert_eq!(
            serde_json::to_string(&[Num(1.5), Num(f64::INFINITY), Num(f64::NEG_INFINITY), Num(f64::NAN)])
                .unwrap(),
            r#"[1.5,"inf","-inf","nan"]"#
        );
        assert_eq!(format_number(f64::NAN), "nan");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(2.0), "2");
    }
}
