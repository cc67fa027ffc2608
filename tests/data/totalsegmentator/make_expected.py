"""Writes expected.json: the class map of TotalSegmentator's example outputs and, per structure, the voxel counts
of the fast model's output (prediction) against the full model's (ground truth), computed with nibabel and numpy.

Run with numpy and nibabel: python make_expected.py (in this folder).
"""
import json
import os
import re

import nibabel as nib
import numpy as np


def class_map(path):
    img = nib.load(path)
    xml = img.header.extensions[0].get_content().decode()
    return {int(k): v for k, v in re.findall(r'Key="(\d+)"[^>]*><!\[CDATA\[([^\]]*)\]\]>', xml)}


def main():
    full = nib.load("example_seg.nii.gz")
    fast = nib.load("example_seg_fast.nii.gz")
    g, p = np.asarray(full.dataobj), np.asarray(fast.dataobj)
    names = class_map("example_seg.nii.gz")
    assert names == class_map("example_seg_fast.nii.gz")
    out = {"class_map": {str(k): v for k, v in names.items()}, "structures": {}}
    for label, name in names.items():
        # The folder holds one 0/1 mask per structure; it must equal the multi-label file's label.
        mask = np.asarray(nib.load(os.path.join("example_seg_fast", name + ".nii.gz")).dataobj) > 0
        assert np.array_equal(mask, p == label), name
        pm, gm = p == label, g == label
        out["structures"][name] = {
            "label": label,
            "tp": int((pm & gm).sum()),
            "voxels_pred": int(pm.sum()),
            "voxels_gt": int(gm.sum()),
        }
    with open("expected.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
