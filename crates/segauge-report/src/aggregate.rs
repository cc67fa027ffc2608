//! Data-set aggregates: every metric and label with a bootstrap confidence interval, per subgroup of the case
//! metadata, and, for several models, paired comparisons and ranking stability (segauge-stats, METHODS C).
//!
//! One resample matrix per case set (scope `boot/<dataset>/all`, or `boot/<dataset>/<column>=<value>` for a
//! subgroup) is shared by every metric, label and model of that set. Per-case values go through the inf/NaN
//! policy first (distances: +inf capped at `--hd-cap` or at the case's physical image diagonal by default); the
//! counts of what the policy did are kept with every estimate. Detection scores are micro: ratios of case totals
//! (METHODS C.1), recomputed from the resampled totals. Failed cases are never silently dropped: every estimate
//! states `n` (values used), `n_cases` (cases evaluated) and `n_failed`.

use std::collections::BTreeMap;

use segauge_stats::{
    BootstrapOptions, CiMethod, Policy, RankingOptions, Replicates, ResampleMatrix, WilcoxonOptions,
    apply_policy, holm, ranking_stability, wilcoxon,
};

use crate::eval::{CaseResult, Evaluation};

/// How non-finite per-case values enter aggregates (METHODS C.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InfPolicy {
    /// Distances: +inf (a missed or invented structure) becomes the cap; NaN values are left out and counted.
    #[default]
    Cap,
    /// Non-finite values are left out (optimistic; counted).
    Omit,
    /// Non-finite values make the mean non-finite (diagnostics).
    Propagate,
}

impl InfPolicy {
    /// The policy's name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            InfPolicy::Cap => "cap",
            InfPolicy::Omit => "omit",
            InfPolicy::Propagate => "propagate",
        }
    }
}

/// Options of [`aggregate`].
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateOptions {
    /// Bootstrap replicates B (default 9999).
    pub resamples: usize,
    /// Interval method (default BCa).
    pub method: CiMethod,
    /// Confidence level (default 0.95).
    pub level: f64,
    /// Master seed of the random streams (default 0).
    pub seed: u64,
    /// The inf/NaN policy (default cap).
    pub inf_policy: InfPolicy,
    /// The cap of infinite distances, mm; `None` (default): each case's physical image diagonal.
    pub hd_cap: Option<f64>,
    /// Metadata columns to slice by; `None` (default): every column.
    pub subgroups: Option<Vec<String>>,
    /// The data-set name in random-stream scopes (default `eval`).
    pub dataset: String,
}

impl Default for AggregateOptions {
    fn default() -> Self {
        AggregateOptions {
            resamples: segauge_stats::DEFAULT_RESAMPLES,
            method: CiMethod::Bca,
            level: 0.95,
            seed: 0,
            inf_policy: InfPolicy::Cap,
            hd_cap: None,
            subgroups: None,
            dataset: "eval".into(),
        }
    }
}

