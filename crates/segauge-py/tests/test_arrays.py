"""The array API on masks whose answers are known: Dice and IoU of boxes from their overlap lengths, overlap counts
from numpy, volumes from the spacing, Hausdorff distances of a bar shifted by one voxel, the grid surface's
distances counted by hand, NSD at its tolerance, lesion counts of separated blobs, batches against one call per
item, axis order and memory order, and the errors of invalid arrays and options."""

import math

import numpy as np
import pytest

import segauge as sg

from conftest import assert_same


def box(shape, lo, hi, dtype=np.uint8, value=1):
    a = np.zeros(shape, dtype)
    a[tuple(slice(l, h) for l, h in zip(lo, hi))] = value
    return a


def box_overlap(lo1, hi1, lo2, hi2):
    """Voxels shared by two boxes [lo, hi): the product of the overlaps of their extents."""
    return math.prod(max(0, min(h1, h2) - max(l1, l2)) for l1, h1, l2, h2 in zip(lo1, hi1, lo2, hi2))


# Two boxes of different sizes overlapping in part.
SHAPE = (20, 16, 12)
P_LO, P_HI = (2, 3, 1), (12, 9, 7)    # 10 × 6 × 6 = 360 voxels
G_LO, G_HI = (5, 1, 2), (15, 8, 10)   # 10 × 7 × 8 = 560 voxels


def test_dice_and_iou_of_two_boxes_are_the_analytic_ones():
    p, g = box(SHAPE, P_LO, P_HI), box(SHAPE, G_LO, G_HI)
    n_p, n_g = math.prod(h - l for l, h in zip(P_LO, P_HI)), math.prod(h - l for l, h in zip(G_LO, G_HI))
    both = box_overlap(P_LO, P_HI, G_LO, G_HI)
    assert both == 7 * 5 * 5
    o = sg.overlap(p, g)[1]
    assert (o["tp"], o["fp"], o["fn"], o["voxels_pred"], o["voxels_gt"]) == (both, n_p - both, n_g - both, n_p, n_g)
    assert o["dice"] == 2 * both / (n_p + n_g)
    assert o["iou"] == both / (n_p + n_g - both)
    assert o["empty_state"] == "none"
    assert "volume_pred_mm3" not in o  # no spacing, no volume
    row = sg.compare(p, g, (0.8, 0.8, 2.5), surface=None)[0]
    assert (row["label"], row["dice"], row["iou"]) == (1, o["dice"], o["iou"])


def test_overlap_counts_and_volumes_of_several_labels_match_numpy():
    rng = np.random.default_rng(7)
    p = rng.integers(0, 5, (17, 13, 9)).astype(np.uint16)
    g = rng.integers(0, 5, (17, 13, 9)).astype(np.uint16)
    g[g == 4] = 0  # label 4 only in the prediction
    spacing = (0.7, 1.1, 3.0)
    out = sg.overlap(p, g, spacing)
    assert sorted(out) == [1, 2, 3, 4]
    for label, o in out.items():
        pm, gm = p == label, g == label
        tp, fp, fn = int((pm & gm).sum()), int((pm & ~gm).sum()), int((~pm & gm).sum())
        assert (o["tp"], o["fp"], o["fn"]) == (tp, fp, fn), label
        assert (o["voxels_pred"], o["voxels_gt"]) == (int(pm.sum()), int(gm.sum()))
        assert o["volume_pred_mm3"] == pytest.approx(pm.sum() * 0.7 * 1.1 * 3.0, rel=1e-14)
        assert o["volume_gt_mm3"] == pytest.approx(gm.sum() * 0.7 * 1.1 * 3.0, rel=1e-14)
        assert o["dice"] == 2 * tp / (2 * tp + fp + fn)
    assert out[4]["empty_state"] == "gt_empty" and out[4]["dice"] == 0.0
    # Asked-for labels absent from both: both empty, Dice 1 by convention.
    rows = sg.compare(p, g, spacing, labels=[2, 9], surface=None, lesions=False)
    assert [r["label"] for r in rows] == [2, 9]
    assert rows[1]["empty_state"] == "both_empty" and rows[1]["tp"] == 0


# A 6 × 4 × 4 bar and the same bar shifted by one voxel along x.
BAR = box((10, 8, 8), (2, 2, 2), (8, 6, 6), dtype=bool)
SHIFTED = np.roll(BAR, 1, axis=0)


