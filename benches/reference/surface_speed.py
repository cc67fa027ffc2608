#!/usr/bin/env python3
"""Time a reference tool computing segauge's surface and overlap metrics on one pair of label maps.

usage: python surface_speed.py TOOL PRED GT [--label N] [--tau MM] [--skip-biou]

TOOL is `meshmetrics` (MeshMetrics 0.2.x, mesh-based: HD, HD95, ASSD, MASD, NSD, BIoU, Dice, IoU) or `deepmind`
(DeepMind surface-distance, surfel-based: HD, HD95, ASSD, MASD, NSD, Dice; it has no BIoU, and IoU is derived
from its Dice). PRED and GT are NIfTI files on the same grid; the voxel spacing comes from GT's header, the masks
are `volume == N` (label 1 by default), the tolerance of NSD and BIoU is TAU mm (default 2); `--skip-biou` leaves
out MeshMetrics' BIoU.

Prints one JSON line: the tool and its version, shape and spacing, `load_s` (reading both files), `compute_s`
(time.perf_counter around the metric computation only: from handing the masks to the tool to the last value),
`steps_s` (the same split per call, in call order: the first distance metric pays for meshing and distances, later
ones reuse the tool's cache) and `metrics` (non-finite values as null). `cargo xtask bench surface` runs this
script as a whole process, next to `segauge compare`, and reads that line.

Needs the reference virtual environment described in README.md beside this file; segauge's own tests never do.
"""

import argparse
import importlib.metadata
import json
import math
import sys
import time

import nibabel as nib
import numpy as np


def load(path):
    """The voxel array (as stored: no scaling to float) and the spacing (mm) of a NIfTI file."""
    img = nib.load(path)
    data = np.asanyarray(img.dataobj)
    if data.ndim != 3:
        sys.exit(f"{path}: expected a 3D image, got shape {data.shape}")
    spacing = tuple(float(z) for z in img.header.get_zooms()[:3])
    return data, spacing


def timed(steps, name, call):
    """Runs `call()`, records its duration under `name` in `steps`, returns its value."""
    start = time.perf_counter()
    value = call()
    steps[name] = time.perf_counter() - start
    return value


def run_meshmetrics(gt, pred, spacing, tau):
    from MeshMetrics import DistanceMetrics

    steps = {}
    start = time.perf_counter()
    dm = DistanceMetrics(verbose=False)
    timed(steps, "set_input", lambda: dm.set_input(ref=gt, pred=pred, spacing=spacing))
    metrics = {
        "hd": timed(steps, "hd", lambda: dm.hd()),
        "hd95": timed(steps, "hd95", lambda: dm.hd(95)),
        "assd": timed(steps, "assd", dm.assd),
        "masd": timed(steps, "masd", dm.masd),
        "nsd": timed(steps, "nsd", lambda: dm.nsd(tau)),
        "biou": None if SKIP_BIOU else timed(steps, "biou", lambda: dm.biou(tau)),
        "dice": timed(steps, "dice", dm.dsc),
        "iou": timed(steps, "iou", dm.iou),
    }
    compute_s = time.perf_counter() - start
    return metrics, compute_s, steps, importlib.metadata.version("MeshMetrics"), []


def run_deepmind(gt, pred, spacing, tau):
    import surface_distance as sd

    # surface-distance 0.1 writes np.Inf and np.NaN, which numpy 2 removed, on its empty-mask paths only (np.Inf
    # when a mask has no surface, np.NaN for the Dice of two empty masks); restore the aliases so that empty masks
    # give inf and nan as intended instead of an AttributeError.
    if not hasattr(np, "Inf"):
        np.Inf = np.inf
    if not hasattr(np, "NaN"):
        np.NaN = np.nan

    steps = {}
    start = time.perf_counter()
    d = timed(steps, "surface_distances", lambda: sd.compute_surface_distances(gt, pred, spacing))

    def pooled_mean():
        # ASSD pooled over both directions, area-weighted, from the tool's own distances and surfel areas.
        num = np.sum(d["distances_gt_to_pred"] * d["surfel_areas_gt"])
        num += np.sum(d["distances_pred_to_gt"] * d["surfel_areas_pred"])
        return num / (np.sum(d["surfel_areas_gt"]) + np.sum(d["surfel_areas_pred"]))

    metrics = {
        "hd": timed(steps, "hd", lambda: sd.compute_robust_hausdorff(d, 100)),
        "hd95": timed(steps, "hd95", lambda: sd.compute_robust_hausdorff(d, 95)),
        "assd": timed(steps, "assd", pooled_mean),
        "masd": timed(steps, "masd", lambda: float(np.mean(sd.compute_average_surface_distance(d)))),
        "nsd": timed(steps, "nsd", lambda: sd.compute_surface_dice_at_tolerance(d, tau)),
        "biou": None,
        "dice": timed(steps, "dice", lambda: sd.compute_dice_coefficient(gt, pred)),
    }
    metrics["iou"] = None if metrics["dice"] is None else metrics["dice"] / (2.0 - metrics["dice"])
    compute_s = time.perf_counter() - start
    notes = [
        "biou: not offered by surface-distance",
        "iou: derived from the tool's Dice as dice / (2 - dice)",
        "assd: pooled area-weighted mean of the tool's distances (the tool returns the two directed means)",
        "masd: mean of the two directed means from compute_average_surface_distance",
    ]
    return metrics, compute_s, steps, importlib.metadata.version("surface-distance"), notes


TOOLS = {"meshmetrics": run_meshmetrics, "deepmind": run_deepmind}

# `--skip-biou`: MeshMetrics without its BIoU (a per-voxel distance field that costs more than its other metrics
# together); `cargo xtask bench surface` uses it for the shapes of issue 16, whose goal is stated without BIoU.
SKIP_BIOU = False


def finite_or_none(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("pred")
    parser.add_argument("gt")
    parser.add_argument("--label", type=int, default=1, help="label value to compare (default 1)")
    parser.add_argument("--tau", type=float, default=2.0, help="NSD and BIoU tolerance, mm (default 2)")
    parser.add_argument("--skip-biou", action="store_true", help="leave out MeshMetrics' BIoU (reported as null)")
    args = parser.parse_args()
    global SKIP_BIOU
    SKIP_BIOU = args.skip_biou

    start = time.perf_counter()
    pred_data, pred_spacing = load(args.pred)
    gt_data, spacing = load(args.gt)
    if pred_data.shape != gt_data.shape or not np.allclose(pred_spacing, spacing):
        sys.exit(f"grids differ: {pred_data.shape} {pred_spacing} vs {gt_data.shape} {spacing}")
    pred = pred_data == args.label
    gt = gt_data == args.label
    del pred_data, gt_data
    load_s = time.perf_counter() - start

    metrics, compute_s, steps, version, notes = TOOLS[args.tool](gt, pred, spacing, args.tau)
    line = {
        "tool": args.tool,
        "version": version,
        "numpy": np.__version__,
        "pred": args.pred,
        "gt": args.gt,
        "label": args.label,
        "tau_mm": args.tau,
        "shape": list(gt.shape),
        "spacing": list(spacing),
        "voxels_gt": int(gt.sum()),
        "voxels_pred": int(pred.sum()),
        "load_s": load_s,
        "compute_s": compute_s,
        "steps_s": steps,
        "metrics": {k: finite_or_none(v) for k, v in metrics.items()},
        "notes": notes,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