impl AggregateOptions {
    /// The metadata columns sliced into subgroups: those of [`AggregateOptions::subgroups`], else every column
    /// of `metadata` (case id → column → value). Call it before evaluating to catch a misspelt column early.
    ///
    /// # Errors
    /// [`crate::Error::Aggregate`] naming a requested column that no case has, and the columns there are.
    pub fn subgroup_columns(
        &self,
        metadata: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Vec<String>, crate::Error> {
        let all: std::collections::BTreeSet<&String> = metadata.values().flat_map(|m| m.keys()).collect();
        match &self.subgroups {
            Some(cols) => match cols.iter().find(|c| !all.contains(c)) {
                Some(c) => Err(crate::Error::Aggregate {
                    detail: format!(
                        "subgroup column {c:?} is not in the metadata (columns: {})",
                        all.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                }),
                None => Ok(cols.clone()),
            },
            None => Ok(all.into_iter().cloned().collect()),
        }
    }

    /// An upper estimate of the memory (bytes) [`aggregate`] needs for `n_cases` cases per model, `n_models`
    /// models and `n_columns` metadata columns sliced into subgroups, on `threads` worker threads.
    ///
    /// Every case set keeps its resample matrix (B × n indices of 4 bytes) until the end: each model's
    /// evaluated cases, the cases all models share, and per column the subgroups, which partition the cases.
    /// Each metric row being computed holds B replicates (8 bytes, twice for ratios), a ranking B ranks per
    /// model. Use it to refuse a `resamples` that cannot fit before evaluating anything.
    ///
    /// ```
    /// let options = segauge_report::AggregateOptions { resamples: 1000, ..Default::default() };
    /// // One model, 100 cases, no metadata: matrices 2 × 1000 × 100 × 4 bytes, replicates 1000 × 8 × (2 × 1 + 2).
    /// assert_eq!(options.memory_estimate(100, 1, 0, 1), 800_000 + 32_000);
    /// ```
    pub fn memory_estimate(&self, n_cases: usize, n_models: usize, n_columns: usize, threads: usize) -> u64 {
        let b = self.resamples as u64;
        let (n, m, c, t) = (n_cases as u64, n_models.max(1) as u64, n_columns as u64, threads.max(1) as u64);
        let matrices = 4u64.saturating_mul(b).saturating_mul(n).saturating_mul(m * (1 + c) + 1);
        let replicates = 8u64.saturating_mul(b).saturating_mul(2 * t + 2 * m);
        matrices.saturating_add(replicates)
    }
}

/// Whether an estimate is a mean of per-case values or a ratio of case totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstimateKind {
    /// Mean of per-case values after the policy.
    Mean,
    /// Ratio of summed case counts (micro detection scores).
    Micro,
}

/// One aggregate: a metric of a label (of a model) over a case set, with its interval and its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Metric name as in the per-case outputs (`dice`, `hd95`, …, `lesion_f1`).
    pub metric: String,
    /// The label.
    pub label: u32,
    /// The model (when several are compared).
    pub model: Option<String>,
    /// Mean or micro ratio.
    pub kind: EstimateKind,
    /// The estimate on all values used.
    pub estimate: f64,
    /// Lower bound of the interval (NaN when none could be formed; see `flags`).
    pub ci_low: f64,
    /// Upper bound.
    pub ci_high: f64,
    /// The interval method actually used.
    pub method: CiMethod,
    /// Values used (after the policy).
    pub n: usize,
    /// Cases evaluated in the set.
    pub n_cases: usize,
    /// Cases of the set that failed (not in `n_cases`).
    pub n_failed: usize,
    /// Infinite values before the policy.
    pub n_inf: usize,
    /// NaN values before the policy.
    pub n_nan: usize,
    /// Infinite values replaced by the cap.
    pub n_capped: usize,
    /// Cases where the label is absent from both masks.
    pub n_both_empty: usize,
    /// Warnings: `degenerate`, `many_nan`, `too_few_cases`, `small_sample`.
    pub flags: Vec<&'static str>,
    /// The random-stream scope of the case set's resample matrix: with the seed, n and B it gives every
    /// resample index (segauge-stats' recipe), so the interval can be recomputed outside segauge.
    pub scope: String,
}

/// An estimate on the cases of one metadata value.
#[derive(Debug, Clone, PartialEq)]
pub struct SubgroupEstimate {
    /// The metadata column.
    pub column: String,
    /// Its value (`(missing)` for cases without one).
    pub value: String,
    /// The estimate on those cases (flags gain `small_subgroup` below 10 cases).
    pub estimate: Estimate,
}

/// Two models compared on the cases both evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedComparison {
    /// Metric.
    pub metric: String,
    /// Label.
    pub label: u32,
    /// First model.
    pub model_a: String,
    /// Second model.
    pub model_b: String,
    /// Cases with a finite difference after the policy.
    pub n: usize,
    /// Cases dropped (evaluated by one model only, or non-finite after the policy).
    pub n_dropped: usize,
    /// Mean of `a − b`.
    pub mean_diff: f64,
    /// Interval of the mean difference (paired bootstrap).
    pub ci_low: f64,
    /// Upper bound.
    pub ci_high: f64,
    /// Wilcoxon signed-rank p-value (two-sided).
    pub p_value: f64,
    /// Holm-adjusted p-value over every comparison of the report.
    pub p_holm: f64,
}

