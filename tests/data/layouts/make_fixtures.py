"""Writes the layout fixtures of tests/data/layouts and their expected counts (see PROVENANCE.md).

nnunet/: an nnU-Net v2 raw data set (dataset.json with names, regions and an ignore label; labelsTr/) and one
fold's validation predictions (fold_0/validation/, two of the three cases, with nnU-Net's summary.json beside them).
monai/: ground truths gt/<case>.nii.gz and predictions in MONAI SaveImage's layout, pred/<case>/<case>_seg.nii.gz.
expected.json: per case and structure, the voxel counts numpy gives (regions as unions of labels; voxels whose
ground truth is the ignore label removed from both sides), and Dice = 2 tp / (pred + gt).

Run with numpy and nibabel: python make_fixtures.py (writes next to this file, byte for byte reproducible).
"""
import json
import os

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (14, 12, 9)
AFFINE = np.array([[-1.0, 0, 0, 20.0], [0, -1.2, 0, 15.0], [0, 0, 2.0, -30.0], [0, 0, 0, 1]])
LABELS = {"background": 0, "edema": 1, "necrosis": 2, "enhancing tumor": 3,
          "whole tumor": [1, 2, 3], "tumor core": [2, 3], "ignore": 4}
IGNORE = 4


def save(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = nib.Nifti1Image(data.astype(np.uint8), AFFINE)
    img.header.set_xyzt_units("mm")
    # gzip without a timestamp so the files are reproducible.
    raw = img.to_bytes()
    import gzip
    with open(path, "wb") as f:
        f.write(gzip.compress(raw, mtime=0))


def tumour(rng, centre, radii):
    i, j, k = np.indices(SHAPE)
    d = ((i - centre[0]) / radii[0]) ** 2 + ((j - centre[1]) / radii[1]) ** 2 + ((k - centre[2]) / radii[2]) ** 2
    out = np.zeros(SHAPE, np.uint8)
    out[d <= 1.0] = 1
    out[d <= 0.45] = 2
    out[d <= 0.15] = 3
    return out


def perturb(rng, seg, shift):
    out = np.roll(seg, shift, axis=(0, 1, 2))
    flip = rng.random(SHAPE) < 0.04
    out[flip] = rng.integers(0, 4, size=int(flip.sum()))
    return out


def counts(pred, gt, labels, ignore):
    keep = gt != ignore if ignore is not None else np.ones(SHAPE, bool)
    p = np.isin(pred, labels) & keep
    g = np.isin(gt, labels) & keep
    tp, vp, vg = int((p & g).sum()), int(p.sum()), int(g.sum())
    dice = 1.0 if vp + vg == 0 else 2.0 * tp / (vp + vg)
    return {"tp": tp, "voxels_pred": vp, "voxels_gt": vg, "dice": dice}


def structures():
    out = []
    for name, value in LABELS.items():
        if name in ("background", "ignore"):
            continue
        out.append((name, value if isinstance(value, list) else [value]))
    return out


def main():
    rng = np.random.default_rng(20261205)
    expected = {"nnunet": {}, "monai": {}}
    # nnU-Net: three cases, two predicted.
    for n, (centre, radii, shift) in enumerate([((6, 5, 4), (5, 4, 3), (1, 0, 0)),
                                               ((7, 6, 4), (4, 5, 3), (0, 1, 0)),
                                               ((6, 6, 5), (5, 5, 3), (0, 0, 1))], start=1):
        case = f"case_{n:03d}"
        gt = tumour(rng, centre, radii)
        # An ignore patch over part of the tumour and the background.
        gt[:3, :, :] = np.where(rng.random((3,) + SHAPE[1:]) < 0.5, IGNORE, gt[:3, :, :])
        save(os.path.join(HERE, "nnunet", "labelsTr", f"{case}.nii.gz"), gt)
        if n <= 2:
            pred = perturb(rng, np.where(gt == IGNORE, 0, gt), shift)
            # The prediction claims edema where the ground truth is ignored: these voxels must not count.
            pred[(gt == IGNORE) & (rng.random(SHAPE) < 0.5)] = 1
            save(os.path.join(HERE, "nnunet", "fold_0", "validation", f"{case}.nii.gz"), pred)
            expected["nnunet"][case] = {name: counts(pred, gt, labels, IGNORE) for name, labels in structures()}
    with open(os.path.join(HERE, "nnunet", "dataset.json"), "w") as f:
        json.dump({"channel_names": {"0": "T1"}, "labels": LABELS, "numTraining": 3, "file_ending": ".nii.gz"},
                  f, indent=2)
    with open(os.path.join(HERE, "nnunet", "fold_0", "validation", "summary.json"), "w") as f:
        json.dump({"note": "nnU-Net writes its own summary here; segauge ignores it"}, f)
    # MONAI: two cases, predictions in <case>/<case>_seg.nii.gz.
    for case, centre in [("pat_a", (6, 6, 4)), ("pat_b", (7, 5, 4))]:
        gt = tumour(rng, centre, (5, 4, 3))
        pred = perturb(rng, gt, (1, 1, 0))
        save(os.path.join(HERE, "monai", "gt", f"{case}.nii.gz"), gt)
        save(os.path.join(HERE, "monai", "pred", case, f"{case}_seg.nii.gz"), pred)
        expected["monai"][case] = {str(l): counts(pred, gt, [l], None) for l in (1, 2, 3)}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
