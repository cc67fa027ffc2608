"""Rebuilds the masks of DeepMind surface-distance's own metric tests and writes cases.json (see PROVENANCE.md).

The masks follow the shapes, positions and spacings of `surface_distance_test.py` (google-deepmind/surface-distance,
commit 1f805cea446805e559badc80dd27f34175e4173d); the expected values are the ones that test asserts, copied as
numbers, except for `two_squares_2d`, whose test derives them from surfel and distance arrays it spells out: those
arrays are copied here and the metrics are evaluated from them with the formulas of DeepMind's metrics.py (written
out below). Nothing here runs DeepMind's code or segauge.

    python make_fixtures.py   # needs numpy; writes the .npy/.json files and cases.json beside this script
"""
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from peer_fixtures import crop_pair, size_note, write_json, write_mask  # noqa: E402

TEST = "surface_distance_test.py"
INF, NAN = math.inf, math.nan
# assertAlmostEqual(expected, actual, places=3): round(actual - expected, 3) == 0, i.e. |difference| <= 5e-4
# (up to rounding at exactly 5e-4); NaN expected and NaN actual pass (the test's _assert_almost_equal);
# inf == inf passes (assertAlmostEqual returns early on equality).
TOL_PLACES3 = {"abs": 0.0005, "rule": "unittest assertAlmostEqual(places=3): round(actual - expected, 3) == 0; "
               "nan == nan and inf == inf pass"}
TOL_ARRAYS = {"abs": 0.0, "rule": "np.testing.assert_array_equal (exact), after DeepMind's own sort by distance"}

CASES = []


def metrics_from_surfels(d_gt2pred, a_gt, d_pred2gt, a_pred, tol_mm=1.0):
    """DeepMind's summary metrics of surfel distances and areas (metrics.py: compute_average_surface_distance,
    compute_robust_hausdorff, compute_surface_overlap_at_tolerance, compute_surface_dice_at_tolerance)."""
    d_gt2pred, a_gt = np.asarray(d_gt2pred, float), np.asarray(a_gt, float)
    d_pred2gt, a_pred = np.asarray(d_pred2gt, float), np.asarray(a_pred, float)

    def robust(d, a, percent):
        if len(d) == 0:
            return INF
        order = np.argsort(d, kind="stable")
        d, a = d[order], a[order]
        cum = np.cumsum(a) / np.sum(a)
        return d[min(int(np.searchsorted(cum, percent / 100.0)), len(d) - 1)]

    return {
        "average_surface_distance gt_to_pred": np.sum(d_gt2pred * a_gt) / np.sum(a_gt),
        "average_surface_distance pred_to_gt": np.sum(d_pred2gt * a_pred) / np.sum(a_pred),
        "robust_hausdorff 100": max(robust(d_gt2pred, a_gt, 100), robust(d_pred2gt, a_pred, 100)),
        "robust_hausdorff 95": max(robust(d_gt2pred, a_gt, 95), robust(d_pred2gt, a_pred, 95)),
        "surface_overlap gt at 1 mm": np.sum(a_gt[d_gt2pred <= tol_mm]) / np.sum(a_gt),
        "surface_overlap pred at 1 mm": np.sum(a_pred[d_pred2gt <= tol_mm]) / np.sum(a_pred),
        "surface_dice at 1 mm": (np.sum(a_gt[d_gt2pred <= tol_mm]) + np.sum(a_pred[d_pred2gt <= tol_mm]))
        / (np.sum(a_gt) + np.sum(a_pred)),
    }


def expected_block(asd, hd100, hd95, overlap, nsd, dice):
    """The six assertions of the test's _assert_metrics, named as DeepMind names them."""
    return {
        "average_surface_distance gt_to_pred": asd[0],
        "average_surface_distance pred_to_gt": asd[1],
        "robust_hausdorff 100": hd100,
        "robust_hausdorff 95": hd95,
        "surface_overlap gt at 1 mm": overlap[0],
        "surface_overlap pred at 1 mm": overlap[1],
        "surface_dice at 1 mm": nsd,
        "volumetric_dice": dice,
    }


