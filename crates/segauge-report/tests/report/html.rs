//! The HTML report on a hand-built two-model report: sections, escaping, numbers with units, no external
//! resource, and (when a Chromium is on PATH) a headless render without console errors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use segauge_eval::{
    AggregateOptions, CaseResult, Catalogue, Estimate, EstimateKind, EvalOptions, Evaluation, Failure,
    LabelResult, Metric, ModelRank, ModelRun, Options, PairedComparison, Ranking, Report, StratumTotals,
    Structure, SubgroupEstimate,
};
use segauge_lesion::{LesionOptions, LesionReport};
use segauge_metrics::{EmptyState, LabelCounts, SurfaceMetrics};
use segauge_report::report_html;
use segauge_stats::CiMethod;

use segauge_tests::browser::REPORT_SECTIONS as SECTIONS;

/// The case whose id needs escaping.
const ODD_CASE: &str = "<b>&x";
const FAILURE: &str = "preds/a/case_15.nii.gz: truncated gzip stream (expected 4096 bytes, got 12)";

/// A deterministic number in [0, 1) for case `i` and stream `salt`.
fn u(i: usize, salt: usize) -> f64 {
    ((i * 7919 + salt * 104_729 + 17) % 1000) as f64 / 1000.0
}

/// One label of one case with Dice close to `dice` (1000 GT voxels), the given HD95 and lesion counts.
fn label(label: u32, dice: f64, hd95: f64, lesions: (u64, u64, u64)) -> LabelResult {
    let tp = (dice * 1000.0).round() as u64;
    let (voxels_pred, state) =
        if hd95.is_infinite() { (0, EmptyState::PredEmpty) } else { (1000, EmptyState::None) };
    let counts = LabelCounts { voxels_pred, voxels_gt: 1000, tp: if voxels_pred == 0 { 0 } else { tp } };
    let nsd = (1.0 - hd95 / 12.0).clamp(0.0, 1.0);
    let surface = SurfaceMetrics {
        hd: hd95 * 1.4,
        hd_percentile: hd95,
        assd: hd95 / 3.0,
        masd: hd95 / 3.1,
        nsd,
        biou: (dice - 0.1).max(0.0),
        hd_pred_to_gt: hd95 * 1.2,
        hd_gt_to_pred: hd95 * 1.4,
        hd_percentile_pred_to_gt: hd95 * 0.9,
        hd_percentile_gt_to_pred: hd95,
        asd_pred_to_gt: hd95 / 3.2,
        asd_gt_to_pred: hd95 / 3.0,
        nsd_pred_to_gt: nsd,
        nsd_gt_to_pred: nsd,
        empty_state: state,
    };
    let mut report = LesionReport::none(&LesionOptions::default());
    (report.tp, report.fp, report.fn_) = lesions;
    LabelResult {
        structure: Structure::label(label, None),
        counts,
        voxel_volume_mm3: 1.25,
        surface: Some(surface),
        lesions: Some(report),
        both_empty: Default::default(),
    }
}

fn case_ids() -> Vec<String> {
    let mut ids: Vec<String> = (1..=13).map(|i| format!("case_{i:02}")).collect();
    ids.push(ODD_CASE.to_string());
    ids
}

/// Model `m` (0 or 1) on the cases: model 0 is better; the odd case has an empty prediction of label 1.
fn evaluation(m: usize) -> Evaluation {
    let cases = case_ids()
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let base = if m == 0 { 0.86 } else { 0.80 };
            let dice1 = (base - 0.25 * u(i, 1 + m)).max(0.0);
            let hd1 = if id == ODD_CASE { f64::INFINITY } else { 1.2 + 9.0 * u(i, 3 + m) * u(i, 5) };
            let dice2 = (base + 0.08 - 0.2 * u(i, 7 + m)).min(0.99);
            CaseResult {
                case: id.clone(),
                pred: PathBuf::from(format!("preds/{}/{id}.nii.gz", ["a", "b"][m])),
                gt: PathBuf::from(format!("labels/{id}.nii.gz")),
                shape: [128, 128, 64],
                spacing: [0.8, 0.8, 3.0],
                labels: vec![
                    label(1, dice1, hd1, (2 + (i as u64 % 3), i as u64 % 2, 1)),
                    label(2, dice2, 0.9 + 4.0 * u(i, 9 + m), (1, 0, i as u64 % 2)),
                ],
            }
        })
        .collect();
    let failures =
        if m == 0 { vec![Failure { case: "case_15".into(), error: FAILURE.into() }] } else { vec![] };
    Evaluation {
        cases,
        failures,
        not_evaluated: vec![],
        structures: vec![Structure::label(1, None), Structure::label(2, None)],
    }
}

