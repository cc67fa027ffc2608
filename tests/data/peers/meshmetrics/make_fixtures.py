"""Writes the masks of MeshMetrics' `examples.ipynb` (3D and 2D examples) and the values the notebook prints, as
cases.json (see PROVENANCE.md). MeshMetrics has no test suite; its notebook is the nearest thing.

The notebook reads its masks from the repository's data/ folder (`create_data = False`), so this script reads the
same four NIfTI files from a checkout (gasperpodobnik/MeshMetrics, commit in PROVENANCE.md) and stores them as .npy
arrays indexed [x, y(, z)], which is what the notebook's `sitk2np` returns. The expected values are the notebook's
printed outputs, copied as numbers. Nothing here runs MeshMetrics or segauge.

    python make_fixtures.py /path/to/MeshMetrics   # needs numpy only (a minimal NIfTI-1 reader is below)
"""
import gzip
import hashlib
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from peer_fixtures import size_note, write_json, write_mask  # noqa: E402

COMMIT = "2a888b1686dfef49eff3a5dfdd0c7aefae545703"
NOTEBOOK = "examples.ipynb"
# SHA-256 of the four data files at COMMIT (last changed in ac76d16, 2024-11-22).
DATA = {
    "example_3d_ref_mask.nii.gz": None,
    "example_3d_pred_mask.nii.gz": None,
    "example_2d_ref_mask.nii.gz": None,
    "example_2d_pred_mask.nii.gz": None,
}


EXECUTION_COUNT = {8: 6, 11: 8, 19: 12, 22: 14}


