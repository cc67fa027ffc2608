"""Reference values for segauge-lesion's tests (run once; the tests read expected.json, not Python).

Components: scipy.ndimage.label with generate_binary_structure(3, 1/2/3) (6/18/26) and (2, 1/2) (4/8), and
cc3d.connected_components(connectivity=6/18/26). Matching: component IoU/Dice matrices from cc3d (26),
scipy.optimize.linear_sum_assignment(maximize=True) over the pairs above the threshold, and panoptica's
NaiveThresholdMatching(IoU, 0.5, strict) counts. Masks are stored i-fastest (numpy arrays of shape (nz, ny, nx)).

    python make_fixtures.py  # writes expected.json beside this file
"""

import json
import pathlib

import cc3d
import numpy as np
import scipy
import scipy.ndimage as ndi
from scipy.optimize import linear_sum_assignment

import panoptica
from panoptica import InputType, Panoptica_Evaluator
from panoptica.instance_approximator import ConnectedComponentsInstanceApproximator
from panoptica.instance_matcher import NaiveThresholdMatching
from panoptica.metrics import Metric

rng = np.random.default_rng(20261127)


def encode(a):
    return "".join("1" if v else "0" for v in a.ravel())


def comp_cases():
    cases = []
    for n, (shape, density) in enumerate(
        [((6, 7, 8), 0.25), ((5, 9, 11), 0.4), ((7, 6, 5), 0.55), ((4, 12, 9), 0.3), ((8, 8, 8), 0.2)]
    ):
        cases.append((f"random{n}", rng.random(shape) < density))
    # Contacts of every kind between two voxels: face, edge only, corner only.
    for name, other in [("face", (1, 1, 2)), ("edge", (1, 2, 2)), ("corner", (2, 2, 2))]:
        a = np.zeros((4, 4, 4), bool)
        a[1, 1, 1] = True
        a[other] = True
        cases.append((f"contact_{name}", a))
    # A diagonal staircase (corner contacts only) and a ring touching the border.
    stair = np.zeros((6, 6, 6), bool)
    for t in range(6):
        stair[t, t, t] = True
    cases.append(("staircase", stair))
    ring = np.zeros((3, 8, 8), bool)
    ring[1, 0, :] = ring[1, -1, :] = ring[1, :, 0] = ring[1, :, -1] = True
    ring[0, 3, 3] = ring[2, 4, 4] = True
    cases.append(("border_ring", ring))
    out = []
    for name, a in cases:
        nz, ny, nx = a.shape
        exp = {}
        for conn, rank in [(6, 1), (18, 2), (26, 3)]:
            lab, count = ndi.label(a, structure=ndi.generate_binary_structure(3, rank))
            exp[f"scipy{conn}"] = {"count": int(count), "labels": lab.ravel().tolist()}
            lab = cc3d.connected_components(a.astype(np.uint8), connectivity=conn)
            exp[f"cc3d{conn}"] = {"count": int(lab.max()), "labels": lab.ravel().tolist()}
        out.append({"name": name, "dims": [nx, ny, nz], "voxels": encode(a), "expected": exp})
    for n, density in enumerate([0.35, 0.5]):
        a = rng.random((9, 13)) < density
        ny, nx = a.shape
        exp = {}
        for conn, rank in [(4, 1), (8, 2)]:
            lab, count = ndi.label(a, structure=ndi.generate_binary_structure(2, rank))
            exp[f"scipy{conn}"] = {"count": int(count), "labels": lab.ravel().tolist()}
        out.append({"name": f"plane{n}", "dims": [nx, ny, 1], "voxels": encode(a), "expected": exp})
    return out


def blobs(shape, centres, radii):
    z, y, x = np.indices(shape)
    a = np.zeros(shape, bool)
    for (cz, cy, cx), (rz, ry, rx) in zip(centres, radii):
        a |= ((z - cz) / rz) ** 2 + ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0
    return a


def scores(gt, pred):
    g = cc3d.connected_components(gt.astype(np.uint8), connectivity=26)
    p = cc3d.connected_components(pred.astype(np.uint8), connectivity=26)
    ng, np_ = int(g.max()), int(p.max())
    inter = np.zeros((ng, np_))
    for i in range(1, ng + 1):
        for j in range(1, np_ + 1):
            inter[i - 1, j - 1] = np.logical_and(g == i, p == j).sum()
    gs = np.array([(g == i).sum() for i in range(1, ng + 1)], float)
    ps = np.array([(p == j).sum() for j in range(1, np_ + 1)], float)
    iou = inter / (gs[:, None] + ps[None, :] - inter) if ng and np_ else np.zeros((ng, np_))
    dice = 2 * inter / (gs[:, None] + ps[None, :]) if ng and np_ else np.zeros((ng, np_))
    return ng, np_, iou, dice


