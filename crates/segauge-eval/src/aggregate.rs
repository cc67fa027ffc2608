//! Data-set aggregates: every metric and label with a bootstrap confidence interval, per subgroup of the case
//! metadata, and, for several models, paired comparisons and ranking stability (segauge-stats; docs/METHODS.md C).
//!
//! Every case set has one resample matrix, shared by every metric, label and model of that set. Its random
//! stream's scope is `boot/<dataset>/<hex>`, `<hex>` being the first 8 bytes of the SHA-256 of the set's sorted
//! case ids (each followed by a newline), so that the same cases get the same intervals however they were selected:
//! a subgroup evaluated on its own reproduces its subgroup row exactly. Per-case values go through the inf/NaN
//! policy first (distances: +inf capped at the cap option or at the case's physical image diagonal by default);
//! the counts of what the policy did are kept with every estimate. Detection scores are micro: ratios of case
//! totals (docs/METHODS.md C.1), recomputed from the resampled totals. Failed cases are never silently dropped: every
//! estimate states `n` (values used), `n_cases` (cases evaluated) and `n_failed`.
//!
//! **Architecture Invariant:** a resample matrix depends only on the seed and the case ids of its set, never on
//! the order cases finished in, the thread count or which other sets exist, because intervals must be
//! bit-identical between runs, machines and shardings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use segauge_stats::{
    CiMethod, Policy, RankingOptions, Replicates, ResampleMatrix, WilcoxonOptions, apply_policy, holm,
    ranking_stability, wilcoxon,
};

use crate::Error;
use crate::catalogue::{Aggregation, Better, Catalogue, Metric};
use crate::measure::{CaseResult, Evaluation, LabelResult};
use crate::options::{AggregateOptions, InfPolicy, Metadata, Options};
use crate::structures::Structure;

/// Whether an estimate is a mean of per-case values or a ratio of case totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstimateKind {
    /// Mean of per-case values after the policy.
    Mean,
    /// Ratio of summed case counts (micro detection scores).
    Micro,
    /// The mean over structures of each structure's mean (nnU-Net's `foreground_mean`): its structure is
    /// [`Structure::foreground_mean`]; `n` counts the values used over all structures.
    ForegroundMean,
}

/// One aggregate: a metric of a label (of a model) over a case set, with its interval and its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The metric (its key, name, unit and direction: [`Report::catalogue`]).
    pub metric: Metric,
    /// The structure.
    pub structure: Structure,
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
    pub metric: Metric,
    /// The structure.
    pub structure: Structure,
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
    pub metric: Metric,
    /// The structure.
    pub structure: Structure,
    /// Cases used (evaluated by every model).
    pub n: usize,
    /// Per-case values left out of the models' means, summed over the models: NaN after the policy (e.g. a
    /// structure absent from both sides under `--both-empty nan`). A model's mean is over its other cases.
    pub n_nan: usize,
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
    /// The structure.
    pub structure: Structure,
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

/// Everything a data-set evaluation computed: the per-case results of each model and every aggregate, with the
/// options and the metric catalogue that say what was computed. The output formats (segauge-report) render it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The models, in the order given.
    pub models: Vec<ModelRun>,
    /// The options everything was computed with (per-case options as resolved, see
    /// [`EvalOptions::resolved`](crate::EvalOptions::resolved)).
    pub options: Options,
    /// The metrics of these options: keys, names, units, directions.
    pub catalogue: Catalogue,
    /// The ground-truth folder the cases came from, when there is one.
    pub gt_dir: Option<PathBuf>,
    /// Case metadata: case id → column → value.
    pub metadata: Metadata,
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

/// A structure of the data set, with its position in the cases' rows (each case lists the structures of its
/// evaluation in order, so the position finds the row without a search).
#[derive(Clone, Copy)]
struct Row<'a> {
    structure: &'a Structure,
    index: usize,
}

impl Row<'_> {
    /// This structure's row in `case`.
    fn of<'c>(&self, case: &'c CaseResult) -> Option<&'c LabelResult> {
        match case.labels.get(self.index) {
            Some(l) if l.structure.name == self.structure.name => Some(l),
            _ => case.get(&self.structure.name),
        }
    }
}

/// The rows of `structures`.
fn rows(structures: &[Structure]) -> Vec<Row<'_>> {
    structures.iter().enumerate().map(|(index, structure)| Row { structure, index }).collect()
}

/// The value of a metric for one structure of one case (NaN when the structure or metric is missing).
fn value(case: &CaseResult, row: Row<'_>, metric: Metric) -> f64 {
    row.of(case).map_or(f64::NAN, |l| metric.value(l).as_f64())
}

/// The cases in which `row`'s structure is absent from both sides.
fn both_empty_cases(cases: &[&CaseResult], row: Row<'_>) -> usize {
    cases
        .iter()
        .filter(|c| row.of(c).is_some_and(|l| l.empty_state() == segauge_metrics::EmptyState::BothEmpty))
        .count()
}