/// One model's place in a ranking and its bootstrap distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRank {
    /// The model.
    pub model: String,
    /// Rank on the full data (1 = best).
    pub rank: u32,
    /// Fraction of replicates in which it ranked first.
    pub p_first: f64,
    /// Median bootstrap rank.
    pub median_rank: f64,
    /// 2.5 % quantile of the bootstrap rank.
    pub rank_low: f64,
    /// 97.5 % quantile.
    pub rank_high: f64,
    /// Replicates per rank (`counts[r − 1]` for rank r).
    pub rank_counts: Vec<u32>,
}

/// The ranking of the models on one metric and label, and its stability.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Metric.
    pub metric: String,
    /// Label.
    pub label: u32,
    /// Cases used (evaluated by every model).
    pub n: usize,
    /// Models in input order.
    pub models: Vec<ModelRank>,
    /// Median Kendall τ_b between replicate rankings and the full ranking.
    pub tau_median: f64,
    /// Its 25 % quantile.
    pub tau_q1: f64,
    /// Its 75 % quantile.
    pub tau_q3: f64,
}

/// Lesion detection per size stratum, summed over the cases of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct StratumTotals {
    /// Label.
    pub label: u32,
    /// Model (when several).
    pub model: Option<String>,
    /// The stratum's edges and its counts summed over the cases (with its recall and precision).
    pub counts: segauge_lesion::Stratum,
}

/// The evaluation of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRun {
    /// Model name (`pred` for a single model).
    pub name: String,
    /// Its per-case results and failures.
    pub evaluation: Evaluation,
}

/// Everything a data-set report shows: the per-case results of each model and every aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The models, in the order given.
    pub models: Vec<ModelRun>,
    /// The options the aggregates were computed with.
    pub options: AggregateOptions,
    /// Case metadata: case id → column → value.
    pub metadata: BTreeMap<String, BTreeMap<String, String>>,
    /// The metadata columns sliced by.
    pub subgroup_columns: Vec<String>,
    /// Every metric and label (and model) over all cases.
    pub summary: Vec<Estimate>,
    /// The same per subgroup.
    pub subgroups: Vec<SubgroupEstimate>,
    /// Lesion detection per size stratum.
    pub strata: Vec<StratumTotals>,
    /// Paired comparisons (several models).
    pub paired: Vec<PairedComparison>,
    /// Rankings (several models).
    pub ranking: Vec<Ranking>,
}

/// Whether a metric is a distance in mm (capped by the inf policy, lower is better).
fn is_distance(metric: &str) -> bool {
    metric == "hd" || metric == "assd" || metric == "masd" || (metric.starts_with("hd") && metric.len() > 2)
}

/// Whether larger values of a metric are better (for rankings).
fn higher_is_better(metric: &str) -> bool {
    !is_distance(metric)
}

/// The per-case metrics that are averaged, in output order.
fn mean_metrics(eval_options: &crate::EvalOptions) -> Vec<String> {
    let mut m: Vec<String> = vec!["dice".into(), "iou".into()];
    if let Some(s) = &eval_options.surface {
        m.extend(["hd".into(), crate::percentile_field(s.percentile), "assd".into(), "masd".into()]);
        m.extend(["nsd".into(), "biou".into()]);
    }
    if let Some(l) = &eval_options.lesions {
        if l.rule == segauge_lesion::MatchRule::Brats2023 {
            m.push("lesion_wise_dice".into());
            if l.surface.is_some() {
                m.push("lesion_wise_hd95".into());
            }
        }
    }
    m
}

/// Numerator and denominator of a micro score from the totals (TP, FP, FN).
type MicroRatio = fn(f64, f64, f64) -> (f64, f64);

/// The micro detection scores: name, and (numerator, denominator) from the totals.
const MICRO: [(&str, MicroRatio); 3] = [
    ("lesion_precision", |tp, fp, _| (tp, tp + fp)),
    ("lesion_recall", |tp, _, fn_| (tp, tp + fn_)),
    ("lesion_f1", |tp, fp, fn_| (2.0 * tp, 2.0 * tp + fp + fn_)),
];

