"""Reference values for segauge-report's aggregate tests (run once; the tests read expected.json, not Python).

A generated data set of 40 cases whose Dice is known exactly: the ground truth of case i is a bar of 10 voxels,
the prediction a bar of k_i voxels from the same start, so Dice_i = 2·min(k_i, 10) / (10 + k_i). For the mean
Dice, scipy.stats.bootstrap (BCa and percentile, 95 %, 9999 resamples) is run 30 times with different seeds; the
tests accept segauge's interval within Monte Carlo error of those runs.

    python make_fixtures.py  # writes expected.json beside this file
"""

import json
import pathlib

import numpy as np
import scipy
from scipy.stats import bootstrap

rng = np.random.default_rng(5)
ks = [int(k) for k in rng.integers(1, 17, size=40)]
dice = np.array([2 * min(k, 10) / (10 + k) for k in ks])
out = {"versions": {"numpy": np.__version__, "scipy": scipy.__version__}, "ks": ks, "dice": dice.tolist()}
for method in ["BCa", "percentile"]:
    lows, highs = [], []
    for seed in range(30):
        r = bootstrap((dice,), np.mean, method=method, n_resamples=9999, confidence_level=0.95, random_state=seed)
        lows.append(r.confidence_interval.low)
        highs.append(r.confidence_interval.high)
    out[method.lower()] = {
        "low_mean": float(np.mean(lows)),
        "low_sd": float(np.std(lows, ddof=1)),
        "high_mean": float(np.mean(highs)),
        "high_sd": float(np.std(highs, ddof=1)),
    }
path = pathlib.Path(__file__).with_name("expected.json")
path.write_text(json.dumps(out, indent=1) + "\n")
print(out["bca"], out["percentile"])
