#!/usr/bin/env python3
"""Time a reference tool on every structure of two multi-label maps, one structure after another.

usage: python many_labels.py TOOL PRED GT [--tau MM] [--skip-biou]

TOOL is `deepmind` or `meshmetrics`, run exactly as `surface_speed.py` runs it on one label (the same metrics, the
same calls), in a loop over every non-zero label present in either map, each as the binary masks `volume == label`:
what a user of these tools writes for a multi-label segmentation. `--skip-biou` leaves out MeshMetrics' BIoU,
whose per-voxel distance field costs more than all its other metrics together (`cargo xtask bench many-labels`
passes it, to keep a run within minutes; its table says so).

Prints one JSON line: the tool and its version, `labels` (how many were measured), `load_s` (reading both files),
`compute_s` (time.perf_counter around the whole loop, including making each label's two masks), `steps_s` (the
tool's steps summed over the labels, plus `masks`, the time spent making the masks), `slowest` (the five labels that
took longest, with their times) and `metrics` (per label, non-finite values as null).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import surface_speed  # noqa: E402  (the per-label runs; same folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", choices=sorted(surface_speed.TOOLS))
    parser.add_argument("pred")
    parser.add_argument("gt")
    parser.add_argument("--tau", type=float, default=2.0, help="NSD and BIoU tolerance, mm (default 2)")
    parser.add_argument("--skip-biou", action="store_true", help="leave out MeshMetrics' BIoU")
    args = parser.parse_args()

    start = time.perf_counter()
    pred, pred_spacing = surface_speed.load(args.pred)
    gt, spacing = surface_speed.load(args.gt)
    if pred.shape != gt.shape or not np.allclose(pred_spacing, spacing):
        sys.exit(f"grids differ: {pred.shape} {pred_spacing} vs {gt.shape} {spacing}")
    load_s = time.perf_counter() - start

    run = surface_speed.TOOLS[args.tool]
    surface_speed.SKIP_BIOU = args.skip_biou
    start = time.perf_counter()
    labels = sorted(int(v) for v in np.union1d(np.unique(pred), np.unique(gt)) if v != 0)
    steps = {"masks": 0.0}
    per_label = {}
    times = {}
    version = None
    for label in labels:
        t0 = time.perf_counter()
        p, g = pred == label, gt == label
        steps["masks"] += time.perf_counter() - t0
        metrics, _, label_steps, version, _ = run(g, p, spacing, args.tau)
        for name, s in label_steps.items():
            steps[name] = steps.get(name, 0.0) + s
        per_label[str(label)] = {k: surface_speed.finite_or_none(v) for k, v in metrics.items()}
        times[str(label)] = time.perf_counter() - t0
    compute_s = time.perf_counter() - start

    slowest = sorted(times.items(), key=lambda kv: -kv[1])[:5]
    print(
        json.dumps(
            {
                "tool": args.tool,
                "version": version,
                "numpy": np.__version__,
                "pred": args.pred,
                "gt": args.gt,
                "tau_mm": args.tau,
                "skip_biou": args.skip_biou,
                "shape": list(gt.shape),
                "spacing": list(spacing),
                "labels": len(labels),
                "load_s": load_s,
                "compute_s": compute_s,
                "steps_s": steps,
                "slowest": slowest,
                "metrics": per_label,
            }
        )
    )


if __name__ == "__main__":
    main()
