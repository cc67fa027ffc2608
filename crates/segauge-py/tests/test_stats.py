"""Statistics on per-case values: bootstrap intervals of constant values, the report's intervals reproduced from its
per-case table with the case ids (overall, per subgroup, per pair of models, rankings), exact Wilcoxon p-values
of small samples counted by hand, and rankings of a clearly better and of identical models."""

import itertools
import math

import numpy as np
import pytest

import segauge as sg

from conftest import EXAMPLES

PRED, GT, METADATA = str(EXAMPLES / "pred"), str(EXAMPLES / "gt"), str(EXAMPLES / "cases.csv")
B = 999


@pytest.mark.parametrize("value, n", [(1.0, 4), (0.5, 8), (3.0, 10), (0.25, 16)])
def test_bootstrap_of_constant_values_is_degenerate(value, n):
    # Every replicate and every jackknife mean equals the value (exact sums of a binary fraction): BCa's
    # acceleration is 0/0, so its interval is NaN and flagged degenerate (scipy returns NaN and warns); the
    # percentile and basic intervals are the point itself.
    bca = sg.bootstrap_ci([value] * n, resamples=B)
    assert bca["estimate"] == value and bca["n"] == n and bca["n_dropped"] == 0
    assert math.isnan(bca["ci_low"]) and math.isnan(bca["ci_high"])
    assert "degenerate" in bca["flags"] and bca["method"] == "bca"
    for method in ("percentile", "basic"):
        ci = sg.bootstrap_ci(np.full(n, value), method=method, resamples=B)
        assert (ci["estimate"], ci["ci_low"], ci["ci_high"], ci["method"]) == (value, value, value, method)
        assert "degenerate" not in ci["flags"]
    assert ("small_sample" in bca["flags"]) == (n < 10)


def test_bootstrap_leaves_out_non_finite_values_and_counts_them():
    ci = sg.bootstrap_ci([1.0, math.nan, math.inf, 3.0, -math.inf, 2.0], resamples=B, method="percentile")
    assert (ci["estimate"], ci["n"], ci["n_dropped"]) == (2.0, 3, 3)
    assert 1.0 <= ci["ci_low"] <= ci["ci_high"] <= 3.0  # means of resamples of {1, 2, 3}


def test_bootstrap_properties_without_case_ids():
    rng = np.random.default_rng(1)
    values = rng.normal(0.8, 0.05, 40)
    ci = sg.bootstrap_ci(values, resamples=B)
    assert ci["estimate"] == pytest.approx(float(np.mean(values)), rel=1e-14)
    assert ci["ci_low"] < ci["estimate"] < ci["ci_high"]
    # A wider level gives a wider interval; the same seed the same interval; another seed another one.
    wide = sg.bootstrap_ci(values, resamples=B, level=0.99)
    assert wide["ci_low"] < ci["ci_low"] and wide["ci_high"] > ci["ci_high"]
    assert sg.bootstrap_ci(values, resamples=B) == ci
    assert sg.bootstrap_ci(values, resamples=B, seed=1)["ci_low"] != ci["ci_low"]
    # The half-width of the percentile interval is about 1.96 standard errors.
    pct = sg.bootstrap_ci(values, resamples=9999, method="percentile")
    se = np.std(values) / math.sqrt(len(values))
    assert (pct["ci_high"] - pct["ci_low"]) / 2 == pytest.approx(1.96 * se, rel=0.1)
    with pytest.raises(sg.OptionError, match="level"):
        sg.bootstrap_ci(values, level=1.5)
    with pytest.raises(sg.OptionError, match="method"):
        sg.bootstrap_ci(values, method="studentized")
    with pytest.raises(sg.OptionError, match="case ids"):
        sg.bootstrap_ci(values, case_ids=["a", "b"])


@pytest.fixture(scope="module")
def one_model():
    return sg.evaluate_dirs(PRED, GT, metadata=METADATA, bootstrap=B, progress=False)


def column(rows, metric, label, model=None):
    rows = [r for r in rows if r["label"] == label and (model is None or r["model"] == model)]
    return [r["case"] for r in rows], [r[metric] for r in rows]


@pytest.mark.parametrize("metric, label", [("dice", 1), ("nsd", 2), ("iou", 3)])
def test_case_ids_reproduce_the_reports_interval_exactly(one_model, metric, label):
    ids, values = column(one_model.cases(as_frame=False), metric, label)
    assert len(ids) == 8
    row = next(r for r in one_model.summary(as_frame=False) if r["metric"] == metric and r["label"] == label)
    ci = sg.bootstrap_ci(values, resamples=B, case_ids=ids)
    assert (ci["estimate"], ci["ci_low"], ci["ci_high"]) == (row["estimate"], row["ci_low"], row["ci_high"])
    assert ci["scope"] == row["scope"] and ci["n"] == row["n"]
    # The order of the cases does not matter: the resampling is keyed by the sorted ids.
    order = [3, 0, 7, 5, 1, 6, 2, 4]
    shuffled = sg.bootstrap_ci([values[i] for i in order], resamples=B, case_ids=[ids[i] for i in order])
    assert shuffled == ci


def test_case_ids_reproduce_a_subgroups_interval(one_model):
    meta = {"case_000": "GE", "case_002": "GE", "case_004": "GE", "case_006": "GE"}  # examples/data/cases.csv
    ids, values = column(one_model.cases(as_frame=False), "dice", 1)
    ge = [(i, v) for i, v in zip(ids, values) if i in meta]
    row = next(r for r in one_model.by_subgroup("scanner", as_frame=False)
               if r["value"] == "GE" and r["metric"] == "dice" and r["label"] == 1)
    ci = sg.bootstrap_ci([v for _, v in ge], resamples=B, case_ids=[i for i, _ in ge])
    assert (ci["estimate"], ci["ci_low"], ci["ci_high"]) == (row["estimate"], row["ci_low"], row["ci_high"])


