//! Writers: the JSON documents of `compare` and `eval`, the per-case CSV, and a plain-text table.
//!
//! Numbers are written with the shortest representation that reads back to the same f64. Non-finite numbers are
//! the strings `"inf"`, `"-inf"` and `"nan"` everywhere (JSON and CSV), never `null`.

use std::io::Write;
use std::path::Path;

use segauge_eval::{CaseResult, Catalogue, EvalOptions, LabelResult, Metric, Report, Structure};
use segauge_lesion::{Lesion, LesionOptions, LesionReport, MatchRule};
use segauge_metrics::{MeshCompat, PercentileRule};
use serde_json::{Map, Value};

use crate::Error;
use crate::csv_write::CsvWriter;

/// The version written into every output.
pub(crate) const SEGAUGE_VERSION: &str = env!("CARGO_PKG_VERSION");

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
pub(crate) fn format_number(v: f64) -> String {
    non_finite(v).map_or_else(|| format!("{v}"), str::to_string)
}

/// A JSON number, or `"inf"`/`"-inf"`/`"nan"`.
pub(crate) fn num(v: f64) -> Value {
    match non_finite(v) {
        Some(text) => Value::String(text.to_string()),
        None => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
    }
}

/// A catalogue value as JSON: numbers (non-finite as strings), counts, text; a missing value is `null`.
fn json_value(v: segauge_eval::Value) -> Value {
    match v {
        segauge_eval::Value::Number(x) => num(x),
        segauge_eval::Value::Count(n) => Value::from(n),
        segauge_eval::Value::Text(t) => Value::from(t),
        segauge_eval::Value::Missing => Value::Null,
    }
}

/// A catalogue value as a CSV cell (a missing value is empty).
fn cell(v: segauge_eval::Value) -> String {
    match v {
        segauge_eval::Value::Number(x) => format_number(x),
        segauge_eval::Value::Count(n) => n.to_string(),
        segauge_eval::Value::Text(t) => t.to_string(),
        segauge_eval::Value::Missing => String::new(),
    }
}

/// The metric fields of one structure's row, in output order, as (key, value): every metric of the catalogue (in
/// the JSON without the flat `lesion_*` fields, which its `lesions` object holds).
fn label_fields(
    l: &LabelResult,
    catalogue: &Catalogue,
    lesion_fields: bool,
) -> Vec<(String, segauge_eval::Value)> {
    catalogue
        .metrics()
        .iter()
        .filter(|m| lesion_fields || !m.is_lesion_field())
        .map(|&m| (catalogue.key(m).into_owned(), m.value(l)))
        .collect()
}

/// The `label` and `name` cells of a structure in CSV and text tables: the label number (a region's labels
/// joined by `+`, empty for a mask known by name only) and the name.
pub(crate) fn structure_cells(s: &Structure) -> [String; 2] {
    [s.label_text(), s.name.clone()]
}

