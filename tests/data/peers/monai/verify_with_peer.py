"""Checks the MONAI fixtures without MONAI (it needs torch, which is not installable here). Not needed by segauge's
tests; it backs PROVENANCE.md.

1. With --monai PATH (a MONAI checkout at the commit in cases.json): every sphere of the Hausdorff and surface-distance
   cases is rebuilt by the tests' own `create_spherical_seg_3d` (read from the test files and run with numpy) and
   compared with the stored mask, re-embedded at the test's shape.
2. An independent NumPy/SciPy re-implementation of MONAI's Euclidean path (written from its documented algorithm:
   edges = mask XOR binary_erosion(mask), SciPy's exact EDT of the other edge set with the spacing as sampling,
   distances as float32; HD = max or linear quantile per direction, then the max of the directions; ASD = mean of the
   pooled distances; NSD = boundary elements within the class threshold over all boundary elements; NaN where both
   edge sets are empty; aggregate = nan-aware mean over channels, then over the batch) is run on the stored masks and on
   the masks re-embedded at full size, and compared with the expected values under the tests' tolerances, including
   the relations between thresholds.
3. With --deepmind PATH (a checkout of google-deepmind/surface-distance): the four use_subvoxels cases are run through
   DeepMind's surface Dice, whose surfel areas and distances MONAI's use_subvoxels path reproduces.

    python verify_with_peer.py [--monai PATH] [--deepmind PATH] [--write]

With --write the re-implementation's values go to peer_output.json (labelled as such: not MONAI's output).
"""
import ast
import json
import math
import os
import sys

import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from peer_fixtures import write_json  # noqa: E402


def arg(flag):
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else None


def load(name):
    return np.load(os.path.join(HERE, name))


def embed(a, shape, offset):
    full = np.zeros(shape, a.dtype)
    full[tuple(slice(o, o + n) for o, n in zip(offset, a.shape))] = a
    return full


# ---- the re-implementation -------------------------------------------------------------------------------------
def edges(mask):
    mask = mask.astype(bool)
    if not mask.any():
        return mask
    return mask ^ binary_erosion(mask)


def directed(e_from, e_to, spacing):
    """Distances from each edge element of e_from to the nearest of e_to (inf where e_to or e_from is empty, as
    MONAI's get_surface_distance)."""
    if not e_to.any():
        return np.full(int(e_from.sum()), np.inf, np.float32)
    if not e_from.any():
        return np.full(int(e_to.sum()), np.inf, np.float32)
    dt = distance_transform_edt(~e_to, sampling=spacing).astype(np.float32)
    return dt[e_from]


def hausdorff(pred, gt, spacing, percentile, is_directed):
    ep, eg = edges(pred), edges(gt)
    ds = [directed(ep, eg, spacing)] + ([] if is_directed else [directed(eg, ep, spacing)])
    vals = []
    for d in ds:
        if d.size == 0:
            vals.append(np.nan)
        elif not percentile:
            vals.append(float(d.max()))
        else:
            vals.append(float(np.quantile(d, percentile / 100)))
    return np.nan if any(math.isnan(v) for v in vals) else max(vals)


def average(pred, gt, spacing, symmetric):
    ep, eg = edges(pred), edges(gt)
    d = directed(ep, eg, spacing)
    if symmetric:
        d = np.concatenate([d, directed(eg, ep, spacing)])
    return np.nan if d.size == 0 else float(d.mean(dtype=np.float32))


def nsd(pred, gt, spacing, tau):
    ep, eg = edges(pred), edges(gt)
    dpg, dgp = directed(ep, eg, spacing), directed(eg, ep, spacing)
    complete = dpg.size + dgp.size
    return np.nan if complete == 0 else float((np.sum(dpg <= tau) + np.sum(dgp <= tau)) / complete)


def aggregate(f):
    """MONAI's do_metric_reduction(reduction='mean'): mean over the non-NaN channels of each image, then over the
    images that have one; 0 where there is none. Returns (value, not_nans)."""
    f = np.asarray(f, float)
    ok = ~np.isnan(f)
    per_image = np.where(ok.sum(1) > 0, np.where(ok, f, 0).sum(1) / np.maximum(ok.sum(1), 1), 0.0)
    n = int((ok.sum(1) > 0).sum())
    return (float(per_image[ok.sum(1) > 0].sum() / n) if n else 0.0), float(n)


