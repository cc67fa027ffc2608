//! Statistics on plain arrays of per-case values: bootstrap intervals, paired tests, ranking stability, with the
//! report's definitions (segauge-stats) and its random streams, so that values taken from a report's per-case
//! table reproduce the report's own intervals when their case ids are given.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use segauge::stats::{
    BootstrapOptions, CiMethod, RankingOptions, Replicates, ResampleMatrix, WilcoxonOptions, apply_policy,
    ranking_stability as stability, wilcoxon,
};

use crate::raise;

fn stats_error(py: Python<'_>, e: &segauge::stats::Error) -> PyErr {
    raise(py, "OptionError", e.to_string())
}

fn method(py: Python<'_>, name: &str) -> PyResult<CiMethod> {
    match name {
        "bca" => Ok(CiMethod::Bca),
        "percentile" => Ok(CiMethod::Percentile),
        "basic" => Ok(CiMethod::Basic),
        other => Err(raise(
            py,
            "OptionError",
            format!("invalid option: method: {other:?} is not bca, percentile or basic"),
        )),
    }
}

/// The resample matrix of `n` cases: with case ids, the report's (scope `boot/eval/<digest of the sorted ids>`);
/// else the positions `0..n` as ids under the data-set name `array`. Returns the matrix and the order of the
/// values (sorted by id when ids are given).
fn matrix(
    py: Python<'_>,
    n: usize,
    case_ids: Option<Vec<String>>,
    resamples: usize,
    seed: u64,
) -> PyResult<(ResampleMatrix, Vec<usize>, String)> {
    let (dataset, ids): (&str, Vec<String>) = match case_ids {
        Some(ids) if ids.len() != n => {
            return Err(raise(py, "OptionError", format!("{} case ids for {n} values", ids.len())));
        }
        Some(ids) => ("eval", ids),
        None => ("array", (0..n).map(|i| i.to_string()).collect()),
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
    let sorted: Vec<&str> = order.iter().map(|&i| ids[i].as_str()).collect();
    let scope = segauge::eval::resample_scope(dataset, &sorted);
    let m = ResampleMatrix::generate(seed, &scope, n, resamples).map_err(|e| stats_error(py, &e))?;
    Ok((m, order, scope))
}

/// A bootstrap interval of the mean of `values` (non-finite values left out and counted).
#[pyfunction]
#[pyo3(signature = (values, method = "bca", level = 0.95, resamples = 9999, seed = 0, case_ids = None))]
pub(crate) fn bootstrap_ci<'py>(
    py: Python<'py>,
    values: Vec<f64>,
    method: &str,
    level: f64,
    resamples: usize,
    seed: u64,
    case_ids: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let m = self::method(py, method)?;
    let (matrix, order, scope) = matrix(py, values.len(), case_ids, resamples, seed)?;
    let ordered: Vec<f64> = order.iter().map(|&i| values[i]).collect();
    let cleaned = apply_policy(&ordered, segauge::stats::Policy::Omit).map_err(|e| stats_error(py, &e))?;
    let (num, den) = cleaned.ratio_columns();
    let ci = py
        .detach(|| {
            let reps = if den.iter().all(|&d| d == 1.0) {
                Replicates::mean(&matrix, &num)
            } else {
                Replicates::ratio(&matrix, &num, &den)
            }?;
            reps.interval(&BootstrapOptions { method: m, level, bca_fallback_percentile: false })
        })
        .map_err(|e| stats_error(py, &e))?;
    let d = PyDict::new(py);
    d.set_item("estimate", ci.estimate)?;
    d.set_item("ci_low", ci.low)?;
    d.set_item("ci_high", ci.high)?;
    d.set_item("method", format!("{:?}", ci.method).to_lowercase())?;
    d.set_item("n", cleaned.counts.n_used)?;
    d.set_item("n_dropped", values.len() - cleaned.counts.n_used)?;
    let flags: Vec<&str> = [
        (ci.flags.degenerate, "degenerate"),
        (ci.flags.many_nan, "many_nan"),
        (ci.flags.too_few_cases, "too_few_cases"),
        (ci.flags.small_sample, "small_sample"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    d.set_item("flags", flags)?;
    d.set_item("scope", scope)?;
    Ok(d)
}

/// Paired comparison of two models' per-case values: mean difference `a − b` with its bootstrap interval and the
/// two-sided Wilcoxon signed-rank p (cases where either value is not finite are dropped and counted).
#[pyfunction]
#[pyo3(signature = (a, b, method = "bca", level = 0.95, resamples = 9999, seed = 0, case_ids = None))]
#[allow(clippy::too_many_arguments, reason = "the Python signature, one argument each")]
pub(crate) fn paired_significance<'py>(
    py: Python<'py>,
    a: Vec<f64>,
    b: Vec<f64>,
    method: &str,
    level: f64,
    resamples: usize,
    seed: u64,
    case_ids: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    if a.len() != b.len() {
        return Err(raise(py, "OptionError", format!("a has {} values, b {}", a.len(), b.len())));
    }
    let keep: Vec<usize> = (0..a.len()).filter(|&i| (a[i] - b[i]).is_finite()).collect();
    let diffs: Vec<f64> = keep.iter().map(|&i| a[i] - b[i]).collect();
    let ids = case_ids.map(|ids| keep.iter().map(|&i| ids[i].clone()).collect());
    let d = bootstrap_ci(py, diffs.clone(), method, level, resamples, seed, ids)?;
    let p = if diffs.is_empty() {
        f64::NAN
    } else {
        wilcoxon(&diffs, &WilcoxonOptions::default()).map_err(|e| stats_error(py, &e))?.p_value
    };
    d.set_item("mean_diff", d.get_item("estimate")?)?;
    d.del_item("estimate")?;
    d.set_item("p_value", p)?;
    d.set_item("n_dropped", a.len() - diffs.len())?;
    Ok(d)
}

/// Ranking stability of models on per-case values (`scores[m][i]`: model m on case i; the same cases for all):
/// the ranking on all cases, each model's bootstrap rank distribution and P(rank 1) (ties shared), Kendall τ_b.
#[pyfunction]
#[pyo3(signature = (scores, higher_is_better = true, resamples = 9999, seed = 0, case_ids = None))]
pub(crate) fn ranking_stability<'py>(
    py: Python<'py>,
    scores: Vec<Vec<f64>>,
    higher_is_better: bool,
    resamples: usize,
    seed: u64,
    case_ids: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let n = scores.first().map_or(0, Vec::len);
    if scores.iter().any(|s| s.len() != n) {
        return Err(raise(py, "OptionError", "every model needs a value for every case".into()));
    }
    let (matrix, order, scope) = matrix(py, n, case_ids, resamples, seed)?;
    let ordered: Vec<Vec<f64>> = scores.iter().map(|s| order.iter().map(|&i| s[i]).collect()).collect();
    let refs: Vec<&[f64]> = ordered.iter().map(Vec::as_slice).collect();
    let options = RankingOptions { higher_is_better, ..RankingOptions::default() };
    let st = py.detach(|| stability(&refs, &matrix, &options)).map_err(|e| stats_error(py, &e))?;
    let d = PyDict::new(py);
    d.set_item("rank", st.ranking.clone())?;
    d.set_item("p_first", st.models.iter().map(|m| m.p_first).collect::<Vec<_>>())?;
    d.set_item("median_rank", st.models.iter().map(|m| m.median).collect::<Vec<_>>())?;
    d.set_item("rank_low", st.models.iter().map(|m| m.low).collect::<Vec<_>>())?;
    d.set_item("rank_high", st.models.iter().map(|m| m.high).collect::<Vec<_>>())?;
    d.set_item("rank_counts", st.models.iter().map(|m| m.counts.clone()).collect::<Vec<_>>())?;
    d.set_item("tau_median", st.tau_median)?;
    d.set_item("tau_q1", st.tau_q1)?;
    d.set_item("tau_q3", st.tau_q3)?;
    d.set_item("scope", scope)?;
    Ok(d)
}
