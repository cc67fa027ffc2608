"""Rebuilds the masks of MONAI's Euclidean surface-metric tests and writes cases.json (see PROVENANCE.md).

Tests (Project-MONAI/MONAI, commit d388d1c6fec8cb3a0eebee5b5a0b9776ca59ca83): tests/metrics/test_hausdorff_distance.py,
test_surface_distance.py and test_surface_dice.py. Only their Euclidean values are fixtures (the chessboard and
taxicab ones are out of scope). Masks are rebuilt from the shapes, centres, radii and spacings the tests state; the
expected values are the tests' literals, or the closed-form expressions the tests write (evaluated here), never the
output of MONAI or segauge.

    python make_fixtures.py   # needs numpy; writes the .npy/.json files and cases.json beside this script
"""
import hashlib
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from peer_fixtures import crop_pair, size_note, write_json, write_mask  # noqa: E402

HD = "tests/metrics/test_hausdorff_distance.py"
SD = "tests/metrics/test_surface_distance.py"
DICE = "tests/metrics/test_surface_dice.py"
TEST_SPACING = (0.85, 1.2, 0.9)
INF, NAN = float("inf"), float("nan")

CASES = []
STORED = {}  # (content digest, spacing) -> file name, so that identical arrays are written once


def store(name, array, spacing):
    a = np.ascontiguousarray(np.asarray(array).astype(np.uint8))
    key = (hashlib.sha256(a.tobytes() + repr(a.shape).encode()).hexdigest(), tuple(float(s) for s in spacing))
    if key not in STORED:
        STORED[key] = write_mask(HERE, name, a, spacing)
    return STORED[key]


def sphere(radius, centre=(49, 49, 49), shape=(99, 99, 99), spacing=(1.0, 1.0, 1.0)):
    """The tests' create_spherical_seg_3d: voxel (i, j, k) is inside when the squared distance of
    (i*s0 - c0, j*s1 - c1, k*s2 - c2) is at most radius^2. The squares are summed in the test's order
    (axis 1, then axis 0, then axis 2) so that ties at the radius round as they do there."""
    d0 = np.arange(shape[0]).astype(float)[:, None, None] * spacing[0] - centre[0]
    d1 = np.arange(shape[1]).astype(float)[None, :, None] * spacing[1] - centre[1]
    d2 = np.arange(shape[2]).astype(float)[None, None, :] * spacing[2] - centre[2]
    return (d1 * d1 + d0 * d0 + d2 * d2 <= radius * radius).astype(np.uint8)


def spacing_tag(spacing):
    return "" if all(s == 1 for s in spacing) else "_sp" + "-".join(f"{s:g}" for s in spacing)


def zeros(shape=(99, 99, 99)):
    return np.zeros(shape, np.uint8)


def crop_and_store(tag, pred, gt, spacing):
    """Crops a binary pair (foreground classes only) and stores it; identical arrays share a file."""
    (p, g), offset, original = crop_pair([pred, gt])
    names = {}
    for side, a in (("pred", p), ("gt", g)):
        if not a.any():
            label = "zeros_" + "x".join(str(n) for n in a.shape) + spacing_tag(spacing)
        elif np.array_equal(p, g):
            label = f"{tag}_same"  # pred and gt identical: one file
        else:
            label = f"{tag}_{side}"
        names[side] = store(label, a, spacing)
    return names["pred"], names["gt"], offset, original


