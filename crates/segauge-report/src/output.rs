//! Writers: the JSON documents of `compare` and `eval`, the per-case CSV, and a plain-text table.
//!
//! Numbers are written with the shortest representation that reads back to the same f64. Non-finite numbers are
//! the strings `"inf"`, `"-inf"` and `"nan"` everywhere (JSON and CSV), never `null`.

use std::io::Write;
use std::path::Path;

use segauge_lesion::{Lesion, LesionOptions, LesionReport, MatchRule};
use segauge_metrics::{EmptyState, LabelCounts, MeshCompat, PercentileRule, SurfaceMetrics};
use serde_json::{Map, Value};

use crate::Error;
use crate::csv_write::CsvWriter;
use crate::eval::{CaseResult, EvalOptions, Evaluation, LabelResult};

/// The version written into every output.
pub const SEGAUGE_VERSION: &str = env!("CARGO_PKG_VERSION");

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

/// Text that is safe on a terminal and in a text file: control characters (C0, DEL, C1) and the Unicode
/// bidirectional controls, which can move a terminal's cursor, recolour or hide text, or break a line, are
/// written as escapes (`\n`, `\t`, `\u{1b}`, `\u{202e}`); other text is returned as it is.
///
/// Every text output applies it (CSV cells, the text summary, the HTML report, the command line's messages);
/// JSON escapes such characters itself.
///
/// ```
/// assert_eq!(segauge_report::printable("case_\u{1b}[2J01"), "case_\\u{1b}[2J01");
/// assert_eq!(segauge_report::printable("a\nb"), "a\\nb");
/// assert_eq!(segauge_report::printable("liver ∅"), "liver ∅");
/// ```
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Formats a number for CSV and text: shortest round-trip form, or `inf`/`-inf`/`nan`.
pub fn format_number(v: f64) -> String {
    non_finite(v).map_or_else(|| format!("{v}"), str::to_string)
}

/// A JSON number, or `"inf"`/`"-inf"`/`"nan"`.
pub(crate) fn num(v: f64) -> Value {
    match non_finite(v) {
        Some(text) => Value::String(text.to_string()),
        None => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
    }
}

/// The name of the `HD_p` field: `hd95`, `hd99`, `hd99.5`, …
pub fn percentile_field(p: f64) -> String {
    format!("hd{}", format_number(p))
}

/// The metric fields of one label row, in output order, as (name, value).
fn label_fields(l: &LabelResult, percentile: Option<f64>) -> Vec<(String, Value)> {
    let mut f: Vec<(String, Value)> = vec![
        ("label".into(), Value::from(l.label)),
        ("dice".into(), num(l.dice())),
        ("iou".into(), num(l.iou())),
    ];
    if let (Some(sm), Some(p)) = (&l.surface, percentile) {
        f.extend([
            ("hd".into(), num(sm.hd)),
            (percentile_field(p), num(sm.hd_percentile)),
            ("assd".into(), num(sm.assd)),
            ("masd".into(), num(sm.masd)),
            ("nsd".into(), num(sm.nsd)),
            ("biou".into(), num(sm.biou)),
        ]);
    }
    f.extend([
        ("tp".into(), Value::from(l.counts.tp)),
        ("fp".into(), Value::from(l.counts.fp())),
        ("fn".into(), Value::from(l.counts.fn_())),
        ("voxels_pred".into(), Value::from(l.counts.voxels_pred)),
        ("voxels_gt".into(), Value::from(l.counts.voxels_gt)),
        ("volume_pred_mm3".into(), num(l.volume_pred_mm3())),
        ("volume_gt_mm3".into(), num(l.volume_gt_mm3())),
        ("empty_state".into(), Value::from(l.empty_state().as_str())),
    ]);
    f
}

