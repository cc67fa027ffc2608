//! Data-set outputs around a [`Report`]: the case metadata CSV reader, the results JSON (schema
//! `segauge-eval/2`), the summary CSV (overall and subgroup rows), the per-lesion CSV and a plain-text summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use segauge_eval::{Estimate, EstimateKind, Metadata, Metric, Report, Structure, Unit};
use segauge_lesion::Lesion;
use serde_json::{Map, Value};

use crate::Error;
use crate::csv_write::CsvWriter;
use crate::output::{format_number, json_row, num, printable, settings, to_json};

/// The version of the results JSON schema (README, "Results JSON").
pub const SCHEMA: &str = "segauge-eval/3";

/// Reads case metadata from a CSV file with a header row: a `case` column (the case id, as in the file names)
/// and any other columns, kept as text.
///
/// # Errors
/// [`Error::Metadata`] naming the file and the problem: unreadable, no `case` column, a row of another length, an
/// empty or repeated case id.
pub fn read_metadata(path: &Path) -> Result<Metadata, Error> {
    let fail = |detail: String| Error::Metadata { path: path.to_path_buf(), detail };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| fail(format!("no header row: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let Some(case_col) = header.iter().position(|h| h == "case") else {
        return Err(fail(format!("no `case` column (columns: {})", header.join(", "))));
    };
    let mut out = BTreeMap::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(format!("row {}: {e}", row + 2)))?;
        let id = record.get(case_col).unwrap_or_default().to_string();
        if id.is_empty() {
            return Err(fail(format!("row {}: empty case id", row + 2)));
        }
        let values: BTreeMap<String, String> = header
            .iter()
            .zip(record.iter())
            .filter(|(h, v)| *h != "case" && !v.is_empty())
            .map(|(h, v)| (h.clone(), v.to_string()))
            .collect();
        if out.insert(id.clone(), values).is_some() {
            return Err(fail(format!("row {}: case {id:?} appears twice", row + 2)));
        }
    }
    Ok(out)
}

fn object(fields: Vec<(String, Value)>) -> Value {
    Value::Object(fields.into_iter().collect::<Map<String, Value>>())
}

fn kind(k: EstimateKind) -> &'static str {
    match k {
        EstimateKind::Mean => "mean",
        EstimateKind::Micro => "micro",
        EstimateKind::ForegroundMean => "foreground_mean",
    }
}

fn method_name(m: segauge_stats::CiMethod) -> &'static str {
    match m {
        segauge_stats::CiMethod::Percentile => "percentile",
        segauge_stats::CiMethod::Basic => "basic",
        _ => "bca",
    }
}

/// The structure fields of a row: in JSON `label` (a number or `null`), `name` and a region's `region`; in CSV the
/// `label` and `name` cells of the per-case table.
fn structure_fields(s: &Structure, csv: bool) -> Vec<(String, Value)> {
    if csv {
        let [label, name] = crate::output::structure_cells(s);
        vec![("label".into(), Value::from(label)), ("name".into(), Value::from(name))]
    } else {
        crate::output::structure_json(s)
    }
}

/// The fields of an estimate row, in output order (`model` only when several models).
fn estimate_fields(report: &Report, e: &Estimate, several: bool, csv: bool) -> Vec<(String, Value)> {
    let metric = report.catalogue.key(e.metric).into_owned();
    let mut f = vec![("metric".to_string(), Value::from(metric))];
    f.extend(structure_fields(&e.structure, csv));
    if several {
        f.push(("model".into(), Value::from(e.model.clone().unwrap_or_default())));
    }
    f.extend([
        ("kind".into(), Value::from(kind(e.kind))),
        ("estimate".into(), num(e.estimate)),
        ("ci_low".into(), num(e.ci_low)),
        ("ci_high".into(), num(e.ci_high)),
        ("method".into(), Value::from(method_name(e.method))),
        ("n".into(), Value::from(e.n)),
        ("n_cases".into(), Value::from(e.n_cases)),
        ("n_failed".into(), Value::from(e.n_failed)),
        ("n_inf".into(), Value::from(e.n_inf)),
        ("n_nan".into(), Value::from(e.n_nan)),
        ("n_capped".into(), Value::from(e.n_capped)),
        ("n_both_empty".into(), Value::from(e.n_both_empty)),
        ("flags".into(), Value::from(e.flags.clone())),
        ("scope".into(), Value::from(e.scope.clone())),
    ]);
    f
}