/// The value of a mean metric for one label of one case (NaN when the label or metric is missing).
fn value(case: &CaseResult, label: u32, metric: &str) -> f64 {
    let Some(l) = case.labels.iter().find(|l| l.label == label) else { return f64::NAN };
    let s = l.surface.as_ref();
    match metric {
        "dice" => l.dice(),
        "iou" => l.iou(),
        "hd" => s.map_or(f64::NAN, |s| s.hd),
        "assd" => s.map_or(f64::NAN, |s| s.assd),
        "masd" => s.map_or(f64::NAN, |s| s.masd),
        "nsd" => s.map_or(f64::NAN, |s| s.nsd),
        "biou" => s.map_or(f64::NAN, |s| s.biou),
        "lesion_wise_dice" => {
            l.lesions.as_ref().and_then(|r| r.brats).map_or(f64::NAN, |b| b.lesion_wise_dice)
        }
        "lesion_wise_hd95" => {
            l.lesions.as_ref().and_then(|r| r.brats).and_then(|b| b.lesion_wise_hd95).unwrap_or(f64::NAN)
        }
        _ if metric.starts_with("hd") => s.map_or(f64::NAN, |s| s.hd_percentile),
        _ => f64::NAN,
    }
}

/// The physical diagonal of a case's image, mm: the largest distance inside its field of view.
fn diagonal(case: &CaseResult) -> f64 {
    (0..3).map(|a| (case.shape[a] as f64 * case.spacing[a]).powi(2)).sum::<f64>().sqrt()
}

/// The random-stream scope of a case set: the data-set name and a digest of the sorted case ids, so that the
/// same cases get the same resample matrix however they were selected (a subgroup evaluated alone reproduces
/// its subgroup row exactly).
fn scope(dataset: &str, ids: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("boot/{dataset}/{hex}")
}

/// The resample matrices of the case sets met so far.
struct Matrices<'a> {
    options: &'a AggregateOptions,
    cache: BTreeMap<String, ResampleMatrix>,
}

impl Matrices<'_> {
    fn get(&mut self, ids: &[&str]) -> Result<&ResampleMatrix, segauge_stats::Error> {
        let key = scope(&self.options.dataset, ids);
        if !self.cache.contains_key(&key) {
            let m = ResampleMatrix::generate(self.options.seed, &key, ids.len(), self.options.resamples)?;
            self.cache.insert(key.clone(), m);
        }
        Ok(&self.cache[&key])
    }
}

/// Per-case values of a mean metric after the policy, ready for the bootstrap: `(numerator, denominator)`
/// columns whose ratio of sums is the mean of the values used (omitted cases contribute 0/0), and the counts.
fn cleaned(
    cases: &[&CaseResult],
    label: u32,
    metric: &str,
    options: &AggregateOptions,
) -> Result<(Vec<f64>, Vec<f64>, segauge_stats::PolicyCounts), segauge_stats::Error> {
    let raw: Vec<f64> = cases.iter().map(|c| value(c, label, metric)).collect();
    let caps: Vec<f64> = cases.iter().map(|c| options.hd_cap.unwrap_or_else(|| diagonal(c))).collect();
    let policy = match options.inf_policy {
        InfPolicy::Cap if is_distance(metric) => Policy::CapEach(&caps),
        InfPolicy::Cap | InfPolicy::Omit => Policy::Omit,
        InfPolicy::Propagate => Policy::Propagate,
    };
    let c = apply_policy(&raw, policy)?;
    if options.inf_policy == InfPolicy::Propagate {
        return Ok((raw, vec![1.0; cases.len()], c.counts));
    }
    let (num, den) = c.ratio_columns();
    Ok((num, den, c.counts))
}

fn flags_of(ci: &segauge_stats::BootstrapCi) -> Vec<&'static str> {
    let f = ci.flags;
    [(f.degenerate, "degenerate"), (f.many_nan, "many_nan"), (f.too_few_cases, "too_few_cases")]
        .into_iter()
        .chain([(f.small_sample, "small_sample")])
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
}

