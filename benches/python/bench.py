#!/usr/bin/env python3
"""Benchmarks of the segauge Python package, run by ``cargo xtask bench python`` (which builds and installs what
they need and passes the paths); they can also be run by hand with the same arguments.

usage: python bench.py --segauge-bin CLI --timing-bin TIMING --surface PRED GT --eval PRED_DIR GT_DIR METADATA
                       [--runs N] [--eval-runs N] [--iterations N] [--only NAME,...] [--json-out PATH]

Three measurements (``--only surface,overhead,eval`` picks some):

surface   ``sg.surface_metrics`` on the 512×512×300 speed case (``segauge-bench-data surface``; both files read
          with ``sg.load``, masks ``== 1`` as boolean arrays, the spacing of the ground truth) against DeepMind's
          surface-distance (``compute_surface_distances``, then ``compute_robust_hausdorff`` at 100 and 95,
          ``compute_average_surface_distance``, ``compute_surface_dice_at_tolerance`` at 2 mm), called in this
          process on the same arrays, and ``segauge_eval::compare_volumes`` in Rust on the same masks
          (``segauge-compare-timing``, which splits segauge's call into computation and binding): one untimed
          warm-up call each, then ``--runs`` rounds of one timed call each (median, minimum; the ratio is the
          median of the rounds' ratios, robust to a shared machine's slow spells).
          Goal: segauge at least 5× faster. DeepMind is skipped, with a note, when this Python cannot import it.
overhead  ``sg.compare`` and ``sg.surface_metrics`` on a 32³ pair (written here as ``.npy``) against
          ``segauge_eval::compare_volumes`` with the same options in Rust (``segauge-compare-timing``, run on the
          same files): ``--iterations`` timed calls each, in 10 alternating rounds after 10 untimed calls, medians.
          Goal: the Python call less than 1 ms above the Rust one.
eval      ``sg.evaluate_dirs`` on the 1,000-case data set (``segauge-bench-data eval``) with its metadata and
          ``bootstrap=9999``, then ``to_json``, ``to_csv`` and ``to_html``, against ``segauge eval`` with the same
          options and outputs (``--json``, ``--csv``, ``--report``): the whole CLI process against the wall time of
          the Python calls (each run of either in a fresh Python process, which also gives its peak RSS); one
          warm-up run of the CLI, then ``--eval-runs`` runs of each, alternating. Goal: Python at most 1.2× the
          CLI (the median of the ratios of runs made back to back). The two JSON files must be identical.

Every measurement is printed as one JSON line (``{"measurement": ..., ...}``) as it is made, then a table; with
``--json-out`` all of them are written to that file as one document.
"""

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

GOAL_SURFACE_RATIO = 5.0
GOAL_OVERHEAD_S = 1e-3
GOAL_EVAL_RATIO = 1.2
TAU = 2.0


def peak_rss_mib(who=resource.RUSAGE_SELF):
    """Peak resident set size. Of this process: VmHWM where /proc has it (it starts afresh at exec, while
    ru_maxrss keeps the peak of the process that forked this one); else, and for children, ru_maxrss (KiB on
    Linux, bytes on macOS)."""
    if who == resource.RUSAGE_SELF:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
    kib = resource.getrusage(who).ru_maxrss
    return kib / (1024.0 * 1024.0) if sys.platform == "darwin" else kib / 1024.0


def timed(call, runs, warm_up=1):
    """(seconds of each timed call, the last value)."""
    value = None
    for _ in range(warm_up):
        value = call()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        value = call()
        seconds.append(time.perf_counter() - start)
    return seconds, value


def stats(seconds):
    return {"median": statistics.median(seconds), "min": min(seconds), "all": seconds}


def emit(record, records):
    records.append(record)
    print(json.dumps(record), flush=True)


def finite(v):
    v = float(v)
    return v if math.isfinite(v) else None


def deepmind_module():
    """surface_distance, or None with the reason."""
    try:
        import surface_distance
    except ImportError as e:
        return None, f"DeepMind surface-distance skipped: {e} (install it in the reference venv: pip install " \
                     f"surface-distance scipy)"
    # surface-distance 0.1 writes np.Inf/np.NaN (removed in numpy 2) on its empty-mask paths.
    if not hasattr(np, "Inf"):
        np.Inf = np.inf
    if not hasattr(np, "NaN"):
        np.NaN = np.nan
    return surface_distance, None