@pytest.mark.parametrize("surface", ["voxel-faces", "grid", "marching-cubes"])
@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (1.5, 0.7, 2.0), (0.6, 0.9, 0.9)])
def test_a_bar_shifted_by_one_voxel_along_x_has_hausdorff_distance_spacing_x(surface, spacing):
    m = sg.surface_metrics(BAR, SHIFTED, spacing, surface=surface, tau=2 * spacing[0])[1]
    assert m["hd"] == pytest.approx(spacing[0], rel=1e-12)
    assert m["nsd"] == 1.0  # every distance is at most spacing_x, within tau
    assert 0 < m["assd"] < spacing[0]


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (1.5, 0.7, 2.0), (0.6, 0.9, 0.9)])
def test_grid_surface_distances_of_the_shifted_bar_are_counted_by_hand(spacing):
    # The grid surface is the set of boundary voxel centres: 2 full faces of 4×4 and 4 rings of 12 per bar, 80.
    # From each bar to the other: the 16 voxels of the face that leaves are spacing_x from the other bar's face;
    # the 4 inner voxels of the other face are min(sx, sy, sz) from the other bar's ring; the 60 others are on
    # the other bar's boundary (distance 0). Both directions are alike.
    sx, sy, sz = spacing
    inner = min(sx, sy, sz)
    n = 2 * 16 + 4 * 12
    assd = (16 * sx + 4 * inner) / n
    for tau in (0.5, 1.0):
        m = sg.surface_metrics(BAR, SHIFTED, spacing, surface="grid", tau=tau)[1]
        within = n - 16 * (sx > tau) - 4 * (inner > tau)
        assert m["nsd"] == pytest.approx(within / n, rel=1e-12), tau
        assert m["assd"] == pytest.approx(assd, rel=1e-12)
        assert m["masd"] == pytest.approx(assd, rel=1e-12)
        assert m["hd"] == pytest.approx(sx, rel=1e-12)
        assert m["hd95"] == pytest.approx(sx, rel=1e-12)  # 16 of 80 distances (20 %) are sx


def test_nsd_and_distances_of_identical_and_of_far_apart_masks():
    a = box((30, 10, 10), (2, 2, 2), (7, 7, 7), dtype=bool)
    same = sg.surface_metrics(a, a.copy(), (1.0, 1.0, 1.0), tau=2.0)[1]
    assert (same["hd"], same["hd95"], same["assd"], same["nsd"], same["biou"]) == (0.0, 0.0, 0.0, 1.0, 1.0)
    # No voxel centre lies within tau of the surface when tau is at most half a voxel: BIoU is undefined (README).
    same = sg.surface_metrics(a, a.copy(), (1.0, 1.0, 1.0), tau=0.5)[1]
    assert (same["nsd"], math.isnan(same["biou"])) == (1.0, True)
    # The same cube 15 voxels further along x: the faces facing each other are 10 voxels apart (11 between the
    # closest voxel centres), far more than tau.
    b = np.roll(a, 15, axis=0)
    for surface in ("voxel-faces", "grid", "smooth"):
        m = sg.surface_metrics(a, b, (1.0, 1.0, 1.0), tau=3.0, surface=surface)[1]
        assert (m["nsd"], m["biou"]) == (0.0, 0.0), surface
        assert m["hd"] >= 10.0
    m = sg.surface_metrics(a, b, (2.0, 1.0, 1.0), tau=3.0, surface="voxel-faces")[1]
    assert m["hd"] == pytest.approx(15 * 2.0, rel=1e-12)  # every point moves by 15 voxels of 2 mm
    # NSD grows with tau: within tau = the gap, everything of the facing faces and more.
    assert sg.surface_metrics(a, b, (1, 1, 1), tau=100.0)[1]["nsd"] == 1.0


def test_empty_prediction_has_infinite_distances():
    g = box((8, 8, 8), (2, 2, 2), (5, 5, 5))
    m = sg.surface_metrics(np.zeros_like(g), g, (1, 1, 1))[1]
    assert m["empty_state"] == "pred_empty"
    assert math.isinf(m["hd"]) and math.isinf(m["assd"]) and m["nsd"] == 0.0


