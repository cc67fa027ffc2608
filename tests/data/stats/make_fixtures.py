#!/usr/bin/env python3
"""Write expected.json for segauge-stats' integration tests from independent references.

Run from anywhere with a Python that has numpy, scipy and statsmodels:

    python tests/data/stats/make_fixtures.py

Nothing here calls segauge. Every expected value comes from one of:

* scipy.stats (wilcoxon, kendalltau, bootstrap, permutation_test, rankdata) and scipy.special (ndtr, ndtri);
* statsmodels.stats.multitest.multipletests (holm, fdr_bh);
* this script's own ~30-line re-implementation of segauge's random-number recipe (docs/METHODS.md C.2: SHA-256 seeding,
  xoshiro256++, Lemire's bounded draw), checked below against the published xoshiro256++ reference outputs, and
  numpy re-implementations of the interval formulas of docs/METHODS.md C.1 and the ranking rules of C.6 on the resample
  indices that recipe produces.

Inputs are rounded to at most 9 decimals (under 16 significant digits) so that any JSON reader parses them to
the same doubles as Python; values that tests compare bit for bit are either short decimals (k/2^n, k/1000) or
written as IEEE-754 bit patterns. JSON has no NaN: NaN is written as null. Deterministic: fixed seeds
throughout.

expected.json layout (top level):
  "versions": python, numpy, scipy, statsmodels;
  "rng": {"reference_vector", "streams": [{master_seed, scope, state, first}], "below": [{scope, n, draws}],
          "matrix": {master_seed, scope, n, b, rows: {row index: [...]}, sha256 (of the row-major u32 LE bytes)},
          "signs": {master_seed, scope, signs}};
  "normal": {"ndtr": [[x, Φ(x)], ...], "ndtri": [[p, Φ⁻¹(p)], ...]};
  "bootstrap": [{name, kind (mean|ratio|median), master_seed, scope, b, level, inputs, n_nan,
                 estimate, intervals: {bca|percentile|basic: [low, high]}, bca: {z0, a, alpha_low, alpha_high},
                 replicates_head_bits}];
  "scipy_bootstrap": [{name, kind, master_seed, scope, b, level, inputs, runs,
                       methods: {bca|percentile: {low_mean, low_sd, high_mean, high_sd}}}];
  "degenerate": {inputs, scipy_bca: [low, high]};
  "wilcoxon": [{name, d, zero_method, correction, scipy_method, segauge_method, expect_method,
                statistic, pvalue, zstatistic}];
  "adjust": [{p, holm, fdr_bh}];
  "kendall": [{x, y, tau_b}];
  "sign_flip_exact": [{d, pvalue, statistic}];
  "sign_flip_random": {master_seed, scope, b, d, count, pvalue};
  "ranking": [{name, scheme, aggregate, higher_is_better, master_seed, scope, b, scores, ranking, counts, p_first,
               median, low, high, first_replicates, tau_median, tau_q1, tau_q3, n_tau_undefined, taus_head}].
"""

import hashlib
import json
import math
import os
import platform
import struct
import sys
import warnings

import numpy as np
import scipy
import statsmodels
from scipy import stats
from scipy.special import ndtr, ndtri
from statsmodels.stats.multitest import multipletests

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1