def lsa(score, ng, np_, threshold):
    if ng == 0 or np_ == 0:
        return {"tp": 0, "fp": np_, "fn": ng, "score_sum": 0.0}
    s = np.where(score > threshold, score, 0.0)
    rows, cols = linear_sum_assignment(s, maximize=True)
    kept = [(r, c) for r, c in zip(rows, cols) if s[r, c] > 0]
    tp = len(kept)
    return {"tp": tp, "fp": np_ - tp, "fn": ng - tp, "score_sum": float(sum(s[r, c] for r, c in kept))}


def panoptica_counts(gt, pred):
    ev = Panoptica_Evaluator(
        expected_input=InputType.SEMANTIC,
        instance_approximator=ConnectedComponentsInstanceApproximator(),
        instance_matcher=NaiveThresholdMatching(
            matching_metric=Metric.IOU, matching_threshold=0.5, strict_threshold=True
        ),
        instance_metrics=[Metric.IOU, Metric.DSC],
        global_metrics=[Metric.DSC],
    )
    r = ev.evaluate(pred.astype(np.uint8), gt.astype(np.uint8), verbose=False)["ungrouped"]
    f = lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
    return {"tp": int(r.tp), "fp": int(r.fp), "fn": int(r.fn), "rq": f(r.rq), "sq": f(r.sq), "pq": f(r.pq)}


def match_cases():
    out = []
    shape = (10, 24, 24)
    for n in range(10):
        k = int(rng.integers(1, 7))
        centres = [(rng.uniform(2, 8), rng.uniform(3, 21), rng.uniform(3, 21)) for _ in range(k)]
        radii = [(rng.uniform(1.5, 3), rng.uniform(2, 4.5), rng.uniform(2, 4.5)) for _ in range(k)]
        gt = blobs(shape, centres, radii)
        # Prediction: shifted/scaled copies of some lesions, some dropped, a few invented.
        keep = [i for i in range(k) if rng.random() < 0.75]
        jitter = 0.2 + 0.15 * n
        pc = [tuple(c + rng.normal(0, jitter, 3)) for i, c in enumerate(centres) if i in keep]
        pr = [tuple(np.array(r) * rng.uniform(0.8, 1.25)) for i, r in enumerate(radii) if i in keep]
        for _ in range(int(rng.integers(0, 3))):
            pc.append((rng.uniform(2, 8), rng.uniform(3, 21), rng.uniform(3, 21)))
            pr.append((rng.uniform(1, 2), rng.uniform(1, 3), rng.uniform(1, 3)))
        pred = blobs(shape, pc, pr)
        out.append((f"blobs{n}", gt, pred))
    # Edge cases of docs/METHODS.md B.4.
    empty = np.zeros((4, 5, 6), bool)
    one = empty.copy()
    one[1:3, 1:3, 1:3] = True
    out += [("both_empty", empty, empty), ("gt_empty", empty, one), ("pred_empty", one, empty)]
    # One GT lesion split in two predictions (neither has IoU > 0.5; overlap detects it).
    gt = np.zeros((3, 4, 12), bool)
    gt[1, 1:3, 1:11] = True
    pred = np.zeros_like(gt)
    pred[1, 1:3, 1:5] = True
    pred[1, 1:3, 7:11] = True
    out.append(("split", gt, pred))
    res = []
    for name, gt, pred in out:
        ng, np_, iou, dice = scores(gt, pred)
        nz, ny, nx = gt.shape
        res.append(
            {
                "name": name,
                "dims": [nx, ny, nz],
                "gt": encode(gt),
                "pred": encode(pred),
                "iou_0.5": lsa(iou, ng, np_, 0.5),
                "iou_0.1": lsa(iou, ng, np_, 0.1),
                "iou_0.0": lsa(iou, ng, np_, 0.0),
                "dice_0.3": lsa(dice, ng, np_, 0.3),
                "panoptica": panoptica_counts(gt, pred),
            }
        )
    return res


data = {
    "versions": {
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "cc3d": cc3d.__version__ if hasattr(cc3d, "__version__") else "3.29.0",
        "panoptica": "2.1.7",
    },
    "components": comp_cases(),
    "matching": match_cases(),
}
path = pathlib.Path(__file__).with_name("expected.json")
path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
print(f"wrote {path}: {len(data['components'])} component cases, {len(data['matching'])} matching cases")
