"""Reference values of the BraTS 2023 lesion-wise rule for segauge-lesion's tests (run once; the tests read
brats_expected.json, not Python).

The reference is the challenge's own code: rachitsaluja/BraTS-2023-Metrics `metrics.py`, whose
`get_LesionWiseScores` (components, dilation, merging, matching, per-lesion Dice and HD95) runs unmodified from a
local clone (numpy >= 2 lacks `np.Inf`, restored as `np.inf`). Its `get_LesionWiseResults` no longer runs on
pandas >= 2 (`DataFrame.append`, `replace` on array cells), so the last step, the volume threshold and the
lesion-wise averages, is re-stated below from its formulas. Synthetic label maps (label 1 only, so the WT row is the one compared) are written as NIfTI with
nibabel, for the GLI (dilation 3, GT volume threshold 50 mm³) and MET (dilation 1, threshold 2 mm³) settings.
Masks are stored as the linear indices of their foreground voxels, i fastest (numpy arrays of shape
(nz, ny, nx), C order); the NIfTI files get the
(x, y, z) transpose so that the challenge code sees the same geometry.

    python make_brats_fixtures.py /path/to/BraTS-2023-Metrics  # writes brats_expected.json beside this file
"""

import json
import pathlib
import sys
import tempfile

import nibabel as nib
import numpy as np

sys.path.insert(0, sys.argv[1])
np.Inf = np.inf  # removed in numpy 2, used by the vendored surface_distance
import metrics as brats  # noqa: E402

rng = np.random.default_rng(2023)
SHAPE = (24, 40, 40)  # (nz, ny, nx)


def ellipsoid(a, centre, radii):
    z, y, x = np.indices(a.shape)
    a |= sum(((v - c) / r) ** 2 for v, c, r in zip((z, y, x), centre, radii)) <= 1.0


def case(n):
    gt = np.zeros(SHAPE, bool)
    pred = np.zeros(SHAPE, bool)
    for _ in range(int(rng.integers(2, 6))):
        c = np.array([rng.uniform(4, 20), rng.uniform(5, 35), rng.uniform(5, 35)])
        r = np.array([rng.uniform(0.6, 3.5), rng.uniform(0.6, 5), rng.uniform(0.6, 5)])
        ellipsoid(gt, c, r)
        roll = rng.random()
        if roll < 0.6:  # detected, moved and rescaled
            ellipsoid(pred, c + rng.normal(0, 0.7, 3), r * rng.uniform(0.7, 1.3))
        elif roll < 0.8:  # a prediction beside it (may touch only the dilation)
            ellipsoid(pred, c + np.array([0, 0, r[2] + rng.uniform(1, 4)]), np.array([1.0, 1.5, 1.5]))
        # A close neighbour lesion (merged with dilation 3, maybe not with 1).
        if rng.random() < 0.4:
            ellipsoid(gt, c + np.array([0, 0, r[2] + rng.uniform(2, 6)]), np.array([1.5, 2.0, 1.5]))
    for _ in range(int(rng.integers(0, 3))):  # false positives
        ellipsoid(pred, [rng.uniform(3, 21), rng.uniform(4, 36), rng.uniform(4, 36)], [1.0, 1.5, 1.5])
    if n == 0:
        pred[:] = False  # nothing predicted
    if n == 1:
        gt[:] = False  # nothing to find
    return gt, pred


def write(path, a, spacing):
    img = nib.Nifti1Image(a.transpose(2, 1, 0).astype(np.uint8), np.diag(list(spacing) + [1.0]))
    nib.save(img, path)


def encode(a):
    """Linear indices (i fastest) of the foreground voxels."""
    return np.flatnonzero(a.ravel()).tolist()


out = []
with tempfile.TemporaryDirectory() as tmp:
    for n in range(8):
        gt, pred = case(n)
        spacing = (1.0, 1.0, 1.0) if n % 2 == 0 else (1.0, 1.0, 1.5)
        g, p = pathlib.Path(tmp) / f"g{n}.nii.gz", pathlib.Path(tmp) / f"p{n}.nii.gz"
        write(g, gt, spacing)
        write(p, pred, spacing)
        results = {}
        for challenge, dilation, threshold in [("BraTS-GLI", 3, 50), ("BraTS-MET", 1, 2)]:
            tp, fn, fp, gt_tp, pairs, *_ = brats.get_LesionWiseScores(str(p), str(g), "WT", dilation)
            # pairs: (touching prediction ids, GT lesion id, GT volume mm3, Dice, HD95) per merged GT lesion.
            small = [r for r in pairs if r[2] <= threshold]
            kept = [r for r in pairs if r[2] > threshold]
            denom = len(kept) + len(fp)
            dice = np.sum([r[3] for r in kept]) / denom if denom else np.nan
            hd = (np.sum([374.0 if np.isinf(r[4]) else r[4] for r in kept]) + 374.0 * len(fp)) / denom if denom else np.nan
            results[challenge] = {
                "tp": len(gt_tp) - sum(1 for r in small if len(r[0]) > 0),
                "fp": len(fp),
                "fn": len(fn) - sum(1 for r in small if len(r[0]) == 0),
                "lesion_wise_dice": 1.0 if np.isnan(dice) else float(dice),
                "lesion_wise_hd95": 0.0 if np.isnan(hd) else float(hd),
                "gt_lesions": len(pairs),
            }
        nz, ny, nx = gt.shape
        out.append(
            {
                "name": f"brats{n}",
                "dims": [nx, ny, nz],
                "spacing": list(spacing),
                "gt": encode(gt),
                "pred": encode(pred),
                "expected": results,
            }
        )
        print(n, results)

path = pathlib.Path(__file__).with_name("brats_expected.json")
path.write_text(
    json.dumps(
        {"source": "rachitsaluja/BraTS-2023-Metrics metrics.py", "numpy": np.__version__, "cases": out},
        separators=(",", ":"),
    )
    + "\n"
)