# ---- evaluation of one case ------------------------------------------------------------------------------------
def spacing_of(case):
    return None if case["args"].get("spacing") is None else case["args"]["spacing"]


def images(case, full):
    """(pred, gt) per batch item; full=True re-embeds crops and stand-ins at the test's shape."""
    preds = case["pred"] if isinstance(case["pred"], list) else [case["pred"]]
    gts = case["gt"] if isinstance(case["gt"], list) else [case["gt"]]
    out = []
    for b, (p, g) in enumerate(zip(preds, gts)):
        p, g = load(p), load(g)
        if full and "test_shape" in case:
            shape = case["test_shape"][b] if isinstance(case["test_shape"][0], list) else case["test_shape"]
            off = case["crop_offset"][b] if isinstance(case["test_shape"][0], list) else case["crop_offset"]
            if off is None:  # a stand-in for an all-background image
                p, g = np.zeros(shape, p.dtype), np.zeros(shape, g.dtype)
            else:
                p, g = embed(p, shape, off), embed(g, shape, off)
        out.append((p, g))
    return out


def evaluate(case, full, tau=None, spacing="case"):
    a = case["args"]
    sp = spacing_of(case) if spacing == "case" else spacing
    out = {}
    if a.get("metric") == "HausdorffDistanceMetric":
        (p, g), = images(case, full)
        if "get_not_nans" in a:
            v, n = aggregate([[hausdorff(p, g, sp, a["percentile"], a["directed"])]])
            return {"aggregate(reduction=mean)": v, "not_nans": n}
        for d in a["directed"]:
            out[f"hausdorff_distance(percentile={a['percentile']}, directed={d})"] = hausdorff(
                p, g, sp, a["percentile"], d)
        return out
    if a.get("metric") == "SurfaceDistanceMetric":
        (p, g), = images(case, full)
        if "get_not_nans" in a:
            v, n = aggregate([[average(p, g, sp, a["symmetric"])]])
            return {"aggregate(reduction=mean)": v, "not_nans": n}
        for s in a["symmetric"]:
            out[f"average_surface_distance(symmetric={s})"] = average(p, g, sp, s)
        return out
    if a.get("metric") == "SurfaceDiceMetric":
        taus = tau if tau is not None else a["class_thresholds"]
        imgs = images(case, full)
        first = 0 if a["include_background"] else 1
        f = []
        for b, (p, g) in enumerate(imgs):
            row = []
            for c in range(first, a["n_class"]):
                if case["case"] == "dice_all_channels_empty":
                    pc, gc = p.astype(bool), g.astype(bool)  # every channel is the same empty mask
                else:
                    pc, gc = p == c, g == c
                v = nsd(pc, gc, sp, taus[c - first])
                row.append(v)
                out[f"nsd[b{b},c{c}]"] = v
            f.append(row)
        if case["case"] == "dice_all_channels_empty":  # batch of 2 identical images
            for c in range(a["n_class"]):
                out[f"nsd[b1,c{c}]"] = out[f"nsd[b0,c{c}]"]
            f = f * 2
        out["aggregate(reduction=mean)"], out["not_nans"] = aggregate(f)
        return out
    return None  # use_subvoxels cases: see deepmind_check


def close(actual, expected, tol):
    e = {"inf": math.inf, "nan": math.nan}.get(expected, expected) if isinstance(expected, str) else expected
    a = float(actual)
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    if a == e:
        return True
    if "float32" in tol.get("rule", "") and np.float32(a) == np.float32(e):
        return True
    return abs(a - e) <= tol.get("abs", 0.0) + tol.get("rtol", 0.0) * abs(e)


def same(x, y):
    return all((math.isnan(x[k]) and math.isnan(y[k])) or x[k] == y[k] for k in x)