/// Every estimate of one model on one case set.
#[allow(clippy::too_many_arguments)] // the case set, its context and the options travel together
fn estimates(
    cases: &[&CaseResult],
    n_failed: usize,
    labels: &[u32],
    metrics: &[String],
    micro: bool,
    model: Option<&str>,
    matrices: &mut Matrices<'_>,
    options: &AggregateOptions,
) -> Result<Vec<Estimate>, segauge_stats::Error> {
    let boot =
        BootstrapOptions { method: options.method, level: options.level, bca_fallback_percentile: false };
    let ids: Vec<&str> = cases.iter().map(|c| c.case.as_str()).collect();
    let mut out = Vec::new();
    if cases.is_empty() {
        return Ok(out);
    }
    let matrix = matrices.get(&ids)?.clone();
    let case_scope = scope(&options.dataset, &ids);
    for &label in labels {
        let both_empty = cases
            .iter()
            .filter(|c| {
                c.labels
                    .iter()
                    .any(|l| l.label == label && l.empty_state() == segauge_metrics::EmptyState::BothEmpty)
            })
            .count();
        let mut push = |metric: &str, kind, reps: Replicates, counts: segauge_stats::PolicyCounts| {
            let ci = reps.interval(&boot)?;
            out.push(Estimate {
                metric: metric.to_string(),
                label,
                model: model.map(str::to_string),
                kind,
                estimate: ci.estimate,
                ci_low: ci.low,
                ci_high: ci.high,
                method: ci.method,
                n: counts.n_used,
                n_cases: cases.len(),
                n_failed,
                n_inf: counts.n_inf,
                n_nan: counts.n_nan,
                n_capped: counts.n_capped,
                n_both_empty: both_empty,
                flags: flags_of(&ci),
                scope: case_scope.clone(),
            });
            Ok::<(), segauge_stats::Error>(())
        };
        for metric in metrics {
            let (num, den, counts) = cleaned(cases, label, metric, options)?;
            let reps = if den.iter().all(|&d| d == 1.0) {
                Replicates::mean(&matrix, &num)?
            } else {
                Replicates::ratio(&matrix, &num, &den)?
            };
            push(metric, EstimateKind::Mean, reps, counts)?;
        }
        if micro {
            let counts_of = |c: &&CaseResult| -> (f64, f64, f64) {
                c.labels
                    .iter()
                    .find(|l| l.label == label)
                    .and_then(|l| l.lesions.as_ref())
                    .map_or((0.0, 0.0, 0.0), |r| (r.tp as f64, r.fp as f64, r.fn_ as f64))
            };
            let totals: Vec<(f64, f64, f64)> = cases.iter().map(counts_of).collect();
            for (name, f) in MICRO {
                let (num, den): (Vec<f64>, Vec<f64>) =
                    totals.iter().map(|&(tp, fp, fn_)| f(tp, fp, fn_)).unzip();
                let reps = Replicates::ratio(&matrix, &num, &den)?;
                let counts = segauge_stats::PolicyCounts {
                    n_total: cases.len(),
                    n_used: cases.len(),
                    ..Default::default()
                };
                push(name, EstimateKind::Micro, reps, counts)?;
            }
        }
    }
    Ok(out)
}