# ---------------------------------------------------------------------------------------------------------------
# test_hausdorff_distance.py and test_surface_distance.py: one binary mask pair, repeated over batch 2 and 3
# channels; include_background=False drops channel 0, so the aggregated mean equals the value of one pair.
# ---------------------------------------------------------------------------------------------------------------
def hd_sd_cases():
    unit = (1.0, 1.0, 1.0)
    ts = TEST_SPACING
    # tag: (pred, gt, spacing); a side is (radius, centre, im_spacing) of create_spherical_seg_3d in a 99^3 image,
    # or None for np.zeros([99, 99, 99]).
    pairs = {
        "r20c49": ((20, (49, 49, 49), unit), (20, (49, 49, 49), unit), unit),
        "r20c20_r20c19": ((20, (20, 20, 20), unit), (20, (19, 19, 19), unit), unit),
        "r33_shift": ((33, (19, 33, 22), unit), (33, (20, 33, 22), unit), unit),
        "r20_r40": ((20, (20, 33, 22), unit), (40, (20, 33, 22), unit), unit),
        "empty_r40": (None, (40, (20, 33, 22), unit), unit),
        "r20c49_empty": ((20, (49, 49, 49), unit), None, unit),
        "sp_r20c20_r20c19": ((20, (20, 20, 20), ts), (20, (19, 19, 19), ts), ts),
        "sp_r15_r30": ((15, (20, 33, 22), ts), (30, (20, 33, 22), ts), ts),
        "sp_r33_shift": ((33, (42, 45, 52), ts), (33, (43, 45, 52), ts), ts),
        "both_empty": (None, None, unit),
        "sp_both_empty": (None, None, ts),
    }

    def build(side):
        return zeros() if side is None else sphere(side[0], side[1], spacing=side[2])

    def describe(side):
        if side is None:
            return "empty (np.zeros([99, 99, 99]))"
        r, c, sp = side
        return (f"create_spherical_seg_3d(radius={r}, centre={c}"
                + ("" if sp == unit else f", im_spacing={sp}") + ")")

    files = {}
    for tag, (p, g, sp) in pairs.items():
        construction = {
            "pred": None if p is None else {"radius": p[0], "centre": list(p[1]), "im_spacing": list(p[2]),
                                            "im_shape": [99, 99, 99]},
            "gt": None if g is None else {"radius": g[0], "centre": list(g[1]), "im_spacing": list(g[2]),
                                          "im_shape": [99, 99, 99]},
        }
        desc = f"pred = {describe(p)}, gt = {describe(g)}"
        files[tag] = crop_and_store(tag, build(p), build(g), sp) + (sp, desc, construction)

    def add(name, source, tag, spacing_arg, args, expected, tolerance, note=""):
        pred, gt, offset, original, sp, desc, construction = files[tag]
        CASES.append({
            "case": name, "source": source, "pred": pred, "gt": gt, "spacing": list(sp),
            "test_shape": original, "crop_offset": offset, "construction": construction,
            "args": {**args, "spacing": spacing_arg, "distance_metric": "euclidean", "include_background": False},
            "expected": expected, "tolerance": tolerance,
            "note": desc + ("; " + note if note else ""),
        })

    hd_tol = {"rtol": 1e-6, "abs": 0.0, "rule": "np.testing.assert_allclose(expected, result, rtol=1e-6); "
              "inf equals inf"}
    channels = ("input [batch 2, 3 channels, ...] holding this pair in every channel (y_pred = pred, y = gt); "
                "include_background=False drops channel 0; aggregate(reduction='mean') of 4 identical values")
    hd = [  # (line, tag, spacing arg, percentile, directed=True value, directed=False value)
        (67, "r20c49", None, 1, 0, 0),
        (68, "r20c20_r20c19", None, None, 1.7320508075688772, 1.7320508075688772),
        (76, "r33_shift", None, None, 1, 1),
        (84, "r20_r40", None, None, 20.09975124224178, 20.223748416156685),
        (92, "empty_r40", None, None, INF, INF),
        (101, "r20c49_empty", None, None, INF, INF),
        (110, "r20_r40", None, 95, 19.924858845171276, 20.09975124224178),
        (119, "sp_r20c20_r20c19", list(TEST_SPACING), None, 2.0808651447296143, 2.2671568),
        (127, "sp_r15_r30", list(TEST_SPACING), None, 15.439640998840332, 15.62594),
    ]
    for i, (line, tag, sp, perc, directed, undirected) in enumerate(hd):
        add(f"hd_{i}_{tag}", f"{HD}:{line} TEST_CASES[{i}] (TestHausdorffDistance.test_value, :173)", tag, sp,
            {"metric": "HausdorffDistanceMetric", "percentile": perc, "directed": [True, False]},
            {f"hausdorff_distance(percentile={perc}, directed=True)": directed,
             f"hausdorff_distance(percentile={perc}, directed=False)": undirected},
            hd_tol, channels + ("; percentile=1 (a 4-element TEST_CASES entry) is the 1st percentile, "
                                "not the maximum" if perc == 1 else ""))
    nan_tol = {"rtol": 1e-7, "abs": 0.0, "rule": "np.testing.assert_allclose(0, value, rtol=1e-7): exactly 0"}
    nan_note = ("input [1, 1, ...] (one channel, kept: ignore_background keeps a single channel); the per-image "
                "value is NaN (both empty), aggregate() returns (0, not_nans=0)")
    for i, (line, tag, sp) in enumerate([(138, "both_empty", None), (146, "sp_both_empty", list(TEST_SPACING))]):
        add(f"hd_nans_{i}", f"{HD}:{line} TEST_CASES_NANS[{i}] (TestHausdorffDistance.test_nans, :195)", tag, sp,
            {"metric": "HausdorffDistanceMetric", "percentile": None, "directed": False, "get_not_nans": True},
            {"aggregate(reduction=mean)": 0.0, "not_nans": 0.0}, nan_tol, nan_note)

    sd_tol = {"rtol": 1e-5, "abs": 0.0, "rule": "np.testing.assert_allclose(expected, result, rtol=1e-5); "
              "inf equals inf"}
    sd = [  # (line, index, tag, spacing arg, symmetric=True value, symmetric=False value)
        (65, 0, "r20c49", None, 0, 0),
        (74, 2, "r33_shift", None, 0.350217, 0.3483278807706289),
        (83, 3, "r20_r40", None, 15.117741, 12.040033513150455),
        (108, 6, "empty_r40", None, INF, INF),
        (113, 8, "sp_r33_shift", list(TEST_SPACING), 0.4951, 0.4951),
    ]
    for line, i, tag, sp, sym, directed in sd:
        add(f"sd_{i}_{tag}", f"{SD}:{line} TEST_CASES[{i}] (TestAllSurfaceMetrics.test_value, :147)", tag, sp,
            {"metric": "SurfaceDistanceMetric", "symmetric": [True, False]},
            {"average_surface_distance(symmetric=True)": sym, "average_surface_distance(symmetric=False)": directed},
            sd_tol, channels + "; symmetric=False is the mean pred->gt distance, symmetric=True the mean of both "
                               "directions' distances pooled")
    for i, (line, tag, sp) in enumerate([(125, "both_empty", None), (133, "sp_both_empty", list(TEST_SPACING))]):
        add(f"sd_nans_{i}", f"{SD}:{line} TEST_CASES_NANS[{i}] (TestAllSurfaceMetrics.test_nans, :171)", tag, sp,
            {"metric": "SurfaceDistanceMetric", "symmetric": False, "get_not_nans": True},
            {"aggregate(reduction=mean)": 0.0, "not_nans": 0.0},
            {"rtol": 1e-5, "abs": 0.0, "rule": "np.testing.assert_allclose(0, value, rtol=1e-5): exactly 0"},
            nan_note)


