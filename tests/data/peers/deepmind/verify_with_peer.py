"""Runs DeepMind surface-distance on every fixture of cases.json and checks the expected values with the test's own
tolerance; also rebuilds each mask at the test's full shape (test_shape, crop_offset) and checks that the peer gives
the same numbers there, so cropping changed nothing. Not needed by segauge's tests; it backs PROVENANCE.md.

    python verify_with_peer.py [--write] [path/containing/surface_distance]

Without an argument the installed `surface_distance` is used (PyPI 0.1 uses np.Inf/np.NaN, removed in NumPy 2, and
fails on the empty-mask cases: those are reported as errors). With a path, the package found there is used (e.g. a
checkout of the repository at the commit in cases.json, which runs on NumPy 2). With --write, the peer's values of
every case that ran are written to peer_output.json (full precision; cases.json keeps the test's assertions).
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WRITE = "--write" in sys.argv[1:]
PATHS = [a for a in sys.argv[1:] if a != "--write"]
if PATHS:
    sys.path.insert(0, PATHS[0])
import surface_distance as sd  # noqa: E402

sys.path.insert(0, os.path.dirname(HERE))
from peer_fixtures import write_json  # noqa: E402


def load(name):
    return np.load(os.path.join(HERE, name)).astype(bool)


def value(x):
    return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}.get(x, x) if isinstance(x, str) else x


def uncrop(a, shape, offset):
    full = np.zeros(shape, bool)
    full[tuple(slice(o, o + n) for o, n in zip(offset, a.shape))] = a
    return full


def measure(gt, pred, spacing):
    s = sd.compute_surface_distances(gt, pred, spacing)
    asd = sd.compute_average_surface_distance(s)
    ov = sd.compute_surface_overlap_at_tolerance(s, 1)
    out = {
        "average_surface_distance gt_to_pred": asd[0],
        "average_surface_distance pred_to_gt": asd[1],
        "robust_hausdorff 100": sd.compute_robust_hausdorff(s, 100),
        "robust_hausdorff 95": sd.compute_robust_hausdorff(s, 95),
        "surface_overlap gt at 1 mm": ov[0],
        "surface_overlap pred at 1 mm": ov[1],
        "surface_dice at 1 mm": sd.compute_surface_dice_at_tolerance(s, 1),
        "volumetric_dice": sd.compute_dice_coefficient(gt, pred),
    }
    return out, s


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def main():
    doc = json.load(open(os.path.join(HERE, "cases.json")))
    print("surface_distance from", os.path.dirname(sd.__file__))
    n_ok = 0
    outputs = {}
    for case in doc["cases"]:
        gt, pred = load(case["gt"]), load(case["pred"])
        try:
            got, s = measure(gt, pred, case["spacing"])
        except Exception as e:  # noqa: BLE001 (PyPI 0.1 on NumPy 2)
            print(f"{case['case']}: ERROR {type(e).__name__}: {e}")
            continue
        outputs[case["case"]] = {k: float(v) for k, v in got.items()}
        full = [uncrop(a, case["test_shape"], case["crop_offset"]) for a in (gt, pred)]
        got_full, _ = measure(full[0], full[1], case["spacing"])
        bad = []
        for k, v in case["expected"].items():
            e, g = value(v), float(got[k])
            ok = (math.isnan(e) and math.isnan(g)) or e == g or round(g - e, 3) == 0
            if not ok:
                bad.append(f"{k}: expected {e}, got {g}")
            if not same(g, float(got_full[k])):
                bad.append(f"{k}: cropped {g} != full-size {got_full[k]}")
        if "expected_surfels" in case:
            for side, d, a in [("gt", "distances_gt_to_pred", "surfel_areas_gt"),
                               ("pred", "distances_pred_to_gt", "surfel_areas_pred")]:
                pairs = sorted([float(x), float(y)] for x, y in zip(s[d], s[a]))
                if pairs != case["expected_surfels"][side]:
                    bad.append(f"surfels {side}: {pairs} != {case['expected_surfels'][side]}")
        print(f"{case['case']}: {'ok' if not bad else 'MISMATCH'}", *bad, sep="\n  " if bad else " ")
        n_ok += not bad
        if not bad:
            print("   peer values:", {k: float(v) for k, v in got.items()})
    print(f"{n_ok}/{len(doc['cases'])} cases match")
    if WRITE:
        write_json(os.path.join(HERE, "peer_output.json"), {
            "peer": "DeepMind surface-distance",
            "code": f"surface_distance {sd.__version__}, "
                    + (f"a checkout of commit {doc['commit']}" if PATHS else "the installed package"),
            "numpy": np.__version__,
            "note": "values computed by running the peer on the fixtures (verify_with_peer.py); not asserted by "
                    "the peer's tests",
            "cases": outputs,
        })


if __name__ == "__main__":
    main()
