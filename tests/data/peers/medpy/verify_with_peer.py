"""Runs medpy on every fixture of cases.json and checks the test's values and relations; the 1D test vectors are run
both as the test has them and as stored (2x1), which must agree. Not needed by segauge's tests; it backs
PROVENANCE.md. This script only calls medpy (GPL-3.0); it contains none of its code.

    python verify_with_peer.py [--write]   # in a venv with: pip install medpy==0.5.2 numpy scipy

With --write, medpy's values for each mask pair in both argument orders (asd, assd, obj_asd, obj_assd, hd, hd95,
connectivity 1) are written to peer_output.json: computed, not asserted by medpy's tests.
"""
import json
import math
import os
import sys
from importlib.metadata import version

import numpy as np
from medpy.metric import binary

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from peer_fixtures import write_json  # noqa: E402


def load(name):
    return np.load(os.path.join(HERE, name)).astype(bool)


def call(fn, result, reference, voxelspacing, connectivity=1):
    return float(getattr(binary, fn)(result, reference, voxelspacing=voxelspacing, connectivity=connectivity))


def main():
    doc = json.load(open(os.path.join(HERE, "cases.json")))
    print("medpy", version("medpy"), "numpy", np.__version__)
    n_ok = 0
    outputs = {}
    for case in doc["cases"]:
        fn, vs_test = case["args"]["function"], case["args"]["voxelspacing"]
        # The stored arrays may have more axes than the test's (1D vectors stored as 2x1): give their full spacing.
        vs = None if vs_test is None else case["spacing"]
        pred, gt = load(case["pred"]), load(case["gt"])
        bad = []
        forward = call(fn, pred, gt, vs)
        backward = call(fn, gt, pred, vs)
        if "test_shape" in case:  # the test's own 1D arrays, with the test's voxelspacing
            fwd_1d = call(fn, pred.reshape(case["test_shape"]), gt.reshape(case["test_shape"]), vs_test)
            if fwd_1d != forward:
                bad.append(f"1D {fwd_1d} != 2x1 {forward}")
        for k, v in case["expected"].items():
            if forward != v:
                bad.append(f"{k}: expected {v}, got {forward}")
        for r in case.get("relations", []):
            holds = (forward == backward) if r["kind"] == "equal" else (forward != backward)
            if not holds:
                bad.append(f"{r['kind']}: {r['lhs']} = {forward}, {r['rhs']} = {backward}")
        print(f"{case['case']}: {'ok' if not bad else 'MISMATCH'} ({fn}: pred->gt {forward!r}, gt->pred "
              f"{backward!r})", *bad, sep="\n  " if bad else "")
        n_ok += not bad
        key = f"{case['pred']} / {case['gt']}"
        if key not in outputs:
            vals = {}
            for f in ["asd", "assd", "obj_asd", "obj_assd", "hd", "hd95"]:
                for order, (a, b) in [("result=pred, reference=gt", (pred, gt)),
                                      ("result=gt, reference=pred", (gt, pred))]:
                    try:
                        v = call(f, a, b, vs)
                    except Exception as e:  # noqa: BLE001 (medpy raises on some inputs)
                        v = f"error: {type(e).__name__}: {e}"
                    vals[f"{f}({order})"] = v if not (isinstance(v, float) and math.isnan(v)) else math.nan
            outputs[key] = {"voxelspacing": vs, "connectivity": 1, "values": vals}
    print(f"{n_ok}/{len(doc['cases'])} cases match")
    if "--write" in sys.argv[1:]:
        write_json(os.path.join(HERE, "peer_output.json"), {
            "peer": f"medpy {version('medpy')} (pip), numpy {np.__version__}",
            "note": "values computed by running medpy on the fixtures (verify_with_peer.py), keyed by 'pred file / "
                    "gt file'; medpy's tests assert only the values and relations in cases.json",
            "pairs": outputs,
        })


if __name__ == "__main__":
    main()