/// The structure fields of a JSON row: `label` (a number, or `null` for a region or a mask known by name only),
/// `name`, and for a region `region` (its labels).
pub(crate) fn structure_json(s: &Structure) -> Vec<(String, Value)> {
    let mut f = vec![
        ("label".to_string(), s.label.map_or(Value::Null, Value::from)),
        ("name".to_string(), Value::from(s.name.clone())),
    ];
    if !s.region.is_empty() {
        f.push(("region".to_string(), Value::from(s.region.clone())));
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
fn lesion_object(r: &LesionReport, catalogue: &Catalogue, surface: bool) -> Value {
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
            if let (Some(sm), true) = (&m.surface, surface) {
                g.extend([
                    ("hd".into(), num(sm.hd)),
                    (catalogue.key(Metric::HdPercentile).into_owned(), num(sm.hd_percentile)),
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

/// A JSON row: the label fields, `undefined` (the metrics whose value is NaN, such as a BIoU whose boundary bands
/// are both empty) when there is any, and, when computed, the `lesions` object.
pub(crate) fn json_row(l: &LabelResult, catalogue: &Catalogue, surface: bool) -> Vec<(String, Value)> {
    let fields = label_fields(l, catalogue, false);
    let undefined: Vec<Value> = fields
        .iter()
        .filter(|(_, v)| matches!(v, segauge_eval::Value::Number(x) if x.is_nan()))
        .map(|(k, _)| Value::from(k.clone()))
        .collect();
    let mut f = structure_json(&l.structure);
    f.extend(fields.into_iter().map(|(k, v)| (k, json_value(v))));
    if !undefined.is_empty() {
        f.push(("undefined".into(), Value::Array(undefined)));
    }
    if let Some(r) = &l.lesions {
        f.push(("lesions".into(), lesion_object(r, catalogue, surface)));
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
    let c = options.convention;
    let mut out = vec![
        ("convention".into(), Value::from(c.as_str())),
        (
            "convention_changed".into(),
            Value::Array(c.overrides(options).into_iter().map(Value::from).collect()),
        ),
    ];
    out.extend(surface_settings(options));
    out.push(("both_empty".into(), Value::from(options.both_empty.as_str())));
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
            ("percentile_interpolation".into(), Value::from(so.interpolation.as_str())),
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

/// The JSON document of `segauge compare` (see the README for the contract).
pub fn compare_json(result: &CaseResult, options: &EvalOptions) -> String {
    let options = &options.resolved();
    let catalogue = Catalogue::new(options);
    let mut doc = vec![
        ("segauge_version".into(), Value::from(SEGAUGE_VERSION)),
        ("pred".into(), Value::from(result.pred.display().to_string())),
        ("gt".into(), Value::from(result.gt.display().to_string())),
        ("shape".into(), Value::from(result.shape.to_vec())),
        ("spacing".into(), Value::Array(result.spacing.iter().map(|&v| num(v)).collect())),
    ];
    doc.extend(settings(options));
    let surface = options.surface.is_some();
    let rows = result.labels.iter().map(|l| object(json_row(l, &catalogue, surface))).collect();
    doc.push(("labels".into(), Value::Array(rows)));
    to_json(&object(doc))
}

pub(crate) fn to_json(doc: &impl serde::Serialize) -> String {
    // A document of strings and finite numbers always serialises.
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The per-case CSV header: `model` (several models only), `case`, `label`, `name`, every metric of the
/// catalogue, and `error`.
pub(crate) fn csv_columns(report: &Report) -> Vec<String> {
    let mut cols = Vec::new();
    if report.models.len() > 1 {
        cols.push("model".to_string());
    }
    cols.extend(["case".to_string(), "label".to_string(), "name".to_string()]);
    cols.extend(report.catalogue.metrics().iter().map(|&m| report.catalogue.key(m).into_owned()));
    cols.push("error".into());
    cols.push("convention".into());
    cols
}

/// Writes the per-case CSV: one row per case and structure, then one row per failed case and structure
/// (metrics empty, `error` filled), model after model, so that failures are never silently missing from a table.
/// `label` is the label number (a region's labels joined by `+`, empty for a mask known by name only), `name` the
/// structure's name.
///
/// # Errors
/// [`Error::Write`] when the writer fails.
pub fn write_cases_csv<W: Write>(report: &Report, out: W, path: &Path) -> Result<(), Error> {
    let named = report.models.len() > 1;
    let columns = csv_columns(report);
    let mut w = CsvWriter::new(out, path);
    w.record(&columns)?;
    let c = &report.catalogue;
    let eval = &report.options.eval;
    let convention = eval.convention.describe(eval);
    for m in &report.models {
        let prefix: Vec<String> = if named { vec![m.name.clone()] } else { vec![] };
        for case in &m.evaluation.cases {
            for l in &case.labels {
                let mut row = prefix.clone();
                row.push(case.case.clone());
                row.extend(structure_cells(&l.structure));
                row.extend(label_fields(l, c, true).into_iter().map(|(_, v)| cell(v)));
                row.push(String::new());
                row.push(convention.clone());
                w.record(&row)?;
            }
        }
        let structures = &m.evaluation.structures;
        let skipped = m.evaluation.not_evaluated.iter().map(|f| segauge_eval::Failure {
            case: f.case.clone(),
            error: format!("not evaluated: {}", f.error),
        });
        for f in m.evaluation.failures.iter().cloned().chain(skipped) {
            let one = |structure: Option<&Structure>| {
                let mut row = prefix.clone();
                row.push(f.case.clone());
                row.extend(structure.map_or_else(|| [String::new(), String::new()], structure_cells));
                row.resize(columns.len() - 2, String::new());
                row.push(f.error.clone());
                row.push(convention.clone());
                row
            };
            if structures.is_empty() {
                w.record(&one(None))?;
            }
            for s in structures {
                w.record(&one(Some(s)))?;
            }
        }
    }
    w.finish()
}

/// A plain-text table of one comparison, for reading in a terminal.
pub fn compare_table(result: &CaseResult, options: &EvalOptions) -> String {
    let options = &options.resolved();
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
    s.push_str(&format!("convention: {}\n", options.convention.describe(options)));
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
    let catalogue = Catalogue::new(options);
    let shown = |l: &LabelResult| {
        label_fields(l, &catalogue, false)
            .into_iter()
            .filter(|(k, _)| k != "voxels_pred" && k != "voxels_gt")
            .collect::<Vec<_>>()
    };
    let mut head = vec!["label".to_string(), "name".to_string()];
    head.extend(shown(&result.labels[0]).into_iter().map(|(k, _)| k));
    let mut rows: Vec<Vec<String>> = vec![head];
    for l in &result.labels {
        let mut row: Vec<String> =
            structure_cells(&l.structure).into_iter().map(|c| printable(&c).into_owned()).collect();
        row.extend(shown(l).into_iter().map(|(k, v)| match v {
            segauge_eval::Value::Number(x) if x.is_finite() => {
                if k.starts_with("volume") {
                    format!("{x:.1}")
                } else {
                    format!("{x:.4}")
                }
            }
            other => cell(other),
        }));
        rows.push(row);
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
            ["structure", "gt", "pred", "tp", "fp", "fn", "precision", "recall", "f1", "pq"]
                .map(String::from)
                .to_vec(),
        ];
        for l in &result.labels {
            if let Some(r) = &l.lesions {
                let f = |v: f64| if v.is_finite() { format!("{v:.4}") } else { format_number(v) };
                rows.push(vec![
                    printable(&l.structure.to_string()).into_owned(),
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
        assert_eq!(format_number(f64::NAN), "nan");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(2.0), "2");
    }
}