# --------------------------------------------------------------------------------------------------------------
# segauge's random numbers (docs/METHODS.md C.2), re-implemented from the recipe.


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Stream:
    """xoshiro256++ seeded with SHA-256("segauge/v1/" + u64_le(seed) + "/" + scope) as 4 little-endian words."""

    def __init__(self, master_seed=0, scope="", state=None):
        if state is None:
            digest = hashlib.sha256(b"segauge/v1/" + struct.pack("<Q", master_seed) + b"/" + scope.encode()).digest()
            state = struct.unpack("<4Q", digest)
        self.s = list(state)

    def next_u64(self):
        s = self.s
        out = (rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return out

    def below(self, n):
        """Lemire: m = x*n; reject while (m mod 2^64) < (2^64 - n) mod n; return m >> 64."""
        m = self.next_u64() * n
        if (m & MASK) < n:
            threshold = ((1 << 64) - n) % n
            while (m & MASK) < threshold:
                m = self.next_u64() * n
        return m >> 64

    def sign(self):
        return 1.0 if self.next_u64() >> 63 == 0 else -1.0


def resample_matrix(master_seed, scope, n, b):
    s = Stream(master_seed, scope)
    return np.array([[s.below(n) for _ in range(n)] for _ in range(b)], dtype=np.int64)


# The first outputs of xoshiro256++ from state (1, 2, 3, 4), as published with the reference C implementation.
REFERENCE_VECTOR = [41943041, 58720359, 3588806011781223, 3591011842654386]
_ref = Stream(state=(1, 2, 3, 4))
assert [_ref.next_u64() for _ in range(4)] == REFERENCE_VECTOR, "xoshiro256++ re-implementation is wrong"


# --------------------------------------------------------------------------------------------------------------
# Helpers.


def clean(obj):
    """JSON-safe copy: numpy scalars to Python, NaN to None."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if math.isnan(v) else v
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def rounded(x, decimals=6):
    return [float(v) for v in np.round(np.asarray(x, dtype=float), decimals)]


def seq_sum_rows(values):
    """Row sums in column order (np.cumsum is a left-to-right running sum, as segauge sums a resample row)."""
    return np.cumsum(values, axis=-1)[..., -1]


def quantile(sorted_or_not, q):
    return float(np.quantile(np.asarray(sorted_or_not, dtype=float), q, method="linear"))


# --------------------------------------------------------------------------------------------------------------
# Bootstrap intervals recomputed with numpy from the indices (docs/METHODS.md C.1).


def intervals(estimate, reps, jack, level):
    """Percentile, basic and BCa intervals of docs/METHODS.md C.1 from replicates (NaN excluded) and jackknife values."""
    finite = np.sort(reps[np.isfinite(reps)])
    alpha = (1 - level) / 2
    q_lo, q_hi = quantile(finite, alpha), quantile(finite, 1 - alpha)
    out = {"percentile": [q_lo, q_hi], "basic": [2 * estimate - q_hi, 2 * estimate - q_lo]}
    p0 = (np.count_nonzero(finite < estimate) + np.count_nonzero(finite <= estimate)) / (2 * len(finite))
    z0 = float(ndtri(p0))
    u = np.mean(jack) - jack
    with np.errstate(invalid="ignore", divide="ignore"):
        a = float(np.sum(u**3) / (6 * np.sum(u**2) ** 1.5))
        z = float(ndtri(alpha))
        a1 = float(ndtr(z0 + (z0 + z) / (1 - a * (z0 + z))))
        a2 = float(ndtr(z0 + (z0 - z) / (1 - a * (z0 - z))))
    if math.isnan(a1) or math.isnan(a2):
        out["bca"] = [float("nan"), float("nan")]
    else:
        out["bca"] = [quantile(finite, a1), quantile(finite, a2)]
    return out, {"z0": z0, "a": a, "alpha_low": a1, "alpha_high": a2}


def bootstrap_case(name, kind, master_seed, scope, b, level, inputs):
    idx = resample_matrix(master_seed, scope, len(next(iter(inputs.values()))), b)
    n = idx.shape[1]
    if kind == "mean":
        x = np.array(inputs["x"])
        reps = seq_sum_rows(x[idx]) / n
        estimate = seq_sum_rows(x) / n
        jack = np.array([seq_sum_rows(np.delete(x, i)) / (n - 1) for i in range(n)])
    elif kind == "median":
        x = np.array(inputs["x"])
        reps = np.median(x[idx], axis=1)
        estimate = float(np.median(x))
        jack = np.array([np.median(np.delete(x, i)) for i in range(n)])
    elif kind == "ratio":
        num, den = np.array(inputs["num"]), np.array(inputs["den"])
        sn, sd = seq_sum_rows(num[idx]), seq_sum_rows(den[idx])
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = np.where(sd == 0, np.nan, sn / sd)
        estimate = num.sum() / den.sum()
        jack = np.array([np.delete(num, i).sum() / np.delete(den, i).sum() for i in range(n)])
    else:
        raise ValueError(kind)
    ints, bca = intervals(float(estimate), reps, jack, level)
    return {
        "name": name,
        "kind": kind,
        "master_seed": master_seed,
        "scope": scope,
        "b": b,
        "level": level,
        "inputs": inputs,
        "estimate": float(estimate),
        "n_nan": int(np.count_nonzero(~np.isfinite(reps))),
        "intervals": ints,
        "bca": bca,
        # The first replicates as IEEE-754 bit patterns (decimal u64 strings), for bit-for-bit comparison.
        "replicates_head_bits": [str(struct.unpack("<Q", struct.pack("<d", v))[0]) for v in reps[:5]],
    }


def bootstrap_fixtures():
    rng = np.random.default_rng(20260101)
    lognormal = rounded(rng.lognormal(mean=0.0, sigma=0.8, size=40))
    # Per-case lesion counts; a few lesion-free cases (all zero) as in real data.
    tp = rng.poisson(2.0, size=60)
    fp = rng.poisson(0.8, size=60)
    fn = rng.poisson(0.9, size=60)
    free = rng.choice(60, size=8, replace=False)
    tp[free] = fp[free] = fn[free] = 0
    f1_num = [float(2 * t) for t in tp]
    f1_den = [float(2 * t + f + g) for t, f, g in zip(tp, fp, fn)]
    # Sparse lesions: only two cases have any, so many replicates have a zero denominator.
    sparse_num = [0.0] * 25
    sparse_den = [0.0] * 25
    sparse_num[4], sparse_den[4] = 2.0, 3.0
    sparse_num[17], sparse_den[17] = 4.0, 4.0
    skewed = rounded(rng.exponential(2.0, size=31), 4)
    cases = [
        bootstrap_case("mean_lognormal_n40", "mean", 0, "boot/fixture/lognormal", 9999, 0.95, {"x": lognormal}),
        bootstrap_case("mean_lognormal_n40_level90", "mean", 0, "boot/fixture/lognormal", 9999, 0.90,
                       {"x": lognormal}),
        bootstrap_case("mean_n2", "mean", 3, "boot/fixture/two", 400, 0.95, {"x": [1.0, 3.0]}),
        bootstrap_case("micro_f1_n60", "ratio", 0, "boot/fixture/f1", 9999, 0.95, {"num": f1_num, "den": f1_den}),
        bootstrap_case("sparse_ratio_n25", "ratio", 1, "boot/fixture/sparse", 9999, 0.95,
                       {"num": sparse_num, "den": sparse_den}),
        bootstrap_case("median_n31", "median", 0, "boot/fixture/median", 4999, 0.95, {"x": skewed}),
    ]
    # scipy.stats.bootstrap on the same data: a different RNG, so only Monte-Carlo agreement is expected. R runs
    # with different seeds give the mean and standard deviation of scipy's endpoints.
    runs = 30
    scipy_cases = []

    def summarize(fn):
        out = {}
        for method in ("BCa", "percentile"):
            lows, highs = [], []
            for r in range(runs):
                res = fn(method, np.random.default_rng(1000 + r))
                lows.append(res.confidence_interval.low)
                highs.append(res.confidence_interval.high)
            out[method.lower()] = {
                "low_mean": float(np.mean(lows)),
                "low_sd": float(np.std(lows, ddof=1)),
                "high_mean": float(np.mean(highs)),
                "high_sd": float(np.std(highs, ddof=1)),
            }
        return out

    x = np.array(lognormal)
    scipy_cases.append({
        "name": "mean_lognormal_n40", "kind": "mean", "master_seed": 0, "scope": "boot/fixture/lognormal",
        "b": 9999, "level": 0.95, "inputs": {"x": lognormal}, "runs": runs,
        "methods": summarize(lambda m, g: stats.bootstrap((x,), np.mean, method=m, n_resamples=9999, rng=g)),
    })
    tpa, fpa, fna = np.array(tp, float), np.array(fp, float), np.array(fn, float)

    def micro_f1(t, f, g, axis=-1):
        st = t.sum(axis=axis)
        return 2 * st / (2 * st + f.sum(axis=axis) + g.sum(axis=axis))

    scipy_cases.append({
        "name": "micro_f1_n60", "kind": "ratio", "master_seed": 0, "scope": "boot/fixture/f1",
        "b": 9999, "level": 0.95, "inputs": {"num": f1_num, "den": f1_den}, "runs": runs,
        "methods": summarize(lambda m, g: stats.bootstrap(
            (tpa, fpa, fna), micro_f1, paired=True, vectorized=True, method=m, n_resamples=9999, rng=g)),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        const = np.full(12, 0.75)
        res = stats.bootstrap((const,), np.mean, method="BCa", n_resamples=999, rng=np.random.default_rng(0))
    degenerate = {"inputs": {"x": const.tolist()}, "scipy_bca": [res.confidence_interval.low,
                                                                res.confidence_interval.high]}
    return cases, scipy_cases, degenerate


# --------------------------------------------------------------------------------------------------------------
# Paired tests, adjustment, Kendall, ranking.


def wilcoxon_fixtures():
    rng = np.random.default_rng(7)
    out = []

    def add(name, d, zero_method, correction, scipy_method, segauge_method, expect_method):
        d = [float(v) for v in d]
        res = stats.wilcoxon(d, zero_method=zero_method, correction=correction, method=scipy_method)
        out.append({
            "name": name, "d": d, "zero_method": zero_method, "correction": correction,
            "scipy_method": scipy_method, "segauge_method": segauge_method, "expect_method": expect_method,
            "statistic": float(res.statistic), "pvalue": float(res.pvalue),
            "zstatistic": float(getattr(res, "zstatistic", float("nan"))),
        })

    add("exact_doc_n5", [1, 2, -3, 4, 5], "wilcox", False, "exact", "auto", "exact")
    add("exact_n12", rounded(rng.normal(0.3, 1, 12)), "wilcox", False, "exact", "auto", "exact")
    add("exact_n20_small_p", rounded(rng.normal(1.0, 1, 20)), "wilcox", False, "exact", "auto", "exact")
    add("exact_n50", rounded(rng.normal(0.2, 1, 50)), "wilcox", False, "exact", "auto", "exact")
    big = rounded(rng.normal(0.25, 1, 80))
    add("normal_n80", big, "wilcox", False, "asymptotic", "auto", "asymptotic")
    add("normal_n80_continuity", big, "wilcox", True, "asymptotic", "auto", "asymptotic")
    ties = [v if v != 0 else 0.5 for v in np.round(rng.normal(0.4, 1.2, 30) * 2) / 2]
    add("ties_n30", ties, "wilcox", False, "asymptotic", "auto", "asymptotic")
    add("ties_n30_continuity", ties, "wilcox", True, "asymptotic", "auto", "asymptotic")
    add("ties_n30_forced_exact", ties, "wilcox", False, "exact", "exact", "exact")
    zeros = list(np.round(rng.normal(0.3, 1.0, 25) * 2) / 2)
    zeros[:4] = [0.0, 0.0, 0.0, 0.0]
    add("zeros_wilcox_n25", zeros, "wilcox", False, "asymptotic", "auto", "asymptotic")
    add("zeros_pratt_n25", zeros, "pratt", False, "asymptotic", "auto", "asymptotic")
    add("zeros_pratt_n25_continuity", zeros, "pratt", True, "asymptotic", "auto", "asymptotic")
    add("zeros_wilcox_n25_continuity", zeros, "wilcox", True, "asymptotic", "auto", "asymptotic")
    add("exact_n12_as_normal", out[1]["d"], "wilcox", False, "asymptotic", "asymptotic", "asymptotic")
    return out


def adjust_fixtures():
    rng = np.random.default_rng(11)
    vectors = [
        [0.01, 0.04, 0.03],
        [0.001, 0.2, 0.04, 0.04, 0.5, 0.012, 0.9, 0.0001],
        list(rng.uniform(0, 0.2, 15)),
        [0.6, 0.55, 0.01, 1.0, 0.0],
        [0.3],
    ]
    out = []
    for p in vectors:
        p = [float(v) for v in p]
        out.append({
            "p": p,
            "holm": multipletests(p, method="holm")[1],
            "fdr_bh": multipletests(p, method="fdr_bh")[1],
        })
    return out


def kendall_fixtures():
    rng = np.random.default_rng(13)
    pairs = [
        (rng.integers(0, 5, 20), rng.integers(0, 4, 20)),
        (rounded(rng.normal(size=25), 2), rounded(rng.normal(size=25), 1)),
        ([1, 2, 3, 4], [1, 3, 2, 4]),
        ([1, 1, 2], [1, 2, 2]),
        ([1, 2, 3, 4, 5], [2, 2, 2, 2, 2]),
        ([4, 3, 2, 1, 1], [1, 2, 3, 3, 4]),
    ]
    out = []
    for x, y in pairs:
        x = [float(v) for v in x]
        y = [float(v) for v in y]
        out.append({"x": x, "y": y, "tau_b": float(stats.kendalltau(x, y, variant="b").statistic)})
    return out


def sign_flip_fixtures():
    rng = np.random.default_rng(17)

    def mean(x, axis=-1):
        return np.mean(x, axis=axis)

    exact = []
    for d in (
        [1.0, 2.0, -1.0, 3.0, 2.0, -2.0, 1.0, 3.0],
        rounded(rng.normal(0.4, 1, 12), 3),
        [0.0, 0.0] + rounded(rng.normal(0.5, 1, 13), 2),
        [1.0, -1.0, 2.0, -2.0],
        rounded(rng.normal(0.8, 1, 16), 3),
    ):
        res = stats.permutation_test((np.array(d),), mean, permutation_type="samples", vectorized=True,
                                     n_resamples=np.inf, alternative="two-sided")
        exact.append({"d": d, "pvalue": float(res.pvalue), "statistic": float(res.statistic)})
    # Random sign vectors from segauge's stream, counted here with the same tolerance as segauge and scipy.
    d = rounded(rng.normal(0.3, 1, 30), 4)
    s = Stream(5, "perm/fixture/a|b/dice")
    b = 9999
    obs = sum(d) / len(d)
    threshold = abs(obs) - 100 * sys.float_info.epsilon * abs(obs)
    count = 0
    for _ in range(b):
        total = 0.0
        for v in d:
            total += s.sign() * v
        if abs(total / len(d)) >= threshold:
            count += 1
    random = {"master_seed": 5, "scope": "perm/fixture/a|b/dice", "b": b, "d": d, "count": count,
              "pvalue": (1 + count) / (b + 1)}
    return exact, random


def rank_na2(values, higher_is_better):
    """challengeR's rankNA2 with ties 'min': NaN gets one more than the largest other rank."""
    v = np.asarray(values, dtype=float)
    key = -v if higher_is_better else v
    r = np.zeros(len(v))
    ok = ~np.isnan(v)
    if ok.any():
        r[ok] = stats.rankdata(key[ok], method="min")
    r[~ok] = (r[ok].max() if ok.any() else 0) + 1
    return r.astype(int)


def ranking_fixtures():
    rng = np.random.default_rng(19)
    n, models = 30, 4
    # Multiples of 1/8 (exact sums in any order), so that ties between models happen and are exact.
    scores = rng.integers(3, 8, size=(models, n)).astype(float) / 8
    scores[1] = np.minimum(scores[1] + rng.integers(0, 2, n) / 8, 1.0)
    scores[3, [2, 9, 21]] = np.nan
    out = []
    for name, scheme, agg, hib, b in (
        ("atr_mean", "aggregate-then-rank", "mean", True, 1000),
        ("atr_median", "aggregate-then-rank", "median", True, 1000),
        ("rta_mean", "rank-then-aggregate", "mean", True, 1000),
        ("atr_mean_lower_better", "aggregate-then-rank", "mean", False, 1000),
    ):
        idx = resample_matrix(0, "rank/fixture", n, b)
        case_ranks = np.array([rank_na2(scores[:, i], hib) for i in range(n)], dtype=float)  # n x models

        def rank_of(cases):
            aggs = []
            for m in range(models):
                if scheme == "aggregate-then-rank":
                    v = scores[m, cases]
                    v = v[~np.isnan(v)]
                else:
                    v = case_ranks[cases, m]
                if len(v) == 0:
                    aggs.append(np.nan)
                elif agg == "mean":
                    aggs.append(seq_sum_rows(v) / len(v))
                else:
                    aggs.append(np.median(v))
            return rank_na2(aggs, hib if scheme == "aggregate-then-rank" else False)

        full = rank_of(np.arange(n))
        reps = np.array([rank_of(row) for row in idx])
        taus = np.array([stats.kendalltau(r, full, variant="b").statistic for r in reps])
        ok = taus[~np.isnan(taus)]
        out.append({
            "name": name, "scheme": scheme, "aggregate": agg, "higher_is_better": hib,
            "master_seed": 0, "scope": "rank/fixture", "b": b, "scores": scores,
            "ranking": full,
            "counts": [[int(np.count_nonzero(reps[:, m] == r)) for r in range(1, models + 1)] for m in range(models)],
            # P(rank 1), a tie for first shared equally: a replicate where k models rank first gives each 1/k;
            # summed replicate by replicate in order, then divided by B (the order segauge sums in).
            "p_first": [sum(1.0 / int(np.count_nonzero(r == 1)) for r in reps if r[m] == 1) / b
                        for m in range(models)],
            "median": [quantile(reps[:, m], 0.5) for m in range(models)],
            "low": [quantile(reps[:, m], 0.025) for m in range(models)],
            "high": [quantile(reps[:, m], 0.975) for m in range(models)],
            "first_replicates": reps[:5],
            "taus_head": taus[:10],
            "tau_median": quantile(ok, 0.5),
            "tau_q1": quantile(ok, 0.25),
            "tau_q3": quantile(ok, 0.75),
            "n_tau_undefined": int(np.count_nonzero(np.isnan(taus))),
        })
    return out


def rng_fixtures():
    streams = []
    for seed, scope in ((0, "boot/fixture/rng"), (1, "boot/fixture/rng"), (0, ""), (2**64 - 1, "perm/a|b/dice")):
        s = Stream(seed, scope)
        state = list(s.s)
        streams.append({"master_seed": str(seed), "scope": scope, "state": [str(v) for v in state],
                        "first": [str(s.next_u64()) for _ in range(8)]})
    below = []
    for n in (6, 1000, 2**32 - 1, 2**63 + 1, 3 * 2**62 + 12345, 2**64 - 1):
        s = Stream(0, f"rng/below/{n}")
        below.append({"scope": f"rng/below/{n}", "n": str(n), "draws": [str(s.below(n)) for _ in range(40)]})
    n, b = 1000, 500
    m = resample_matrix(0, "boot/fixture/rng", n, b)
    matrix = {"master_seed": 0, "scope": "boot/fixture/rng", "n": n, "b": b,
              "rows": {str(r): m[r].tolist() for r in (0, 1, 2, b - 1)},
              "sha256": hashlib.sha256(m.astype("<u4").tobytes()).hexdigest()}
    s = Stream(0, "perm/fixture/signs")
    signs = {"master_seed": 0, "scope": "perm/fixture/signs", "signs": [s.sign() for _ in range(64)]}
    return {"reference_vector": [str(v) for v in REFERENCE_VECTOR], "streams": streams, "below": below,
            "matrix": matrix, "signs": signs}


def normal_fixtures():
    xs = [-37.5, -20.0, -10.0, -5.5, -3.0, -2.1, -1.0, -0.5, -0.1, 0.0, 0.25, 1.0, 1.7, 3.3, 6.0, 8.5]
    ps = [1e-300, 1e-20, 1e-8, 0.001, 0.025, 0.2, 0.5, 0.7, 0.975, 0.999, 1 - 1e-12]
    return {"ndtr": [[x, float(ndtr(x))] for x in xs], "ndtri": [[p, float(ndtri(p))] for p in ps]}


def main():
    boot, scipy_boot, degenerate = bootstrap_fixtures()
    exact, random = sign_flip_fixtures()
    doc = {
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                     "statsmodels": statsmodels.__version__},
        "rng": rng_fixtures(),
        "normal": normal_fixtures(),
        "bootstrap": boot,
        "scipy_bootstrap": scipy_boot,
        "degenerate": degenerate,
        "wilcoxon": wilcoxon_fixtures(),
        "adjust": adjust_fixtures(),
        "kendall": kendall_fixtures(),
        "sign_flip_exact": exact,
        "sign_flip_random": random,
        "ranking": ranking_fixtures(),
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(clean(doc), f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