/// The physical diagonal of a case's image, mm: the largest distance inside its field of view.
fn diagonal(case: &CaseResult) -> f64 {
    (0..3).map(|a| (case.shape[a] as f64 * case.spacing[a]).powi(2)).sum::<f64>().sqrt()
}

/// The random-stream scope of a case set: `boot/<dataset>/<hex>`, `<hex>` the first 8 bytes of the SHA-256 of
/// the ids (sorted, as every case set of a report is), each followed by a newline. The same cases get the same
/// resample matrix however they were selected (a subgroup evaluated alone reproduces its subgroup row exactly),
/// and with it anyone can regenerate a report's resample indices.
///
/// ```
/// let s = segauge_eval::resample_scope("eval", &["case_000", "case_001"]);
/// assert!(s.starts_with("boot/eval/") && s.len() == "boot/eval/".len() + 16);
/// ```
pub fn resample_scope(dataset: &str, ids: &[&str]) -> String {
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
        let key = resample_scope(&self.options.dataset, ids);
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
    row: Row<'_>,
    metric: Metric,
    options: &AggregateOptions,
) -> Result<(Vec<f64>, Vec<f64>, segauge_stats::PolicyCounts), segauge_stats::Error> {
    let raw: Vec<f64> = cases.iter().map(|c| value(c, row, metric)).collect();
    let caps: Vec<f64> = cases.iter().map(|c| options.hd_cap.unwrap_or_else(|| diagonal(c))).collect();
    let policy = match options.inf_policy {
        InfPolicy::Cap if metric.is_distance() => Policy::CapEach(&caps),
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
    rows: &[Row<'_>],
    metrics: &[Metric],
    model: Option<&str>,
    matrices: &mut Matrices<'_>,
    options: &AggregateOptions,
    foreground: bool,
) -> Result<Vec<Estimate>, segauge_stats::Error> {
    let boot = options.bootstrap();
    let ids: Vec<&str> = cases.iter().map(|c| c.case.as_str()).collect();
    let mut out = Vec::new();
    if cases.is_empty() {
        return Ok(out);
    }
    let matrix = matrices.get(&ids)?.clone();
    let case_scope = resample_scope(&options.dataset, &ids);
    for &row in rows {
        let both_empty = both_empty_cases(cases, row);
        // (estimate, low, high), the method used, the flags.
        type Interval = ((f64, f64, f64), CiMethod, Vec<&'static str>);
        let interval = |reps: Replicates| -> Result<Interval, segauge_stats::Error> {
            let ci = reps.interval(&boot)?;
            Ok(((ci.estimate, ci.low, ci.high), ci.method, flags_of(&ci)))
        };
        let mut push_estimate = |metric: Metric,
                                 kind,
                                 ((estimate, ci_low, ci_high), method, flags): Interval,
                                 counts: segauge_stats::PolicyCounts| {
            out.push(Estimate {
                metric,
                structure: row.structure.clone(),
                model: model.map(str::to_string),
                kind,
                estimate,
                ci_low,
                ci_high,
                method,
                n: counts.n_used,
                n_cases: cases.len(),
                n_failed,
                n_inf: counts.n_inf,
                n_nan: counts.n_nan,
                n_capped: counts.n_capped,
                n_both_empty: both_empty,
                flags,
                scope: case_scope.clone(),
            });
        };
        let lesion_totals: Vec<(f64, f64, f64)> = cases
            .iter()
            .map(|c| {
                row.of(c)
                    .and_then(|l| l.lesions.as_ref())
                    .map_or((0.0, 0.0, 0.0), |r| (r.tp as f64, r.fp as f64, r.fn_ as f64))
            })
            .collect();
        for &metric in metrics {
            if metric.aggregation() == Aggregation::Micro {
                let (num, den): (Vec<f64>, Vec<f64>) = lesion_totals
                    .iter()
                    .map(|&(tp, fp, fn_)| metric.micro_ratio(tp, fp, fn_).unwrap_or((f64::NAN, 1.0)))
                    .unzip();
                let reps = Replicates::ratio(&matrix, &num, &den)?;
                let counts = segauge_stats::PolicyCounts {
                    n_total: cases.len(),
                    n_used: cases.len(),
                    ..Default::default()
                };
                push_estimate(metric, EstimateKind::Micro, interval(reps)?, counts);
                continue;
            }
            let (num, den, counts) = cleaned(cases, row, metric, options)?;
            if num.iter().any(|v| !v.is_finite()) {
                // Only under `propagate`: the mean is inf or NaN, as asked, and no interval exists.
                let mean = num.iter().sum::<f64>() / num.len() as f64;
                let none = ((mean, f64::NAN, f64::NAN), options.method, vec!["non_finite"]);
                push_estimate(metric, EstimateKind::Mean, none, counts);
                continue;
            }
            let reps = if den.iter().all(|&d| d == 1.0) {
                Replicates::mean(&matrix, &num)?
            } else {
                Replicates::ratio(&matrix, &num, &den)?
            };
            push_estimate(metric, EstimateKind::Mean, interval(reps)?, counts);
        }
    }
    if foreground && !rows.is_empty() {
        out.extend(foreground_means(cases, n_failed, rows, metrics, model, &matrix, &case_scope, options)?);
    }
    Ok(out)
}

/// The foreground mean of every mean metric over `rows` (nnU-Net's `foreground_mean`, docs/METHODS.md C.7): each
/// structure's mean over the cases where its value is used (after the policy; NaN left out), then the plain mean
/// of those structure means. Its interval resamples cases, recomputing every structure's mean in each replicate
/// from the same resample matrix. A structure with no value used makes the foreground mean NaN, as in nnU-Net.
#[allow(clippy::too_many_arguments)] // the case set, its context and the options travel together
fn foreground_means(
    cases: &[&CaseResult],
    n_failed: usize,
    rows: &[Row<'_>],
    metrics: &[Metric],
    model: Option<&str>,
    matrix: &ResampleMatrix,
    case_scope: &str,
    options: &AggregateOptions,
) -> Result<Vec<Estimate>, segauge_stats::Error> {
    let boot = options.bootstrap();
    let mut out = Vec::new();
    for &metric in metrics.iter().filter(|m| m.aggregation() == Aggregation::Mean) {
        let mut columns = Vec::with_capacity(rows.len());
        let mut total = segauge_stats::PolicyCounts::default();
        let mut both_empty = 0;
        for &row in rows {
            let (num, den, counts) = cleaned(cases, row, metric, options)?;
            total.n_total += counts.n_total;
            total.n_used += counts.n_used;
            total.n_inf += counts.n_inf;
            total.n_nan += counts.n_nan;
            total.n_capped += counts.n_capped;
            both_empty += both_empty_cases(cases, row);
            columns.push((num, den));
        }
        let statistic = |idx: &[u32]| -> f64 {
            let mut sum = 0.0;
            for (num, den) in &columns {
                let (mut n, mut d) = (0.0, 0.0);
                for &i in idx {
                    n += num[i as usize];
                    d += den[i as usize];
                }
                sum += n / d;
            }
            sum / columns.len() as f64
        };
        let finite = columns.iter().all(|(num, _)| num.iter().all(|v| v.is_finite()));
        let (estimate, ci_low, ci_high, method, flags) = if finite {
            let ci = Replicates::statistic(matrix, statistic)?.interval(&boot)?;
            (ci.estimate, ci.low, ci.high, ci.method, flags_of(&ci))
        } else {
            // Only under `propagate`: non-finite as asked, no interval.
            let all: Vec<u32> = (0..cases.len() as u32).collect();
            (statistic(&all), f64::NAN, f64::NAN, options.method, vec!["non_finite"])
        };
        out.push(Estimate {
            metric,
            structure: Structure::foreground_mean(),
            model: model.map(str::to_string),
            kind: EstimateKind::ForegroundMean,
            estimate,
            ci_low,
            ci_high,
            method,
            n: total.n_used,
            n_cases: cases.len(),
            n_failed,
            n_inf: total.n_inf,
            n_nan: total.n_nan,
            n_capped: total.n_capped,
            n_both_empty: both_empty,
            flags,
            scope: case_scope.to_string(),
        });
    }
    Ok(out)
}

/// Computes every aggregate of a data-set report from the per-case results of one or more models: the second
/// step of [`run`](crate::run), usable on its own on records computed elsewhere.
///
/// `metadata` maps case ids to their metadata columns (cases without an entry have no values); `gt_dir` is
/// written into the outputs as where the ground truths came from.
///
/// # Errors
/// [`Error::InvalidOption`] for invalid options (B = 0, a level outside (0, 1), a cap that is not positive and
/// finite, a subgroup column that no case has); [`Error::Stats`] if an interval cannot be formed.
pub fn aggregate(
    models: Vec<ModelRun>,
    metadata: Metadata,
    gt_dir: Option<PathBuf>,
    options: &Options,
) -> Result<Report, Error> {
    options.aggregate.validate()?;
    let eval_options = options.eval.resolved();
    let options = &Options { eval: eval_options, aggregate: options.aggregate.clone() };
    let aggregate_options = &options.aggregate;
    let subgroup_columns = aggregate_options.subgroup_columns(&metadata)?;
    let catalogue = Catalogue::new(&options.eval);
    let metrics: Vec<Metric> = catalogue.aggregated().collect();
    let several = models.len() > 1;
    let foreground = aggregate_options.foreground_mean || options.eval.convention.foreground_mean();
    let mut matrices = Matrices { options: aggregate_options, cache: BTreeMap::new() };
    let (mut summary, mut subgroups, mut strata) = (Vec::new(), Vec::new(), Vec::new());
    let meta_value = |case: &str, column: &str| -> String {
        metadata.get(case).and_then(|m| m.get(column)).cloned().unwrap_or_else(|| "(missing)".into())
    };
    for run in &models {
        let ev = &run.evaluation;
        let model = several.then_some(run.name.as_str());
        let rows = rows(&ev.structures);
        let cases: Vec<&CaseResult> = ev.cases.iter().collect();
        summary.extend(estimates(
            &cases,
            ev.failures.len(),
            &rows,
            &metrics,
            model,
            &mut matrices,
            aggregate_options,
            foreground,
        )?);
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
                let rows = estimates(
                    &members,
                    failed,
                    &rows,
                    &metrics,
                    model,
                    &mut matrices,
                    aggregate_options,
                    foreground,
                )?;
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
        for &row in &rows {
            let mut totals: Vec<StratumTotals> = Vec::new();
            for c in &cases {
                let Some(r) = row.of(c).and_then(|l| l.lesions.as_ref()) else {
                    continue;
                };
                if totals.is_empty() {
                    totals = r
                        .strata
                        .iter()
                        .map(|s| StratumTotals {
                            structure: row.structure.clone(),
                            model: model.map(str::to_string),
                            counts: s.empty(),
                        })
                        .collect();
                }
                for (t, s) in totals.iter_mut().zip(&r.strata) {
                    t.counts.add(s);
                }
            }
            strata.extend(totals);
        }
    }
    // Paired tests and rankings compare per-case values, so they cover the means; a micro score is a ratio of
    // case totals, which no per-case difference tests.
    let means: Vec<Metric> =
        metrics.iter().copied().filter(|m| m.aggregation() == Aggregation::Mean).collect();
    let (paired, ranking) = if several {
        compare_models(&models, &means, &mut matrices, &options.eval, aggregate_options)?
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Report {
        models,
        options: options.clone(),
        catalogue,
        gt_dir,
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
    metrics: &[Metric],
    matrices: &mut Matrices<'_>,
    eval_options: &crate::EvalOptions,
    options: &AggregateOptions,
) -> Result<(Vec<PairedComparison>, Vec<Ranking>), segauge_stats::Error> {
    let boot = options.bootstrap();
    let by_id: Vec<BTreeMap<&str, &CaseResult>> =
        models.iter().map(|m| m.evaluation.cases.iter().map(|c| (c.case.as_str(), c)).collect()).collect();
    let structures = crate::measure::sorted(
        models.iter().flat_map(|m| m.evaluation.structures.iter().cloned()),
        eval_options,
    );
    let rows = rows(&structures);
    // Per-case values after the policy (NaN where the policy leaves a value out).
    let policed =
        |cases: &[&CaseResult], row: Row<'_>, metric: Metric| -> Result<Vec<f64>, segauge_stats::Error> {
            let (num, den, _) = cleaned(cases, row, metric, options)?;
            Ok(num.iter().zip(&den).map(|(&v, &d)| if d == 1.0 { v } else { f64::NAN }).collect())
        };
    let mut paired = Vec::new();
    for a in 0..models.len() {
        for b in a + 1..models.len() {
            let common: Vec<&str> =
                by_id[a].keys().filter(|id| by_id[b].contains_key(*id)).copied().collect();
            let all = by_id[a].len().max(by_id[b].len());
            for &row in &rows {
                for &metric in metrics {
                    let ca: Vec<&CaseResult> = common.iter().map(|id| by_id[a][id]).collect();
                    let cb: Vec<&CaseResult> = common.iter().map(|id| by_id[b][id]).collect();
                    let (va, vb) = (policed(&ca, row, metric)?, policed(&cb, row, metric)?);
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
                        metric,
                        structure: row.structure.clone(),
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
        for &row in &rows {
            for &metric in metrics {
                let mut scores = Vec::new();
                for m in &by_id {
                    let cases: Vec<&CaseResult> = common.iter().map(|id| m[id]).collect();
                    scores.push(policed(&cases, row, metric)?);
                }
                let n_nan = scores.iter().flatten().filter(|v| v.is_nan()).count();
                let refs: Vec<&[f64]> = scores.iter().map(Vec::as_slice).collect();
                let ro = RankingOptions {
                    higher_is_better: metric.better() == Better::Higher,
                    ..RankingOptions::default()
                };
                let st = ranking_stability(&refs, &matrix, &ro)?;
                ranking.push(Ranking {
                    metric,
                    structure: row.structure.clone(),
                    n: common.len(),
                    n_nan,
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