/// The lesion summary of a label as flat `lesion_*` columns (for the CSV).
fn lesion_columns(r: &LesionReport) -> Vec<(String, Value)> {
    let mut f: Vec<(String, Value)> = vec![
        ("lesion_gt".into(), Value::from(r.gt.len())),
        ("lesion_pred".into(), Value::from(r.pred.len())),
        ("lesion_tp".into(), Value::from(r.tp)),
        ("lesion_fp".into(), Value::from(r.fp)),
        ("lesion_fn".into(), Value::from(r.fn_)),
        ("lesion_precision".into(), num(r.precision())),
        ("lesion_recall".into(), num(r.recall())),
        ("lesion_f1".into(), num(r.f1())),
        ("lesion_pq".into(), num(r.pq())),
    ];
    if let Some(b) = &r.brats {
        f.push(("lesion_wise_dice".into(), num(b.lesion_wise_dice)));
        f.push(("lesion_wise_hd95".into(), b.lesion_wise_hd95.map_or(Value::Null, num)));
    }
    f
}

fn lesion_list(ls: &[Lesion]) -> Value {
    Value::Array(
        ls.iter()
            .map(|l| {
                object(vec![
                    ("id".into(), Value::from(l.id)),
                    ("voxels".into(), Value::from(l.voxels)),
                    ("volume_mm3".into(), num(l.volume_mm3)),
                    ("diameter_mm".into(), num(l.diameter_mm)),
                    ("centroid_mm".into(), Value::Array(l.centroid_mm.iter().map(|&v| num(v)).collect())),
                    ("bbox_lo".into(), Value::from(l.lo.to_vec())),
                    ("bbox_hi".into(), Value::from(l.hi.to_vec())),
                ])
            })
            .collect(),
    )
}

/// The `lesions` object of a JSON row.
fn lesion_object(r: &LesionReport, percentile: Option<f64>) -> Value {
    let mut f: Vec<(String, Value)> = vec![
        ("n_gt".into(), Value::from(r.gt.len())),
        ("n_pred".into(), Value::from(r.pred.len())),
        ("tp".into(), Value::from(r.tp)),
        ("fp".into(), Value::from(r.fp)),
        ("fn".into(), Value::from(r.fn_)),
        ("precision".into(), num(r.precision())),
        ("recall".into(), num(r.recall())),
        ("f1".into(), num(r.f1())),
        ("sq".into(), num(r.sq())),
        ("rq".into(), num(r.rq())),
        ("pq".into(), num(r.pq())),
        ("undefined".into(), Value::from(r.undefined())),
    ];
    if let Some(b) = &r.brats {
        f.push((
            "brats".into(),
            object(vec![
                ("lesion_wise_dice".into(), num(b.lesion_wise_dice)),
                ("lesion_wise_hd95".into(), b.lesion_wise_hd95.map_or(Value::Null, num)),
                ("gt_kept".into(), Value::from(b.gt_kept)),
                ("gt_dropped".into(), Value::from(b.gt_dropped)),
            ]),
        ));
    }
    let matches = r
        .matches
        .iter()
        .map(|m| {
            let mut g: Vec<(String, Value)> = vec![
                ("gt".into(), Value::from(m.gt)),
                ("pred".into(), Value::from(m.pred.clone())),
                ("iou".into(), num(m.iou)),
                ("dice".into(), num(m.dice)),
            ];
            if let (Some(sm), Some(p)) = (&m.surface, percentile) {
                g.extend([
                    ("hd".into(), num(sm.hd)),
                    (percentile_field(p), num(sm.hd_percentile)),
                    ("assd".into(), num(sm.assd)),
                    ("masd".into(), num(sm.masd)),
                    ("nsd".into(), num(sm.nsd)),
                ]);
            }
            object(g)
        })
        .collect();
    let strata = r
        .strata
        .iter()
        .map(|s| {
            object(vec![
                ("diameter_lo_mm".into(), num(s.lo_mm)),
                ("diameter_hi_mm".into(), num(s.hi_mm)),
                ("gt".into(), Value::from(s.gt)),
                ("gt_detected".into(), Value::from(s.gt_detected)),
                ("recall".into(), num(s.recall())),
                ("pred".into(), Value::from(s.pred)),
                ("pred_matched".into(), Value::from(s.pred_matched)),
                ("precision".into(), num(s.precision())),
                ("fp".into(), Value::from(s.fp())),
            ])
        })
        .collect();
    f.extend([
        ("matches".into(), Value::Array(matches)),
        ("strata".into(), Value::Array(strata)),
        ("gt_lesions".into(), lesion_list(&r.gt)),
        ("pred_lesions".into(), lesion_list(&r.pred)),
    ]);
    object(f)
}