def bench_surface(args, records, work):
    import segauge as sg

    start = time.perf_counter()
    pred, _ = sg.load(args.surface[0])
    gt, geo = sg.load(args.surface[1])
    p, g = pred == 1, gt == 1
    del pred, gt
    spacing = tuple(geo["spacing"])
    load_s = time.perf_counter() - start
    rss_loaded = peak_rss_mib()

    def segauge():
        return sg.surface_metrics(p, g, spacing, tau=TAU)[1]

    sd, why = deepmind_module()

    def deepmind():
        d = sd.compute_surface_distances(g, p, spacing)
        gt_to_pred, pred_to_gt = sd.compute_average_surface_distance(d)
        return {"hd": sd.compute_robust_hausdorff(d, 100), "hd95": sd.compute_robust_hausdorff(d, 95),
                "masd": (gt_to_pred + pred_to_gt) / 2, "nsd": sd.compute_surface_dice_at_tolerance(d, TAU)}

    # Warm-up calls; the peak RSS after segauge's is its own (DeepMind has not run yet).
    m = segauge()
    rss_segauge = peak_rss_mib()
    dm = deepmind() if sd is not None else None
    # The same computation in Rust on the same masks (compare_volumes without lesions, segauge-compare-timing),
    # to split segauge's call into computation and binding (the copy of both arrays into segauge's layout).
    paths = [os.path.join(work, "surface-pred.npy"), os.path.join(work, "surface-gt.npy")]
    np.save(paths[0], p)
    np.save(paths[1], g)
    # Rounds of segauge, Rust and DeepMind, so that a slow spell of a shared machine hits them alike; the ratio
    # is the median of the rounds' ratios.
    seg_s, rust_s, dm_s = [], [], []
    rust = None
    for _ in range(args.runs):
        t = time.perf_counter()
        m = segauge()
        seg_s.append(time.perf_counter() - t)
        rust = rust_timing(args, paths, spacing, 1, 1, ["surface_metrics"])["surface_metrics"]
        rust_s.append(rust["all_s"][0])
        if sd is not None:
            t = time.perf_counter()
            dm = deepmind()
            dm_s.append(time.perf_counter() - t)
    for path in paths:
        os.remove(path)
    emit({"measurement": "surface", "tool": "segauge", "call": "sg.surface_metrics(pred == 1, gt == 1, spacing)",
          "shape": list(p.shape), "spacing": list(spacing), "voxels_pred": int(p.sum()), "voxels_gt": int(g.sum()),
          "load_s": load_s, "wall_s": stats(seg_s), "rust_compare_volumes_s": stats(rust_s),
          "binding_s": statistics.median([a - b for a, b in zip(seg_s, rust_s)]),
          "same_values": m["hd"] == rust["hd"], "peak_rss_mib_after_load": rss_loaded,
          "peak_rss_mib": rss_segauge,
          "metrics": {k: finite(m[k]) for k in ("hd", "hd95", "assd", "masd", "nsd", "biou")}}, records)
    if sd is None:
        print(why, flush=True)
        emit({"measurement": "surface", "tool": "deepmind", "skipped": why}, records)
        return
    ratio = statistics.median([d / s for d, s in zip(dm_s, seg_s)])
    emit({"measurement": "surface", "tool": "deepmind", "call": "compute_surface_distances + robust HD (100, 95) + "
          "average surface distance + surface Dice at tau", "wall_s": stats(dm_s),
          "peak_rss_mib": peak_rss_mib(), "metrics": {k: finite(v) for k, v in dm.items()},
          "ratio_over_segauge": ratio, "ratio_of_medians": statistics.median(dm_s) / statistics.median(seg_s),
          "ratio_over_rust_compare_volumes": statistics.median([d / r for d, r in zip(dm_s, rust_s)]),
          "goal_ratio": GOAL_SURFACE_RATIO, "within_goal": ratio >= GOAL_SURFACE_RATIO,
          "version": _version("surface-distance")}, records)


def _version(dist):
    try:
        import importlib.metadata

        return importlib.metadata.version(dist)
    except Exception:  # noqa: BLE001 - a version is only informative
        return None


def overhead_pair():
    """A 32³ pair at 0.8 × 0.8 × 1.5 mm: an ellipsoid (label 1) and a small sphere (label 2) against shifted,
    slightly larger copies."""
    x, y, z = np.meshgrid(np.arange(32) * 0.8, np.arange(32) * 0.8, np.arange(32) * 1.5, indexing="ij")

    def labels(shift, grow):
        a = np.zeros((32, 32, 32), np.uint8)
        a[((x - 12.5 - shift) / (8 + grow)) ** 2 + ((y - 12.0) / (7 + grow)) ** 2
          + ((z - 24.0) / (15 + grow)) ** 2 <= 1] = 1
        a[(x - 20.0 - shift) ** 2 + (y - 20.0) ** 2 + (z - 30.0) ** 2 <= (3.0 + grow) ** 2] = 2
        return np.asfortranarray(a)

    return labels(0.0, 0.0), labels(0.6, 0.5), (0.8, 0.8, 1.5)


