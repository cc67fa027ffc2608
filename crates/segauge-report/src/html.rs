//! The self-contained HTML report of a data-set evaluation: [`report_html`].
//!
//! One HTML5 document with one inline style block and inline SVG plots, no script and no external resource of
//! any kind (no font, image, stylesheet or link; a Content-Security-Policy forbids loading any), so the file
//! can be archived, mailed and printed as it is. Every user-provided text (case ids, paths, error messages,
//! metadata, model names) is escaped. Plots are sized in CSS pixels with a `viewBox`, so they scale down on
//! narrow screens and in print.
//!
//! Sections, each with a stable `id` and an `<h2>`: `settings`, `summary`, `distributions`, `subgroups`,
//! `detection`, `worst-cases`, `failures`, and for several models `comparison` and `ranking`.
//!
//! Numbers: scores (Dice, IoU, NSD, BIoU, lesion precision, recall and F1) with 4 decimals and no unit,
//! distances with 2 decimals in mm, volumes with 1 decimal in mm³, p-values with 4 decimals (or 2 significant
//! digits below 0.0001); non-finite values are written `inf`, `-inf` and `nan`.

use std::collections::{BTreeMap, BTreeSet};

use segauge_lesion::MatchRule;
use segauge_metrics::{EmptyState, MeshCompat, PercentileRule};
use segauge_stats::CiMethod;

use segauge_eval::{
    Better, Estimate, EstimateKind, EvalOptions, InfPolicy, LabelResult, Metric, ModelRun, PairedComparison,
    Ranking, Report, StratumTotals, SubgroupEstimate, Unit,
};

use crate::output::{SEGAUGE_VERSION, format_number};
use crate::svg::{self, Scale};

/// How many cases each worst-case table lists.
const WORST_CASES: usize = 10;

/// How many metadata columns the worst-case tables show at most.
const METADATA_COLUMNS: usize = 6;

/// Model colours (muted, distinguishable in print and for the common colour-vision deficiencies).
const MODEL_COLOURS: [&str; 6] = ["#3a6ea5", "#c8743a", "#4b8b5a", "#8e5a9c", "#a94f5c", "#6b6b6b"];