/// A JSON row: the label fields and, when computed, the `lesions` object.
pub(crate) fn json_row(l: &LabelResult, percentile: Option<f64>) -> Vec<(String, Value)> {
    let mut f = label_fields(l, percentile);
    if let Some(r) = &l.lesions {
        f.push(("lesions".into(), lesion_object(r, percentile)));
    }
    f
}

/// A CSV row: the label fields and, when computed, the `lesion_*` columns.
fn csv_fields(l: &LabelResult, percentile: Option<f64>) -> Vec<(String, Value)> {
    let mut f = label_fields(l, percentile);
    if let Some(r) = &l.lesions {
        f.extend(lesion_columns(r));
    }
    f
}

fn lesion_settings(o: &LesionOptions) -> Value {
    let mut f: Vec<(String, Value)> = vec![
        ("connectivity".into(), Value::from(o.connectivity.neighbours())),
        ("rule".into(), Value::from(o.rule.as_str())),
    ];
    if matches!(o.rule, MatchRule::Iou | MatchRule::Dice) {
        f.push(("threshold".into(), num(o.threshold)));
    }
    f.push(("strata_diameter_mm".into(), Value::Array(o.strata_mm.iter().map(|&v| num(v)).collect())));
    f.push(("min_lesion_voxels".into(), Value::from(o.min_lesion_voxels)));
    if o.rule == MatchRule::Brats2023 {
        f.push(("dilation".into(), Value::from(o.brats.dilation)));
        f.push(("min_gt_volume_mm3".into(), num(o.brats.min_gt_volume_mm3)));
        f.push(("hd_penalty".into(), num(o.brats.hd_penalty)));
    }
    f.push(("pair_distances".into(), Value::from(o.surface.is_some())));
    object(f)
}

/// The settings that say what was computed, written at the top of every JSON document.
pub(crate) fn settings(options: &EvalOptions) -> Vec<(String, Value)> {
    let mut out = surface_settings(options);
    out.push(("lesions".into(), options.lesions.as_ref().map_or(Value::Null, lesion_settings)));
    out
}

fn surface_settings(options: &EvalOptions) -> Vec<(String, Value)> {
    match &options.surface {
        None => vec![("surface".into(), Value::Null)],
        Some(so) => vec![
            ("surface".into(), Value::from(so.surface.as_str())),
            ("percentile".into(), num(so.percentile)),
            (
                "percentile_rule".into(),
                Value::from(match so.percentile_rule {
                    PercentileRule::DirectedMax => "directed-max",
                    PercentileRule::Pooled => "pooled",
                }),
            ),
            ("tau".into(), num(so.tau)),
            (
                "mesh_compat".into(),
                Value::from(match so.mesh_compat {
                    MeshCompat::Exact => "exact",
                    MeshCompat::VtkF32 => "vtk-f32",
                }),
            ),
        ],
    }
}

fn object(fields: Vec<(String, Value)>) -> Value {
    Value::Object(fields.into_iter().collect::<Map<String, Value>>())
}

fn percentile_of(options: &EvalOptions) -> Option<f64> {
    options.surface.as_ref().map(|s| s.percentile)
}

/// The JSON document of `segauge compare` (see the README for the contract).
pub fn compare_json(result: &CaseResult, options: &EvalOptions) -> String {
    let mut doc = vec![
        ("segauge_version".into(), Value::from(SEGAUGE_VERSION)),
        ("pred".into(), Value::from(result.pred.display().to_string())),
        ("gt".into(), Value::from(result.gt.display().to_string())),
        ("shape".into(), Value::from(result.shape.to_vec())),
        ("spacing".into(), Value::Array(result.spacing.iter().map(|&v| num(v)).collect())),
    ];
    doc.extend(settings(options));
    let p = percentile_of(options);
    doc.push(("labels".into(), Value::Array(result.labels.iter().map(|l| object(json_row(l, p))).collect())));
    to_json(&object(doc))
}