/// The aggregate settings written into the JSON and the report.
fn aggregate_settings(report: &Report) -> Vec<(String, Value)> {
    let o = &report.options.aggregate;
    vec![
        (
            "bootstrap".into(),
            object(vec![
                ("method".into(), Value::from(method_name(o.method))),
                ("level".into(), num(o.level)),
                ("resamples".into(), Value::from(o.resamples)),
                ("seed".into(), Value::from(o.seed)),
                ("unit".into(), Value::from("case")),
            ]),
        ),
        ("inf_policy".into(), Value::from(o.inf_policy.as_str())),
        ("hd_cap".into(), o.hd_cap.map_or_else(|| Value::from("image diagonal of each case"), num)),
        ("subgroup_columns".into(), Value::from(report.subgroup_columns.clone())),
    ]
}

/// The results JSON of a data-set evaluation (schema [`SCHEMA`], documented in the README): settings, per-case
/// rows and failures (with `model` when several models), `summary`, `subgroups`, `strata`, and for several models
/// `paired` and `ranking`.
pub fn report_json(report: &Report) -> String {
    to_json(&document(report))
}

/// Writes the results JSON of [`report_json`], the same bytes, straight to `out`: the rows of `cases` (one per
/// case and structure, the bulk of the document) are built and written one at a time, so memory does not grow
/// with the document (100 cases of 117 structures: 41 MB of JSON).
///
/// # Errors
/// [`Error::Write`] when the writer fails.
pub fn write_report_json<W: Write>(report: &Report, out: W, path: &Path) -> Result<(), Error> {
    let io = |source| Error::Write { path: path.to_path_buf(), source };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, &document(report)).map_err(|e| io(e.into()))?;
    out.write_all(b"\n").map_err(io)?;
    out.flush().map_err(io)
}

/// The results JSON as a serialisable document: every entry a finished value but `cases`, whose rows are made
/// while they are written.
struct Document<'a> {
    entries: Vec<(String, Entry<'a>)>,
}

enum Entry<'a> {
    Value(Value),
    CaseRows(&'a Report),
}

impl serde::Serialize for Document<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, entry) in &self.entries {
            match entry {
                Entry::Value(v) => map.serialize_entry(key, v)?,
                Entry::CaseRows(report) => map.serialize_entry(key, &CaseRows(report))?,
            }
        }
        map.end()
    }
}

/// The `cases` array: one row per case and structure of every model.
struct CaseRows<'a>(&'a Report);

impl serde::Serialize for CaseRows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let report = self.0;
        let several = report.models.len() > 1;
        let surface = report.options.eval.surface.is_some();
        let cases = report.models.iter().flat_map(|m| m.evaluation.cases.iter().map(move |c| (m, c)));
        let n = cases.clone().map(|(_, c)| c.labels.len()).sum();
        let mut seq = serializer.serialize_seq(Some(n))?;
        for (m, c) in cases {
            for l in &c.labels {
                let mut f = vec![("case".to_string(), Value::from(c.case.clone()))];
                if several {
                    f.push(("model".into(), Value::from(m.name.clone())));
                }
                f.extend(json_row(l, &report.catalogue, surface));
                seq.serialize_element(&object(f))?;
            }
        }
        seq.end()
    }
}