/// Computes every aggregate of a data-set report from the per-case results of one or more models.
///
/// `metadata` maps case ids to their metadata columns (cases without an entry have no values).
///
/// # Errors
/// [`crate::Error::Aggregate`] for invalid options (B = 0, a level outside (0, 1), a cap that is not positive and
/// finite, a subgroup column that no case has).
pub fn aggregate(
    models: Vec<ModelRun>,
    metadata: BTreeMap<String, BTreeMap<String, String>>,
    eval_options: &crate::EvalOptions,
    options: &AggregateOptions,
) -> Result<Report, crate::Error> {
    let bad = |detail: String| crate::Error::Aggregate { detail };
    if options.resamples == 0 {
        return Err(bad("the number of bootstrap resamples must be at least 1".into()));
    }
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(bad(format!("confidence level {} is not in (0, 1)", options.level)));
    }
    if let Some(c) = options.hd_cap {
        if !(c.is_finite() && c > 0.0) {
            return Err(bad(format!("distance cap {c} must be a positive number of mm")));
        }
    }
    let subgroup_columns = options.subgroup_columns(&metadata)?;
    let stats_err = |e: segauge_stats::Error| bad(e.to_string());
    let metrics = mean_metrics(eval_options);
    let micro = eval_options.lesions.as_ref().is_some_and(|l| l.rule != segauge_lesion::MatchRule::Brats2023);
    let several = models.len() > 1;
    let mut matrices = Matrices { options, cache: BTreeMap::new() };
    let (mut summary, mut subgroups, mut strata) = (Vec::new(), Vec::new(), Vec::new());
    let meta_value = |case: &str, column: &str| -> String {
        metadata.get(case).and_then(|m| m.get(column)).cloned().unwrap_or_else(|| "(missing)".into())
    };
    for run in &models {
        let ev = &run.evaluation;
        let model = several.then_some(run.name.as_str());
        let labels: Vec<u32> = ev
            .cases
            .iter()
            .flat_map(|c| c.labels.iter().map(|l| l.label))
            .collect::<std::collections::BTreeSet<u32>>()
            .into_iter()
            .collect();
        let cases: Vec<&CaseResult> = ev.cases.iter().collect();
        summary.extend(
            estimates(&cases, ev.failures.len(), &labels, &metrics, micro, model, &mut matrices, options)
                .map_err(stats_err)?,
        );
        for column in &subgroup_columns {
            let mut values: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
            for c in &cases {
                values.entry(meta_value(&c.case, column)).or_default().push(c);
            }
            for f in &ev.failures {
                values.entry(meta_value(&f.case, column)).or_default();
            }
            for (value, members) in values {
                let failed = ev.failures.iter().filter(|f| meta_value(&f.case, column) == value).count();
                let rows =
                    estimates(&members, failed, &labels, &metrics, micro, model, &mut matrices, options)
                        .map_err(stats_err)?;
                for mut e in rows {
                    if e.n_cases < 10 {
                        e.flags.push("small_subgroup");
                    }
                    subgroups.push(SubgroupEstimate {
                        column: column.clone(),
                        value: value.clone(),
                        estimate: e,
                    });
                }
            }
        }
        for &label in &labels {
            let mut totals: Vec<StratumTotals> = Vec::new();
            for c in &cases {
                let Some(r) = c.labels.iter().find(|l| l.label == label).and_then(|l| l.lesions.as_ref())
                else {
                    continue;
                };
                if totals.is_empty() {
                    totals = r
                        .strata
                        .iter()
                        .map(|s| StratumTotals { label, model: model.map(str::to_string), counts: s.empty() })
                        .collect();
                }
                for (t, s) in totals.iter_mut().zip(&r.strata) {
                    t.counts.add(s);
                }
            }
            strata.extend(totals);
        }
    }
    let (paired, ranking) = if several {
        compare_models(&models, &metrics, &mut matrices, options).map_err(stats_err)?
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Report {
        models,
        options: options.clone(),
        metadata,
        subgroup_columns,
        summary,
        subgroups,
        strata,
        paired,
        ranking,
    })
}