#[allow(clippy::too_many_arguments)]
fn estimate(
    metric: Metric,
    label: u32,
    model: &str,
    kind: EstimateKind,
    e: f64,
    lo: f64,
    hi: f64,
    n: usize,
) -> Estimate {
    Estimate {
        metric,
        structure: Structure::label(label, None),
        model: Some(model.into()),
        kind,
        estimate: e,
        ci_low: lo,
        ci_high: hi,
        method: CiMethod::Bca,
        n,
        n_cases: 14,
        n_failed: usize::from(model == "nnU-Net <v2>"),
        n_inf: 0,
        n_nan: 0,
        n_capped: 0,
        n_both_empty: 0,
        flags: vec![],
        scope: "boot/eval/0123456789abcdef".into(),
    }
}

/// The mean of a metric over a model's cases (infinite values replaced by 180 mm, the cap of this fixture).
fn mean(run: &ModelRun, label: u32, f: impl Fn(&LabelResult) -> f64) -> f64 {
    let values: Vec<f64> = run
        .evaluation
        .cases
        .iter()
        .flat_map(|c| c.labels.iter().filter(|l| l.structure.label == Some(label)).map(&f))
        .map(|v| if v.is_infinite() { 180.0 } else { v })
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

/// How a metric is read from a label's result.
type Getter = fn(&LabelResult) -> f64;

/// The summary: every metric from the cases with a ±8 % interval, and a few rows with fixed, asserted
/// numbers.
fn summary(models: &[ModelRun]) -> Vec<Estimate> {
    let mut out = Vec::new();
    let metrics: [(Metric, Getter); 7] = [
        (Metric::Dice, |l| l.dice()),
        (Metric::Iou, |l| l.iou()),
        (Metric::Hd, |l| l.surface.as_ref().map_or(f64::NAN, |s| s.hd)),
        (Metric::HdPercentile, |l| l.surface.as_ref().map_or(f64::NAN, |s| s.hd_percentile)),
        (Metric::Assd, |l| l.surface.as_ref().map_or(f64::NAN, |s| s.assd)),
        (Metric::Nsd, |l| l.surface.as_ref().map_or(f64::NAN, |s| s.nsd)),
        (Metric::VolumePred, |l| l.volume_pred_mm3()),
    ];
    for run in models {
        for label in [1, 2] {
            for (name, f) in metrics {
                let e = mean(run, label, f);
                out.push(estimate(name, label, &run.name, EstimateKind::Mean, e, e * 0.92, e * 1.08, 14));
            }
            let f1 = if run.name == "baseline" { 0.58 } else { 0.71 };
            out.push(estimate(
                Metric::LesionF1,
                label,
                &run.name,
                EstimateKind::Micro,
                f1,
                f1 - 0.1,
                f1 + 0.08,
                14,
            ));
        }
    }
    // Fixed numbers the tests look for (model A, label 1).
    for e in
        out.iter_mut().filter(|e| e.model.as_deref() == Some("nnU-Net <v2>") && e.structure.label == Some(1))
    {
        match e.metric {
            Metric::Dice => (e.estimate, e.ci_low, e.ci_high) = (0.74321, 0.70001, 0.78004),
            Metric::HdPercentile => {
                (e.estimate, e.ci_low, e.ci_high, e.n_inf, e.n_capped) = (15.456, 4.1, 28.8049, 1, 1);
                e.flags = vec!["many_nan"];
            }
            Metric::VolumePred => e.estimate = 1161.56,
            _ => {}
        }
    }
    out
}

fn subgroups(summary: &[Estimate]) -> Vec<SubgroupEstimate> {
    let mut out = Vec::new();
    for e in
        summary.iter().filter(|e| [Metric::Dice, Metric::HdPercentile, Metric::LesionF1].contains(&e.metric))
    {
        for (value, shift, n) in [("A", 0.97, 5), ("B", 1.03, 5), ("C & D", 1.0, 4)] {
            let mut s = e.clone();
            (s.estimate, s.ci_low, s.ci_high, s.n, s.n_cases) =
                (e.estimate * shift, e.ci_low * shift * 0.95, (e.ci_high * shift * 1.04).min(1e9), n, n);
            if s.metric != Metric::HdPercentile {
                s.ci_high = s.ci_high.min(1.0);
            }
            s.flags.push("small_subgroup");
            out.push(SubgroupEstimate { column: "site".into(), value: value.into(), estimate: s });
        }
    }
    out
}

fn strata() -> Vec<StratumTotals> {
    let mut out = Vec::new();
    for (model, better) in [("nnU-Net <v2>", 1), ("baseline", 0)] {
        for label in [1, 2] {
            for (lo, hi, gt, det, pred, matched) in [
                (0.0, 3.0, 9, 3 + better, 6, 3),
                (3.0, 10.0, 14, 11 + better, 15, 11),
                (10.0, f64::INFINITY, 6, 6, 7, 6),
            ] {
                out.push(StratumTotals {
                    structure: Structure::label(label, None),
                    model: Some(model.into()),
                    counts: segauge_lesion::Stratum {
                        lo_mm: lo,
                        hi_mm: hi,
                        gt,
                        gt_detected: det,
                        pred,
                        pred_matched: matched,
                    },
                });
            }
        }
    }
    out
}

fn paired() -> Vec<PairedComparison> {
    [
        (Metric::Dice, 1, 0.0523, 0.0101, 0.0899, 0.0312, 0.0624),
        (Metric::HdPercentile, 1, -1.234, -2.5, -0.2, 0.00001234, 0.0001),
    ]
    .into_iter()
    .map(|(metric, label, d, lo, hi, p, holm)| PairedComparison {
        metric,
        structure: Structure::label(label, None),
        model_a: "nnU-Net <v2>".into(),
        model_b: "baseline".into(),
        n: 13,
        n_dropped: 1,
        mean_diff: d,
        ci_low: lo,
        ci_high: hi,
        p_value: p,
        p_holm: holm,
    })
    .collect()
}

fn ranking() -> Vec<Ranking> {
    let rank = |model: &str, rank, p_first, counts: Vec<u32>| ModelRank {
        model: model.into(),
        rank,
        p_first,
        median_rank: f64::from(rank),
        rank_low: 1.0,
        rank_high: 2.0,
        rank_counts: counts,
    };
    vec![Ranking {
        metric: Metric::Dice,
        structure: Structure::label(1, None),
        n: 13,
        n_nan: 0,
        models: vec![
            rank("nnU-Net <v2>", 1, 0.8231, vec![8231, 1768]),
            rank("baseline", 2, 0.1768, vec![1768, 8231]),
        ],
        tau_median: 1.0,
        tau_q1: -1.0,
        tau_q3: 1.0,
    }]
}

/// A complete two-model report.
pub(crate) fn fixture() -> Report {
    let models = vec![
        ModelRun { name: "nnU-Net <v2>".into(), evaluation: evaluation(0) },
        ModelRun { name: "baseline".into(), evaluation: evaluation(1) },
    ];
    let metadata: BTreeMap<String, BTreeMap<String, String>> = case_ids()
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let site = ["A", "B", "C & D"][i % 3];
            let scanner = ["GE", "Siemens <Prisma>"][i % 2];
            (id, [("site".to_string(), site.to_string()), ("scanner".into(), scanner.into())].into())
        })
        .collect();
    let summary = summary(&models);
    Report {
        subgroups: subgroups(&summary),
        summary,
        models,
        options: Options {
            eval: EvalOptions::default(),
            aggregate: AggregateOptions { resamples: 9999, seed: 42, ..AggregateOptions::default() },
        },
        catalogue: Catalogue::new(&EvalOptions::default()),
        gt_dir: None,
        metadata,
        subgroup_columns: vec!["site".into()],
        strata: strata(),
        paired: paired(),
        ranking: ranking(),
    }
}