def read_nifti(path):
    """A uint8 NIfTI-1 single file (.nii.gz): returns (array indexed [i, j(, k)], pixdim per axis as float32 values,
    the origin SimpleITK gives it: the qform offset turned from RAS to LPS, for the identity direction in LPS that
    quaternion (0, 0, 1) means)."""
    raw = gzip.open(path, "rb").read()
    if struct.unpack("<i", raw[:4])[0] != 348 or raw[344:348] not in (b"n+1\0",):
        raise ValueError(f"{path}: not a little-endian single-file NIfTI-1")
    dim = struct.unpack("<8h", raw[40:56])
    datatype, = struct.unpack("<h", raw[70:72])
    pixdim = struct.unpack("<8f", raw[76:108])
    vox_offset = int(struct.unpack("<f", raw[108:112])[0])
    quatern = struct.unpack("<3f", raw[256:268])
    qoffset = struct.unpack("<3f", raw[268:280])
    if struct.unpack("<h", raw[252:254])[0] != 1 or quatern != (0.0, 0.0, 1.0):
        raise ValueError(f"{path}: expected qform code 1 with quaternion (0, 0, 1)")
    origin_lps = [-float(qoffset[0]), -float(qoffset[1]), float(qoffset[2])]
    if datatype != 2:  # DT_UNSIGNED_CHAR
        raise ValueError(f"{path}: datatype {datatype}, expected uint8")
    shape = tuple(dim[1:1 + dim[0]])
    data = np.frombuffer(raw, np.uint8, count=int(np.prod(shape)), offset=vox_offset)
    return (data.reshape(shape, order="F"), [float(np.float32(p)) for p in pixdim[1:1 + dim[0]]],
            origin_lps[:dim[0]])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data_dir = os.path.join(sys.argv[1], "data")
    masks = {}
    for name in DATA:
        path = os.path.join(data_dir, name)
        DATA[name] = hashlib.sha256(open(path, "rb").read()).hexdigest()
        masks[name] = read_nifti(path)

    cases = []
    printed = {
        # code cell index: (dimension, input kind, printed values); execution counts 6, 8, 12, 14
        8: ("3d", "SimpleITK images", (15.107025591499546, 15.0, 14.386058222743, 14.40236798890874, 0.0, 0.0)),
        11: ("3d", "NumPy arrays", (15.107025591499548, 15.0, 14.386058222743001, 14.402367988908741, 0.0, 0.0)),
        19: ("2d", "SimpleITK images", (15.016326357908575, 15.0, 14.879690888036235, 14.88043697479464, 0.0, 0.0)),
        22: ("2d", "NumPy arrays", (15.016324843214866, 15.0, 14.87969094327525, 14.880437026676473, 0.0, 0.0)),
    }
    files = {}
    for dim in ("3d", "2d"):
        (gt, sp_gt, org_gt), (pred, sp_pred, org_pred) = (masks[f"example_{dim}_ref_mask.nii.gz"],
                                                          masks[f"example_{dim}_pred_mask.nii.gz"])
        if sp_gt != sp_pred or gt.shape != pred.shape or org_gt != org_pred:
            raise ValueError("ref and pred grids differ")
        files[dim] = (write_mask(HERE, f"example_{dim}_pred", (pred > 0), sp_gt),
                      write_mask(HERE, f"example_{dim}_ref", (gt > 0), sp_gt), sp_gt, list(gt.shape), org_gt)
    for cell, (dim, kind, (hd, hd95, masd, assd, nsd, biou)) in printed.items():
        pred, gt, spacing, shape, origin = files[dim]
        if kind == "NumPy arrays":
            call = ("dist_metrics.set_input(ref=sitk2np(ref) > 0, pred=sitk2np(pred) > 0, spacing=ref.GetSpacing()) "
                    "(origin 0, identity direction)")
            geometry = {}
        else:
            call = ("dist_metrics.set_input(ref=ref_sitk, pred=pred_sitk) on the images as SimpleITK reads them "
                    "(origin and direction in SimpleITK's LPS frame, spacing from the file)")
            geometry = {"sitk_origin": origin, "sitk_direction": "identity"}
        cases.append({
            "case": f"{dim}_{'sitk' if kind.startswith('Simple') else 'numpy'}",
            "source": f"{NOTEBOOK} cell {cell} (execution count {EXECUTION_COUNT[cell]})",
            "pred": pred, "gt": gt, "spacing": spacing, "test_shape": shape,
            "args": {
                "input": kind, "call": call, **geometry, "ref": "gt", "pred": "pred",
                "metrics": "hd(), hd(percentile=95), masd(), assd(), nsd(tau=2.0), biou(tau=2.0)",
                "percentile": 95, "tau": 2.0,
            },
            "expected": {"HD_100": hd, "HD_95": hd95, "MASD": masd, "ASSD": assd, "NSD_2.0": nsd, "BIoU_2.0": biou},
            "tolerance": {
                "abs": None,
                "rule": "no assertion: the notebook prints Python reprs (round-trip doubles); its two inputs of the "
                        "same masks (SimpleITK images, NumPy arrays) differ by up to 2e-15 relative in 3D and "
                        "1.0e-7 relative in 2D",
            },
            "note": ("concentric " + ("spheres" if dim == "3d" else "circles")
                     + " from create_synthetic_examples_%s(r1=25, r2=40): gt (ref) radius 25, pred radius 40; "
                       "ideal value of HD, HD_95, MASD, ASSD is 15 mm, NSD 0, BIoU 0 (the notebook's cell 3)" % dim
                     + ("; 2D masks are 2D images (not one-slice volumes): MeshMetrics measures contours"
                        if dim == "2d" else "")),
        })

    write_json(os.path.join(HERE, "cases.json"), {
        "peer": "MeshMetrics",
        "repository": "https://github.com/gasperpodobnik/MeshMetrics",
        "commit": COMMIT,
        "notebook": NOTEBOOK,
        "notebook_outputs_from": "e0bbd58d289326e23816957a581b73a503b20dff (2025-10-30, MeshMetrics 0.2.0 in setup.py; "
                                 "the last commit that changed examples.ipynb; Python 3.9.18 kernel)",
        "data_sha256": DATA,
        "arrays": "masks indexed [x, y(, z)] as MeshMetrics' sitk2np returns them (the NIfTI file's i, j, k)",
        "cases": cases,
    })
    print(f"{len(cases)} cases, {size_note(HERE)} bytes of .npy")


if __name__ == "__main__":
    main()