/// The JSON document of `segauge eval`: the settings, one row per case and label, and the failures.
pub fn eval_json(eval: &Evaluation, pred_dir: &Path, gt_dir: &Path, options: &EvalOptions) -> String {
    let p = percentile_of(options);
    let rows = eval
        .cases
        .iter()
        .flat_map(|c| {
            c.labels.iter().map(move |l| {
                let mut f = vec![("case".to_string(), Value::from(c.case.clone()))];
                f.extend(json_row(l, p));
                object(f)
            })
        })
        .collect();
    let failures = eval
        .failures
        .iter()
        .map(|f| {
            object(vec![
                ("case".into(), Value::from(f.case.clone())),
                ("error".into(), Value::from(f.error.clone())),
            ])
        })
        .collect();
    let mut doc = vec![
        ("segauge_version".into(), Value::from(SEGAUGE_VERSION)),
        ("pred_dir".into(), Value::from(pred_dir.display().to_string())),
        ("gt_dir".into(), Value::from(gt_dir.display().to_string())),
    ];
    doc.extend(settings(options));
    doc.extend([
        ("n_cases".into(), Value::from(eval.cases.len() + eval.failures.len())),
        ("n_failed".into(), Value::from(eval.failures.len())),
        ("cases".into(), Value::Array(rows)),
        ("failures".into(), Value::Array(failures)),
    ]);
    to_json(&object(doc))
}

pub(crate) fn to_json(doc: &Value) -> String {
    // A Value of strings and finite numbers always serialises.
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The per-case CSV header: `case`, the label fields of the JSON rows (with the surface fields when computed), and
/// `error`.
pub fn csv_columns(options: &EvalOptions) -> Vec<String> {
    let probe = LabelResult {
        label: 0,
        counts: LabelCounts::default(),
        voxel_volume_mm3: 1.0,
        surface: options.surface.as_ref().map(|_| SurfaceMetrics::empty(EmptyState::BothEmpty)),
        lesions: options.lesions.as_ref().map(LesionReport::none),
    };
    let mut cols = vec!["case".to_string()];
    cols.extend(csv_fields(&probe, percentile_of(options)).into_iter().map(|(k, _)| k));
    cols.push("error".into());
    cols
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().filter(|_| n.is_f64()).map_or_else(|| n.to_string(), format_number),
        other => other.to_string(),
    }
}

/// Writes the per-case CSV: one row per case and label, then one row per failed case (label and metrics empty,
/// `error` filled) so that failures are never silently missing from a table.
///
/// # Errors
/// [`Error::Write`] when the writer fails.
pub fn write_eval_csv<W: Write>(
    eval: &Evaluation,
    options: &EvalOptions,
    out: W,
    path: &Path,
) -> Result<(), Error> {
    write_cases_csv(&[(None, eval)], options, out, path)
}

/// The per-case CSV of several models: [`write_eval_csv`]'s columns after a `model` column (when a name is
/// given), model after model.
///
/// # Errors
/// [`Error::Write`] when the writer fails.
pub fn write_cases_csv<W: Write>(
    models: &[(Option<&str>, &Evaluation)],
    options: &EvalOptions,
    out: W,
    path: &Path,
) -> Result<(), Error> {
    let named = models.iter().any(|(m, _)| m.is_some());
    let mut columns = csv_columns(options);
    if named {
        columns.insert(0, "model".into());
    }
    let mut w = CsvWriter::new(out, path);
    w.record(&columns)?;
    let p = percentile_of(options);
    for (model, eval) in models {
        let prefix: Vec<String> = if named { vec![model.unwrap_or_default().to_string()] } else { vec![] };
        for c in &eval.cases {
            for l in &c.labels {
                let mut row = prefix.clone();
                row.push(c.case.clone());
                row.extend(csv_fields(l, p).iter().map(|(_, v)| csv_cell(v)));
                row.push(String::new());
                w.record(&row)?;
            }
        }
        for f in &eval.failures {
            let mut row = vec![String::new(); columns.len()];
            if named {
                row[0] = model.unwrap_or_default().to_string();
            }
            row[prefix.len()] = f.case.clone();
            row[columns.len() - 1] = f.error.clone();
            w.record(&row)?;
        }
    }
    w.finish()
}