def exact_wilcoxon_two_sided(d):
    """The exact two-sided p of the signed-rank test without ties or zeros, by counting all 2^n sign patterns."""
    ranks = np.argsort(np.argsort(np.abs(d))) + 1
    w_minus = sum(r for r, x in zip(ranks, d) if x < 0)
    n = len(d)
    sums = [sum(s) for k in range(n + 1) for s in itertools.combinations(range(1, n + 1), k)]
    w = min(w_minus, n * (n + 1) // 2 - w_minus)
    return min(1.0, 2 * sum(1 for s in sums if s <= w) / 2 ** n)


def test_paired_significance_of_small_samples_counted_by_hand():
    # n = 5, every difference positive: only the all-positive and all-negative sign patterns are as extreme,
    # p = 2 / 2^5; the interval lies above 0.
    a, b = [0.9, 0.85, 0.8, 0.95, 0.7], [0.6, 0.8, 0.4, 0.75, 0.69]
    out = sg.paired_significance(a, b, resamples=B)
    assert out["p_value"] == 2 / 32 == 0.0625
    assert out["mean_diff"] == pytest.approx(float(np.mean(np.subtract(a, b))), rel=1e-14)
    assert 0 < out["ci_low"] < out["mean_diff"] < out["ci_high"]
    assert (out["n"], out["n_dropped"]) == (5, 0)
    # Swapped: the same p, the interval below 0.
    swapped = sg.paired_significance(b, a, resamples=B)
    assert swapped["p_value"] == 0.0625 and swapped["ci_high"] < 0
    assert swapped["mean_diff"] == pytest.approx(-out["mean_diff"], rel=1e-14)
    # Mixed signs: differences 1, -2, 3, 4, 5; W- = 2, and 3 of the 32 patterns have W- <= 2.
    d = [1.0, -2.0, 3.0, 4.0, 5.0]
    assert exact_wilcoxon_two_sided(d) == 2 * 3 / 32
    assert sg.paired_significance(d, [0.0] * 5, resamples=B)["p_value"] == 2 * 3 / 32
    for d in ([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], [-0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7]):
        got = sg.paired_significance(d, np.zeros(len(d)), resamples=B)["p_value"]
        assert got == pytest.approx(exact_wilcoxon_two_sided(np.array(d)), rel=1e-12)
    # A pair with a non-finite value is dropped and counted.
    out = sg.paired_significance(a + [math.inf], b + [0.5], resamples=B)
    assert (out["n"], out["n_dropped"], out["p_value"]) == (5, 1, 0.0625)
    with pytest.raises(sg.OptionError):
        sg.paired_significance([1.0, 2.0], [1.0])


def test_ranking_of_a_clearly_better_and_of_identical_models():
    rng = np.random.default_rng(2)
    weak = rng.uniform(0.5, 0.7, 20)
    out = sg.ranking_stability({"strong": weak + 0.2, "weak": weak}, resamples=B)
    assert out["models"] == ["strong", "weak"] and out["rank"] == [1, 2]
    assert out["p_first"] == [1.0, 0.0]
    assert out["rank_counts"] == [[B, 0], [0, B]] and out["tau_median"] == 1.0
    # Lower is better: reversed.
    out = sg.ranking_stability({"strong": weak + 0.2, "weak": weak}, higher_is_better=False, resamples=B)
    assert out["rank"] == [2, 1] and out["p_first"] == [0.0, 1.0]
    # Identical models share first place in every replicate.
    out = sg.ranking_stability(np.vstack([weak, weak]), resamples=B)
    assert out["models"] == ["0", "1"] and out["p_first"] == [0.5, 0.5] and out["rank"] == [1, 1]
    # Three models, one identical pair above a third.
    out = sg.ranking_stability(np.vstack([weak + 0.1, weak + 0.1, weak]), resamples=B)
    assert out["p_first"] == [0.5, 0.5, 0.0] and out["rank"][2] == 3
    with pytest.raises(sg.OptionError):
        sg.ranking_stability({"a": [1.0, 2.0], "b": [1.0]})


def test_case_ids_reproduce_the_reports_comparison_and_ranking():
    r = sg.evaluate_dirs({"perfect": GT, "net": PRED}, GT, bootstrap=B, progress=False)
    rows = r.cases(as_frame=False)
    for metric, label in [("dice", 1), ("hd95", 2)]:
        ids, net = column(rows, metric, label, "net")
        ids_p, perfect = column(rows, metric, label, "perfect")
        assert ids == ids_p
        pair = next(x for x in r.paired(as_frame=False) if x["metric"] == metric and x["label"] == label)
        assert (pair["model_a"], pair["model_b"]) == ("perfect", "net")
        got = sg.paired_significance(perfect, net, resamples=B, case_ids=ids)
        for key in ("mean_diff", "ci_low", "ci_high", "p_value", "n"):
            assert got[key] == pair[key], key
        ranking = [x for x in r.ranking(as_frame=False) if x["metric"] == metric and x["label"] == label]
        got = sg.ranking_stability({"perfect": perfect, "net": net}, higher_is_better=metric == "dice",
                                   resamples=B, case_ids=ids)
        assert [x["model"] for x in ranking] == got["models"]
        assert [x["rank"] for x in ranking] == got["rank"] == [1, 2]
        assert [x["p_first"] for x in ranking] == got["p_first"]
        assert [x["rank_counts"] for x in ranking] == got["rank_counts"]
