//! Rankings of models in the style of challengeR (Wiesenfarth et al. 2021), Kendall's τ_b, and the stability of
//! a ranking under the case bootstrap (docs/METHODS.md C.6).

use std::cmp::Ordering;

use crate::exec::{Exec, fill_rows};
use crate::quantile::{median_sorted, quantile_sorted, sort};
use crate::{Error, ResampleMatrix};

/// Kendall's rank correlation τ_b = (n_c − n_d) / √((n₀ − n₁)(n₀ − n₂)), with ties.
///
/// n_c, n_d: concordant and discordant pairs; n₀ = n(n−1)/2; n₁, n₂: pairs tied in x, in y. NaN when it is
/// undefined (fewer than 2 values, or all of x or all of y tied). Equal to `scipy.stats.kendalltau(x, y,
/// variant='b').statistic` and R's `cor(x, y, method = "kendall")`. Counts all pairs: O(n²), meant for
/// rankings of models, not for long series.
///
/// ```
/// // Pairs of (1,2,3,4) vs (1,3,2,4): five concordant, one discordant (2-3), no ties: (5 - 1)/6.
/// let tau = segauge_stats::kendall_tau_b(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0])?;
/// assert!((tau - 2.0 / 3.0).abs() < 1e-15);
/// assert!(segauge_stats::kendall_tau_b(&[1.0, 2.0], &[5.0, 5.0])?.is_nan());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::LengthMismatch`] if the lengths differ, [`Error::NonFinite`] for a NaN.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<f64, Error> {
    if x.len() != y.len() {
        return Err(Error::LengthMismatch { what: "kendall tau y", expected: x.len(), found: y.len() });
    }
    for (what, v) in [("kendall tau x", x), ("kendall tau y", y)] {
        if let Some(index) = v.iter().position(|a| a.is_nan()) {
            return Err(Error::NonFinite { what, index, value: v[index] });
        }
    }
    Ok(tau_b_unchecked(x, y))
}

/// τ_b of two NaN-free samples of equal length.
fn tau_b_unchecked(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as i64;
    let total = n * (n - 1) / 2;
    let (mut x_ties, mut y_ties, mut diff) = (0i64, 0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let dx = x[i].total_cmp(&x[j]);
            let dy = y[i].total_cmp(&y[j]);
            if dx == Ordering::Equal {
                x_ties += 1;
            }
            if dy == Ordering::Equal {
                y_ties += 1;
            }
            if dx != Ordering::Equal && dy != Ordering::Equal {
                diff += if dx == dy { 1 } else { -1 };
            }
        }
    }
    if x_ties == total || y_ties == total {
        return f64::NAN;
    }
    let tau = diff as f64 / ((total - x_ties) as f64).sqrt() / ((total - y_ties) as f64).sqrt();
    tau.clamp(-1.0, 1.0)
}

/// Ranks 1.. of `values` with ties getting the smallest rank ("min"); NaN (missing) values get the worst rank,
/// one more than the largest rank of the others (challengeR's `rankNA2`).
///
/// ```
/// // 0.9 is first, the two 0.8 share rank 2, and the missing value gets 2 + 1.
/// let r = segauge_stats::rank_values(&[0.8, f64::NAN, 0.9, 0.8], true);
/// assert_eq!(r, [2, 3, 1, 2]);
/// let r = segauge_stats::rank_values(&[3.0, 1.0, 3.0], false);
/// assert_eq!(r, [2, 1, 2]);
/// ```
pub fn rank_values(values: &[f64], higher_is_better: bool) -> Vec<u32> {
    let better = |a: f64, b: f64| if higher_is_better { a > b } else { a < b };
    let mut ranks: Vec<u32> = values
        .iter()
        .map(|&v| if v.is_nan() { 0 } else { 1 + values.iter().filter(|&&w| better(w, v)).count() as u32 })
        .collect();
    let worst = ranks.iter().copied().max().unwrap_or(0) + 1;
    for r in &mut ranks {
        if *r == 0 {
            *r = worst;
        }
    }
    ranks
}