/// The report's one style block.
const CSS: &str = r#"
:root { --ink: #1f2328; --muted: #5b6470; --rule: #d0d7de; --soft: #f5f7f9; --accent: #2f5d8a;
  --warn: #9a5b00; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 36px 72px; }
header.title h1 { font-size: 1.65rem; font-weight: 600; margin: 0 0 2px; letter-spacing: -0.01em; }
header.title p { color: var(--muted); margin: 0 0 14px; }
nav.toc { display: flex; flex-wrap: wrap; gap: 4px 20px; padding: 7px 0; font-size: 0.9rem;
  border-top: 1px solid var(--rule); border-bottom: 1px solid var(--rule); }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section { margin-top: 40px; }
h2 { font-size: 1.3rem; font-weight: 600; margin: 0 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.05rem; font-weight: 600; margin: 24px 0 6px; }
h4 { font-size: 0.95rem; font-weight: 600; margin: 14px 0 4px; }
p { margin: 6px 0; }
.note, figcaption .note { color: var(--muted); font-size: 0.86rem; }
.muted { color: var(--muted); }
table { border-collapse: collapse; font-size: 0.86rem; margin: 6px 0 16px; }
caption { text-align: left; font-weight: 600; padding: 0 0 4px; }
th, td { padding: 3px 10px; text-align: left; vertical-align: baseline; }
thead th { border-bottom: 1.5px solid var(--ink); font-weight: 600; white-space: nowrap; }
table.data thead th { background: var(--soft); border-top: 1px solid var(--rule); }
tbody tr { border-bottom: 1px solid #e8ecf0; }
tbody tr.group-start > td { border-top: 1px solid #b4bcc5; }
td.zero { color: #a3abb3; }
a { color: var(--accent); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.metric, td.model { white-space: nowrap; }
td.metric { font-weight: 500; }
td.reason { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.8rem;
  overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.92em; }
table.kv th { font-weight: 500; color: var(--muted); white-space: nowrap; padding-left: 0; width: 10.5em; }
table.summary { width: 100%; }
table.kv td { padding-right: 0; }
.cols { display: flex; flex-wrap: wrap; gap: 8px 40px; align-items: flex-start; }
.settings { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 4px 40px;
  align-items: start; }
.settings table.kv { width: 100%; }
.tag { display: inline-block; padding: 0 5px; margin: 0 2px 0 0; border-radius: 3px; font-size: 0.75rem;
  line-height: 1.45; background: #eef1f4; color: var(--muted);
  border: 1px solid #dde2e7; white-space: nowrap; }
.tag.warn { background: #fff4e0; color: var(--warn); border-color: #f0d9b0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px;
  vertical-align: baseline; }
.sig { font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 10px 28px; }
figure { margin: 8px 0 14px; }
figcaption { font-size: 0.9rem; margin-bottom: 2px; }
svg.plot { display: block; max-width: 100%; height: auto; overflow: visible; }
svg text { font-size: 11px; fill: var(--ink); font-variant-numeric: tabular-nums; }
svg text.tick, svg text.small { font-size: 10px; fill: var(--muted); }
svg text.axis-title { font-size: 10.5px; fill: var(--muted); }
svg text.head { font-weight: 600; font-size: 10.5px; fill: var(--muted); }
svg text.group { font-weight: 600; }
svg text.warn { fill: var(--warn); }
svg line.grid { stroke: #e6eaee; stroke-width: 1; }
svg line.axis { stroke: #8c959f; stroke-width: 1; }
svg line.ci { stroke: #1f2328; stroke-width: 1.6; }
svg line.ci-end { stroke: #1f2328; stroke-width: 1.6; }
svg line.median { stroke: #1f2328; stroke-width: 1.6; }
svg line.ref { stroke-width: 1.2; stroke-dasharray: 4 3; }
svg line.break { stroke: #8c959f; stroke-width: 1; }
svg rect.box { fill: none; stroke: #4a5560; stroke-width: 1.1; }
svg rect.inf-lane { fill: #f6f1ea; }
svg rect.track { fill: #eef1f4; }
svg rect.stripe { fill: #f7f9fa; }
svg circle.pt { fill-opacity: 0.55; stroke: none; }
svg path.est { stroke: #fff; stroke-width: 0.8; }
.legend { font-size: 0.82rem; color: var(--muted); margin: 2px 0 8px; }
.legend span.item { margin-right: 14px; white-space: nowrap; }
@media (max-width: 760px) {
  main { padding: 16px; }
  .grid, .settings { grid-template-columns: minmax(0, 1fr); }
}
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  html { font-size: 9.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section { margin-top: 18pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3, h4, figcaption { break-after: avoid; page-break-after: avoid; }
  figure, tr, table.kv, .cols > table { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .grid { display: block; }
  .settings { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0 16pt; }
  table { font-size: 0.8rem; }
  th, td { padding: 2px 5px; }
  thead th, thead th.num { white-space: normal; }
  svg.plot { max-width: 100%; }
  a { color: inherit; text-decoration: none; }
  table.data thead th { background: none; }
}
"#;

/// Renders the data-set report as one self-contained HTML5 document.
///
/// `report` holds the per-case results, every aggregate and the options everything was computed with (surface,
/// percentile, τ, lesion rule), which the settings section states. The document needs no network, no script and
/// no other file.
pub fn report_html(report: &Report) -> String {
    let ctx = Ctx::new(report);
    let mut body = header(&ctx);
    body.push_str(&settings_section(&ctx));
    body.push_str(&summary_section(&ctx));
    body.push_str(&distributions_section(&ctx));
    body.push_str(&subgroups_section(&ctx));
    body.push_str(&detection_section(&ctx));
    body.push_str(&worst_cases_section(&ctx));
    body.push_str(&failures_section(&ctx));
    if ctx.multi {
        body.push_str(&comparison_section(&ctx));
        body.push_str(&ranking_section(&ctx));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src \
         'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"segauge {SEGAUGE_VERSION}\">\n\
         <title>segauge report: \
         {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(&ctx.model_names().join(", ")),
    )
}

/// Escapes text for HTML element content and attribute values. `://` is written `&#58;//` so that no URL
/// appears literally in the document (the rendered text is unchanged); control characters are shown as escapes
/// ([`printable`](crate::printable)), as HTML does not allow most of them.
pub(crate) fn escape(s: &str) -> String {
    let s = crate::printable(s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    if out.contains("://") { out.replace("://", "&#58;//") } else { out }
}

// -----------------------------------------------------------------------------------------------------------
// Metrics, units and numbers

/// The unit after a number (` mm`, ` mm³`), empty for scores.
fn suffix(unit: Unit) -> String {
    match unit.symbol() {
        "" => String::new(),
        symbol => format!(" {symbol}"),
    }
}

/// A number in its unit's precision, without the unit; `inf`, `-inf`, `nan` as such; never `-0.00`.
fn num(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return format_number(v);
    }
    let s = match unit {
        Unit::Mm => format!("{v:.2}"),
        Unit::Mm3 => format!("{v:.1}"),
        Unit::Voxels | Unit::Lesions => format!("{v:.0}"),
        _ => format!("{v:.4}"),
    };
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A number with its unit (`3.46 mm`, `0.8123`, `inf mm`).
fn val(v: f64, unit: Unit) -> String {
    format!("{}{}", num(v, unit), suffix(unit))
}

/// An interval `[lo, hi] unit`, or a muted "no interval" when neither bound exists.
fn interval(lo: f64, hi: f64, unit: Unit) -> String {
    if lo.is_nan() && hi.is_nan() {
        return "<span class=\"muted\">no interval</span>".to_string();
    }
    format!("[{}, {}]{}", num(lo, unit), num(hi, unit), suffix(unit))
}

/// Plain text `estimate [lo, hi] unit` (the unit once), or `estimate unit (no interval)`.
fn est_ci(estimate: f64, lo: f64, hi: f64, unit: Unit) -> String {
    if lo.is_nan() && hi.is_nan() {
        return format!("{} (no interval)", val(estimate, unit));
    }
    format!("{} [{}, {}]{}", num(estimate, unit), num(lo, unit), num(hi, unit), suffix(unit))
}

/// The axis title of a metric: its name and unit.
fn axis_title(ctx: &Ctx<'_>, m: Metric) -> String {
    match m.unit().symbol() {
        "" => ctx.name(m),
        unit => format!("{} ({unit})", ctx.name(m)),
    }
}

/// A p-value: 4 decimals, or 2 significant digits below 0.0001.
fn p_value(p: f64) -> String {
    if !p.is_finite() {
        format_number(p)
    } else if p > 0.0 && p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// A confidence level as a percentage (`95 %`).
fn percent(level: f64) -> String {
    let t = format!("{:.2}", level * 100.0);
    format!("{} %", t.trim_end_matches('0').trim_end_matches('.'))
}

fn method_name(m: CiMethod) -> &'static str {
    match m {
        CiMethod::Bca => "BCa",
        CiMethod::Percentile => "percentile",
        CiMethod::Basic => "basic",
        _ => "other",
    }
}

/// The value of a metric for one label of one case (`None` when not computed).
fn case_value(l: &LabelResult, m: Metric) -> Option<f64> {
    match m.value(l) {
        segauge_eval::Value::Missing | segauge_eval::Value::Text(_) => None,
        v => Some(v.as_f64()),
    }
}

/// Linear-interpolation quantile of sorted values without NaN (numpy's default); `+inf` stays `+inf`.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let h = last as f64 * q;
    let i = h.floor() as usize;
    let lo = sorted.get(i).copied().unwrap_or(f64::NAN);
    let hi = sorted.get(i + 1).copied().unwrap_or(lo);
    let f = h - h.floor();
    if f == 0.0 || hi == lo {
        lo
    } else if hi.is_infinite() {
        hi
    } else {
        lo + f * (hi - lo)
    }
}

// -----------------------------------------------------------------------------------------------------------
// Context

/// What every section needs: the report, the evaluation options and a few derived lists.
struct Ctx<'a> {
    report: &'a Report,
    options: &'a EvalOptions,
    /// HD_p, when surface metrics were computed.
    hd: Option<Metric>,
    /// Every label of the report, ascending.
    labels: Vec<u32>,
    /// More than one model.
    multi: bool,
    /// The confidence level as text (`95 %`).
    level: String,
}

impl<'a> Ctx<'a> {
    fn new(report: &'a Report) -> Ctx<'a> {
        let options = &report.options.eval;
        let mut labels: BTreeSet<u32> = report.summary.iter().map(|e| e.label).collect();
        for m in &report.models {
            for c in &m.evaluation.cases {
                labels.extend(c.labels.iter().map(|l| l.label));
            }
        }
        Ctx {
            report,
            options,
            hd: options.surface.as_ref().map(|_| Metric::HdPercentile),
            labels: labels.into_iter().collect(),
            multi: report.models.len() > 1,
            level: percent(report.options.aggregate.level),
        }
    }

    fn model_names(&self) -> Vec<&str> {
        self.report.models.iter().map(|m| m.name.as_str()).collect()
    }

    /// The position of a model (0 for an estimate without model).
    fn model_index(&self, model: Option<&str>) -> usize {
        model.and_then(|m| self.report.models.iter().position(|r| r.name == m)).unwrap_or(0)
    }

    fn colour(&self, model: Option<&str>) -> &'static str {
        MODEL_COLOURS[self.model_index(model) % MODEL_COLOURS.len()]
    }

    /// Every distinct case id (evaluated or failed, over all models).
    fn case_ids(&self) -> BTreeSet<&str> {
        let mut ids = BTreeSet::new();
        for m in &self.report.models {
            ids.extend(m.evaluation.cases.iter().map(|c| c.case.as_str()));
            ids.extend(m.evaluation.failures.iter().map(|f| f.case.as_str()));
        }
        ids
    }

    /// A metric's display name.
    fn name(&self, m: Metric) -> String {
        self.report.catalogue.name(m).into_owned()
    }

    /// The summary estimate of a metric, label and model.
    fn summary(&self, metric: Metric, label: u32, model: &str) -> Option<&'a Estimate> {
        self.report.summary.iter().find(|e| e.metric == metric && e.label == label && model_matches(e, model))
    }

    /// The metrics whose per-case values exist for a label, in reading order.
    fn case_metrics(&self, label: u32) -> Vec<Metric> {
        use Metric::*;
        [Dice, Iou, Hd, HdPercentile, Assd, Masd, Nsd, Biou, LesionF1]
            .into_iter()
            .filter(|&k| {
                self.report.models.iter().any(|m| {
                    m.evaluation
                        .cases
                        .iter()
                        .any(|c| c.labels.iter().any(|l| l.label == label && case_value(l, k).is_some()))
                })
            })
            .collect()
    }

    /// `(case id, value)` of every evaluated case of a model that has the label and the metric.
    fn values(&self, model: &'a ModelRun, label: u32, key: Metric) -> Vec<(&'a str, f64)> {
        model
            .evaluation
            .cases
            .iter()
            .filter_map(|c| {
                let l = c.labels.iter().find(|l| l.label == label)?;
                Some((c.case.as_str(), case_value(l, key)?))
            })
            .collect()
    }

    /// The metadata columns shown next to a case: the subgroup columns first, then the others, at most
    /// [`METADATA_COLUMNS`].
    fn metadata_columns(&self) -> Vec<&'a str> {
        let mut cols: Vec<&str> = self.report.subgroup_columns.iter().map(String::as_str).collect();
        let all: BTreeSet<&str> =
            self.report.metadata.values().flat_map(|row| row.keys().map(String::as_str)).collect();
        for c in all {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        cols.truncate(METADATA_COLUMNS);
        cols
    }
}

fn model_matches(e: &Estimate, model: &str) -> bool {
    e.model.as_deref().is_none_or(|m| m == model)
}

/// Opens a section with its id and heading.
fn open_section(id: &str, title: &str) -> String {
    format!("<section id=\"{id}\">\n<h2>{title}</h2>\n")
}

fn tag(text: &str, warn: bool) -> String {
    format!("<span class=\"tag{}\">{}</span>", if warn { " warn" } else { "" }, escape(text))
}

/// A right-aligned count; zeros are muted so that the counts that matter stand out.
fn count_cell(n: usize) -> String {
    format!("<td class=\"num{}\">{n}</td>", if n == 0 { " zero" } else { "" })
}

fn swatch(colour: &str) -> String {
    format!("<span class=\"swatch\" style=\"background:{colour}\"></span>")
}

/// A legend of model colours (only for several models).
fn model_legend(ctx: &Ctx<'_>) -> String {
    if !ctx.multi {
        return String::new();
    }
    let items: String = ctx
        .report
        .models
        .iter()
        .map(|m| {
            format!("<span class=\"item\">{}{}</span>", swatch(ctx.colour(Some(&m.name))), escape(&m.name))
        })
        .collect();
    format!("<p class=\"legend\">Models: {items}</p>\n")
}

// -----------------------------------------------------------------------------------------------------------
// Header and settings

fn header(ctx: &Ctx<'_>) -> String {
    let n_failed: usize = ctx.report.models.iter().map(|m| m.evaluation.failures.len()).sum();
    let labels: Vec<String> = ctx.labels.iter().map(u32::to_string).collect();
    let models = if ctx.multi {
        format!("{} models: {}", ctx.report.models.len(), escape(&ctx.model_names().join(", ")))
    } else {
        format!("model {}", escape(&ctx.model_names().join(", ")))
    };
    let mut nav = vec![
        ("settings", "Settings"),
        ("summary", "Summary"),
        ("distributions", "Distributions"),
        ("subgroups", "Subgroups"),
        ("detection", "Lesion detection"),
        ("worst-cases", "Worst cases"),
        ("failures", "Failures"),
    ];
    if ctx.multi {
        nav.extend([("comparison", "Paired comparison"), ("ranking", "Ranking stability")]);
    }
    let nav: String = nav.iter().map(|(id, t)| format!("<a href=\"#{id}\">{t}</a>")).collect();
    format!(
        "<header class=\"title\">\n<h1>Segmentation evaluation report</h1>\n<p>segauge {SEGAUGE_VERSION} · \
         {models} · \
         {} cases · {n_failed} failed · labels {}</p>\n</header>\n<nav class=\"toc\">{nav}</nav>\n",
        ctx.case_ids().len(),
        labels.join(", ")
    )
}

fn kv_table(caption: &str, rows: &[(&str, String)]) -> String {
    let mut s = format!("<table class=\"kv\"><caption>{caption}</caption><tbody>\n");
    for (k, v) in rows {
        s.push_str(&format!("<tr><th>{k}</th><td>{v}</td></tr>\n"));
    }
    s.push_str("</tbody></table>\n");
    s
}

fn settings_section(ctx: &Ctx<'_>) -> String {
    let r = ctx.report;
    let o = &r.options.aggregate;
    let mut s = open_section("settings", "Settings");
    s.push_str("<div class=\"settings\">\n");
    let n_failed: usize = r.models.iter().map(|m| m.evaluation.failures.len()).sum();
    let columns = if r.subgroup_columns.is_empty() {
        "none".to_string()
    } else {
        escape(&r.subgroup_columns.join(", "))
    };
    s.push_str(&kv_table(
        "Run",
        &[
            ("segauge version", SEGAUGE_VERSION.to_string()),
            ("cases", format!("{} (case ids over all models)", ctx.case_ids().len())),
            ("failures", format!("{n_failed} (over all models; see <a href=\"#failures\">Failures</a>)")),
            ("labels", ctx.labels.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")),
            ("subgroup columns", columns),
        ],
    ));
    s.push_str(&surface_settings(ctx));
    let inf = match o.inf_policy {
        InfPolicy::Cap => match o.hd_cap {
            Some(cap) => format!("cap: +inf distances become {}", val(cap, Unit::Mm)),
            None => "cap: +inf distances become each case's image diagonal".to_string(),
        },
        InfPolicy::Omit => "omit: non-finite values are left out (counted)".to_string(),
        InfPolicy::Propagate => "propagate: a non-finite value makes the mean non-finite".to_string(),
    };
    s.push_str(&kv_table(
        "Aggregation",
        &[
            ("inf policy", inf),
            ("NaN values", "left out of means (counted)".to_string()),
            ("interval", format!("bootstrap {}, {} two-sided", method_name(o.method), ctx.level)),
            ("resamples B", o.resamples.to_string()),
            ("seed", format!("{} (data set <code>{}</code>)", o.seed, escape(&o.dataset))),
            ("resampling unit", "cases (all metrics, labels and models together)".to_string()),
        ],
    ));
    s.push_str(&lesion_settings(ctx));
    s.push_str("</div>\n");
    s.push_str(&models_table(ctx));
    s.push_str("</section>\n");
    s
}

fn surface_settings(ctx: &Ctx<'_>) -> String {
    let Some(so) = &ctx.options.surface else {
        return kv_table("Surface distances", &[("surface", "not computed".to_string())]);
    };
    let rule = match so.percentile_rule {
        PercentileRule::DirectedMax => "directed-max (the larger directed percentile)",
        PercentileRule::Pooled => "pooled (both directions together)",
    };
    let field = ctx.hd.map_or_else(String::new, |m| ctx.report.catalogue.key(m).into_owned());
    let compat = match so.mesh_compat {
        MeshCompat::Exact => "exact",
        MeshCompat::VtkF32 => "vtk-f32",
    };
    kv_table(
        "Surface distances",
        &[
            ("surface", format!("{} (vertices: {compat})", so.surface.as_str())),
            ("percentile", format!("{} ({field}), {rule}", format_number(so.percentile))),
            ("tau (NSD, BIoU)", val(so.tau, Unit::Mm)),
            (
                "empty masks",
                "MeshMetrics: both empty: Dice = IoU = NSD = BIoU = 1, distances 0; one empty: 0, distances \
                 inf"
                .to_string(),
            ),
        ],
    )
}

fn lesion_settings(ctx: &Ctx<'_>) -> String {
    let Some(lo) = &ctx.options.lesions else {
        return kv_table("Lesion detection", &[("lesions", "not computed".to_string())]);
    };
    let mut rows = vec![
        ("connectivity", lo.connectivity.neighbours().to_string()),
        ("matching rule", lo.rule.as_str().to_string()),
    ];
    if matches!(lo.rule, MatchRule::Iou | MatchRule::Dice) {
        rows.push(("threshold", format!("&gt; {}", format_number(lo.threshold))));
    }
    let edges: Vec<String> = lo.strata_mm.iter().map(|&e| format_number(e)).collect();
    rows.push(("size strata edges", format!("{} mm (equivalent diameter)", edges.join(", "))));
    if lo.min_lesion_voxels > 0 {
        rows.push(("min lesion voxels", lo.min_lesion_voxels.to_string()));
    }
    if lo.rule == MatchRule::Brats2023 {
        rows.push(("BraTS dilation", lo.brats.dilation.to_string()));
        rows.push(("BraTS min GT volume", val(lo.brats.min_gt_volume_mm3, Unit::Mm3)));
        rows.push(("BraTS HD penalty", val(lo.brats.hd_penalty, Unit::Mm)));
    }
    kv_table("Lesion detection", &rows)
}

/// The directory of a model's files, when all its cases share one (else the first case's).
fn folder(paths: impl Iterator<Item = std::path::PathBuf>) -> String {
    let dirs: BTreeSet<String> = paths.filter_map(|p| p.parent().map(|d| d.display().to_string())).collect();
    match dirs.len() {
        0 => "—".to_string(),
        1 => format!("<span class=\"mono\">{}</span>", escape(dirs.iter().next().map_or("", String::as_str))),
        n => format!("{n} folders"),
    }
}

fn models_table(ctx: &Ctx<'_>) -> String {
    let mut s = String::from(
        "<table class=\"data\"><caption>Models</caption><thead><tr><th>model</th><th>predictions</th>\
         <th>ground truth</th><th class=\"num\">cases evaluated</th><th \
         class=\"num\">failed</th></tr></thead><tbody>\n",
    );
    for m in &ctx.report.models {
        let cases = &m.evaluation.cases;
        s.push_str(&format!(
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td \
             class=\"num\">{}</td></tr>\n",
            if ctx.multi { swatch(ctx.colour(Some(&m.name))) } else { String::new() },
            escape(&m.name),
            folder(cases.iter().map(|c| c.pred.clone())),
            folder(cases.iter().map(|c| c.gt.clone())),
            cases.len(),
            m.evaluation.failures.len()
        ));
    }
    s.push_str("</tbody></table>\n");
    s
}

// -----------------------------------------------------------------------------------------------------------
// Summary

fn summary_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("summary", "Summary");
    s.push_str(&format!(
        "<p class=\"note\">Mean of per-case values (micro: ratio of case totals) with its {} bootstrap \
         interval. \
         <i>n</i> is the number of values used after the inf/NaN policy, out of the cases evaluated; failed \
         cases \
         are in no estimate. <i>inf</i>: infinite per-case values (one mask empty), <i>capped</i>: of those \
         replaced \
         by the cap; <i>NaN</i>: undefined values left out; <i>both empty</i>: cases without the label in \
         either \
         mask.</p>\n",
        ctx.level
    ));
    if ctx.report.summary.is_empty() {
        s.push_str("<p>No estimates.</p>\n</section>\n");
        return s;
    }
    let order: Vec<Metric> = ctx.report.summary.iter().fold(Vec::new(), |mut acc, e| {
        if !acc.contains(&e.metric) {
            acc.push(e.metric);
        }
        acc
    });
    for &label in &ctx.labels {
        let mut rows: Vec<&Estimate> = ctx.report.summary.iter().filter(|e| e.label == label).collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|e| {
            (
                order.iter().position(|m| *m == e.metric).unwrap_or(usize::MAX),
                ctx.model_index(e.model.as_deref()),
            )
        });
        s.push_str(&format!("<h3>Label {label}</h3>\n"));
        s.push_str(&summary_table(ctx, &rows));
    }
    s.push_str("</section>\n");
    s
}

fn summary_table(ctx: &Ctx<'_>, rows: &[&Estimate]) -> String {
    let model_head = if ctx.multi { "<th>model</th>" } else { "" };
    let mut s = format!(
        "<table class=\"data summary\"><thead><tr><th>metric</th>{model_head}<th class=\"num\">estimate</th>\
         <th class=\"num\">{} CI</th><th class=\"num\">n / cases</th><th class=\"num\">failed</th>\
         <th class=\"num\">inf</th><th class=\"num\">capped</th><th class=\"num\">NaN</th>\
         <th class=\"num\">both empty</th><th>flags</th></tr></thead><tbody>\n",
        ctx.level
    );
    let mut previous = None;
    for e in rows {
        let m = e.metric;
        let kind =
            if e.kind == EstimateKind::Micro { format!(" {}", tag("micro", false)) } else { String::new() };
        let mut flags: Vec<String> = e.flags.iter().map(|f| tag(f, true)).collect();
        if e.method != ctx.report.options.aggregate.method {
            flags.push(tag(&format!("interval: {}", method_name(e.method)), false));
        }
        let continued = Some(e.metric) == previous;
        let group = if ctx.multi && !continued && previous.is_some() { " class=\"group-start\"" } else { "" };
        previous = Some(e.metric);
        let name = if continued { String::new() } else { format!("{}{kind}", escape(&ctx.name(m))) };
        let model = if ctx.multi {
            let name = e.model.as_deref().unwrap_or("");
            format!("<td class=\"model\">{}{}</td>", swatch(ctx.colour(e.model.as_deref())), escape(name))
        } else {
            String::new()
        };
        s.push_str(&format!(
            "<tr{group}><td class=\"metric\">{name}</td>{model}<td class=\"num\">{}</td><td \
             class=\"num\">{}</td>\
             <td class=\"num\">{} / {}</td>{}{}{}{}{}<td>{}</td></tr>\n",
            val(e.estimate, m.unit()),
            interval(e.ci_low, e.ci_high, m.unit()),
            e.n,
            e.n_cases,
            count_cell(e.n_failed),
            count_cell(e.n_inf),
            count_cell(e.n_capped),
            count_cell(e.n_nan),
            count_cell(e.n_both_empty),
            flags.join(" ")
        ));
    }
    s.push_str("</tbody></table>\n");
    s
}

// -----------------------------------------------------------------------------------------------------------
// Distributions

fn distributions_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("distributions", "Per-case distributions");
    s.push_str(&format!(
        "<p class=\"note\">One dot per evaluated case (hover for its id and value), the box spans the \
         quartiles \
         with a line at the median; the diamond and bar under it are the summary's mean and its {} interval \
         (after the inf policy). Infinite values (one mask empty) are drawn in the shaded ∞ column at the \
         right \
         and counted under each plot; NaN values are counted, not drawn.</p>\n",
        ctx.level
    ));
    s.push_str(&model_legend(ctx));
    let mut any = false;
    for &label in &ctx.labels {
        let keys = ctx.case_metrics(label);
        if keys.is_empty() {
            continue;
        }
        any = true;
        s.push_str(&format!("<h3>Label {label}</h3>\n<div class=\"grid\">\n"));
        for &key in &keys {
            s.push_str(&distribution_figure(ctx, label, key));
        }
        s.push_str("</div>\n");
    }
    if !any {
        s.push_str("<p>No evaluated case.</p>\n");
    }
    s.push_str("</section>\n");
    s
}

/// The values of one model in one plot, sorted, with their counts.
struct Lane<'a> {
    model: &'a str,
    values: Vec<(&'a str, f64)>,
    sorted: Vec<f64>,
    n_inf: usize,
    n_nan: usize,
    /// Cases without the label in either mask, and the value the convention gives them.
    both_empty: (usize, f64),
    estimate: Option<&'a Estimate>,
}

fn distribution_figure(ctx: &Ctx<'_>, label: u32, key: Metric) -> String {
    let m = key;
    let lanes: Vec<Lane<'_>> = ctx
        .report
        .models
        .iter()
        .map(|run| {
            let values = ctx.values(run, label, key);
            let mut sorted: Vec<f64> = values.iter().map(|v| v.1).filter(|v| !v.is_nan()).collect();
            sorted.sort_by(f64::total_cmp);
            Lane {
                model: &run.name,
                n_inf: values.iter().filter(|v| v.1.is_infinite()).count(),
                n_nan: values.iter().filter(|v| v.1.is_nan()).count(),
                both_empty: both_empty(run, label, key),
                estimate: ctx.summary(key, label, &run.name).filter(|e| e.kind == EstimateKind::Mean),
                values,
                sorted,
            }
        })
        .collect();
    let has_inf = lanes.iter().any(|l| l.n_inf > 0);
    let (width, lane_h, top) = (520.0, 42.0, 6.0);
    let left = if ctx.multi { 104.0 } else { 14.0 };
    let right = width - 16.0 - if has_inf { 46.0 } else { 0.0 };
    let inf_x = width - 16.0 - 18.0;
    let height = top + lane_h * lanes.len() as f64 + 36.0;
    let score = m.unit() == Unit::Score;
    let domain = svg::domain(
        lanes.iter().flat_map(|l| {
            l.sorted
                .iter()
                .copied()
                .chain(l.estimate.map_or(vec![], |e| vec![e.estimate, e.ci_low, e.ci_high]))
        }),
        true,
        score,
    );
    let scale = Scale::new(domain.0, domain.1, left, right);
    let pos = |v: f64| if v == f64::INFINITY && has_inf { inf_x } else { scale.at(v) };
    let axis_y = top + lane_h * lanes.len() as f64 + 2.0;
    let mut g = svg::open(width, height, &format!("{} of label {label}, per case", ctx.name(m)));
    if has_inf {
        g.push_str(&svg::rect(inf_x - 16.0, top, 32.0, axis_y - top, "inf-lane", None));
        g.push_str(&svg::text(inf_x, axis_y + 13.0, "middle", "tick", "∞"));
        g.push_str(&svg::line(right + 8.0, axis_y - 4.0, right + 12.0, axis_y + 4.0, "break"));
        g.push_str(&svg::line(right + 12.0, axis_y - 4.0, right + 16.0, axis_y + 4.0, "break"));
    }
    g.push_str(&svg::x_axis(&scale, axis_y, top, 5, &axis_title(ctx, m)));
    for (i, lane) in lanes.iter().enumerate() {
        let yc = top + lane_h * i as f64 + 17.0;
        let colour = ctx.colour(Some(lane.model));
        if ctx.multi {
            g.push_str(&svg::text(left - 10.0, yc + 4.0, "end", "", &short_name(lane.model, 15)));
        }
        if !lane.sorted.is_empty() {
            let (q1, q2, q3) =
                (quantile(&lane.sorted, 0.25), quantile(&lane.sorted, 0.5), quantile(&lane.sorted, 0.75));
            g.push_str(&svg::rect(pos(q1), yc - 10.0, pos(q3) - pos(q1), 20.0, "box", None));
            g.push_str(&svg::line(pos(q2), yc - 10.0, pos(q2), yc + 10.0, "median"));
        }
        for (j, (case, v)) in lane.values.iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            let tip = format!("{case}: {}", val(*v, m.unit()));
            g.push_str(&svg::dot(pos(*v), yc + 7.5 * svg::jitter(j), 2.6, colour, "pt", &tip));
        }
        if let Some(e) = lane.estimate {
            let y = yc + 17.0;
            let tip =
                format!("mean {} ({} CI)", est_ci(e.estimate, e.ci_low, e.ci_high, m.unit()), ctx.level);
            if e.ci_low.is_finite() && e.ci_high.is_finite() {
                g.push_str(&svg::line(pos(e.ci_low), y, pos(e.ci_high), y, "ci"));
                g.push_str(&svg::line(pos(e.ci_low), y - 3.0, pos(e.ci_low), y + 3.0, "ci-end"));
                g.push_str(&svg::line(pos(e.ci_high), y - 3.0, pos(e.ci_high), y + 3.0, "ci-end"));
            }
            if !e.estimate.is_nan() {
                g.push_str(&svg::diamond(pos(e.estimate), y, 4.5, "#1f2328", &tip));
            }
        }
    }
    g.push_str("</svg>");
    let notes: Vec<String> = lanes.iter().map(|l| lane_note(ctx, l, key, label)).collect();
    format!(
        "<figure>\n<figcaption><b>{}</b> · label {label}</figcaption>\n{g}\n<p \
         class=\"note\">{}</p>\n</figure>\n",
        escape(&ctx.name(m)),
        notes.join("<br>")
    )
}

/// How many evaluated cases of a model lack the label in both masks, and their (conventional) value.
fn both_empty(run: &ModelRun, label: u32, key: Metric) -> (usize, f64) {
    let values: Vec<f64> = run
        .evaluation
        .cases
        .iter()
        .filter_map(|c| c.labels.iter().find(|l| l.label == label))
        .filter(|l| l.empty_state() == EmptyState::BothEmpty)
        .filter_map(|l| case_value(l, key))
        .filter(|v| !v.is_nan())
        .collect();
    (values.len(), values.first().copied().unwrap_or(f64::NAN))
}

/// The counts under a distribution plot for one model.
fn lane_note(ctx: &Ctx<'_>, lane: &Lane<'_>, key: Metric, label: u32) -> String {
    let m = key;
    let mut parts = vec![format!("{} cases", lane.values.len())];
    if lane.n_inf > 0 {
        let fate = match ctx.report.options.aggregate.inf_policy {
            InfPolicy::Cap => "capped in the mean",
            InfPolicy::Omit => "left out of the mean",
            InfPolicy::Propagate => "the mean is inf",
        };
        parts.push(format!("{} inf drawn at ∞ ({fate})", lane.n_inf));
    }
    if lane.n_nan > 0 {
        parts.push(format!("{} NaN not drawn", lane.n_nan));
    }
    if lane.both_empty.0 > 0 {
        parts.push(format!(
            "{} both empty (at {} by convention)",
            lane.both_empty.0,
            val(lane.both_empty.1, m.unit())
        ));
    }
    match (lane.estimate, ctx.summary(key, label, lane.model)) {
        (Some(e), _) => parts.push(format!("mean {}", est_ci(e.estimate, e.ci_low, e.ci_high, m.unit()))),
        (None, Some(e)) if e.kind == EstimateKind::Micro => {
            parts.push("micro estimate: see the summary".to_string())
        }
        _ => {}
    }
    let who = if ctx.multi { format!("{}: ", lane.model) } else { String::new() };
    escape(&format!("{who}{}", parts.join(" · ")))
}

/// A name cut to `max` characters with an ellipsis.
fn short_name(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(max - 1).collect::<String>())
    }
}

// -----------------------------------------------------------------------------------------------------------
// Subgroups

fn subgroups_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("subgroups", "Subgroups");
    if ctx.report.subgroups.is_empty() {
        s.push_str("<p>No subgroup estimates (no metadata columns to slice by).</p>\n</section>\n");
        return s;
    }
    s.push_str(&format!(
        "<p class=\"note\">Forest plots: one row per metadata value with the mean and its {} interval; n is \
         the \
         number of values used out of the subgroup's cases. † marks a subgroup of fewer than 10 cases \
         (<code>small_subgroup</code>: the interval is unreliable). The dashed line is the estimate over all \
         cases. \
         Subgroup intervals are not adjusted for multiplicity.</p>\n",
        ctx.level
    ));
    s.push_str(&model_legend(ctx));
    let mut keys = vec![Metric::Dice];
    keys.extend(ctx.hd);
    keys.push(Metric::LesionF1);
    for &label in &ctx.labels {
        let present: Vec<Metric> = keys
            .iter()
            .copied()
            .filter(|&k| {
                ctx.report.subgroups.iter().any(|g| g.estimate.label == label && g.estimate.metric == k)
            })
            .collect();
        if present.is_empty() {
            continue;
        }
        s.push_str(&format!("<h3>Label {label}</h3>\n"));
        for key in present {
            s.push_str(&forest_figure(ctx, label, key));
        }
    }
    s.push_str("</section>\n");
    s
}

/// One row of a forest plot.
enum ForestRow<'a> {
    /// A metadata column's name.
    Column(&'a str),
    /// A subgroup estimate; `first` is set on the first model of a value, `stripe` on every other value.
    Value { group: &'a SubgroupEstimate, first: bool, stripe: bool },
}

fn forest_figure(ctx: &Ctx<'_>, label: u32, key: Metric) -> String {
    let m = key;
    let groups: Vec<&SubgroupEstimate> = ctx
        .report
        .subgroups
        .iter()
        .filter(|g| g.estimate.label == label && g.estimate.metric == key)
        .collect();
    let rows = forest_rows(ctx, &groups);
    let overall: Vec<&Estimate> =
        ctx.report.models.iter().filter_map(|r| ctx.summary(key, label, &r.name)).collect();
    let (width, row_h, head) = (800.0, 19.0, 22.0);
    let (x_model, x_n, x0, x1, x_est) = (150.0, 262.0, 280.0, 560.0, 580.0);
    let bottom = head + row_h * rows.len() as f64 + 4.0;
    let height = bottom + 34.0;
    let bounds = groups
        .iter()
        .map(|g| &g.estimate)
        .chain(overall.iter().copied())
        .flat_map(|e| [e.estimate, e.ci_low, e.ci_high]);
    let domain = svg::domain(bounds, false, m.unit() == Unit::Score);
    let scale = Scale::new(domain.0, domain.1, x0, x1);
    let mut g = svg::open(width, height, &format!("Forest plot of {} for label {label}", ctx.name(m)));
    g.push_str(&svg::text(8.0, 13.0, "start", "head", "subgroup"));
    if ctx.multi {
        g.push_str(&svg::text(x_model, 13.0, "start", "head", "model"));
    }
    g.push_str(&svg::text(x_n, 13.0, "end", "head", "n / cases"));
    g.push_str(&svg::text(x_est, 13.0, "start", "head", &format!("mean [{} CI]", ctx.level)));
    for (i, row) in rows.iter().enumerate() {
        if matches!(row, ForestRow::Value { stripe: true, .. }) {
            g.push_str(&svg::rect(0.0, head + row_h * i as f64, width, row_h, "stripe", None));
        }
    }
    g.push_str(&svg::x_axis(&scale, bottom, head, 5, &axis_title(ctx, m)));
    for e in overall.iter().filter(|e| e.estimate.is_finite()) {
        let x = scale.at(e.estimate);
        g.push_str(&format!(
            "<line class=\"ref\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{}\"/>",
            svg::c(head - 2.0),
            svg::c(bottom),
            ctx.colour(e.model.as_deref()),
            x = svg::c(x),
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        let y = head + row_h * i as f64 + row_h / 2.0 + 4.0;
        match row {
            ForestRow::Column(col) => g.push_str(&svg::text(8.0, y, "start", "group", &short_name(col, 26))),
            ForestRow::Value { group, first, .. } => {
                g.push_str(&forest_row(ctx, &m, group, *first, &scale, y))
            }
        }
    }
    g.push_str("</svg>");
    let overall_text: Vec<String> = overall
        .iter()
        .map(|e| {
            let who = if ctx.multi {
                format!("{}: ", escape(e.model.as_deref().unwrap_or("")))
            } else {
                String::new()
            };
            format!("{who}{}", escape(&est_ci(e.estimate, e.ci_low, e.ci_high, m.unit())))
        })
        .collect();
    format!(
        "<figure>\n<figcaption><b>{}</b> · label {label}</figcaption>\n{g}\n\
         <p class=\"note\">All cases (dashed line): {}</p>\n</figure>\n",
        escape(&ctx.name(m)),
        overall_text.join(" · ")
    )
}

/// The rows of a forest plot: columns in order of appearance, their values in order of appearance, models in
/// input order; stripes alternate per value.
fn forest_rows<'a>(ctx: &Ctx<'_>, groups: &[&'a SubgroupEstimate]) -> Vec<ForestRow<'a>> {
    let mut columns: Vec<&str> = Vec::new();
    for g in groups {
        if !columns.contains(&g.column.as_str()) {
            columns.push(&g.column);
        }
    }
    let mut rows = Vec::new();
    let mut stripe = false;
    for col in columns {
        rows.push(ForestRow::Column(col));
        let mut values: Vec<&str> = Vec::new();
        for g in groups.iter().filter(|g| g.column == col) {
            if !values.contains(&g.value.as_str()) {
                values.push(&g.value);
            }
        }
        for v in values {
            let mut of_value: Vec<&SubgroupEstimate> =
                groups.iter().copied().filter(|g| g.column == col && g.value == v).collect();
            of_value.sort_by_key(|g| ctx.model_index(g.estimate.model.as_deref()));
            for (i, g) in of_value.into_iter().enumerate() {
                rows.push(ForestRow::Value { group: g, first: i == 0, stripe });
            }
            stripe = !stripe;
        }
    }
    rows
}

/// One subgroup estimate of a forest plot: value (on the first model's row), model, n, whisker, diamond,
/// text.
fn forest_row(
    ctx: &Ctx<'_>,
    m: &Metric,
    group: &SubgroupEstimate,
    first: bool,
    scale: &Scale,
    y: f64,
) -> String {
    let (x_model, x_n, x_est) = (150.0, 262.0, 580.0);
    let e = &group.estimate;
    let small = e.flags.contains(&"small_subgroup");
    let mut g = String::new();
    if first {
        let text = format!("{}{}", short_name(&group.value, 20), if small { " †" } else { "" });
        g.push_str(&svg::text(20.0, y, "start", if small { "warn" } else { "" }, &text));
    }
    if ctx.multi {
        g.push_str(&svg::text(
            x_model,
            y,
            "start",
            "small",
            &short_name(e.model.as_deref().unwrap_or(""), 16),
        ));
    }
    g.push_str(&svg::text(x_n, y, "end", "", &format!("{} / {}", e.n, e.n_cases)));
    let colour = ctx.colour(e.model.as_deref());
    let yc = y - 4.0;
    if e.ci_low.is_finite() && e.ci_high.is_finite() {
        g.push_str(&format!(
            "<line x1=\"{}\" y1=\"{yc}\" x2=\"{}\" y2=\"{yc}\" stroke=\"{colour}\" stroke-width=\"1.6\"/>",
            svg::c(scale.at(e.ci_low)),
            svg::c(scale.at(e.ci_high)),
            yc = svg::c(yc),
        ));
    }
    let text = est_ci(e.estimate, e.ci_low, e.ci_high, m.unit());
    if e.estimate.is_finite() {
        let tip = format!("{} = {}: {text} (n {})", group.column, group.value, e.n);
        g.push_str(&svg::diamond(scale.at(e.estimate), yc, 5.0, colour, &tip));
    }
    g.push_str(&svg::text(x_est, y, "start", "", &text));
    g
}

// -----------------------------------------------------------------------------------------------------------
// Detection

fn detection_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("detection", "Lesion detection");
    let micro: Vec<&Estimate> = ctx.report.summary.iter().filter(|e| e.metric.is_lesion_field()).collect();
    if ctx.report.strata.is_empty() && micro.is_empty() {
        s.push_str("<p>Lesion detection was not computed.</p>\n</section>\n");
        return s;
    }
    s.push_str(
        "<p class=\"note\">Lesions are summed over the evaluated cases. Recall is per ground-truth size \
         stratum \
         (detected / GT lesions), precision per predicted size stratum (matched / predicted lesions); FP are \
         predicted lesions left unmatched. Size is the equivalent diameter of the lesion. Precision, recall \
         and F1 \
         over all sizes are micro: ratios of case totals, with their bootstrap interval.</p>\n",
    );
    for &label in &ctx.labels {
        let strata: Vec<&StratumTotals> = ctx.report.strata.iter().filter(|t| t.label == label).collect();
        let mut scores: Vec<&Estimate> = micro.iter().copied().filter(|e| e.label == label).collect();
        if strata.is_empty() && scores.is_empty() {
            continue;
        }
        s.push_str(&format!("<h3>Label {label}</h3>\n"));
        scores.sort_by_key(|e| (ctx.model_index(e.model.as_deref()), ctx.report.catalogue.key(e.metric)));
        if !scores.is_empty() {
            s.push_str(&micro_table(ctx, &scores));
        }
        for run in &ctx.report.models {
            let of_model: Vec<&StratumTotals> =
                strata.iter().copied().filter(|t| t.model.as_deref().is_none_or(|m| m == run.name)).collect();
            if of_model.is_empty() {
                continue;
            }
            if ctx.multi {
                s.push_str(&format!(
                    "<h4>{}{}</h4>\n",
                    swatch(ctx.colour(Some(&run.name))),
                    escape(&run.name)
                ));
            }
            s.push_str("<div class=\"cols\">\n");
            s.push_str(&strata_table(&of_model));
            s.push_str(&strata_bars(ctx, label, &run.name, &of_model));
            s.push_str("</div>\n");
        }
    }
    s.push_str("</section>\n");
    s
}

fn micro_table(ctx: &Ctx<'_>, scores: &[&Estimate]) -> String {
    let model_head = if ctx.multi { "<th>model</th>" } else { "" };
    let mut s = format!(
        "<table class=\"data\"><thead><tr>{model_head}<th>score</th><th class=\"num\">estimate</th>\
         <th class=\"num\">{} CI</th><th class=\"num\">cases</th><th>flags</th></tr></thead><tbody>\n",
        ctx.level
    );
    for e in scores {
        let m = e.metric;
        let model = if ctx.multi {
            format!(
                "<td>{}{}</td>",
                swatch(ctx.colour(e.model.as_deref())),
                escape(e.model.as_deref().unwrap_or(""))
            )
        } else {
            String::new()
        };
        let kind = if e.kind == EstimateKind::Micro { " (micro)" } else { "" };
        let flags: Vec<String> = e.flags.iter().map(|f| tag(f, true)).collect();
        s.push_str(&format!(
            "<tr>{model}<td class=\"metric\">{}{kind}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>\n",
            escape(&ctx.name(m)),
            val(e.estimate, m.unit()),
            interval(e.ci_low, e.ci_high, m.unit()),
            e.n_cases,
            flags.join(" ")
        ));
    }
    s.push_str("</tbody></table>\n");
    s
}

/// `< 3 mm`, `[3, 10) mm`, `≥ 10 mm` (plain text).
fn stratum_name(t: &StratumTotals) -> String {
    let (lo, hi) = (format_number(t.counts.lo_mm), format_number(t.counts.hi_mm));
    if t.counts.hi_mm == f64::INFINITY {
        format!("≥ {lo} mm")
    } else if t.counts.lo_mm <= 0.0 {
        format!("< {hi} mm")
    } else {
        format!("[{lo}, {hi}) mm")
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { f64::NAN } else { a as f64 / b as f64 }
}

fn strata_table(strata: &[&StratumTotals]) -> String {
    let mut s = String::from(
        "<table class=\"data\"><thead><tr><th>size</th><th class=\"num\">GT lesions</th>\
         <th class=\"num\">detected</th><th class=\"num\">recall</th><th class=\"num\">predicted</th>\
         <th class=\"num\">matched</th><th class=\"num\">precision</th><th \
         class=\"num\">FP</th></tr></thead><tbody>\n",
    );
    let (mut gt, mut det, mut pred, mut matched) = (0, 0, 0, 0);
    for t in strata {
        s.push_str(&stratum_row(
            &escape(&stratum_name(t)),
            t.counts.gt,
            t.counts.gt_detected,
            t.counts.pred,
            t.counts.pred_matched,
            "",
        ));
        (gt, det, pred, matched) = (
            gt + t.counts.gt,
            det + t.counts.gt_detected,
            pred + t.counts.pred,
            matched + t.counts.pred_matched,
        );
    }
    s.push_str(&stratum_row("all sizes", gt, det, pred, matched, " class=\"group-start\""));
    s.push_str("</tbody></table>\n");
    s
}

fn stratum_row(name: &str, gt: u64, det: u64, pred: u64, matched: u64, class: &str) -> String {
    format!(
        "<tr{class}><td>{name}</td><td class=\"num\">{gt}</td><td class=\"num\">{det}</td><td \
         class=\"num\">{}</td>\
         <td class=\"num\">{pred}</td><td class=\"num\">{matched}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td></tr>\n",
        num(ratio(det, gt), Unit::Score),
        num(ratio(matched, pred), Unit::Score),
        pred.saturating_sub(matched)
    )
}

fn strata_bars(ctx: &Ctx<'_>, label: u32, model: &str, strata: &[&StratumTotals]) -> String {
    let (width, row_h, top) = (400.0, 40.0, 18.0);
    let (x0, x1) = (84.0, 276.0);
    let height = top + row_h * strata.len() as f64 + 30.0;
    let scale = Scale::new(0.0, 1.0, x0, x1);
    let colour = ctx.colour(Some(model));
    let mut g = svg::open(width, height, &format!("Lesion recall and precision by size, label {label}"));
    g.push_str(&svg::text(width - 4.0, 11.0, "end", "head", "FP"));
    let axis_y = top + row_h * strata.len() as f64;
    g.push_str(&svg::x_axis(&scale, axis_y, top - 4.0, 5, ""));
    for (i, t) in strata.iter().enumerate() {
        let y = top + row_h * i as f64 + 4.0;
        g.push_str(&svg::text(x0 - 8.0, y + 19.0, "end", "", &stratum_name(t)));
        let bars = [
            (
                "recall",
                ratio(t.counts.gt_detected, t.counts.gt),
                format!("{}/{} GT detected", t.counts.gt_detected, t.counts.gt),
                1.0,
            ),
            (
                "precision",
                ratio(t.counts.pred_matched, t.counts.pred),
                format!("{}/{} predicted matched", t.counts.pred_matched, t.counts.pred),
                0.55,
            ),
        ];
        for (j, (name, v, detail, opacity)) in bars.iter().enumerate() {
            let yb = y + 15.0 * j as f64;
            g.push_str(&svg::rect(x0, yb, x1 - x0, 12.0, "track", None));
            if v.is_finite() {
                g.push_str(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{colour}\" \
                     fill-opacity=\"{opacity}\">\
                     <title>{name} {}: {}</title></rect>",
                    svg::c(x0),
                    svg::c(yb),
                    svg::c(scale.at(*v) - x0),
                    num(*v, Unit::Score),
                    escape(detail)
                ));
            }
            let text =
                format!("{name} {}", if v.is_finite() { num(*v, Unit::Score) } else { "n/a".to_string() });
            g.push_str(&svg::text(x1 + 6.0, yb + 10.0, "start", "small", &text));
        }
        g.push_str(&svg::text(
            width - 4.0,
            y + 19.0,
            "end",
            "",
            &t.counts.pred.saturating_sub(t.counts.pred_matched).to_string(),
        ));
    }
    g.push_str("</svg>");
    format!(
        "<figure>{g}<p class=\"note\">Dark: recall per GT stratum; light: precision per predicted \
         stratum.</p></figure>\n"
    )
}

// -----------------------------------------------------------------------------------------------------------
// Worst cases

fn worst_cases_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("worst-cases", "Worst cases");
    s.push_str(&format!(
        "<p class=\"note\">Per label, the {WORST_CASES} evaluated cases with the lowest Dice and the \
         {WORST_CASES} with \
         the highest {} (infinite first), with their metadata.</p>\n",
        ctx.hd.map_or("HD_p".to_string(), |k| ctx.name(k))
    ));
    let mut any = false;
    for &label in &ctx.labels {
        let mut block = String::new();
        for run in &ctx.report.models {
            let rows: Vec<(&str, &LabelResult)> = run
                .evaluation
                .cases
                .iter()
                .filter_map(|c| c.labels.iter().find(|l| l.label == label).map(|l| (c.case.as_str(), l)))
                .collect();
            if rows.is_empty() {
                continue;
            }
            if ctx.multi {
                block.push_str(&format!(
                    "<h4>{}{}</h4>\n",
                    swatch(ctx.colour(Some(&run.name))),
                    escape(&run.name)
                ));
            }
            block.push_str("<div class=\"cols\">\n");
            let mut by_dice = rows.clone();
            by_dice.sort_by(|a, b| nan_last(a.1.dice(), b.1.dice()).then_with(|| a.0.cmp(b.0)));
            block.push_str(&worst_table(ctx, "Lowest Dice", &by_dice));
            if let Some(hd) = ctx.hd {
                let hd_of = |l: &LabelResult| l.surface.as_ref().map_or(f64::NAN, |s| s.hd_percentile);
                let mut by_hd: Vec<(&str, &LabelResult)> =
                    rows.iter().copied().filter(|r| r.1.surface.is_some()).collect();
                by_hd.sort_by(|a, b| nan_last(-hd_of(a.1), -hd_of(b.1)).then_with(|| a.0.cmp(b.0)));
                if !by_hd.is_empty() {
                    block.push_str(&worst_table(ctx, &format!("Highest {}", ctx.name(hd)), &by_hd));
                }
            }
            block.push_str("</div>\n");
        }
        if !block.is_empty() {
            any = true;
            s.push_str(&format!("<h3>Label {label}</h3>\n{block}"));
        }
    }
    if !any {
        s.push_str("<p>No evaluated case.</p>\n");
    }
    s.push_str("</section>\n");
    s
}

/// Ascending order with NaN after every number.
fn nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => a.total_cmp(&b),
    }
}

fn worst_table(ctx: &Ctx<'_>, caption: &str, rows: &[(&str, &LabelResult)]) -> String {
    let columns = ctx.metadata_columns();
    let hd_name = ctx.hd.map(|k| ctx.name(k));
    let mut s =
        format!("<table class=\"data\"><caption>{}</caption><thead><tr><th>case</th>", escape(caption));
    for c in &columns {
        s.push_str(&format!("<th>{}</th>", escape(c)));
    }
    s.push_str("<th class=\"num\">Dice</th>");
    if let Some(name) = &hd_name {
        s.push_str(&format!("<th class=\"num\">{}</th>", escape(name)));
    }
    s.push_str("<th>empty state</th></tr></thead><tbody>\n");
    let empty = BTreeMap::new();
    for (case, l) in rows.iter().take(WORST_CASES) {
        let meta = ctx.report.metadata.get(*case).unwrap_or(&empty);
        s.push_str(&format!("<tr><td class=\"mono\">{}</td>", escape(case)));
        for c in &columns {
            s.push_str(&format!("<td>{}</td>", meta.get(*c).map_or("—".to_string(), |v| escape(v))));
        }
        s.push_str(&format!("<td class=\"num\">{}</td>", val(l.dice(), Unit::Score)));
        if hd_name.is_some() {
            let hd = l.surface.as_ref().map_or(f64::NAN, |s| s.hd_percentile);
            s.push_str(&format!("<td class=\"num\">{}</td>", val(hd, Unit::Mm)));
        }
        let state = l.empty_state().as_str();
        let state = if state == "none" { "—".to_string() } else { tag(state, state != "both_empty") };
        s.push_str(&format!("<td>{state}</td></tr>\n"));
    }
    s.push_str("</tbody></table>\n");
    s
}

// -----------------------------------------------------------------------------------------------------------
// Failures

fn failures_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("failures", "Failures");
    s.push_str(
        "<p>Failed cases are not in any estimate; the summary states, for every metric, the number of values \
         used (n), the cases evaluated and the cases that failed.</p>\n",
    );
    let n: usize = ctx.report.models.iter().map(|m| m.evaluation.failures.len()).sum();
    if n == 0 {
        s.push_str("<p><b>No failures</b>: every case was evaluated.</p>\n</section>\n");
        return s;
    }
    let model_head = if ctx.multi { "<th>model</th>" } else { "" };
    s.push_str(&format!(
        "<table class=\"data\"><thead><tr>{model_head}<th>case</th><th>reason</th></tr></thead><tbody>\n"
    ));
    for run in &ctx.report.models {
        for f in &run.evaluation.failures {
            let model = if ctx.multi { format!("<td>{}</td>", escape(&run.name)) } else { String::new() };
            s.push_str(&format!(
                "<tr>{model}<td class=\"mono\">{}</td><td class=\"reason\">{}</td></tr>\n",
                escape(&f.case),
                escape(&f.error)
            ));
        }
    }
    s.push_str("</tbody></table>\n</section>\n");
    s
}

// -----------------------------------------------------------------------------------------------------------
// Comparison and ranking

fn comparison_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("comparison", "Paired comparison");
    if ctx.report.paired.is_empty() {
        s.push_str("<p>No paired comparison.</p>\n</section>\n");
        return s;
    }
    s.push_str(&format!(
        "<p class=\"note\">Differences A − B on the cases both models evaluated (after the inf policy; cases \
         with a \
         non-finite difference are dropped and counted). Mean difference with its paired bootstrap {} \
         interval, \
         two-sided Wilcoxon signed-rank p, and Holm-adjusted p over every comparison of this report. \
         <i>Favours</i> names the better model when the interval excludes 0 (higher is better for scores, \
         lower for \
         distances). Bold: Holm p &lt; 0.05.</p>\n",
        ctx.level
    ));
    s.push_str(&format!(
        "<table class=\"data\"><thead><tr><th>metric</th><th class=\"num\">label</th><th>A vs B</th>\
         <th class=\"num\">n</th><th class=\"num\">dropped</th><th class=\"num\">mean A − B</th>\
         <th class=\"num\">{} CI</th><th class=\"num\">Wilcoxon p</th><th class=\"num\">Holm p</th>\
         <th>favours</th></tr></thead><tbody>\n",
        ctx.level
    ));
    for p in &ctx.report.paired {
        s.push_str(&comparison_row(ctx, p));
    }
    s.push_str("</tbody></table>\n</section>\n");
    s
}

fn comparison_row(ctx: &Ctx<'_>, p: &PairedComparison) -> String {
    let m = p.metric;
    let favours = match (m.better(), p.ci_low > 0.0, p.ci_high < 0.0) {
        (Better::Higher, true, _) | (Better::Lower, _, true) => escape(&p.model_a),
        (Better::Higher, _, true) | (Better::Lower, true, _) => escape(&p.model_b),
        _ => "—".to_string(),
    };
    let sig = if p.p_holm < 0.05 { " sig" } else { "" };
    format!(
        "<tr><td class=\"metric\">{}</td><td class=\"num\">{}</td><td>{} vs {}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num{sig}\">{}</td><td>{favours}</td></tr>\n",
        escape(&ctx.name(m)),
        p.label,
        escape(&p.model_a),
        escape(&p.model_b),
        p.n,
        p.n_dropped,
        val(p.mean_diff, m.unit()),
        interval(p.ci_low, p.ci_high, m.unit()),
        p_value(p.p_value),
        p_value(p.p_holm)
    )
}

fn ranking_section(ctx: &Ctx<'_>) -> String {
    let mut s = open_section("ranking", "Ranking stability");
    if ctx.report.ranking.is_empty() {
        s.push_str("<p>No ranking.</p>\n</section>\n");
        return s;
    }
    s.push_str(
        "<p class=\"note\">Each bar shows how often a model took each rank over the bootstrap replicates \
         (cases \
         resampled, models ranked again); rank 1 is darkest. P(rank 1) is the share of replicates it ranked \
         first; \
         the rank interval is the 2.5–97.5 % range of its bootstrap ranks. Kendall τ<sub>b</sub> compares \
         every replicate's \
         ranking with the ranking on all cases (1: identical).</p>\n",
    );
    s.push_str("<div class=\"grid\">\n");
    for r in &ctx.report.ranking {
        s.push_str(&ranking_figure(ctx, r));
    }
    s.push_str("</div>\n</section>\n");
    s
}

/// The colour of rank `r` (0-based) of `k`: dark blue for the first, lighter after.
fn rank_colour(r: usize, k: usize) -> String {
    let t = if k > 1 { r as f64 / (k - 1) as f64 } else { 0.0 };
    format!("hsl(210 42% {:.0}%)", 30.0 + 52.0 * t)
}

fn ranking_figure(ctx: &Ctx<'_>, r: &Ranking) -> String {
    let m = r.metric;
    let mut models: Vec<_> = r.models.iter().collect();
    models.sort_by_key(|mr| (mr.rank, ctx.model_index(Some(&mr.model))));
    let k = models.iter().map(|mr| mr.rank_counts.len()).max().unwrap_or(0);
    let (width, row_h, top) = (560.0, 26.0, 22.0);
    let (x0, x1) = (118.0, 330.0);
    let height = top + row_h * models.len() as f64 + 8.0;
    let mut g =
        svg::open(width, height, &format!("Rank distribution of {} for label {}", ctx.name(m), r.label));
    g.push_str(&svg::text(x0, 12.0, "start", "head", "bootstrap ranks"));
    g.push_str(&svg::text(x1 + 10.0, 12.0, "start", "head", "P(rank 1)"));
    g.push_str(&svg::text(width - 4.0, 12.0, "end", "head", "median rank [95 % range]"));
    for (i, mr) in models.iter().enumerate() {
        let y = top + row_h * i as f64;
        let total: u32 = mr.rank_counts.iter().sum();
        g.push_str(&svg::text(
            x0 - 8.0,
            y + 13.0,
            "end",
            "",
            &format!("{}. {}", mr.rank, short_name(&mr.model, 14)),
        ));
        let mut x = x0;
        for (rank, &count) in mr.rank_counts.iter().enumerate() {
            if total == 0 || count == 0 {
                continue;
            }
            let w = (x1 - x0) * f64::from(count) / f64::from(total);
            let tip = format!("{}: rank {} in {count} of {total} replicates", mr.model, rank + 1);
            g.push_str(&svg::rect_titled(x, y + 3.0, w, 14.0, &rank_colour(rank, k), &tip));
            x += w;
        }
        if total == 0 {
            g.push_str(&svg::rect(x0, y + 3.0, x1 - x0, 14.0, "track", None));
        }
        g.push_str(&svg::text(x1 + 10.0, y + 14.0, "start", "", &num(mr.p_first, Unit::Score)));
        let range = format!(
            "{} [{}, {}]",
            format_number(mr.median_rank),
            format_number(mr.rank_low),
            format_number(mr.rank_high)
        );
        g.push_str(&svg::text(width - 4.0, y + 14.0, "end", "", &range));
    }
    g.push_str("</svg>");
    let legend: String = (0..k)
        .map(|rank| format!("<span class=\"item\">{}rank {}</span>", swatch(&rank_colour(rank, k)), rank + 1))
        .collect();
    format!(
        "<figure>\n<figcaption><b>{}</b> · label {} · {} cases · Kendall τ<sub>b</sub> median {} (IQR {} to \
         {})</figcaption>\n{g}\n\
         <p class=\"legend\">{legend}</p>\n</figure>\n",
        escape(&ctx.name(m)),
        r.label,
        r.n,
        num(r.tau_median, Unit::Score),
        num(r.tau_q1, Unit::Score),
        num(r.tau_q3, Unit::Score)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_urls() {
        assert_eq!(escape("<b>&x\"'"), "&lt;b&gt;&amp;x&quot;&#39;");
        assert_eq!(escape("see http://x"), "see http&#58;//x");
    }

    #[test]
    fn numbers_carry_their_unit_and_precision() {
        assert_eq!(val(0.812345, Unit::Score), "0.8123");
        assert_eq!(val(3.456, Unit::Mm), "3.46 mm");
        assert_eq!(val(1234.56, Unit::Mm3), "1234.6 mm³");
        assert_eq!(val(f64::INFINITY, Unit::Mm), "inf mm");
        assert_eq!(val(f64::NAN, Unit::Score), "nan");
        assert_eq!(val(-0.00001, Unit::Mm), "0.00 mm");
        assert_eq!(interval(0.7, 0.9, Unit::Score), "[0.7000, 0.9000]");
        assert_eq!(p_value(0.00001234), "1.2e-5");
        assert_eq!(p_value(0.0312), "0.0312");
        assert_eq!(percent(0.95), "95 %");
    }

    #[test]
    fn quantiles_interpolate_and_keep_infinity() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(quantile(&[1.0, 2.0, f64::INFINITY], 0.75), f64::INFINITY);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
