"""A TotalSegmentator-like data set for the many-structures measurement of issue 14 (not a test fixture).

20 cases; ground truth gt/case_NN.nii.gz: one multi-label file with TotalSegmentator's 117 class names in its
header extension (the class map of tests/data/totalsegmentator/example_seg.nii.gz); prediction
pred/case_NN/segmentations/<name>.nii.gz: one 0/1 mask per structure, TotalSegmentator's default layout. Each
structure is an ellipsoid on a jittered 5x5x5 lattice (128x128x96 voxels, 1.5 mm); the prediction shifts each by up
to one voxel, drops about 3 % of structures (missed: infinite distances) and leaves about 20 % absent from both
sides (as in a scan that shows part of the body).

python make_dataset.py OUT_DIR  (numpy, nibabel; seed 14, reproducible)
"""
import gzip
import os
import re
import sys

import nibabel as nib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (128, 128, 96)
AFFINE = np.diag([1.5, 1.5, 1.5, 1.0])


def class_map():
    img = nib.load(os.path.join(HERE, "../../tests/data/totalsegmentator/example_seg.nii.gz"))
    xml = img.header.extensions[0].get_content()
    names = {int(k): v for k, v in re.findall(r'Key="(\d+)"[^>]*><!\[CDATA\[([^\]]*)\]\]>', xml.decode())}
    return names, xml


def save(path, data, ext=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = nib.Nifti1Image(data.astype(np.uint8), AFFINE)
    if ext is not None:
        img.header.extensions.append(nib.nifti1.Nifti1Extension(0, ext))
    with open(path, "wb") as f:
        f.write(gzip.compress(img.to_bytes(), compresslevel=1, mtime=0))


def main(out):
    names, xml = class_map()
    rng = np.random.default_rng(14)
    i, j, k = np.indices(SHAPE)
    slots = [(a, b, c) for a in range(5) for b in range(5) for c in range(5)]
    for case in range(20):
        gt = np.zeros(SHAPE, np.uint8)
        present = {}
        order = rng.permutation(len(slots))[: len(names)]
        for label, slot in zip(sorted(names), order):
            if rng.random() < 0.2:
                continue  # absent from this scan
            a, b, c = slots[slot]
            centre = [(a + 0.5) * SHAPE[0] / 5, (b + 0.5) * SHAPE[1] / 5, (c + 0.5) * SHAPE[2] / 5]
            centre = [x + rng.uniform(-3, 3) for x in centre]
            radii = rng.uniform(4, 10, size=3)
            d = ((i - centre[0]) / radii[0]) ** 2 + ((j - centre[1]) / radii[1]) ** 2 + ((k - centre[2]) / radii[2]) ** 2
            gt[d <= 1] = label
            present[label] = True
        case_id = f"case_{case:02d}"
        save(os.path.join(out, "gt", f"{case_id}.nii.gz"), gt, xml)
        for label, name in names.items():
            mask = gt == label
            if label in present and rng.random() < 0.03:
                mask = np.zeros(SHAPE, bool)  # missed
            elif mask.any():
                mask = np.roll(mask, tuple(rng.integers(-1, 2, size=3)), axis=(0, 1, 2))
            save(os.path.join(out, "pred", case_id, "segmentations", f"{name}.nii.gz"), mask)


if __name__ == "__main__":
    main(sys.argv[1])