/// How per-case values are summarised per model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Aggregate {
    /// The arithmetic mean (default).
    #[default]
    Mean,
    /// The median (the mean of the two middle values for an even count).
    Median,
}

/// The order of ranking and aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RankingScheme {
    /// Aggregate each model's values over the cases, then rank the aggregates (default).
    #[default]
    AggregateThenRank,
    /// Rank the models within each case, aggregate each model's ranks, then rank the aggregated ranks (small is
    /// better).
    RankThenAggregate,
}

/// Options of [`rank_models`] and [`ranking_stability`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankingOptions {
    /// Aggregate-then-rank or rank-then-aggregate (default aggregate-then-rank).
    pub scheme: RankingScheme,
    /// Mean or median (default mean).
    pub aggregate: Aggregate,
    /// Whether larger metric values are better (default true, e.g. Dice; false for distances).
    pub higher_is_better: bool,
    /// A value substituted for missing (NaN) case values before anything else (challengeR's numeric
    /// `na.treat`, e.g. 0 for Dice). Without it (default), missing values are left out of a model's aggregate,
    /// a model with no value gets the worst rank, and in rank-then-aggregate a missing value gets the worst rank
    /// in its case.
    pub missing_value: Option<f64>,
}

impl Default for RankingOptions {
    fn default() -> Self {
        Self {
            scheme: RankingScheme::AggregateThenRank,
            aggregate: Aggregate::Mean,
            higher_is_better: true,
            missing_value: None,
        }
    }
}

/// Per-case scores of every model, prepared for ranking any subset (or resample) of the cases.
struct Ranker<'a> {
    options: RankingOptions,
    n_models: usize,
    /// Aggregate-then-rank: `scores[model][case]`; rank-then-aggregate: unused.
    scores: Vec<&'a [f64]>,
    /// Rank-then-aggregate: the rank of each model in each case, case-major (`case * n_models + model`).
    case_ranks: Vec<f64>,
}