/// A plain-text table of one comparison, for reading in a terminal.
pub fn compare_table(result: &CaseResult, options: &EvalOptions) -> String {
    let mut s = format!(
        "pred: {}\ngt:   {}\ngrid: {} x {} x {} voxels, spacing {} x {} x {} mm\n",
        result.pred.display(),
        result.gt.display(),
        result.shape[0],
        result.shape[1],
        result.shape[2],
        short(result.spacing[0]),
        short(result.spacing[1]),
        short(result.spacing[2]),
    );
    if let Some(so) = &options.surface {
        s.push_str(&format!(
            "surface distances: {} surface, HD{} as {}, NSD and BIoU at tau = {} mm\n",
            so.surface.as_str(),
            format_number(so.percentile),
            match so.percentile_rule {
                PercentileRule::DirectedMax => "the larger directed percentile",
                PercentileRule::Pooled => "the pooled percentile",
            },
            format_number(so.tau)
        ));
    }
    s.push('\n');
    if result.labels.is_empty() {
        s.push_str("no labels: both volumes are all background\n");
        return s;
    }
    let p = percentile_of(options);
    let skip = ["voxels_pred", "voxels_gt"];
    let header: Vec<String> = label_fields(&result.labels[0], p)
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !skip.contains(&k.as_str()))
        .collect();
    let mut rows: Vec<Vec<String>> = vec![header];
    for l in &result.labels {
        rows.push(
            label_fields(l, p)
                .into_iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()))
                .map(|(k, v)| match v {
                    Value::Number(n) if n.is_f64() => {
                        let x = n.as_f64().unwrap_or(f64::NAN);
                        if k.starts_with("volume") { format!("{x:.1}") } else { format!("{x:.4}") }
                    }
                    other => csv_cell(&other),
                })
                .collect(),
        );
    }
    s.push_str(&table(rows));
    if let Some(o) = &options.lesions {
        s.push_str(&format!(
            "\nlesions: {}-connected components, {} matching{}\n",
            o.connectivity.neighbours(),
            o.rule.as_str(),
            if matches!(o.rule, MatchRule::Iou | MatchRule::Dice) {
                format!(" ({} > {})", o.rule.as_str(), format_number(o.threshold))
            } else {
                String::new()
            }
        ));
        let mut rows = vec![
            ["label", "gt", "pred", "tp", "fp", "fn", "precision", "recall", "f1", "pq"]
                .map(String::from)
                .to_vec(),
        ];
        for l in &result.labels {
            if let Some(r) = &l.lesions {
                let f = |v: f64| if v.is_finite() { format!("{v:.4}") } else { format_number(v) };
                rows.push(vec![
                    l.label.to_string(),
                    r.gt.len().to_string(),
                    r.pred.len().to_string(),
                    r.tp.to_string(),
                    r.fp.to_string(),
                    r.fn_.to_string(),
                    f(r.precision()),
                    f(r.recall()),
                    f(r.f1()),
                    f(r.pq()),
                ]);
            }
        }
        s.push_str(&table(rows));
    }
    s
}

/// Right-aligned columns.
fn table(rows: Vec<Vec<String>>) -> String {
    let mut s = String::new();
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
    for r in rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:>w$}")).collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}

/// A number for people: up to 6 significant decimals, trailing zeros dropped.
fn short(v: f64) -> String {
    let t = format!("{v:.6}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_numbers_are_strings() {
        let v = Value::Array([1.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN].map(num).to_vec());
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"[1.5,"inf","-inf","nan"]"#);
        assert_eq!(percentile_field(95.0), "hd95");
        assert_eq!(percentile_field(99.5), "hd99.5");
        assert_eq!(format_number(f64::NAN), "nan");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(2.0), "2");
    }
}