def test_lesion_counts_of_separated_blobs():
    # GT: blobs A (3³), B (4³) and C (2×2×5). Prediction: A exactly, half of B (IoU 0.5 is not above the default
    # threshold 0.5), C shifted by one voxel (IoU 4/6 > 0.5), and D far from everything: by hand, 2 matches
    # (A, C), 1 missed GT (B) and 2 unmatched predictions (the half of B, D).
    g = np.zeros((30, 30, 20), np.uint8)
    p = np.zeros_like(g)
    g[2:5, 2:5, 2:5] = 1
    p[2:5, 2:5, 2:5] = 1
    g[10:14, 10:14, 10:14] = 1
    p[10:12, 10:14, 10:14] = 1
    g[20:22, 2:4, 2:7] = 1
    p[20:22, 2:4, 3:8] = 1
    p[25:28, 25:28, 15:18] = 1
    le = sg.lesions(p, g, (1.0, 1.0, 1.0))[1]
    assert (le["n_gt"], le["n_pred"], le["tp"], le["fp"], le["fn"]) == (3, 4, 2, 2, 1)
    assert le["precision"] == 2 / 4 and le["recall"] == 2 / 3
    assert le["f1"] == pytest.approx(2 * 2 / (2 * 2 + 2 + 1), rel=1e-15)
    assert sorted(l["voxels"] for l in le["gt_lesions"]) == sorted([27, 64, 20])
    assert sorted(l["voxels"] for l in le["pred_lesions"]) == sorted([27, 32, 20, 27])
    ious = sorted(m["iou"] for m in le["matches"])
    assert ious == pytest.approx([4 / 6, 1.0], rel=1e-15)
    # Lesion ids follow the raster order of the first voxel (x fastest): A (z = 2) then C (z = 2, larger x)…
    first = [(l["id"], l["voxels"]) for l in le["gt_lesions"]]
    assert first == [(1, 27), (2, 20), (3, 64)]
    # Centroids are in world mm (voxel centres at index × spacing with the default origin).
    a = next(l for l in le["gt_lesions"] if l["voxels"] == 27)
    assert a["centroid_mm"] == pytest.approx([3.0, 3.0, 3.0], rel=1e-15)
    # With 6-connectivity two blobs touching at a corner are two lesions; with 26, one.
    q = np.zeros((6, 6, 6), np.uint8)
    q[1, 1, 1] = q[2, 2, 2] = 1
    assert sg.lesions(q, q, (1, 1, 1), connectivity=6)[1]["n_gt"] == 2
    assert sg.lesions(q, q, (1, 1, 1), connectivity=26)[1]["n_gt"] == 1


def test_lesion_bounding_boxes_are_image_voxel_indices():
    g = box((20, 20, 20), (10, 11, 12), (14, 14, 15))
    le = sg.lesions(g, g, (1, 1, 1))[1]
    assert (le["gt_lesions"][0]["bbox_lo"], le["gt_lesions"][0]["bbox_hi"]) == ([10, 11, 12], [13, 13, 14])


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(3)
    p = rng.integers(0, 4, (3, 12, 10, 8)).astype(np.uint8)
    g = p.copy()
    flip = rng.random(p.shape) < 0.2
    g[flip] = rng.integers(0, 4, int(flip.sum()))
    p[1][p[1] == 3] = 0  # item 1: label 3 only in the GT
    p[2][p[2] == 2] = 0  # item 2: label 2 absent from both
    g[2][g[2] == 2] = 0
    return p, g


SPACING = (0.9, 1.2, 2.0)


def per_item(p, g, labels, **options):
    return [sg.compare(p[b], g[b], SPACING, labels=labels, lesions=False, **options) for b in range(len(p))]


def check_batch(out, rows):
    for key in ("dice", "iou", "hd", "hd95", "assd", "masd", "nsd", "biou"):
        assert out[key].shape == (len(rows), len(rows[0])), key
        assert out[key].dtype == np.float64
        for b, row in enumerate(rows):
            for c, r in enumerate(row):
                assert_same(float(out[key][b, c]), float(r[key]), f"{key}[{b}, {c}]")