/// The fixture reduced to its first model (what a single-model run produces).
fn single_model() -> Report {
    let mut report = fixture();
    report.models.truncate(1);
    let keep = |m: &Option<String>| m.as_deref() == Some("nnU-Net <v2>");
    report.summary.retain(|e| keep(&e.model));
    report.subgroups.retain(|g| keep(&g.estimate.model));
    report.strata.retain(|s| keep(&s.model));
    report.paired.clear();
    report.ranking.clear();
    report
}

/// The HTML between `<section id="{id}">` and its end.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("<section id=\"{id}\">")).unwrap_or_else(|| panic!("no section {id}"));
    let end = html[start..].find("</section>").map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[test]
fn every_section_is_there_with_a_heading_and_nothing_external() {
    let html = report_html(&fixture());
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in SECTIONS {
        assert_eq!(html.matches(&format!("<section id=\"{id}\">")).count(), 1, "{id}");
        assert!(section(&html, id).contains("<h2>"), "{id} has no heading");
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    for external in ["<script", "<link", "<img", "<iframe", "src=", "@import", "url(", "xmlns"] {
        assert!(!html.contains(external), "{external}");
    }
    for tag in ["section", "svg", "table", "figure", "tr", "p"] {
        let open = html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        assert_eq!(open, html.matches(&format!("</{tag}>")).count(), "<{tag}> not balanced");
    }
    assert!(html.contains("@media print"));
}

#[test]
fn user_text_is_escaped() {
    let mut report = fixture();
    report.models[0].evaluation.failures[0].error =
        "<script>alert(1)</script> see https://example.org".into();
    let html = report_html(&report);
    assert!(html.contains("&lt;b&gt;&amp;x"), "case id");
    assert!(!html.contains("<b>&x"));
    assert!(html.contains("nnU-Net &lt;v2&gt;") && !html.contains("nnU-Net <v2>"), "model name");
    assert!(html.contains("Siemens &lt;Prisma&gt;") && html.contains("C &amp; D"), "metadata");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script"), "error");
    assert!(!html.contains("https://"), "a URL in user text is neutralised");
}

#[test]
fn settings_state_what_was_computed() {
    let html = report_html(&fixture());
    let s = section(&html, "settings");
    for needle in [
        env!("CARGO_PKG_VERSION"),
        "smooth",
        "95 (hd95), directed-max",
        "2.00 mm",
        "both empty: Dice = IoU = NSD = BIoU = 1, distances 0 (MeshMetrics); one empty: 0, distances inf",
        "each case's image diagonal",
        "bootstrap BCa, 95 %",
        "<td>9999</td>",
        "<td>42 (",
        "<td>26</td>",
        "<td>iou</td>",
        "&gt; 0.5",
        "15 (case ids over all models)",
        "<td class=\"num\">14</td><td class=\"num\">1</td>",
        "preds/a",
    ] {
        assert!(s.contains(needle), "settings lack {needle:?}");
    }
    let mut report = fixture();
    report.options.aggregate.hd_cap = Some(374.0);
    assert!(section(&report_html(&report), "settings").contains("become 374.00 mm"));
}

#[test]
fn summary_numbers_are_formatted_with_units_and_counts() {
    let html = report_html(&fixture());
    let s = section(&html, "summary");
    // Dice: 4 decimals, no unit; HD95: 2 decimals in mm; volume in mm³.
    assert!(s.contains("<td class=\"num\">0.7432</td><td class=\"num\">[0.7000, 0.7800]</td>"));
    assert!(s.contains("<td class=\"num\">15.46 mm</td><td class=\"num\">[4.10, 28.80] mm</td>"));
    assert!(s.contains("1161.6 mm³"));
    assert!(s.contains(
        "<td class=\"num\">14 / 14</td><td class=\"num\">1</td><td class=\"num\">1</td><td \
    class=\"num\">1</td>"
    ));
    assert!(s.contains("many_nan"));
    assert!(s.contains("Lesion F1 <span class=\"tag\">micro</span>"));
    // A missing interval says so instead of printing nan bounds.
    let mut report = fixture();
    (report.summary[0].ci_low, report.summary[0].ci_high) = (f64::NAN, f64::NAN);
    assert!(section(&report_html(&report), "summary").contains("no interval"));
}

#[test]
fn distributions_draw_every_case_and_count_infinite_values() {
    let report = fixture();
    let html = report_html(&report);
    let s = section(&html, "distributions");
    // Label 1 and 2, Dice IoU HD HD95 ASSD MASD NSD BIoU lesion F1.
    assert_eq!(s.matches("<figure>").count(), 2 * 9);
    // Every case of both models is a dot in each plot (every case of the fixture has lesions: no NaN F1).
    assert_eq!(s.matches("<circle").count(), 2 * 14 * 18);
    assert!(s.contains("<title>&lt;b&gt;&amp;x: inf mm</title>"));
    assert!(s.contains("1 inf drawn at ∞ (capped in the mean)"));
    assert!(s.contains("mean 15.46 [4.10, 28.80] mm"));
}

#[test]
fn subgroups_detection_worst_cases_and_failures() {
    let html = report_html(&fixture());
    let s = section(&html, "subgroups");
    // Dice, HD95 and lesion F1 for both labels.
    assert_eq!(s.matches("<figure>").count(), 6);
    assert!(s.contains("C &amp; D †") && s.contains("small_subgroup"));
    assert!(s.contains("class=\"ref\""), "overall reference line");
    let s = section(&html, "detection");
    assert!(s.contains(
        "<td>&lt; 3 mm</td><td class=\"num\">9</td><td class=\"num\">4</td><td class=\"num\">0.4444</td>"
    ));
    assert!(s.contains("<td>≥ 10 mm</td>"));
    assert!(s.contains("<td class=\"num\">0.7100</td><td class=\"num\">[0.6100, 0.7900]</td>"), "micro F1");
    let s = section(&html, "worst-cases");
    let first_row = s.split("<caption>Lowest Dice</caption>").nth(1).and_then(|t| t.split("</tr>").nth(1));
    assert!(
        first_row.is_some_and(|r| r.contains("&lt;b&gt;&amp;x") && r.contains("pred_empty")),
        "{first_row:?}"
    );
    let hd = s.split("<caption>Highest HD95</caption>").nth(1).and_then(|t| t.split("</tr>").nth(1));
    assert!(hd.is_some_and(|r| r.contains("inf mm")), "{hd:?}");
    let s = section(&html, "failures");
    assert!(s.contains("case_15") && s.contains("truncated gzip stream (expected 4096 bytes, got 12)"));
    assert!(s.contains("Failed cases are not in any estimate"));
    let mut report = fixture();
    report.models[0].evaluation.failures.clear();
    assert!(section(&report_html(&report), "failures").contains("No failures"));
}

#[test]
fn comparison_and_ranking_show_the_paired_numbers() {
    let html = report_html(&fixture());
    let s = section(&html, "comparison");
    assert!(s.contains("<td class=\"num\">0.0523</td><td class=\"num\">[0.0101, 0.0899]</td>"));
    assert!(
        s.contains("<td class=\"num\">0.0312</td><td class=\"num\">0.0624</td><td>nnU-Net &lt;v2&gt;</td>")
    );
    assert!(s.contains("-1.23 mm") && s.contains("1.2e-5") && s.contains("class=\"num sig\">0.0001</td>"));
    // The paired differences plotted, scores and distances apart, each with its interval around 0: Dice
    // 0.0523 [0.0101, 0.0899] and HD95 -1.234 [-2.5, -0.2] mm (Holm p 0.0001: a dark diamond).
    assert_eq!(s.matches("<b>Paired differences</b> · 1 ·").count(), 2);
    assert!(s.contains("nnU-Net &lt;v2&gt; − baseline: 0.0523 [0.0101, 0.0899] (95 % CI)"));
    assert!(s.contains("nnU-Net &lt;v2&gt; − baseline: -1.23 [-2.50, -0.20] mm (95 % CI), Holm p 0.0001"));
    assert!(s.contains("left of 0 favours A") && s.contains("right of 0 favours A"));
    // With several models the comparison is the headline: the first section and the first link.
    let first = html.find("<section id=").map(|i| &html[i..i + 40]).unwrap();
    assert!(first.starts_with("<section id=\"comparison\""), "{first}");
    let nav = &html[html.find("<nav").unwrap()..];
    assert!(nav.starts_with("<nav class=\"toc\"><a href=\"#comparison\">"), "{}", &nav[..80]);
    let s = section(&html, "ranking");
    assert!(s.contains("Kendall τ<sub>b</sub> median 1.0000 (IQR -1.0000 to 1.0000)"));
    assert!(s.contains("rank 1 in 8231 of 9999 replicates") && s.contains(">0.8231</text>"));
}

#[test]
fn a_single_model_report_has_no_comparison() {
    let html = report_html(&single_model());
    for id in &SECTIONS[..8] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(!html.contains("id=\"comparison\"") && !html.contains("id=\"ranking\""));
    assert!(!html.contains("href=\"#comparison\""));
}

#[test]
fn a_report_without_surface_and_lesions_still_renders() {
    let mut report = single_model();
    for c in &mut report.models[0].evaluation.cases {
        for l in &mut c.labels {
            (l.surface, l.lesions) = (None, None);
        }
    }
    report.summary.retain(|e| [Metric::Dice, Metric::Iou].contains(&e.metric));
    report.subgroups.retain(|g| g.estimate.metric == Metric::Dice);
    report.strata.clear();
    let options = EvalOptions { surface: None, lesions: None, ..EvalOptions::default() };
    report.catalogue = Catalogue::new(&options);
    report.options.eval = options;
    let html = report_html(&report);
    assert!(section(&html, "settings").contains("not computed"));
    assert!(section(&html, "detection").contains("Lesion detection was not computed"));
    assert_eq!(section(&html, "distributions").matches("<figure>").count(), 2 * 2);
    assert!(!section(&html, "worst-cases").contains("Highest"));
}

// -----------------------------------------------------------------------------------------------------------
// Headless browser

#[test]
fn the_report_renders_in_a_headless_browser_without_console_errors() {
    if segauge_tests::browser::chromium().is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must have chromium (or chromium-browser) on PATH");
        #[expect(clippy::print_stderr, reason = "a skipped browser test says why")]
        {
            eprintln!("note: no chromium on PATH, browser test skipped");
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let html = report_html(&fixture());
    std::fs::write(&path, &html).unwrap();
    if let Some(keep) = std::env::var_os("SEGAUGE_KEEP_HTML") {
        std::fs::write(keep, &html).unwrap();
    }
    let (dom, stderr, png) = segauge_tests::browser::render_in_chromium(&path).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 50_000, "screenshot of {} bytes", png.len());
    for id in SECTIONS {
        assert!(dom.contains(&format!("id=\"{id}\"")), "DOM lacks {id}");
    }
    assert!(dom.contains("&lt;b&gt;&amp;x"), "the odd case id is text in the DOM");
    assert_eq!(segauge_tests::browser::console_lines(&stderr), Vec::<&str>::new());
}