# ---------------------------------------------------------------------------------------------------------------
# test_surface_dice.py: label maps (one-hot encoded by the test, include_background=True), batches of 2 where the
# second image is all background.
# ---------------------------------------------------------------------------------------------------------------
def dice_cases():
    rtol7 = {"rtol": 1e-7, "abs": 0.0, "rule": "np.testing.assert_allclose (rtol=1e-7, equal_nan)"}

    def batch_zero_image(ndim, spacing, shape):
        # Batch item 1 of these tests is all background: class 0 covers the whole image in both maps (NSD 1 for any
        # extent) and class 1 is absent (NaN). A 3^n zero map stands in for it (test_shape records the real one).
        return store("all_background_" + ("2d" if ndim == 2 else "3d") + ("_sp" if spacing[0] != 1 else ""),
                     np.zeros((3,) * ndim, np.uint8), spacing)

    def shift_case(name, line, fn, shape, axis, p_from, g_from, spacing, spacing_arg, expected, relations, note):
        pred = np.zeros(shape, np.uint8)
        gt = np.zeros(shape, np.uint8)
        idx_p = [slice(None)] * len(shape)
        idx_g = [slice(None)] * len(shape)
        idx_p[axis], idx_g[axis] = slice(p_from, None), slice(g_from, None)
        pred[tuple(idx_p)] = 1
        gt[tuple(idx_g)] = 1
        tag = name
        b0p = store(f"{tag}_b0_pred", pred, spacing)
        b0g = store(f"{tag}_b0_gt", gt, spacing)
        b1 = batch_zero_image(len(shape), spacing, shape)
        agg = np.nanmean(np.nanmean(np.array([[expected["nsd[b0,c0]"], expected["nsd[b0,c1]"]], [1.0, NAN]]),
                                    axis=1), axis=0)
        CASES.append({
            "case": name, "source": f"{DICE}:{line} TestAllSurfaceDiceMetrics.{fn}",
            "pred": [b0p, b1], "gt": [b0g, b1], "spacing": list(spacing),
            "test_shape": [list(shape), list(shape)], "crop_offset": [[0] * len(shape), None],
            "stand_in": [False, True],
            "args": {"metric": "SurfaceDiceMetric", "class_thresholds": [0, 0], "include_background": True,
                     "n_class": 2, "distance_metric": "euclidean", "spacing": spacing_arg,
                     "one_hot": "F.one_hot(label map, 2): class 0 = label 0 (background), class 1 = label 1"},
            "expected": {**expected, "nsd[b1,c0]": 1.0, "nsd[b1,c1]": NAN,
                         "aggregate(reduction=mean)": float(agg), "not_nans": 2},
            "tolerance": {**rtol7, "not_nans": "np.testing.assert_equal (exact)"},
            "relations": relations,
            "note": note + "; batch item 1 is all background (stored as a 3^n zero map: its values do not depend on "
                           "the extent); the aggregate is the test's nanmean over classes then over the batch",
        })

    h = (480, 640)
    exp2d = {
        "nsd[b0,c0]": 1 - (478 + 480 + 9 * 2) / (480 * 4 + 48 * 2 + 58 * 2),
        "nsd[b0,c1]": 1 - (478 + 480 + 9 * 2) / (480 * 4 + 588 * 2 + 578 * 2),
    }
    order = lambda taus: {"kind": "strictly_increasing", "values": ["nsd[b0,c0]", "nsd[b0,c1]"],  # noqa: E731
                          "over_class_thresholds": taus, "note": "the same call with each class_thresholds in turn"}
    equal = lambda taus: {"kind": "equal", "values": "all nsd[b,c]", "over_class_thresholds": taus}  # noqa: E731
    shift_case("dice2d_spacing", 27, "test_tolerance_euclidean_distance_with_spacing", h, 1, 50, 60,
               (0.85, 1.2), [0.85, 1.2], exp2d,
               [order([[0, 0], [1, 1], [9, 9], [10, 10], [11, 11]]), equal([[12, 12], [13, 13]]),
                {"kind": "equal", "values": "all nsd[b,c] and the aggregate",
                 "note": "class_thresholds [0, 0] with spacing (0.85, 1.2) and without spacing"}],
               "480x640 label maps: pred label 1 at [:, 50:], gt label 1 at [:, 60:] (10 columns apart); spacing "
               "(0.85, 1.2) per axis")
    shift_case("dice2d", 88, "test_tolerance_euclidean_distance", h, 1, 50, 60, (1.0, 1.0), None, exp2d,
               [order([[0, 0], [1, 1], [9, 9], [10, 10]]), equal([[10, 10], [11, 11]])],
               "480x640 label maps: pred label 1 at [:, 50:], gt label 1 at [:, 60:]; unit spacing")
    exp3d = {
        "nsd[b0,c1]": 1 - (200 * 110 + 198 * 108 + 9 * 200 * 2 + 9 * 108 * 2)
        / (200 * 110 * 4 + (58 + 48) * 200 * 2 + (58 + 48) * 108 * 2),
        "nsd[b0,c0]": 1 - (200 * 110 + 198 * 108 + 9 * 200 * 2 + 9 * 108 * 2)
        / (200 * 110 * 4 + (28 + 18) * 200 * 2 + (28 + 18) * 108 * 2),
    }
    shift_case("dice3d", 132, "test_tolerance_euclidean_distance_3d", (200, 110, 80), 2, 20, 30, (1.0, 1.0, 1.0),
               None, exp3d, [order([[0, 0], [1, 1], [10, 10]]), equal([[10, 10], [11, 11]])],
               "200x110x80 label maps: pred label 1 at [:, :, 20:], gt label 1 at [:, :, 30:]; unit spacing")

    # test_tolerance_all_distances: one 10x10 image, classes 0 and 1.
    pred = np.zeros((10, 10), np.uint8)
    gt = np.zeros((10, 10), np.uint8)
    pred[1:4, 1] = 1
    gt[5:8, 6] = 1
    p = store("alldist_pred", pred, (1.0, 1.0))
    g = store("alldist_gt", gt, (1.0, 1.0))
    for k, (taus, c0, c1) in enumerate([
        ([0, 0], 1 - (8 + 4) / (36 * 2 + 8 + 4), 0.0),
        ([2.8, 5.5], 1 - 3 / (36 * 2 + 8 + 4), 1 - (2 + 2) / (3 + 3)),
        ([3, 6], 1 - 1 / (36 * 2 + 8 + 4), 1 - 2 / (3 + 3)),
    ]):
        CASES.append({
            "case": f"dice_alldist_euclid_{k}", "source": f"{DICE}:179 TestAllSurfaceDiceMetrics."
                                                          f"test_tolerance_all_distances (Euclidean call {k + 1} of 3)",
            "pred": p, "gt": g, "spacing": [1.0, 1.0],
            "args": {"metric": "SurfaceDiceMetric", "class_thresholds": taus, "include_background": True,
                     "n_class": 2, "distance_metric": "euclidean", "spacing": None},
            "expected": {"nsd[b0,c0]": c0, "nsd[b0,c1]": c1},
            "tolerance": {"abs": 1.5e-6, "rule": "np.testing.assert_array_almost_equal (decimal=6): "
                                                 "|actual - expected| < 1.5e-6"},
            "note": "10x10 label maps: pred label 1 at [1:4, 1], gt label 1 at [5:8, 6]; the test's comment lists "
                    "the boundary distances (background: 36 zero distances each way, non-zero gt->pred "
                    "[3, sqrt(13), 2, 3, 2, 2, 2, 1], pred->gt [1, 2, 2, 1]; class 1: gt->pred sqrt(29), sqrt(34), "
                    "sqrt(41) and the same pred->gt)",
        })

    # test_not_predicted_not_present: 80x80, 4 classes; pred has class 1 where gt has class 2.
    pred = np.zeros((80, 80), np.uint8)
    gt = np.zeros((80, 80), np.uint8)
    pred[10:20, 10:20] = 1
    gt[10:20, 10:20] = 2
    p = store("notpresent_pred", pred, (1.0, 1.0))
    g = store("notpresent_gt", gt, (1.0, 1.0))
    f32_third = float(np.float32(1 / 3))
    for name, incl, taus, classes, agg, note in [
        ("dice_notpresent_bg", True, [1, 1, 1, 1], {"nsd[b0,c0]": 1.0, "nsd[b0,c1]": 0.0, "nsd[b0,c2]": 0.0,
                                                    "nsd[b0,c3]": NAN}, f32_third,
         "classes 0..3; aggregate = mean of the 3 non-NaN values, compared with torch.tensor([1/3], float32)"),
        ("dice_notpresent", False, [1, 1, 1], {"nsd[b0,c1]": 0.0, "nsd[b0,c2]": 0.0, "nsd[b0,c3]": NAN}, 0.0,
         "include_background=False: classes 1..3 (class_thresholds indexed from class 1)"),
    ]:
        CASES.append({
            "case": name, "source": f"{DICE}:349 TestAllSurfaceDiceMetrics.test_not_predicted_not_present",
            "pred": p, "gt": g, "spacing": [1.0, 1.0],
            "args": {"metric": "SurfaceDiceMetric", "class_thresholds": taus, "include_background": incl,
                     "n_class": 4, "distance_metric": "euclidean", "spacing": None},
            "expected": {**classes, "aggregate(reduction=mean)": agg},
            "tolerance": {"abs": 0.0, "rule": "np.testing.assert_array_equal for the per-class values (NaN equals "
                                              "NaN); np.testing.assert_equal against a torch float32 tensor for the "
                                              "aggregate (equal as float32)"},
            "note": "80x80 label maps: pred label 1 at [10:20, 10:20], gt label 2 at [10:20, 10:20]: class 1 only "
                    "predicted (0), class 2 only in gt (0), class 3 in neither (NaN); " + note,
        })
    empty = store("empty_1x1", np.zeros((1, 1), np.uint8), (1.0, 1.0))
    CASES.append({
        "case": "dice_all_channels_empty", "source": f"{DICE}:377 TestAllSurfaceDiceMetrics."
                                                     "test_not_predicted_not_present (predictions_empty)",
        "pred": empty, "gt": empty, "spacing": [1.0, 1.0],
        "args": {"metric": "SurfaceDiceMetric", "class_thresholds": [1, 1, 1], "include_background": True,
                 "n_class": 3, "distance_metric": "euclidean", "spacing": None, "get_not_nans": True,
                 "input": "torch.zeros((2, 3, 1, 1)) as both y_pred and y: 2 images of 1x1, 3 channels, every "
                          "channel empty (not a one-hot label map: no channel is set anywhere)"},
        "expected": {**{f"nsd[b{b},c{c}]": NAN for b in range(2) for c in range(3)},
                     "aggregate(reduction=mean)": 0.0, "not_nans": 0.0},
        "tolerance": {"abs": 0.0, "rule": "np.testing.assert_array_equal / assert_equal (exact)"},
        "note": "the stored file is one empty 1x1 mask, standing for each of the 3 channels of both images",
    })

    # test_compute_surface_dice_subvoxel: use_subvoxels=True (surfel areas as DeepMind), one channel, tolerance 1 mm.
    def subvoxel(name, line_note, gt_vox, pred_vox, value, tol):
        pred = np.zeros((128, 128, 128), np.uint8)
        gt = np.zeros((128, 128, 128), np.uint8)
        if gt_vox:
            gt[gt_vox] = 1
        if pred_vox:
            pred[pred_vox] = 1
        (pc, gc), offset, original = crop_pair([pred, gt])
        sp = (3.0, 2.0, 1.0)

        def file(side, a):
            if not a.any():
                return store("zeros_" + "x".join(str(n) for n in a.shape) + spacing_tag(sp), a, sp)
            if a.sum() == 1 and not (pc.any() and gc.any()):  # a lone voxel beside an empty mask
                return store("one_voxel_" + "x".join(str(n) for n in a.shape) + spacing_tag(sp), a, sp)
            return store(f"{name}_{side}", a, sp)

        CASES.append({
            "case": name, "source": f"{DICE}:385 TestAllSurfaceDiceMetrics.test_compute_surface_dice_subvoxel "
                                    f"({line_note})",
            "pred": file("pred", pc), "gt": file("gt", gc),
            "spacing": [3.0, 2.0, 1.0], "test_shape": original, "crop_offset": offset,
            "args": {"function": "compute_surface_dice(y_pred, y, class_thresholds=[1.0], include_background=True, "
                                 "spacing=(3, 2, 1), use_subvoxels=True)", "class_thresholds": [1.0],
                     "include_background": True, "use_subvoxels": True, "spacing": [3, 2, 1]},
            "expected": {"nsd[b0,c0]": value}, "tolerance": tol,
            "note": "one channel [1, 1, 128, 128, 128]; single voxels",
        })

    exact = {"rtol": 1e-7, "abs": 0.0, "rule": "tests.test_utils.assert_allclose -> np.testing.assert_allclose "
                                               "(rtol=1e-7, atol=0)"}
    subvoxel("subvoxel_gt_only", "first call, :388", (50, 60, 70), None, 0.0, exact)
    subvoxel("subvoxel_pred_only", "second call, :394", None, (50, 60, 72), 0.0, exact)
    subvoxel("subvoxel_two_voxels", "third call, :400", (50, 60, 70), (50, 60, 72), 0.5, exact)
    pred = np.zeros((100, 100, 100), np.uint8)
    gt = np.zeros((100, 100, 100), np.uint8)
    gt[0:50] = 1
    pred[0:51] = 1
    (pc, gc), offset, original = crop_pair([pred, gt])
    CASES.append({
        "case": "subvoxel_two_cubes", "source": f"{DICE}:385 TestAllSurfaceDiceMetrics."
                                                "test_compute_surface_dice_subvoxel (fourth call, :409)",
        "pred": store("subvoxel_two_cubes_pred", pc, (2.0, 1.0, 1.0)),
        "gt": store("subvoxel_two_cubes_gt", gc, (2.0, 1.0, 1.0)),
        "spacing": [2.0, 1.0, 1.0], "test_shape": original, "crop_offset": offset,
        "args": {"function": "compute_surface_dice(y_pred, y, class_thresholds=[1.0], include_background=True, "
                             "spacing=(2, 1, 1), use_subvoxels=True)", "class_thresholds": [1.0],
                 "include_background": True, "use_subvoxels": True, "spacing": [2, 1, 1]},
        "expected": {"nsd[b0,c0]": 0.836145},
        "tolerance": {"rtol": 1e-3, "abs": 1e-3, "rule": "np.testing.assert_allclose(atol=1e-3, rtol=1e-3): "
                                                         "|actual - expected| <= 1e-3 + 1e-3*|expected|"},
        "note": "one channel [1, 1, 100, 100, 100]: gt [0:50, :, :], pred [0:51, :, :] (DeepMind's two-cubes case; "
                "DeepMind gives 0.8361450084979621 there)",
    })


def main():
    hd_sd_cases()
    dice_cases()
    write_json(os.path.join(HERE, "cases.json"), {
        "peer": "MONAI",
        "repository": "https://github.com/Project-MONAI/MONAI",
        "commit": "d388d1c6fec8cb3a0eebee5b5a0b9776ca59ca83",
        "test_files": [HD, SD, DICE],
        "arrays": "masks and label maps indexed as the tests index them (the spatial axes after batch and "
                  "channel: axis 0 = x, axis 1 = y, axis 2 = z); spacing per axis",
        "cases": CASES,
    })
    print(f"{len(CASES)} cases, {size_note(HERE)} bytes of .npy in {len(STORED)} files")


if __name__ == "__main__":
    main()