def test_batch_of_label_maps_equals_one_compare_per_item(batch):
    p, g = batch
    out = sg.batch_metrics(p, g, SPACING)
    assert out["labels"].tolist() == [1, 2, 3]
    check_batch(out, per_item(p, g, [1, 2, 3]))
    assert np.isinf(out["hd"][1, 2])  # label 3 not predicted in item 1
    # Chosen labels, in the order given.
    out = sg.batch_metrics(p, g, SPACING, labels=[3, 1], surface="grid", tau=1.0)
    assert out["labels"].tolist() == [3, 1]
    check_batch(out, per_item(p, g, [3, 1], surface="grid", tau=1.0))
    # Overlap only: no distances.
    out = sg.batch_metrics(p, g, surface=None)
    assert set(out) == {"dice", "iou", "labels"}
    with pytest.raises(sg.OptionError, match="background"):
        sg.batch_metrics(p, g, SPACING, include_background=True)


@pytest.mark.parametrize("include_background", [False, True])
def test_batch_of_one_hot_arrays_equals_one_compare_per_channel(batch, include_background):
    p, g = batch
    oh_p = np.stack([p == c for c in range(4)], axis=1)  # [B, C, X, Y, Z]
    oh_g = np.stack([g == c for c in range(4)], axis=1).astype(np.float32)  # floats holding 0/1 are labels too
    out = sg.batch_metrics(oh_p, oh_g, SPACING, include_background=include_background)
    channels = list(range(0 if include_background else 1, 4))
    assert out["labels"].tolist() == channels
    rows = [[sg.compare(oh_p[b, c], oh_g[b, c], SPACING, labels=[1], lesions=False)[0] for c in channels]
            for b in range(len(p))]
    check_batch(out, rows)
    # A channel is the mask of its label: the same numbers as the label map's column.
    if not include_background:
        labels = sg.batch_metrics(p, g, SPACING)
        check_batch(out, [[{k: labels[k][b, c] for k in labels if k != "labels"} for c in range(3)]
                          for b in range(len(p))])


def test_zyx_axes_and_memory_order_do_not_change_results():
    rng = np.random.default_rng(11)
    p = rng.integers(0, 3, (14, 10, 7)).astype(np.uint8)
    g = rng.integers(0, 3, (14, 10, 7)).astype(np.uint8)
    spacing = (0.5, 0.8, 2.5)
    ref = sg.compare(p, g, spacing)
    # SimpleITK's order: the array reversed, the spacing still x, y, z.
    assert_same(sg.compare(p.transpose(2, 1, 0), g.transpose(2, 1, 0), spacing, axes="zyx"), ref)
    assert_same(sg.compare(np.ascontiguousarray(p.T), np.ascontiguousarray(g.T), spacing, axes="zyx"), ref)
    # C and Fortran copies of the same [x, y, z] array, and a non-contiguous view.
    assert_same(sg.compare(np.asfortranarray(p), np.asfortranarray(g), spacing), ref)
    assert_same(sg.compare(np.ascontiguousarray(p), np.ascontiguousarray(g), spacing), ref)
    big_p, big_g = np.zeros((28, 10, 7), np.uint8), np.zeros((28, 10, 7), np.uint8)
    big_p[::2], big_g[::2] = p, g
    assert_same(sg.compare(big_p[::2], big_g[::2], spacing), ref)
    # Other dtypes holding the same labels.
    assert_same(sg.compare(p.astype(np.int64), g.astype(np.float64), spacing), ref)
    # A transposed array without axes="zyx" is another volume (the spacing is not permuted).
    assert sg.compare(p.T.copy(), g.T.copy(), spacing, surface=None)[0]["volume_gt_mm3"] == pytest.approx(
        ref[0]["volume_gt_mm3"], rel=1e-12)  # volumes agree (same voxel count)…
    assert sg.compare(p.T.copy(), g.T.copy(), spacing)[0]["hd"] != ref[0]["hd"]  # …distances do not


def test_2d_arrays_are_one_slice():
    a = box((12, 9), (2, 2), (8, 6))
    b = np.roll(a, 1, axis=0)
    rows = sg.compare(a, b, (1.5, 0.5), surface="grid", lesions=False)
    three_d = sg.compare(a[:, :, None], b[:, :, None], (1.5, 0.5, 1.0), surface="grid", lesions=False)
    assert_same(rows, three_d)


