//! The self-contained HTML report of a data-set evaluation: [`report_html`].
//!
//! One HTML5 document with one inline style block and inline SVG plots, no script and no external resource of
//! any kind (no font, image, stylesheet or link; a Content-Security-Policy forbids loading any), so the file
//! can be archived, mailed and printed as it is. Every user-provided text (case ids, paths, error messages,
//! metadata, model names) is escaped. Plots are sized in CSS pixels with a `viewBox`, so they scale down on
//! narrow screens and in print.
//!
//! Sections, each with a stable `id` and an `<h2>`, one module each: with several models first `comparison`
//! (paired differences, table and plots) and `ranking`, the headline; then `overview` (every structure on one
//! row, a heat map sorted worst first), `settings`, `summary`, `distributions`, `subgroups`, `detection`,
//! `worst-cases` (`worst`) and `failures`. Per-structure blocks are `<details>`, folded beyond
//! [`FOLD_ABOVE`] structures. The style sheet is
//! `style.css`, inlined; `format` writes numbers and units, `svg` the plot elements.
//!
//! Numbers: names and units come from the run's metric catalogue: scores (Dice, IoU, NSD, BIoU, lesion
//! precision, recall and F1) with 4 decimals and no unit, distances with 2 decimals in mm, volumes with 1 decimal
//! in mm³, p-values with 4 decimals (or 2 significant digits below 0.0001); non-finite values are written `inf`,
//! `-inf` and `nan`.

use std::collections::{BTreeMap, BTreeSet};

use segauge_lesion::MatchRule;
use segauge_metrics::{BothEmpty, EmptyState, MeshCompat, PercentileRule};
use segauge_stats::CiMethod;

use segauge_eval::{
    Better, Estimate, EstimateKind, EvalOptions, InfPolicy, LabelResult, Metric, ModelRun, PairedComparison,
    Ranking, Report, StratumTotals, Structure, SubgroupEstimate, Unit,
};

use crate::output::{SEGAUGE_VERSION, format_number};
mod svg;

use svg::Scale;

mod comparison;
mod detection;
mod distributions;
mod failures;
mod format;
mod overview;
mod settings;
mod subgroups;
mod summary;
mod worst;

use comparison::*;
use detection::*;
use distributions::*;
use failures::*;
use format::*;
use overview::*;
use settings::*;
use subgroups::*;
use summary::*;
use worst::*;

/// How many cases each worst-case table lists.
const WORST_CASES: usize = 10;

/// How many metadata columns the worst-case tables show at most.
const METADATA_COLUMNS: usize = 6;

/// Model colours (muted, distinguishable in print and for the common colour-vision deficiencies).
const MODEL_COLOURS: [&str; 6] = ["#3a6ea5", "#c8743a", "#4b8b5a", "#8e5a9c", "#a94f5c", "#6b6b6b"];

/// The report's one style block.
const CSS: &str = include_str!("style.css");

/// Renders the data-set report as one self-contained HTML5 document.
///
/// `report` holds the per-case results, every aggregate and the options everything was computed with (surface,
/// percentile, τ, lesion rule), which the settings section states. The document needs no network, no script and
/// no other file.
pub fn report_html(report: &Report) -> String {
    let ctx = Ctx::new(report);
    let mut body = header(&ctx);
    for (id, _) in sections(&ctx) {
        body.push_str(&match id {
            "comparison" => comparison_section(&ctx),
            "ranking" => ranking_section(&ctx),
            "overview" => overview_section(&ctx),
            "settings" => settings_section(&ctx),
            "summary" => summary_section(&ctx),
            "distributions" => distributions_section(&ctx),
            "subgroups" => subgroups_section(&ctx),
            "detection" => detection_section(&ctx),
            "worst-cases" => worst_cases_section(&ctx),
            _ => failures_section(&ctx),
        });
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src \
         'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"segauge {SEGAUGE_VERSION}\">\n\
         <title>segauge report: \
         {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(&ctx.model_names().join(", ")),
    )
}

/// The sections of the report in reading order, as (id, title): with several models the comparison is the
/// headline and comes first.
fn sections(ctx: &Ctx<'_>) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if ctx.multi {
        out.extend([("comparison", "Paired comparison"), ("ranking", "Ranking stability")]);
    }
    out.extend([
        ("overview", "Overview"),
        ("settings", "Settings"),
        ("summary", "Summary"),
        ("distributions", "Distributions"),
        ("subgroups", "Subgroups"),
        ("detection", "Lesion detection"),
        ("worst-cases", "Worst cases"),
        ("failures", "Failures"),
    ]);
    out
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

/// What every section needs: the report, the evaluation options and a few derived lists.
struct Ctx<'a> {
    report: &'a Report,
    options: &'a EvalOptions,
    /// HD_p, when surface metrics were computed.
    hd: Option<Metric>,
    /// Every structure of the report, in the evaluations' order.
    structures: Vec<Structure>,
    /// More than one model.
    multi: bool,
    /// The confidence level as text (`95 %`).
    level: String,
}

impl<'a> Ctx<'a> {
    fn new(report: &'a Report) -> Ctx<'a> {
        let options = &report.options.eval;
        let mut seen = BTreeSet::new();
        let structures: Vec<Structure> = report
            .models
            .iter()
            .flat_map(|m| m.evaluation.structures.iter())
            .filter(|s| seen.insert(s.name.clone()))
            .cloned()
            .collect();
        Ctx {
            report,
            options,
            hd: options.surface.as_ref().map(|_| Metric::HdPercentile),
            structures,
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
    fn summary(&self, metric: Metric, st: &Structure, model: &str) -> Option<&'a Estimate> {
        self.report
            .summary
            .iter()
            .find(|e| e.metric == metric && e.structure.name == st.name && model_matches(e, model))
    }

    /// The metrics whose per-case values exist for a label, in reading order.
    fn case_metrics(&self, st: &Structure) -> Vec<Metric> {
        use Metric::*;
        [Dice, Iou, Hd, HdPercentile, Assd, Masd, Nsd, Biou, LesionF1]
            .into_iter()
            .filter(|&k| {
                self.report.models.iter().any(|m| {
                    m.evaluation.cases.iter().any(|c| {
                        c.labels.iter().any(|l| l.structure.name == st.name && case_value(l, k).is_some())
                    })
                })
            })
            .collect()
    }

    /// `(case id, value)` of every evaluated case of a model that has the label and the metric.
    fn values(&self, model: &'a ModelRun, st: &Structure, key: Metric) -> Vec<(&'a str, f64)> {
        model
            .evaluation
            .cases
            .iter()
            .filter_map(|c| {
                let l = c.labels.iter().find(|l| l.structure.name == st.name)?;
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

/// Structure blocks are open up to this many structures, folded beyond (a data set of 117 structures would
/// otherwise make a report tens of thousands of pixels long).
pub(crate) const FOLD_ABOVE: usize = 8;

/// Opens one structure's block of a section: a `<details>` whose summary is the structure's heading, open when
/// the report has at most [`FOLD_ABOVE`] structures.
fn open_structure(ctx: &Ctx<'_>, st: &Structure) -> String {
    let open = if ctx.structures.len() <= FOLD_ABOVE { " open" } else { "" };
    format!("<details class=\"structure\"{open}><summary><h3>{}</h3></summary>\n", escape(&st.to_string()))
}

/// Closes [`open_structure`].
const CLOSE_STRUCTURE: &str = "</details>\n";

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