impl<'a> Ranker<'a> {
    fn new(scores: &[&'a [f64]], options: RankingOptions) -> Result<Self, Error> {
        let n_models = scores.len();
        if n_models == 0 {
            return Err(Error::NoCases { what: "ranking (no model)" });
        }
        let n = scores[0].len();
        if n == 0 {
            return Err(Error::NoCases { what: "ranking" });
        }
        if let Some(bad) = scores.iter().find(|s| s.len() != n) {
            return Err(Error::LengthMismatch { what: "model scores", expected: n, found: bad.len() });
        }
        if let Some(v) = options.missing_value.filter(|v| v.is_nan()) {
            return Err(Error::InvalidOption { detail: format!("missing value {v} must not be NaN") });
        }
        let mut case_ranks = Vec::new();
        if options.scheme == RankingScheme::RankThenAggregate {
            case_ranks.reserve(n * n_models);
            let mut row = vec![0.0; n_models];
            for i in 0..n {
                for (m, s) in scores.iter().enumerate() {
                    row[m] = substitute(s[i], options.missing_value);
                }
                case_ranks.extend(rank_values(&row, options.higher_is_better).into_iter().map(f64::from));
            }
        }
        Ok(Self { options, n_models, scores: scores.to_vec(), case_ranks })
    }

    /// The ranking of the models over the cases listed in `cases` (with repetitions).
    fn rank(&self, cases: &[u32], scratch: &mut Vec<f64>) -> Vec<u32> {
        let mut aggregates = vec![0.0; self.n_models];
        for (m, agg) in aggregates.iter_mut().enumerate() {
            scratch.clear();
            match self.options.scheme {
                RankingScheme::AggregateThenRank => scratch.extend(
                    cases
                        .iter()
                        .map(|&i| substitute(self.scores[m][i as usize], self.options.missing_value))
                        .filter(|v| !v.is_nan()),
                ),
                RankingScheme::RankThenAggregate => {
                    scratch.extend(cases.iter().map(|&i| self.case_ranks[i as usize * self.n_models + m]))
                }
            }
            *agg = aggregate(scratch, self.options.aggregate);
        }
        match self.options.scheme {
            RankingScheme::AggregateThenRank => rank_values(&aggregates, self.options.higher_is_better),
            RankingScheme::RankThenAggregate => rank_values(&aggregates, false),
        }
    }
}

fn substitute(v: f64, missing: Option<f64>) -> f64 {
    match missing {
        Some(m) if v.is_nan() => m,
        _ => v,
    }
}

/// The mean (summed in order) or median of `values` (reordered by the median); NaN if empty.
fn aggregate(values: &mut [f64], how: Aggregate) -> f64 {
    match how {
        Aggregate::Mean => values.iter().sum::<f64>() / values.len() as f64,
        Aggregate::Median => {
            sort(values);
            median_sorted(values)
        }
    }
}

/// The ranking of models from per-case scores, `scores[model][case]` (NaN = missing).
///
/// ```
/// use segauge_stats::{RankingOptions, RankingScheme, rank_models};
/// let a = [0.875, 0.625, 0.8125];
/// let b = [0.75, 0.75, 0.75];
/// let c = [1.0, 0.5, f64::NAN];
/// // Means 0.77, 0.75, 0.75 (c without its missing case): a first, b and c tied second.
/// assert_eq!(rank_models(&[&a, &b, &c], &RankingOptions::default())?, [1, 2, 2]);
/// // Per-case ranks (missing = worst): a 2,2,1; b 3,1,2; c 1,3,3 -> mean ranks 1.67, 2, 2.33.
/// let opts = RankingOptions { scheme: RankingScheme::RankThenAggregate, ..RankingOptions::default() };
/// assert_eq!(rank_models(&[&a, &b, &c], &opts)?, [1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::NoCases`] without models or cases, [`Error::LengthMismatch`] if the models have different numbers
/// of cases, [`Error::InvalidOption`] for a NaN `missing_value`.
pub fn rank_models(scores: &[&[f64]], options: &RankingOptions) -> Result<Vec<u32>, Error> {
    let ranker = Ranker::new(scores, *options)?;
    let all: Vec<u32> = (0..scores[0].len() as u32).collect();
    Ok(ranker.rank(&all, &mut Vec::new()))
}

/// The bootstrap distribution of one model's rank.
#[derive(Debug, Clone, PartialEq)]
pub struct RankDistribution {
    /// `counts[r − 1]`: the number of replicates in which the model had rank r (r = 1..number of models; tied
    /// models share the smallest rank, as in [`rank_values`]).
    pub counts: Vec<u32>,
    /// The share of replicates in which the model ranked first, ties shared: in a replicate where k models tie
    /// for first, each gets 1/k. The shares of all models add up to 1.
    pub p_first: f64,
    /// The median rank over the replicates.
    pub median: f64,
    /// The 2.5 % quantile of the rank (numpy's linear quantile, as R's default type 7).
    pub low: f64,
    /// The 97.5 % quantile of the rank.
    pub high: f64,
}

/// How stable a ranking is under resampling of the cases.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingStability {
    /// The ranking on the full data.
    pub ranking: Vec<u32>,
    /// Per model, its rank distribution over the replicates.
    pub models: Vec<RankDistribution>,
    /// The ranking of every replicate, row-major (B × number of models).
    pub replicate_ranks: Vec<u32>,
    /// Kendall's τ_b between each replicate ranking and the full-data ranking (NaN where undefined).
    pub taus: Vec<f64>,
    /// Replicates whose τ_b is undefined (all models tied in the replicate or on the full data); excluded from
    /// the summary.
    pub n_tau_undefined: usize,
    /// The median of the defined τ_b values.
    pub tau_median: f64,
    /// Their 25 % quantile.
    pub tau_q1: f64,
    /// Their 75 % quantile (IQR = `tau_q3 − tau_q1`).
    pub tau_q3: f64,
}

/// The stability of the ranking: each row of `matrix` resamples the cases (the same cases for every model),
/// and the ranking is recomputed on it.
///
/// # Errors
/// As [`rank_models`], plus [`Error::LengthMismatch`] if the matrix has another number of cases.
pub fn ranking_stability(
    scores: &[&[f64]],
    matrix: &ResampleMatrix,
    options: &RankingOptions,
) -> Result<RankingStability, Error> {
    stability_with(Exec::default_for_build(), scores, matrix, options)
}

