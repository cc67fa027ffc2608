"""Helpers shared by the make_fixtures.py scripts of tests/data/peers/<peer>/ (see README.md there).

Every mask is written as a uint8 `.npy` (C order, numpy's format version 1.0, so the bytes depend only on the array)
with a JSON sidecar `<stem>.json` = {"spacing": [...], "axes": "xyz"}: array axis 0 is x, axis 1 is y (axis 2 is z),
in the order the peer's test indexes its arrays. 2D masks get two spacing numbers.
"""
import json
import math
import os
import re

import numpy as np

# Masks with more voxels than this are stored cropped (see crop_pair); smaller ones are stored as the test builds them.
CROP_ABOVE_VOXELS = 4096


def jsonable(value):
    """Floats that JSON cannot hold become the strings "inf", "-inf" and "nan" (segauge's JSON contract)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def write_json(path, obj):
    """Indented JSON with lists of plain values (numbers, strings, null, booleans) kept on one line."""
    text = json.dumps(jsonable(obj), indent=1, ensure_ascii=False, allow_nan=False)
    text = re.sub(r"\[\n\s*((?:[^\[\]{}\n]+,\n\s*)*[^\[\]{}\n]+)\n\s*\]",
                  lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text + "\n")


def write_mask(folder, name, array, spacing):
    """Writes `<name>.npy` (uint8) and its sidecar `<name>.json`; returns the file name of the `.npy`."""
    a = np.asarray(array)
    if a.ndim not in (2, 3):
        raise ValueError(f"{name}: a mask must be 2D or 3D, got shape {a.shape}")
    if len(spacing) != a.ndim:
        raise ValueError(f"{name}: {len(spacing)} spacing numbers for a {a.ndim}D mask")
    if a.dtype == bool:
        a = a.astype(np.uint8)
    if a.min(initial=0) < 0 or a.max(initial=0) > 255 or not np.array_equal(a, np.round(a)):
        raise ValueError(f"{name}: values are not labels 0..255")
    a = np.ascontiguousarray(a.astype(np.uint8))
    path = os.path.join(folder, name + ".npy")
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=(1, 0), allow_pickle=False)
    write_json(os.path.join(folder, name + ".json"), {"spacing": [float(s) for s in spacing], "axes": "xyz"})
    return name + ".npy"


def crop_pair(arrays, margin=1, empty_shape=3):
    """Crops arrays of one shape to the bounding box of their union grown by `margin` voxels (clipped to the array).

    A side where the union touches the array border keeps that border, and every other side keeps at least one
    background layer, so a surface, its distances and every quantity of the peers here stay the same (each peer
    crops to the union's box itself, MONAI with the same one-voxel margin). Returns (cropped arrays, offset,
    original shape); the offset is the index of the cropped array's first voxel in the original. When the union is
    empty the arrays become all-zero arrays of shape min(original, empty_shape) per axis.
    Arrays of at most CROP_ABOVE_VOXELS voxels are returned unchanged with offset 0.
    """
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError("arrays of different shapes")
    if int(np.prod(shape)) <= CROP_ABOVE_VOXELS:
        return list(arrays), [0] * len(shape), list(shape)
    union = np.zeros(shape, bool)
    for a in arrays:
        union |= np.asarray(a) != 0
    if not union.any():
        small = tuple(min(n, empty_shape) for n in shape)
        return [np.zeros(small, np.uint8) for _ in arrays], [0] * len(shape), list(shape)
    idx = np.argwhere(union)
    lo = np.maximum(idx.min(0) - margin, 0)
    hi = np.minimum(idx.max(0) + 1 + margin, shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
    return [np.asarray(a)[box] for a in arrays], [int(v) for v in lo], list(shape)


def size_note(folder):
    """Total bytes of the .npy files in a folder (printed by the scripts)."""
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder) if f.endswith(".npy"))
