#!/usr/bin/env python3
"""Write the NIfTI-1 fixtures of segauge-io's integration tests, and expected.json from nibabel reading them back.

Run from anywhere with a Python that has nibabel and numpy:

    python tests/data/nifti/make_fixtures.py

Every fixture is written by nibabel; every number in expected.json comes from nibabel *reading the written file
back* (``img.affine``, i.e. ``get_best_affine``, and ``np.asanyarray(img.dataobj)``, i.e. scaled values), so the
file is an external reference for segauge's reader, not a copy of its rules. Output is deterministic: fixed seeds,
and nibabel's gzip writer stores mtime 0 and no file name.

expected.json layout:
  "nibabel", "numpy": versions used;
  "fixtures": {file name: {
      "shape": nibabel's shape (2 or 3 entries), "dtype": on-disk dtype (numpy str, with byte order),
      "sform_code", "qform_code", "qfac" (pixdim[0]), "xyzt_units", "scl_slope", "scl_inter" (the scaling nibabel
      applies: 1 and 0 when the file has none), "affine": 4x4 img.affine,
      "spacing": column norms of affine[:3, :3], "origin": affine[:3, 3],
      "direction": affine[:3, :3] / spacing, row-major (direction[r][a] = component r of axis a),
      "counts": {value: number of voxels} for every distinct scaled value (keys are decimal text: integers
      without a fraction, e.g. "300", "-5", anything else as Python's repr, e.g. "1.5"),
      "voxels": [[i, j, k, value], ...] scaled values at a few voxels (k = 0 for 2D images),
      "error" (only for files segauge must reject): {"kind", "voxel": [i, j, k], "value"}}};
  "overlap": {"pred", "gt", "labels": {label: {"voxels_pred", "voxels_gt", "tp", "dice", "iou"}}} for the
      overlap_pred / overlap_gt pair (dice and iou null when the label is in neither file).
"""

import json
import math
import os
import sys

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (7, 6, 5)