/// [`ranking_stability`] with an explicit evaluation strategy.
pub(crate) fn stability_with(
    exec: Exec,
    scores: &[&[f64]],
    matrix: &ResampleMatrix,
    options: &RankingOptions,
) -> Result<RankingStability, Error> {
    let ranker = Ranker::new(scores, *options)?;
    if scores[0].len() != matrix.n_cases() {
        return Err(Error::LengthMismatch {
            what: "model scores vs resample matrix",
            expected: matrix.n_cases(),
            found: scores[0].len(),
        });
    }
    let n_models = scores.len();
    let all: Vec<u32> = (0..matrix.n_cases() as u32).collect();
    let ranking = ranker.rank(&all, &mut Vec::new());
    let b = matrix.n_resamples();
    let mut replicate_ranks = vec![0u32; b * n_models];
    fill_rows(exec, &mut replicate_ranks, n_models, |row, out| {
        out.copy_from_slice(&ranker.rank(matrix.row(row), &mut Vec::new()));
    });

    let full: Vec<f64> = ranking.iter().map(|&r| f64::from(r)).collect();
    let mut taus = vec![0.0; b];
    fill_rows(exec, &mut taus, 1, |row, out| {
        let r: Vec<f64> =
            replicate_ranks[row * n_models..(row + 1) * n_models].iter().map(|&v| v.into()).collect();
        out[0] = tau_b_unchecked(&r, &full);
    });
    let mut defined: Vec<f64> = taus.iter().copied().filter(|t| !t.is_nan()).collect();
    sort(&mut defined);

    // P(rank 1) with ties shared: a replicate in which k models tie for first gives each 1/k, so the shares of
    // all models add up to 1 (counting a tie as first for every tied model would not).
    let mut first_share = vec![0.0f64; n_models];
    for row in replicate_ranks.chunks_exact(n_models) {
        let k = row.iter().filter(|&&r| r == 1).count();
        for (share, _) in first_share.iter_mut().zip(row).filter(|(_, r)| **r == 1) {
            *share += 1.0 / k as f64;
        }
    }
    let models = (0..n_models)
        .map(|m| {
            let mut counts = vec![0u32; n_models];
            let mut ranks: Vec<f64> = replicate_ranks
                .iter()
                .skip(m)
                .step_by(n_models)
                .map(|&r| {
                    counts[r as usize - 1] += 1;
                    f64::from(r)
                })
                .collect();
            sort(&mut ranks);
            RankDistribution {
                p_first: first_share[m] / b as f64,
                counts,
                median: quantile_sorted(&ranks, 0.5),
                low: quantile_sorted(&ranks, 0.025),
                high: quantile_sorted(&ranks, 0.975),
            }
        })
        .collect();
    Ok(RankingStability {
        ranking,
        models,
        replicate_ranks,
        n_tau_undefined: b - defined.len(),
        tau_median: quantile_sorted(&defined, 0.5),
        tau_q1: quantile_sorted(&defined, 0.25),
        tau_q3: quantile_sorted(&defined, 0.75),
        taus,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_b_with_ties_by_hand() {
        // x = (1, 1, 2), y = (1, 2, 2): pairs (0,1) tied in x, (1,2) tied in y, (0,2) concordant.
        // tau_b = 1 / sqrt(2 * 2) = 0.5 (up to the rounding of 1/sqrt(2)/sqrt(2), as scipy computes it).
        assert!((kendall_tau_b(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]).unwrap() - 0.5).abs() < 1e-15);
        assert_eq!(kendall_tau_b(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(), -1.0);
        assert!(kendall_tau_b(&[], &[]).unwrap().is_nan());
        assert!(kendall_tau_b(&[1.0], &[1.0]).unwrap().is_nan());
        assert!(kendall_tau_b(&[1.0, 2.0], &[1.0]).is_err());
        assert!(kendall_tau_b(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn missing_values_rank_worst() {
        assert_eq!(rank_values(&[f64::NAN, f64::NAN], true), [1, 1]);
        assert_eq!(rank_values(&[2.0, 2.0, f64::NAN, 1.0], false), [2, 2, 3, 1]);
        assert_eq!(rank_values(&[5.0, 5.0, f64::NAN], true), [1, 1, 2]);
        assert!(rank_values(&[], true).is_empty());
    }

    #[test]
    fn missing_value_substitution_and_median() {
        let a = [0.9, 0.6, 0.8];
        let c = [0.95, 0.5, f64::NAN];
        let zero = RankingOptions { missing_value: Some(0.0), ..RankingOptions::default() };
        // With 0 for the missing case c's mean drops to 0.483.
        assert_eq!(rank_models(&[&a, &c], &zero).unwrap(), [1, 2]);
        let median = RankingOptions { aggregate: Aggregate::Median, ..RankingOptions::default() };
        // Medians: a 0.8, c 0.725 (mean of 0.5 and 0.95).
        assert_eq!(rank_models(&[&a, &c], &median).unwrap(), [1, 2]);
        let lower = RankingOptions { higher_is_better: false, ..median };
        assert_eq!(rank_models(&[&a, &c], &lower).unwrap(), [2, 1]);
        assert!(rank_models(&[], &zero).is_err());
        assert!(rank_models(&[&a, &c[..2]], &zero).is_err());
    }

    #[test]
    fn stability_is_thread_independent_and_consistent() {
        let a: Vec<f64> = (0..40).map(|i| f64::from(i % 7) / 8.0).collect();
        let b: Vec<f64> = (0..40).map(|i| f64::from(i % 5) / 8.0 + 0.125).collect();
        let c: Vec<f64> =
            (0..40).map(|i| if i % 9 == 0 { f64::NAN } else { f64::from(i % 3) / 4.0 }).collect();
        let scores: [&[f64]; 3] = [&a, &b, &c];
        let matrix = ResampleMatrix::generate(0, "rank/test", 40, 500).unwrap();
        for scheme in [RankingScheme::AggregateThenRank, RankingScheme::RankThenAggregate] {
            let opts = RankingOptions { scheme, ..RankingOptions::default() };
            let serial = stability_with(Exec::Serial, &scores, &matrix, &opts).unwrap();
            for threads in [1, 2, 8] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                assert_eq!(
                    pool.install(|| stability_with(Exec::Rayon, &scores, &matrix, &opts)).unwrap(),
                    serial
                );
            }
            for m in &serial.models {
                assert_eq!(m.counts.iter().sum::<u32>(), 500);
                assert!(m.low <= m.median && m.median <= m.high);
            }
            assert_eq!(serial.ranking, rank_models(&scores, &opts).unwrap());
            assert!(serial.tau_q1 <= serial.tau_median && serial.tau_median <= serial.tau_q3);
        }
    }

    #[test]
    fn tied_models_share_first_place_so_shares_add_to_one() {
        // Two identical models tie in every replicate: each gets half of P(rank 1), not all of it. A third model
        // always worse gets none.
        let a: Vec<f64> = (0..20).map(|i| f64::from(i % 4) / 4.0).collect();
        let worse: Vec<f64> = a.iter().map(|v| v - 1.0).collect();
        let scores: [&[f64]; 3] = [&a, &a, &worse];
        let matrix = ResampleMatrix::generate(0, "rank/ties", 20, 200).unwrap();
        let st = ranking_stability(&scores, &matrix, &RankingOptions::default()).unwrap();
        let shares: Vec<f64> = st.models.iter().map(|m| m.p_first).collect();
        assert_eq!(shares, [0.5, 0.5, 0.0]);
        // Both tied models still have rank 1 in every replicate (the smallest rank of the tie).
        assert_eq!(st.models[0].counts[0], 200);
        assert_eq!(st.models[1].counts[0], 200);
        // Without ties the share is the plain fraction, and shares add to 1 whatever the data.
        let b: Vec<f64> = (0..20).map(|i| f64::from((i * 7) % 5) / 5.0).collect();
        let st = ranking_stability(&[&a, &b], &matrix, &RankingOptions::default()).unwrap();
        let total: f64 = st.models.iter().map(|m| m.p_first).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }
}