/// Paired comparisons of every pair of models and the ranking of all models, per metric and label, on the
/// cases every model involved evaluated.
fn compare_models(
    models: &[ModelRun],
    metrics: &[String],
    matrices: &mut Matrices<'_>,
    options: &AggregateOptions,
) -> Result<(Vec<PairedComparison>, Vec<Ranking>), segauge_stats::Error> {
    let boot =
        BootstrapOptions { method: options.method, level: options.level, bca_fallback_percentile: false };
    let by_id: Vec<BTreeMap<&str, &CaseResult>> =
        models.iter().map(|m| m.evaluation.cases.iter().map(|c| (c.case.as_str(), c)).collect()).collect();
    let labels: Vec<u32> = models
        .iter()
        .flat_map(|m| m.evaluation.cases.iter().flat_map(|c| c.labels.iter().map(|l| l.label)))
        .collect::<std::collections::BTreeSet<u32>>()
        .into_iter()
        .collect();
    // Per-case values after the policy (NaN where the policy leaves a value out).
    let policed =
        |cases: &[&CaseResult], label: u32, metric: &str| -> Result<Vec<f64>, segauge_stats::Error> {
            let (num, den, _) = cleaned(cases, label, metric, options)?;
            Ok(num.iter().zip(&den).map(|(&v, &d)| if d == 1.0 { v } else { f64::NAN }).collect())
        };
    let mut paired = Vec::new();
    for a in 0..models.len() {
        for b in a + 1..models.len() {
            let common: Vec<&str> =
                by_id[a].keys().filter(|id| by_id[b].contains_key(*id)).copied().collect();
            let all = by_id[a].len().max(by_id[b].len());
            for &label in &labels {
                for metric in metrics {
                    let ca: Vec<&CaseResult> = common.iter().map(|id| by_id[a][id]).collect();
                    let cb: Vec<&CaseResult> = common.iter().map(|id| by_id[b][id]).collect();
                    let (va, vb) = (policed(&ca, label, metric)?, policed(&cb, label, metric)?);
                    let keep: Vec<usize> =
                        (0..common.len()).filter(|&i| (va[i] - vb[i]).is_finite()).collect();
                    let d: Vec<f64> = keep.iter().map(|&i| va[i] - vb[i]).collect();
                    let ids: Vec<&str> = keep.iter().map(|&i| common[i]).collect();
                    let (mut row_low, mut row_high, mut mean_diff, mut p) =
                        (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
                    if !d.is_empty() {
                        let matrix = matrices.get(&ids)?.clone();
                        let ci = Replicates::mean(&matrix, &d)?.interval(&boot)?;
                        (row_low, row_high, mean_diff) = (ci.low, ci.high, ci.estimate);
                        p = wilcoxon(&d, &WilcoxonOptions::default())?.p_value;
                    }
                    paired.push(PairedComparison {
                        metric: metric.clone(),
                        label,
                        model_a: models[a].name.clone(),
                        model_b: models[b].name.clone(),
                        n: d.len(),
                        n_dropped: all - d.len(),
                        mean_diff,
                        ci_low: row_low,
                        ci_high: row_high,
                        p_value: p,
                        p_holm: f64::NAN,
                    });
                }
            }
        }
    }
    // Holm over the whole family of defined p-values.
    let defined: Vec<usize> = (0..paired.len()).filter(|&i| paired[i].p_value.is_finite()).collect();
    if !defined.is_empty() {
        let adjusted = holm(&defined.iter().map(|&i| paired[i].p_value).collect::<Vec<_>>())?;
        for (&i, p) in defined.iter().zip(adjusted) {
            paired[i].p_holm = p;
        }
    }
    // Rankings on the cases every model evaluated.
    let common: Vec<&str> =
        by_id[0].keys().filter(|id| by_id.iter().all(|m| m.contains_key(*id))).copied().collect();
    let mut ranking = Vec::new();
    if common.len() >= 2 {
        let matrix = matrices.get(&common)?.clone();
        for &label in &labels {
            for metric in metrics {
                let mut scores = Vec::new();
                for m in &by_id {
                    let cases: Vec<&CaseResult> = common.iter().map(|id| m[id]).collect();
                    scores.push(policed(&cases, label, metric)?);
                }
                let refs: Vec<&[f64]> = scores.iter().map(Vec::as_slice).collect();
                let ro = RankingOptions {
                    higher_is_better: higher_is_better(metric),
                    ..RankingOptions::default()
                };
                let st = ranking_stability(&refs, &matrix, &ro)?;
                ranking.push(Ranking {
                    metric: metric.clone(),
                    label,
                    n: common.len(),
                    models: models
                        .iter()
                        .zip(&st.models)
                        .zip(&st.ranking)
                        .map(|((m, dist), &rank)| ModelRank {
                            model: m.name.clone(),
                            rank,
                            p_first: dist.p_first,
                            median_rank: dist.median,
                            rank_low: dist.low,
                            rank_high: dist.high,
                            rank_counts: dist.counts.clone(),
                        })
                        .collect(),
                    tau_median: st.tau_median,
                    tau_q1: st.tau_q1,
                    tau_q3: st.tau_q3,
                });
            }
        }
    }
    Ok((paired, ranking))
}