def rot(axis, degrees):
    """3x3 rotation matrix about x, y or z."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def affine(m3, zooms, origin):
    """4x4 affine with columns m3[:, a] * zooms[a] and translation origin."""
    a = np.eye(4)
    a[:3, :3] = np.asarray(m3, dtype=float) @ np.diag(zooms)
    a[:3, 3] = origin
    return a


def value_key(v):
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and not v.is_integer():
        return repr(v)
    return str(int(v))


def describe(name, voxels, error=None):
    """Read `name` back with nibabel and describe it."""
    img = nib.load(os.path.join(HERE, name))
    hdr = img.header
    data = np.asanyarray(img.dataobj)
    aff = np.asarray(img.affine, dtype=float)
    m3 = aff[:3, :3]
    spacing = np.linalg.norm(m3, axis=0)
    direction = m3 / spacing
    values, counts = np.unique(data, return_counts=True)
    # nibabel moves scl_slope / scl_inter from the header into the array proxy when it loads a file.
    slope, inter = float(img.dataobj.slope), float(img.dataobj.inter)
    out = {
        "shape": [int(s) for s in data.shape],
        "dtype": hdr.get_data_dtype().str,
        "sform_code": int(hdr["sform_code"]),
        "qform_code": int(hdr["qform_code"]),
        "qfac": float(hdr["pixdim"][0]),
        "xyzt_units": int(hdr["xyzt_units"]),
        "scl_slope": slope,
        "scl_inter": inter,
        "affine": aff.tolist(),
        "spacing": spacing.tolist(),
        "origin": aff[:3, 3].tolist(),
        "direction": direction.tolist(),
        "counts": {value_key(v): int(c) for v, c in zip(values, counts)},
        "voxels": [],
    }
    for ijk in voxels:
        v = data[tuple(ijk[: data.ndim])]
        v = v.item()
        out["voxels"].append([*ijk, v])
    if error is not None:
        out["error"] = error
    return img, data, out


def save(img, name):
    nib.save(img, os.path.join(HERE, name))


def blob(shape, spacing, centre, radii):
    """Voxel mask of an axis-aligned ellipsoid (centre and radii in mm)."""
    idx = np.indices(shape).astype(float)
    d = sum(((idx[a] * spacing[a] - centre[a]) / radii[a]) ** 2 for a in range(3))
    return d <= 1.0


def main():
    expected = {"nibabel": nib.__version__, "numpy": np.__version__, "fixtures": {}}
    fx = expected["fixtures"]
    rng = np.random.default_rng(20240611)
    probe = [[0, 0, 0], [6, 0, 0], [0, 5, 0], [0, 0, 4], [3, 2, 1], [6, 5, 4], [5, 1, 3]]

    # 1. uint8, sform (code 1) with anisotropic spacing and an origin; a different qform (code 1) too.
    name = "u8_sform.nii.gz"
    data = rng.integers(0, 5, size=SHAPE, dtype=np.uint8)
    data[0, 0, 0], data[6, 5, 4] = 4, 0
    s_aff = affine(rot("x", 20) @ rot("z", -10), (0.7, 0.8, 2.5), (-12.5, 30.25, 7.0))
    q_aff = affine(rot("y", 35), (1.0, 1.5, 2.0), (40.0, -3.0, 11.0))
    img = nib.Nifti1Image(data, s_aff)
    img.set_data_dtype(np.uint8)
    img.set_sform(s_aff, code=1)
    img.set_qform(q_aff, code=1)
    img.header.set_xyzt_units("mm")
    save(img, name)
    back, _, fx[name] = describe(name, probe)
    assert back.header["sform_code"] == 1 and back.header["qform_code"] == 1
    assert not np.allclose(back.header.get_qform(), back.affine), "qform must differ from the sform"

    # 2. int16, plain .nii, qform only (30 degrees about z, qfac -1), values 300 and negatives.
    name = "i16_qform.nii"
    data = rng.integers(-3, 8, size=SHAPE).astype(np.int16)
    data[3, 2, 1], data[5, 1, 3], data[0, 5, 0] = 300, -5, -1
    q_aff = affine(rot("z", 30), (0.9, 1.1, -2.0), (5.5, -20.0, 14.0))  # det < 0: qfac -1
    img = nib.Nifti1Image(data, None)
    img.set_data_dtype(np.int16)
    img.set_qform(q_aff, code=1)
    img.set_sform(None, code=0)
    img.header.set_xyzt_units("mm")
    save(img, name)
    back, _, fx[name] = describe(name, probe)
    assert back.header["sform_code"] == 0 and back.header["qform_code"] == 1
    assert back.header["pixdim"][0] == -1
    assert back.header.get_data_dtype() == np.dtype("<i2")

    # 3. float32 integral labels; sform = axis permutation with one flipped axis.
    name = "f32_labels.nii.gz"
    data = rng.integers(0, 4, size=SHAPE).astype(np.float32)
    data[3, 2, 1] = 7.0
    perm = np.array([[0, 0, 1], [-1, 0, 0], [0, 1, 0]])  # i -> -y, j -> z, k -> x
    s_aff = affine(perm, (0.6, 1.25, 3.0), (-8.0, 16.5, -40.0))
    img = nib.Nifti1Image(data, s_aff)
    img.set_data_dtype(np.float32)
    img.set_sform(s_aff, code=2)
    img.set_qform(s_aff, code=0)
    img.header.set_xyzt_units("mm")
    save(img, name)
    back, _, fx[name] = describe(name, probe)
    assert back.header.get_data_dtype() == np.dtype("<f4")

    # 4. uint8 raw data with scl_slope 2, scl_inter 1 (labels 1, 3, 5, ...).
    name = "u8_scaled.nii.gz"
    raw = rng.integers(0, 6, size=SHAPE, dtype=np.uint8)
    raw[3, 2, 1] = 100  # 201 after scaling
    s_aff = affine(np.eye(3), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0))
    img = nib.Nifti1Image(raw, s_aff)
    img.set_data_dtype(np.uint8)
    img.header.set_slope_inter(2.0, 1.0)
    img.header.set_xyzt_units("mm")
    save(img, name)
    back, scaled, fx[name] = describe(name, probe)
    assert back.header.get_data_dtype() == np.dtype("u1")
    assert (back.dataobj.slope, back.dataobj.inter) == (2.0, 1.0)
    assert np.array_equal(back.dataobj.get_unscaled(), raw)
    assert np.array_equal(scaled, raw.astype(float) * 2 + 1)

    # 5. big-endian int16 with scaling (slope 4, inter -10: raw 0 and 1 give -10 and -6, background).
    name = "i16_scaled_big_endian.nii"
    raw = rng.integers(0, 12, size=SHAPE).astype(np.int16)
    raw[3, 2, 1], raw[5, 1, 3] = 600, 0
    s_aff = affine(rot("y", -15), (1.5, 1.5, 1.5), (100.0, 50.0, -25.0))
    hdr = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image(raw, s_aff, hdr)
    img.set_data_dtype(np.int16)
    img.header.set_slope_inter(4.0, -10.0)
    img.header.set_xyzt_units("mm")
    save(img, name)
    back, scaled, fx[name] = describe(name, probe)
    assert back.header.endianness == ">", back.header.endianness
    assert back.header.get_data_dtype() == np.dtype(">i2")
    assert (back.dataobj.slope, back.dataobj.inter) == (4.0, -10.0)
    assert np.array_equal(back.dataobj.get_unscaled(), raw)
    with open(os.path.join(HERE, name), "rb") as f:
        assert f.read(4) == (348).to_bytes(4, "big"), "header is not big-endian"

    # 6. uint16, no sform and no qform: nibabel falls back to the base affine (x flipped, centred).
    name = "u16_no_xform.nii.gz"
    data = rng.integers(0, 3, size=SHAPE).astype(np.uint16)
    data[3, 2, 1], data[6, 5, 4] = 1000, 65535
    hdr = nib.Nifti1Header()
    hdr.set_data_dtype(np.uint16)
    hdr.set_data_shape(SHAPE)
    hdr.set_zooms((1.2, 0.9, 3.0))
    img = nib.Nifti1Image(data, None, hdr)
    img.set_sform(None, code=0)
    img.set_qform(None, code=0)
    save(img, name)
    back, _, fx[name] = describe(name, probe)
    assert back.header["sform_code"] == 0 and back.header["qform_code"] == 0
    assert np.allclose(back.affine, back.header.get_base_affine())
    assert back.header["xyzt_units"] == 0

    # 7. float64 with one fractional value: segauge must refuse it, naming the voxel.
    name = "f64_fractional.nii.gz"
    data = rng.integers(0, 3, size=SHAPE).astype(np.float64)
    bad = (4, 3, 2)
    data[bad] = 1.5
    s_aff = affine(np.eye(3), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    img = nib.Nifti1Image(data, s_aff)
    img.set_data_dtype(np.float64)
    img.header.set_xyzt_units("mm")
    save(img, name)
    back, scaled, fx[name] = describe(
        name, [*probe, list(bad)], error={"kind": "NotALabel", "voxel": list(bad), "value": 1.5}
    )
    frac = np.argwhere(scaled != np.round(scaled))
    assert frac.tolist() == [list(bad)], frac
    assert scaled[bad] == 1.5

    # 8. a 2D image, shape (7, 6).
    name = "u8_2d.nii.gz"
    data = rng.integers(0, 3, size=(7, 6), dtype=np.uint8)
    data[3, 2] = 9
    s_aff = affine(np.eye(3), (0.5, 0.6, 2.0), (1.0, 2.0, 3.0))
    img = nib.Nifti1Image(data, s_aff)
    img.set_data_dtype(np.uint8)
    img.header.set_xyzt_units("mm")
    save(img, name)
    back, _, fx[name] = describe(name, [[0, 0, 0], [3, 2, 0], [6, 5, 0], [6, 0, 0]])
    assert back.header["dim"][0] == 2

    # 9. a multi-label prediction / ground-truth pair.
    shape, sp = (12, 10, 8), (0.8, 0.8, 1.5)
    centre = lambda: rng.uniform(-0.6, 0.6, size=3)  # noqa: E731
    gt = np.zeros(shape, dtype=np.uint8)
    pred = np.zeros(shape, dtype=np.uint8)
    # label 1: a large blob in both, pred shifted; label 3: a smaller blob in both.
    gt[blob(shape, sp, (4.4, 3.6, 5.0) + centre(), (2.6, 2.2, 4.0))] = 1
    pred[blob(shape, sp, (4.8, 3.8, 5.5) + centre(), (2.4, 2.4, 3.6))] = 1
    gt[blob(shape, sp, (6.5, 5.5, 6.0) + centre(), (1.3, 1.2, 2.4))] = 3
    pred[blob(shape, sp, (6.8, 5.0, 6.5) + centre(), (1.5, 1.3, 2.0))] = 3
    # label 2: in both files, disjoint (opposite corners).
    gt[blob(shape, sp, (0.8, 6.4, 9.0), (1.2, 1.2, 2.0))] = 2
    pred[blob(shape, sp, (8.0, 0.8, 1.5), (1.2, 1.2, 2.0))] = 2
    # label 4 only in pred, label 5 only in gt.
    pred[blob(shape, sp, (8.0, 6.4, 1.5), (0.9, 0.9, 1.6))] = 4
    gt[blob(shape, sp, (1.0, 1.0, 1.0), (0.9, 0.9, 1.6))] = 5
    # a little noise on label 1 away from label 2's corners
    flip = (rng.random(shape) < 0.04) & (pred == 0) & blob(shape, sp, (4.6, 3.8, 5.2), (3.2, 3.0, 4.6))
    pred[flip] = 1
    o_aff = affine(np.eye(3), sp, (-4.4, -3.6, 10.5))
    for name, arr in (("overlap_pred.nii.gz", pred), ("overlap_gt.nii.gz", gt)):
        img = nib.Nifti1Image(arr, o_aff)
        img.set_data_dtype(np.uint8)
        img.set_sform(o_aff, code=1)
        img.set_qform(o_aff, code=1)
        img.header.set_xyzt_units("mm")
        save(img, name)
        fx[name] = describe(name, [[0, 0, 0], [6, 5, 4], [11, 9, 7], [10, 1, 1], [1, 8, 6]])[2]
    p = np.asanyarray(nib.load(os.path.join(HERE, "overlap_pred.nii.gz")).dataobj)
    g = np.asanyarray(nib.load(os.path.join(HERE, "overlap_gt.nii.gz")).dataobj)
    labels = {}
    for lab in range(1, 6):
        vp, vg = int((p == lab).sum()), int((g == lab).sum())
        tp = int(((p == lab) & (g == lab)).sum())
        union = vp + vg - tp
        labels[str(lab)] = {
            "voxels_pred": vp,
            "voxels_gt": vg,
            "tp": tp,
            "dice": None if vp + vg == 0 else 2 * tp / (vp + vg),
            "iou": None if union == 0 else tp / union,
        }
    assert labels["4"]["voxels_gt"] == 0 and labels["4"]["voxels_pred"] > 0
    assert labels["5"]["voxels_pred"] == 0 and labels["5"]["voxels_gt"] > 0
    assert labels["2"]["tp"] == 0 and labels["2"]["voxels_pred"] > 0 and labels["2"]["voxels_gt"] > 0
    assert all(labels[str(lab)]["tp"] > 0 for lab in (1, 3))
    expected["overlap"] = {"pred": "overlap_pred.nii.gz", "gt": "overlap_gt.nii.gz", "labels": labels}

    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(HERE, n)) for n in os.listdir(HERE))
    print(f"wrote {len(fx)} fixtures and expected.json into {HERE} ({total} bytes in the folder)", file=sys.stderr)


if __name__ == "__main__":
    main()