def surfel_pairs(distances, areas):
    """Distance/area pairs as a list sorted by (distance, area): the test compares arrays sorted by distance with
    numpy's default (unstable) argsort, so only the multiset of pairs is meaningful."""
    return sorted([float(d), float(a)] for d, a in zip(distances, areas))


def add_case(name, source, gt, pred, spacing, expected, note, surfels=None):
    (gt_c, pred_c), offset, original = crop_pair([gt, pred])
    case = {
        "case": name,
        "source": source,
        "pred": write_mask(HERE, f"{name}_pred", pred_c, spacing),
        "gt": write_mask(HERE, f"{name}_gt", gt_c, spacing),
        "spacing": list(spacing),
        "test_shape": original,
        "crop_offset": offset,
        "args": {
            "call": "compute_surface_distances(mask_gt, mask_pred, spacing_mm) then the summary functions",
            "spacing_mm": list(spacing),
            "tolerance_mm": 1,
            "percent": [100, 95],
        },
        "expected": expected,
        "tolerance": TOL_PLACES3,
        "note": note,
    }
    if surfels is not None:
        case["expected_surfels"] = surfels
        case["tolerance_surfels"] = TOL_ARRAYS
    CASES.append(case)


def main():
    # ---- 2D (SurfaceDistance2DTest) -------------------------------------------------------------------------------
    gt = np.zeros((128, 128), bool)
    pred = np.zeros((128, 128), bool)
    gt[50, 70] = True
    pred[50, 72] = True
    diag = 0.5 * math.sqrt(2**2 + 1**2)
    add_case(
        "two_pixels_2d", f"{TEST}:120 SurfaceDistance2DTest.test_on_2_pixels_2mm_away", gt, pred, (2, 1),
        expected_block((1.5, 1.5), 2.0, 2.0, (0.5, 0.5), 0.5, 0.0),
        "one pixel each, two pixels apart along axis 1 (1 mm spacing): 2 mm",
        surfels={
            "gt": surfel_pairs([1.0, 1.0, 2.0, 2.0], [diag] * 4),
            "pred": surfel_pairs([1.0, 1.0, 2.0, 2.0], [diag] * 4),
            "note": "[distance, area] of each surfel: gt pairs = (distances_gt_to_pred, surfel_areas_gt), pred pairs "
                    "= (distances_pred_to_gt, surfel_areas_pred); area of the diagonal contour pieces "
                    "0.5*sqrt(2^2 + 1^2)",
        },
    )

    gt = np.zeros((6, 6), bool)
    gt[1:3, 1:3] = True
    pred = np.zeros((6, 6), bool)
    pred[1:4, 1:3] = True
    vertical, horizontal = 2.0, 1.0  # spacing along axis 0 and axis 1
    diag = 0.5 * math.sqrt(horizontal**2 + vertical**2)
    a_gt = [diag, horizontal, diag, vertical, diag, horizontal, diag, vertical]
    a_pred = [diag, horizontal, diag, vertical, vertical, diag, horizontal, diag, vertical, vertical]
    d_gt2pred = [0] * 5 + [horizontal] + [0] * 2
    d_pred2gt = [0] * 5 + [vertical] * 3 + [0] * 2
    m = metrics_from_surfels(d_gt2pred, a_gt, d_pred2gt, a_pred)
    dice = 2 * np.sum(gt & pred) / (np.sum(gt) + np.sum(pred))
    add_case(
        "two_squares_2d", f"{TEST}:150 SurfaceDistance2DTest.test_two_squares_shifted_by_one_pixel", gt, pred, (2, 1),
        {**m, "volumetric_dice": dice},
        "2x2 and 3x2 squares sharing a corner pixel, kept off the image border; the test states the surfel areas "
        "and distances and derives the metrics from them with DeepMind's functions; those derived values are "
        "evaluated here from the stated arrays (and volumetric Dice from the masks: 2*4/(4+6))",
        surfels={
            "gt": surfel_pairs(d_gt2pred, a_gt),
            "pred": surfel_pairs(d_pred2gt, a_pred),
            "note": "[distance, area] of each surfel as the test spells them out (gt: 8 surfels, pred: 10); "
                    "diag = 0.5*sqrt(1^2 + 2^2)",
        },
    )

    for name, fn, with_gt, with_pred, exp in [
        ("empty_pred_2d", "238 SurfaceDistance2DTest.test_empty_prediction_mask", True, False,
         expected_block((INF, NAN), INF, INF, (0.0, NAN), 0.0, 0.0)),
        ("empty_gt_2d", "255 SurfaceDistance2DTest.test_empty_ground_truth_mask", False, True,
         expected_block((NAN, INF), INF, INF, (NAN, 0.0), 0.0, 0.0)),
        ("both_empty_2d", "272 SurfaceDistance2DTest.test_both_empty_masks", False, False,
         expected_block((NAN, NAN), INF, INF, (NAN, NAN), NAN, NAN)),
    ]:
        gt = np.zeros((128, 128), bool)
        pred = np.zeros((128, 128), bool)
        if with_gt:
            gt[50, 60] = True
        if with_pred:
            pred[50, 60] = True
        add_case(name, f"{TEST}:{fn}", gt, pred, (3, 2), exp,
                 "empty-mask convention: distances from a surface to an empty one are inf, means over no surfel "
                 "are nan")

    # ---- 3D (SurfaceDistance3DTest) -------------------------------------------------------------------------------
    gt = np.zeros((128, 128, 128), bool)
    pred = np.zeros((128, 128, 128), bool)
    gt[50, 60, 70] = True
    pred[50, 60, 72] = True
    add_case("two_voxels_3d", f"{TEST}:291 SurfaceDistance3DTest.test_on_2_pixels_2mm_away", gt, pred, (3, 2, 1),
             expected_block((1.5, 1.5), 2.0, 2.0, (0.5, 0.5), 0.5, 0.0),
             "one voxel each, two voxels apart along axis 2 (1 mm spacing): 2 mm")

    gt = np.zeros((100, 100, 100), bool)
    pred = np.zeros((100, 100, 100), bool)
    gt[0:50, :, :] = True
    pred[0:51, :, :] = True
    add_case("two_cubes_3d", f"{TEST}:306 SurfaceDistance3DTest.test_two_cubes_shifted_by_one_pixel", gt, pred,
             (2, 1, 1), expected_block((0.322, 0.339), 2.0, 2.0, (0.842, 0.830), 0.836, 0.990),
             "half volumes touching five faces of the image; the expected values are given to 3 decimals in the "
             "test")

    for name, fn, with_gt, with_pred, exp in [
        ("empty_pred_3d", "322 SurfaceDistance3DTest.test_empty_prediction_mask", True, False,
         expected_block((INF, NAN), INF, INF, (0.0, NAN), 0.0, 0.0)),
        ("empty_gt_3d", "337 SurfaceDistance3DTest.test_empty_ground_truth_mask", False, True,
         expected_block((NAN, INF), INF, INF, (NAN, 0.0), 0.0, 0.0)),
        ("both_empty_3d", "352 SurfaceDistance3DTest.test_both_empty_masks", False, False,
         expected_block((NAN, NAN), INF, INF, (NAN, NAN), NAN, NAN)),
    ]:
        gt = np.zeros((128, 128, 128), bool)
        pred = np.zeros((128, 128, 128), bool)
        if with_gt:
            gt[50, 60, 70] = True
        if with_pred:
            pred[50, 60, 72] = True
        add_case(name, f"{TEST}:{fn}", gt, pred, (3, 2, 1), exp,
                 "empty-mask convention: distances from a surface to an empty one are inf, means over no surfel "
                 "are nan")

    write_json(os.path.join(HERE, "cases.json"), {
        "peer": "DeepMind surface-distance",
        "repository": "https://github.com/google-deepmind/surface-distance",
        "commit": "1f805cea446805e559badc80dd27f34175e4173d",
        "test_file": TEST,
        "arrays": "masks indexed as the test indexes them (axis 0 = x, axis 1 = y, axis 2 = z); spacing per axis",
        "cases": CASES,
    })
    print(f"{len(CASES)} cases, {size_note(HERE)} bytes of .npy")


if __name__ == "__main__":
    main()