def check_relations(case):
    bad = []
    for r in case.get("relations", []):
        if "over_class_thresholds" in r:
            runs = [evaluate(case, False, tau=t) for t in r["over_class_thresholds"]]
            if r["kind"] == "strictly_increasing":
                for key in r["values"]:
                    seq = [run[key] for run in runs]
                    if not all(x < y for x, y in zip(seq, seq[1:])):
                        bad.append(f"{key} not increasing over {r['over_class_thresholds']}: {seq}")
            else:
                keys = [k for k in runs[0] if k.startswith("nsd[")]
                if not all(same({k: run[k] for k in keys}, {k: runs[0][k] for k in keys}) for run in runs):
                    bad.append(f"not equal over {r['over_class_thresholds']}")
        else:  # with spacing vs without spacing, class_thresholds of the case
            if not same(evaluate(case, False), evaluate(case, False, spacing=None)):
                bad.append("values with and without spacing differ")
    return bad


def deepmind_check(case, path):
    sys.path.insert(0, path)
    import surface_distance as sd  # noqa: PLC0415

    p, g = (load(case["pred"]).astype(bool), load(case["gt"]).astype(bool))
    s = sd.compute_surface_distances(g, p, case["spacing"])
    return {"nsd[b0,c0]": float(sd.compute_surface_dice_at_tolerance(s, case["args"]["class_thresholds"][0]))}


def check_spheres(doc, checkout):
    """Runs the tests' own create_spherical_seg_3d (parsed out of both test files) for every construction."""
    fns = {}
    for rel in doc["test_files"][:2]:
        src = open(os.path.join(checkout, rel)).read()
        node = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)
                    and n.name == "create_spherical_seg_3d")
        scope = {"np": np}
        exec(compile(ast.Module([node], []), rel, "exec"), scope)  # noqa: S102 (the peer's own test helper)
        fns[rel] = scope["create_spherical_seg_3d"]
    n = bad = 0
    for case in doc["cases"]:
        if "construction" not in case:
            continue
        for side in ("pred", "gt"):
            stored = embed(load(case[side]), case["test_shape"], case["crop_offset"])
            c = case["construction"][side]
            for rel, fn in fns.items():
                want = np.zeros([99, 99, 99]) if c is None else fn(
                    radius=c["radius"], centre=tuple(c["centre"]), im_shape=tuple(c["im_shape"]),
                    im_spacing=tuple(c["im_spacing"]))
                n += 1
                if not np.array_equal(want.astype(bool), stored.astype(bool)):
                    bad += 1
                    print(f"  {case['case']} {side}: differs from {rel}'s create_spherical_seg_3d")
    print(f"spheres: {n - bad}/{n} stored masks equal the tests' create_spherical_seg_3d output")


def main():
    doc = json.load(open(os.path.join(HERE, "cases.json")))
    if arg("--monai"):
        check_spheres(doc, arg("--monai"))
    outputs = {}
    n_ok = n_run = 0
    for case in doc["cases"]:
        bad = []
        got = evaluate(case, False)
        source = "re-implementation"
        if got is None:
            if not arg("--deepmind"):
                print(f"{case['case']}: skipped (use_subvoxels; give --deepmind)")
                continue
            got = deepmind_check(case, arg("--deepmind"))
            source = "DeepMind surface-distance"
        else:
            full = evaluate(case, True)
            if not same(got, full):
                bad.append(f"cropped {got} != full size {full}")
        n_run += 1
        for k, v in case["expected"].items():
            if not close(got[k], v, case["tolerance"]):
                bad.append(f"{k}: expected {v}, got {got[k]!r}")
        bad += check_relations(case)
        outputs[case["case"]] = {"by": source, "values": got}
        n_ok += not bad
        print(f"{case['case']}: {'ok' if not bad else 'MISMATCH'} ({source})", *bad, sep="\n  " if bad else "")
    print(f"{n_ok}/{n_run} cases match ({len(doc['cases'])} in cases.json)")
    if "--write" in sys.argv:
        write_json(os.path.join(HERE, "peer_output.json"), {
            "peer": "MONAI (not run: it needs torch)",
            "note": "values of verify_with_peer.py's NumPy/SciPy re-implementation of MONAI's Euclidean path "
                    "(float32 distances as MONAI), and for the use_subvoxels cases of DeepMind surface-distance at "
                    "commit 1f805cea; NOT MONAI's own output and not asserted by MONAI's tests",
            "numpy": np.__version__,
            "cases": outputs,
        })


if __name__ == "__main__":
    main()