def rust_timing(args, paths, spacing, iterations, warm_up, calls):
    """segauge-compare-timing's JSON line: compare_volumes timed in Rust on the same files."""
    out = subprocess.run([args.timing_bin, *paths, ",".join(map(repr, spacing)), str(iterations), str(warm_up),
                          ",".join(calls)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def bench_overhead(args, records, work):
    import segauge as sg

    gt, pred, spacing = overhead_pair()
    paths = [os.path.join(work, "overhead-pred.npy"), os.path.join(work, "overhead-gt.npy")]
    np.save(paths[0], pred)
    np.save(paths[1], gt)
    calls = {"compare": lambda: sg.compare(pred, gt, spacing),
             "surface_metrics": lambda: sg.surface_metrics(pred, gt, spacing)}
    # Rounds of Rust then Python, so that a slow spell of a shared machine hits both sides alike.
    rounds = 10
    per_round = max(1, args.iterations // rounds)
    rust_s = {name: [] for name in calls}
    python_s = {name: [] for name in calls}
    same = {name: True for name in calls}
    for _ in range(rounds):
        rust = rust_timing(args, paths, spacing, per_round, 10, list(calls))
        for name, call in calls.items():
            rust_s[name] += rust[name]["all_s"]
            seconds, value = timed(call, per_round, warm_up=10)
            python_s[name] += seconds
            row = value[0] if name == "compare" else {"dice": rust[name]["dice"], **value[1]}
            same[name] &= row["hd"] == rust[name]["hd"] and row["dice"] == rust[name]["dice"]
    for name in calls:
        py, rs = statistics.median(python_s[name]), statistics.median(rust_s[name])
        over = py - rs
        emit({"measurement": "overhead", "call": f"sg.{name}", "shape": [32, 32, 32], "spacing": list(spacing),
              "iterations": len(python_s[name]), "rounds": rounds,
              "python_s": {"median": py, "min": min(python_s[name])},
              "rust_compare_volumes_s": {"median": rs, "min": min(rust_s[name])},
              "overhead_s": over, "goal_s": GOAL_OVERHEAD_S, "within_goal": over < GOAL_OVERHEAD_S,
              "same_values": bool(same[name])}, records)


def eval_once_python(pred, gt, metadata, out_dir):
    """One run of sg.evaluate_dirs and its writes, in this (fresh) process; prints a JSON line."""
    import segauge as sg

    start = time.perf_counter()
    r = sg.evaluate_dirs(pred, gt, metadata=metadata, bootstrap=9999, progress=False)
    evaluated = time.perf_counter()
    r.to_json(os.path.join(out_dir, "python.json"))
    r.to_csv(os.path.join(out_dir, "python.csv"))
    r.to_html(os.path.join(out_dir, "python.html"))
    end = time.perf_counter()
    print(json.dumps({"wall_s": end - start, "evaluate_dirs_s": evaluated - start, "writes_s": end - evaluated,
                      "peak_rss_mib": peak_rss_mib(), "failures": len(r.failures)}))


def cli_once(cmd):
    """One run of a command, in this (fresh) process: its wall time and peak RSS (this process's only child)."""
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    print(json.dumps({"wall_s": wall, "peak_rss_mib": peak_rss_mib(resource.RUSAGE_CHILDREN)}))


def bench_eval(args, records, work):
    pred, gt, metadata = args.eval
    cli = [args.segauge_bin, "eval", "--pred", pred, "--gt", gt, "--metadata", metadata, "--bootstrap", "9999",
           "--json", os.path.join(work, "cli.json"), "--csv", os.path.join(work, "cli.csv"),
           "--report", os.path.join(work, "cli.html")]
    python = [sys.executable, os.path.abspath(__file__), "__eval-once", pred, gt, metadata, work]

    def run_cli():
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "__cli-once", *cli], capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def run_python():
        out = subprocess.run(python, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    run_cli()  # warm-up: page cache
    cli_runs, py_runs = [], []
    for _ in range(args.eval_runs):
        cli_runs.append(run_cli())
        py_runs.append(run_python())
    cli_s = [r["wall_s"] for r in cli_runs]
    py_s = [r["wall_s"] for r in py_runs]
    ratio = statistics.median([p / c for p, c in zip(py_s, cli_s)])  # each pair ran back to back
    with open(os.path.join(work, "cli.json"), "rb") as a, open(os.path.join(work, "python.json"), "rb") as b:
        identical = a.read() == b.read()
    emit({"measurement": "eval", "cases": sum(1 for f in os.listdir(pred) if not f.startswith(".")),
          "cli_command": " ".join(cli), "cli_s": stats(cli_s),
          "python_s": stats(py_s), "python_evaluate_dirs_s": stats([r["evaluate_dirs_s"] for r in py_runs]),
          "python_writes_s": stats([r["writes_s"] for r in py_runs]),
          "python_peak_rss_mib": max(r["peak_rss_mib"] for r in py_runs),
          "cli_peak_rss_mib": max(r["peak_rss_mib"] for r in cli_runs), "json_identical": identical,
          "ratio_python_over_cli": ratio, "ratio_of_medians": statistics.median(py_s) / statistics.median(cli_s),
          "goal_ratio": GOAL_EVAL_RATIO, "within_goal": ratio <= GOAL_EVAL_RATIO}, records)


def secs(s):
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.3f} s"


def table(records):
    lines = [""]
    verdict = {True: "met", False: "NOT met"}
    for r in records:
        if r["measurement"] == "surface" and r["tool"] == "segauge":
            lines.append(f"surface  segauge sg.surface_metrics   median {secs(r['wall_s']['median'])}  "
                         f"min {secs(r['wall_s']['min'])}  peak RSS {r['peak_rss_mib']:.0f} MiB (process)")
            lines.append(f"         of which compare_volumes in Rust {secs(r['rust_compare_volumes_s']['median'])}, "
                         f"binding {secs(r['binding_s'])} (same values: {r['same_values']})")
            seg_metrics = r["metrics"]
        elif r["measurement"] == "surface" and "skipped" in r:
            lines.append(f"surface  deepmind  {r['skipped']}")
        elif r["measurement"] == "surface":
            lines.append(f"surface  deepmind surface-distance  median {secs(r['wall_s']['median'])}  "
                         f"min {secs(r['wall_s']['min'])}  peak RSS {r['peak_rss_mib']:.0f} MiB  ratio "
                         f"{r['ratio_over_segauge']:.1f}x (goal >= {GOAL_SURFACE_RATIO:g}x: "
                         f"{verdict[r['within_goal']]}; over compare_volumes in Rust "
                         f"{r['ratio_over_rust_compare_volumes']:.1f}x)")
            lines.append("         metric   segauge      deepmind")
            for k in ("hd", "hd95", "masd", "nsd"):
                lines.append(f"         {k:<8} {seg_metrics[k]:<12.6f} {r['metrics'][k]:.6f}")
        elif r["measurement"] == "overhead":
            lines.append(f"overhead {r['call']:<19} python {secs(r['python_s']['median'])}  rust "
                         f"{secs(r['rust_compare_volumes_s']['median'])}  overhead "
                         f"{r['overhead_s'] * 1e3:.3f} ms (goal < 1 ms: {verdict[r['within_goal']]}; same "
                         f"values: {r['same_values']})")
        elif r["measurement"] == "eval":
            lines.append(f"eval     {r['cases']} cases: sg.evaluate_dirs + writes median "
                         f"{secs(r['python_s']['median'])} (peak RSS {r['python_peak_rss_mib']:.0f} MiB), "
                         f"segauge eval median {secs(r['cli_s']['median'])} (peak RSS "
                         f"{r['cli_peak_rss_mib']:.0f} MiB), ratio "
                         f"{r['ratio_python_over_cli']:.2f} (goal <= {GOAL_EVAL_RATIO}: "
                         f"{verdict[r['within_goal']]}); JSON identical: {r['json_identical']}")
    return "\n".join(lines)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "__eval-once":
        eval_once_python(*sys.argv[2:6])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "__cli-once":
        cli_once(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segauge-bin", required=True, help="the release segauge command")
    parser.add_argument("--timing-bin", required=True, help="segauge-compare-timing (release)")
    parser.add_argument("--surface", nargs=2, metavar=("PRED", "GT"), required=True)
    parser.add_argument("--eval", nargs=3, metavar=("PRED_DIR", "GT_DIR", "METADATA"), required=True)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each surface tool (default 5)")
    parser.add_argument("--eval-runs", type=int, default=3, help="timed runs of each eval (default 3)")
    parser.add_argument("--iterations", type=int, default=300, help="timed calls per overhead call (default 300)")
    parser.add_argument("--only", default="overhead,surface,eval", help="measurements to run, comma-separated")
    parser.add_argument("--json-out", help="write every measurement to this file")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3")
    only = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = set(only) - {"surface", "overhead", "eval"}
    if unknown:
        parser.error(f"unknown measurement(s) {sorted(unknown)}")

    import segauge

    records = []
    header = {"measurement": "environment", "python": sys.version.split()[0], "numpy": np.__version__,
              "segauge": segauge.__version__, "segauge_module": segauge.__file__, "cores": os.cpu_count()}
    emit(header, records)
    with tempfile.TemporaryDirectory(prefix="segauge-bench-python-") as work:
        for name in only:
            {"surface": lambda a, r: bench_surface(a, r, work), "overhead": lambda a, r: bench_overhead(a, r, work),
             "eval": lambda a, r: bench_eval(a, r, work)}[name](args, records)
    print(table(records))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"bench": "python", "measurements": records}, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json_out}")


if __name__ == "__main__":
    main()