def test_invalid_arrays_and_geometry_raise_option_errors():
    a = box((6, 6, 6), (1, 1, 1), (4, 4, 4))
    with pytest.raises(sg.OptionError, match="spacing"):
        sg.compare(a, a, (1.0, 1.0))
    with pytest.raises(sg.OptionError, match="spacing"):
        sg.compare(a, a, (1.0, 1.0, 1.0, 1.0))
    with pytest.raises(sg.OptionError, match="spacing"):
        sg.surface_metrics(a, a, None)  # distances need a spacing
    with pytest.raises(sg.OptionError, match="spacing"):
        sg.evaluate([sg.Case("x", pred=a, gt=a, spacing=(1, 1))], bootstrap=9, progress=False)
    with pytest.raises(sg.OptionError, match="axes"):
        sg.compare(a, a, (1, 1, 1), axes="yxz")
    with pytest.raises(sg.OptionError, match="not a label"):
        sg.compare(a - 2.0, a, (1, 1, 1))
    with pytest.raises(sg.OptionError, match="not a label"):
        sg.compare(a * 0.5, a, (1, 1, 1))
    with pytest.raises(sg.OptionError, match="dtype"):
        sg.compare(a.astype(complex), a, (1, 1, 1))
    with pytest.raises(sg.OptionError, match="dimensions"):
        sg.compare(a[None], a[None], (1, 1, 1))
    with pytest.raises(sg.GridMismatch, match="shape"):
        sg.compare(a, a[:5], (1, 1, 1))
    with pytest.raises(sg.GridMismatch):
        sg.batch_metrics(np.stack([a, a]), np.stack([a, a])[:, :5], (1, 1, 1))
    # Options: unknown names and invalid values name the option.
    with pytest.raises(sg.OptionError, match="bogus"):
        sg.compare(a, a, (1, 1, 1), bogus=1)
    with pytest.raises(sg.OptionError, match="tau"):
        sg.compare(a, a, (1, 1, 1), tau=-1)
    with pytest.raises(sg.OptionError, match="tau"):
        sg.batch_metrics(np.stack([a]), np.stack([a]), (1, 1, 1), tau=float("nan"))
    with pytest.raises(sg.OptionError, match="percentile"):
        sg.surface_metrics(a, a, (1, 1, 1), percentile=0)
    with pytest.raises(sg.OptionError, match="lesion_rule"):
        sg.lesions(a, a, (1, 1, 1), lesion_rule="nearest")
    with pytest.raises(sg.OptionError, match="connectivity"):
        sg.lesions(a, a, (1, 1, 1), connectivity=5)
    # OptionError is a ValueError, GridMismatch an InputError: both SegaugeErrors.
    assert issubclass(sg.OptionError, ValueError) and issubclass(sg.GridMismatch, sg.InputError)
    assert issubclass(sg.OutputError, OSError) and issubclass(sg.InputError, sg.SegaugeError)


def test_large_arrays_in_any_memory_order_give_the_numpy_counts():
    # Over a million voxels, the copy into segauge's layout runs in parallel (contiguous and strided paths).
    rng = np.random.default_rng(13)
    shape = (130, 110, 80)
    g = np.zeros(shape, np.uint16)
    g[10:90, 20:100, 5:70] = 1
    g[60:120, 5:60, 30:75] = 300  # above 255: 16-bit labels
    p = g.copy()
    flip = rng.random(shape) < 0.05
    p[flip] = rng.choice(np.array([0, 1, 300], np.uint16), int(flip.sum()))
    want = {}
    for label in (1, 300):
        pm, gm = p == label, g == label
        want[label] = (int((pm & gm).sum()), int((pm & ~gm).sum()), int((~pm & gm).sum()))
    variants = {
        "F": (np.asfortranarray(p), np.asfortranarray(g), "xyz"),
        "C": (np.ascontiguousarray(p), np.ascontiguousarray(g), "xyz"),
        "zyx C": (np.ascontiguousarray(p.T), np.ascontiguousarray(g.T), "zyx"),
        "zyx F": (np.asfortranarray(p.T), np.asfortranarray(g.T), "zyx"),
        "int32 C": (p.astype(np.int32), g.astype(np.int32), "xyz"),
    }
    for name, (pv, gv, axes) in variants.items():
        out = sg.overlap(pv, gv, axes=axes)
        assert {k: (v["tp"], v["fp"], v["fn"]) for k, v in out.items()} == want, name
    # Boolean masks of one label, both orders.
    for order in ("F", "C"):
        pm, gm = np.asarray(p == 300, order=order), np.asarray(g == 300, order=order)
        o = sg.overlap(pm, gm)[1]
        assert (o["tp"], o["fp"], o["fn"]) == want[300], order