/// The document of [`report_json`].
fn document(report: &Report) -> Document<'_> {
    let several = report.models.len() > 1;
    let options = &report.options.eval;
    let mut doc: Vec<(String, Value)> = vec![
        ("schema".into(), Value::from(SCHEMA)),
        ("segauge_version".into(), Value::from(crate::output::SEGAUGE_VERSION)),
        (
            "gt_dir".into(),
            report.gt_dir.as_ref().map_or(Value::Null, |d| Value::from(d.display().to_string())),
        ),
        (
            "models".into(),
            Value::Array(
                report
                    .models
                    .iter()
                    .map(|m| {
                        object(vec![
                            ("name".into(), Value::from(m.name.clone())),
                            (
                                "n_cases".into(),
                                Value::from(m.evaluation.cases.len() + m.evaluation.failures.len()),
                            ),
                            ("n_failed".into(), Value::from(m.evaluation.failures.len())),
                        ])
                    })
                    .collect(),
            ),
        ),
    ];
    doc.extend(settings(options));
    doc.extend(aggregate_settings(report));
    let (mut failures, mut skipped) = (Vec::new(), Vec::new());
    for m in &report.models {
        for fl in &m.evaluation.failures {
            let mut f = vec![("case".to_string(), Value::from(fl.case.clone()))];
            if several {
                f.push(("model".into(), Value::from(m.name.clone())));
            }
            f.push(("error".into(), Value::from(fl.error.clone())));
            failures.push(object(f));
        }
        for fl in &m.evaluation.not_evaluated {
            let mut f = vec![("case".to_string(), Value::from(fl.case.clone()))];
            if several {
                f.push(("model".into(), Value::from(m.name.clone())));
            }
            f.push(("reason".into(), Value::from(fl.error.clone())));
            skipped.push(object(f));
        }
    }
    let n_cases: usize =
        report.models.iter().map(|m| m.evaluation.cases.len() + m.evaluation.failures.len()).sum();
    let n_failed: usize = report.models.iter().map(|m| m.evaluation.failures.len()).sum();
    let summary = report.summary.iter().map(|e| object(estimate_fields(report, e, several, false))).collect();
    let subgroups = report
        .subgroups
        .iter()
        .map(|s| {
            let mut f = vec![
                ("column".to_string(), Value::from(s.column.clone())),
                ("value".into(), Value::from(s.value.clone())),
            ];
            f.extend(estimate_fields(report, &s.estimate, several, false));
            object(f)
        })
        .collect();
    let strata = report
        .strata
        .iter()
        .map(|s| {
            let mut f = structure_fields(&s.structure, false);
            if several {
                f.push(("model".into(), Value::from(s.model.clone().unwrap_or_default())));
            }
            f.extend([
                ("diameter_lo_mm".into(), num(s.counts.lo_mm)),
                ("diameter_hi_mm".into(), num(s.counts.hi_mm)),
                ("gt".into(), Value::from(s.counts.gt)),
                ("gt_detected".into(), Value::from(s.counts.gt_detected)),
                ("recall".into(), num(s.counts.recall())),
                ("pred".into(), Value::from(s.counts.pred)),
                ("pred_matched".into(), Value::from(s.counts.pred_matched)),
                ("precision".into(), num(s.counts.precision())),
            ]);
            object(f)
        })
        .collect();
    doc.extend([("n_cases".into(), Value::from(n_cases)), ("n_failed".into(), Value::from(n_failed))]);
    // The entries before `cases`; those after it follow in `doc`.
    let head = std::mem::take(&mut doc);
    doc.extend([
        ("failures".into(), Value::Array(failures)),
        ("not_evaluated".into(), Value::Array(skipped)),
        ("summary".into(), Value::Array(summary)),
        ("subgroups".into(), Value::Array(subgroups)),
        ("strata".into(), Value::Array(strata)),
    ]);
    if several {
        let paired = report
            .paired
            .iter()
            .map(|c| {
                let mut f =
                    vec![("metric".to_string(), Value::from(report.catalogue.key(c.metric).into_owned()))];
                f.extend(structure_fields(&c.structure, false));
                f.extend([
                    ("model_a".into(), Value::from(c.model_a.clone())),
                    ("model_b".into(), Value::from(c.model_b.clone())),
                    ("n".into(), Value::from(c.n)),
                    ("n_dropped".into(), Value::from(c.n_dropped)),
                    ("mean_diff".into(), num(c.mean_diff)),
                    ("ci_low".into(), num(c.ci_low)),
                    ("ci_high".into(), num(c.ci_high)),
                    ("p_value".into(), num(c.p_value)),
                    ("p_holm".into(), num(c.p_holm)),
                ]);
                object(f)
            })
            .collect();
        let ranking = report
            .ranking
            .iter()
            .map(|r| {
                let mut f =
                    vec![("metric".to_string(), Value::from(report.catalogue.key(r.metric).into_owned()))];
                f.extend(structure_fields(&r.structure, false));
                f.extend([
                    ("n".into(), Value::from(r.n)),
                    ("n_nan".into(), Value::from(r.n_nan)),
                    ("tau_median".into(), num(r.tau_median)),
                    ("tau_q1".into(), num(r.tau_q1)),
                    ("tau_q3".into(), num(r.tau_q3)),
                    (
                        "models".into(),
                        Value::Array(
                            r.models
                                .iter()
                                .map(|m| {
                                    object(vec![
                                        ("model".into(), Value::from(m.model.clone())),
                                        ("rank".into(), Value::from(m.rank)),
                                        ("p_first".into(), num(m.p_first)),
                                        ("median_rank".into(), num(m.median_rank)),
                                        ("rank_low".into(), num(m.rank_low)),
                                        ("rank_high".into(), num(m.rank_high)),
                                        ("rank_counts".into(), Value::from(m.rank_counts.clone())),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                ]);
                object(f)
            })
            .collect();
        doc.push(("paired".into(), Value::Array(paired)));
        doc.push(("ranking".into(), Value::Array(ranking)));
    }
    let value = |(k, v): (String, Value)| (k, Entry::Value(v));
    let cases = ("cases".to_string(), Entry::CaseRows(report));
    Document {
        entries: head.into_iter().map(value).chain([cases]).chain(doc.into_iter().map(value)).collect(),
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().filter(|_| n.is_f64()).map_or_else(|| n.to_string(), format_number),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(";"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Writes the summary CSV: one row per estimate, overall rows first (`column` and `value` empty), then one row
/// per subgroup estimate.
///
/// # Errors
/// [`Error::Write`] when the writer fails.
pub fn write_summary_csv<W: Write>(report: &Report, out: W, path: &Path) -> Result<(), Error> {
    let several = report.models.len() > 1;
    let mut w = CsvWriter::new(out, path);
    let probe = report.summary.first().or(report.subgroups.first().map(|s| &s.estimate));
    let Some(probe) = probe else {
        w.record(&["column", "value", "metric", "label", "name"])?;
        return w.finish();
    };
    let eval = &report.options.eval;
    let convention = eval.convention.describe(eval);
    let mut header = vec!["column".to_string(), "value".into()];
    header.extend(estimate_fields(report, probe, several, true).into_iter().map(|(k, _)| k));
    header.push("convention".into());
    w.record(&header)?;
    for e in &report.summary {
        let mut row = vec![String::new(), String::new()];
        row.extend(estimate_fields(report, e, several, true).iter().map(|(_, v)| cell(v)));
        row.push(convention.clone());
        w.record(&row)?;
    }
    for s in &report.subgroups {
        let mut row = vec![s.column.clone(), s.value.clone()];
        row.extend(estimate_fields(report, &s.estimate, several, true).iter().map(|(_, v)| cell(v)));
        row.push(convention.clone());
        w.record(&row)?;
    }
    w.finish()
}

/// The columns of the per-lesion CSV.
const LESION_COLUMNS: [&str; 17] = [
    "model",
    "case",
    "label",
    "name",
    "side",
    "lesion",
    "voxels",
    "volume_mm3",
    "diameter_mm",
    "centroid_x_mm",
    "centroid_y_mm",
    "centroid_z_mm",
    "detected",
    "partners",
    "iou",
    "dice",
    "empty_state",
];

/// Writes one row per lesion (GT and predicted) of every case and label: its geometry, whether it was
/// detected (GT) or matched (prediction), its partners and the pair's IoU and Dice.
///
/// # Errors
/// [`Error::Write`] when the writer fails.
pub fn write_lesion_csv<W: Write>(report: &Report, out: W, path: &Path) -> Result<(), Error> {
    let mut w = CsvWriter::new(out, path);
    w.record(&LESION_COLUMNS)?;
    for m in &report.models {
        for c in &m.evaluation.cases {
            for l in &c.labels {
                let Some(r) = &l.lesions else { continue };
                let mut write = |side: &str, les: &Lesion, partners: Vec<u32>, scores: Option<(f64, f64)>| {
                    let row = [
                        m.name.clone(),
                        c.case.clone(),
                        l.structure.label_text(),
                        l.structure.name.clone(),
                        side.to_string(),
                        les.id.to_string(),
                        les.voxels.to_string(),
                        format_number(les.volume_mm3),
                        format_number(les.diameter_mm),
                        format_number(les.centroid_mm[0]),
                        format_number(les.centroid_mm[1]),
                        format_number(les.centroid_mm[2]),
                        (!partners.is_empty()).to_string(),
                        partners.iter().map(u32::to_string).collect::<Vec<_>>().join(";"),
                        scores.map_or(String::new(), |s| format_number(s.0)),
                        scores.map_or(String::new(), |s| format_number(s.1)),
                        l.empty_state().as_str().to_string(),
                    ];
                    w.record(&row)
                };
                for g in &r.gt {
                    let hit = r.matches.iter().find(|x| x.gt == g.id);
                    write("gt", g, hit.map_or(Vec::new(), |x| x.pred.clone()), hit.map(|x| (x.iou, x.dice)))?;
                }
                for p in &r.pred {
                    let hits: Vec<_> = r.matches.iter().filter(|x| x.pred.contains(&p.id)).collect();
                    let scores = (hits.len() == 1).then(|| (hits[0].iou, hits[0].dice));
                    write("pred", p, hits.iter().map(|x| x.gt).collect(), scores)?;
                }
            }
        }
    }
    w.finish()
}

/// The headline metrics of the terminal summary, in order, when computed: Dice, HD_p, NSD and lesion F1.
const HEADLINE: [Metric; 4] = [Metric::Dice, Metric::HdPercentile, Metric::Nsd, Metric::LesionF1];

/// The terminal summary: one line per structure (and model) with the headline metrics and their intervals, then
/// the notes that apply (capped, left out, failed and not-evaluated cases, small samples). Every metric of every
/// structure is in the summary CSV, the JSON and the report.
pub fn summary_text(report: &Report) -> String {
    let options = &report.options.aggregate;
    let metrics: Vec<Metric> =
        HEADLINE.into_iter().filter(|m| report.summary.iter().any(|e| e.metric == *m)).collect();
    let several = report.models.len() > 1;
    let level = format!("{}% CI", format_number(options.level * 100.0));
    let mut header: Vec<String> = Vec::new();
    if several {
        header.push("model".into());
    }
    header.extend(["structure".to_string(), "n".into(), "both empty".into()]);
    header.extend(metrics.iter().map(|&m| {
        let unit = if m.unit() == Unit::Mm { " mm" } else { "" };
        format!("{}{unit} [{level}]", report.catalogue.key(m))
    }));
    let mut table = vec![header];
    // Notes, each once: (note, structures it applies to).
    let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let fmt = |v: f64, unit: Unit| {
        let digits = if unit == Unit::Mm { 2 } else { 4 };
        if v.is_finite() { format!("{v:.digits$}") } else { format_number(v) }
    };
    let mut seen: Vec<(&Option<String>, &str)> = Vec::new();
    for first in &report.summary {
        let key = (&first.model, first.structure.name.as_str());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let row_of = |m: Metric| {
            report
                .summary
                .iter()
                .find(|e| e.metric == m && e.model == first.model && e.structure == first.structure)
        };
        let name = printable(&first.structure.to_string()).into_owned();
        let mut r = Vec::new();
        if several {
            r.push(printable(&first.model.clone().unwrap_or_default()).into_owned());
        }
        r.extend([name.clone(), first.n_cases.to_string(), first.n_both_empty.to_string()]);
        for &m in &metrics {
            r.push(match row_of(m) {
                Some(e) => format!(
                    "{} [{}, {}]",
                    fmt(e.estimate, m.unit()),
                    fmt(e.ci_low, m.unit()),
                    fmt(e.ci_high, m.unit())
                ),
                None => "—".into(),
            });
            if let Some(e) = row_of(m) {
                let key = report.catalogue.key(m);
                let mut note = |text: String| {
                    let who = notes.entry(text).or_default();
                    if !who.contains(&name) {
                        who.push(name.clone());
                    }
                };
                if e.n_capped > 0 {
                    note(format!("{key}: inf capped"));
                }
                if e.n_nan > 0 {
                    note(format!("{key}: nan left out"));
                }
                for f in &e.flags {
                    note((*f).to_string());
                }
            }
        }
        table.push(r);
    }
    let eval = &report.options.eval;
    let mut s = format!(
        "convention {}; {} bootstrap, B = {}, seed {}, inf policy {}; every metric: --summary-csv, --json, --report\n",
        eval.convention.describe(eval),
        method_name(options.method),
        options.resamples,
        options.seed,
        options.inf_policy.as_str()
    );
    s.push_str(&aligned(&table));
    for (note, who) in notes {
        let who = if who.len() > 6 { format!("{} structures", who.len()) } else { who.join(", ") };
        s.push_str(&format!("note: {note} ({who})\n"));
    }
    for m in &report.models {
        let prefix = if several { format!("model {}: ", printable(&m.name)) } else { String::new() };
        if !m.evaluation.failures.is_empty() {
            s.push_str(&format!("note: {prefix}{} failed cases not included\n", m.evaluation.failures.len()));
        }
        if !m.evaluation.not_evaluated.is_empty() {
            s.push_str(&format!(
                "note: {prefix}{} ground truths without prediction not evaluated\n",
                m.evaluation.not_evaluated.len()
            ));
        }
    }
    s
}

/// The same for the subgroups of one metadata column (`None` if the column was not sliced).
pub fn subgroup_text(report: &Report, column: &str) -> Option<String> {
    if !report.subgroup_columns.iter().any(|c| c == column) {
        return None;
    }
    let rows: Vec<(&str, &Estimate)> = report
        .subgroups
        .iter()
        .filter(|s| s.column == column)
        .map(|s| (s.value.as_str(), &s.estimate))
        .collect();
    let estimates: Vec<&Estimate> = rows.iter().map(|r| r.1).collect();
    let values: Vec<&str> = rows.iter().map(|r| r.0).collect();
    Some(estimates_text(report, &estimates, Some((column, &values))))
}

fn estimates_text(report: &Report, rows: &[&Estimate], group: Option<(&str, &[&str])>) -> String {
    let options = &report.options.aggregate;
    let several = rows.iter().any(|e| e.model.is_some());
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut header: Vec<String> = Vec::new();
    if let Some((column, _)) = group {
        header.push(printable(column).into_owned());
    }
    if several {
        header.push("model".into());
    }
    header.extend(
        [
            "structure",
            "metric",
            "estimate",
            &format!("{}% CI", format_number(options.level * 100.0)),
            "n",
            "notes",
        ]
        .map(String::from),
    );
    table.push(header);
    for (i, e) in rows.iter().enumerate() {
        let mut r = Vec::new();
        if let Some((_, values)) = group {
            r.push(printable(values[i]).into_owned());
        }
        if several {
            r.push(printable(&e.model.clone().unwrap_or_default()).into_owned());
        }
        let unit = if e.metric.unit() == Unit::Mm { " mm" } else { "" };
        let fmt = |v: f64| if v.is_finite() { format!("{v:.4}") } else { format_number(v) };
        let mut notes: Vec<String> = e.flags.iter().map(|f| f.to_string()).collect();
        if e.n_capped > 0 {
            notes.push(format!("{} inf capped", e.n_capped));
        }
        if e.n_nan > 0 {
            notes.push(format!("{} nan left out", e.n_nan));
        }
        if e.n_failed > 0 {
            notes.push(format!("{} failed cases not included", e.n_failed));
        }
        r.extend([
            printable(&e.structure.to_string()).into_owned(),
            report.catalogue.key(e.metric).into_owned(),
            format!("{}{unit}", fmt(e.estimate)),
            format!("[{}, {}]{unit}", fmt(e.ci_low), fmt(e.ci_high)),
            format!("{}/{}", e.n, e.n_cases),
            notes.join(", "),
        ]);
        table.push(r);
    }
    let mut s = format!(
        "{} bootstrap, B = {}, seed {}, inf policy {}\n",
        method_name(options.method),
        options.resamples,
        options.seed,
        options.inf_policy.as_str()
    );
    s.push_str(&aligned(&table));
    s
}

/// Rows of cells as left-aligned columns two spaces apart, one line per row.
fn aligned(table: &[Vec<String>]) -> String {
    let columns = table.first().map_or(0, Vec::len);
    let widths: Vec<usize> =
        (0..columns).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut s = String::new();
    for r in table {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}
