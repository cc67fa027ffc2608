"""Files: ``sg.compare`` of two files equals ``segauge compare --format json`` bit for bit, and so does
``sg.compare`` of the arrays ``sg.load`` reads with their geometry; ``sg.load`` against the CLI and a NIfTI header
read by hand; ``sg.load_rtstruct`` against the conformance set's expected mask; errors naming the file."""

import json

import numpy as np
import pytest

import segauge as sg

from conftest import DICOM, EXAMPLE_IDS, assert_same, example, read_nifti_header, write_nifti


@pytest.mark.parametrize("case_id", EXAMPLE_IDS)
def test_compare_of_files_equals_the_command_line(cli_compare, case_id):
    pred, gt = example("pred", case_id), example("gt", case_id)
    want = cli_compare(pred, gt)["labels"]
    assert_same(sg.compare(pred, gt), want)
    # Loaded as arrays, with the file's geometry: the same numbers, bit for bit.
    p, _ = sg.load(pred)
    g, geo = sg.load(gt)
    assert_same(sg.compare(p, g, geo["spacing"], origin=geo["origin"], direction=geo["direction"]), want)
    assert_same(sg.compare(p, g, affine=np.array(geo["affine"])), want)


def test_compare_options_reach_the_command_line_equivalent(cli_compare):
    pred, gt = example("pred", "case_003"), example("gt", "case_003")
    args = ["--surface", "voxel-faces", "--tau", "1.5", "--percentile", "90", "--labels", "1,3",
            "--lesion-rule", "dice", "--connectivity", "6", "--lesion-distances"]
    want = cli_compare(pred, gt, *args)["labels"]
    got = sg.compare(pred, gt, surface="voxel-faces", tau=1.5, percentile=90, labels=[1, 3], lesion_rule="dice",
                     connectivity=6, lesion_distances=True)
    assert_same(got, want)
    assert "hd90" in got[0] and [r["label"] for r in got] == [1, 3]
    want = cli_compare(pred, gt, "--surface", "none", "--no-lesions")["labels"]
    assert_same(sg.compare(pred, gt, surface=None, no_lesions=True), want)
    assert_same(sg.compare(pred, gt, surface="none", lesions=False), want)


def test_surface_metrics_and_overlap_are_the_compare_fields(cli_compare):
    pred, gt = example("pred", "case_001"), example("gt", "case_001")
    want = {r["label"]: r for r in cli_compare(pred, gt, "--tau", "1.0")["labels"]}
    p, geo = sg.load(pred)
    g, _ = sg.load(gt)
    surface = sg.surface_metrics(p, g, geo["spacing"], tau=1.0)
    overlap = sg.overlap(p, g, geo["spacing"])
    assert sorted(surface) == sorted(overlap) == sorted(want)
    for label, row in want.items():
        assert_same(surface[label], {k: row[k] for k in ("hd", "hd95", "assd", "masd", "nsd", "biou",
                                                         "empty_state")})
        assert_same(overlap[label], {k: row[k] for k in ("dice", "iou", "tp", "fp", "fn", "voxels_pred",
                                                         "voxels_gt", "empty_state", "volume_pred_mm3",
                                                         "volume_gt_mm3")})
    lesions = sg.lesions(p, g, geo["spacing"])
    assert_same(lesions, {label: row["lesions"] for label, row in want.items()})


@pytest.mark.parametrize("case_id", ["case_000", "case_005"])
def test_load_of_the_example_nifti_agrees_with_the_cli_and_the_header(cli_compare, case_id):
    path = example("gt", case_id)
    array, geo = sg.load(path)
    out = cli_compare(example("pred", case_id), path)
    assert list(array.shape) == geo["shape"] == out["shape"]
    assert_same(geo["spacing"], out["spacing"])
    assert array.dtype == np.uint8 and array.flags["F_CONTIGUOUS"]
    # Voxels per label counted with numpy: the CLI's voxels_gt.
    counts = {int(v): int(n) for v, n in zip(*np.unique(array, return_counts=True)) if v != 0}
    assert counts == {r["label"]: r["voxels_gt"] for r in out["labels"] if r["voxels_gt"] > 0}
    # The affine: the header's sform (float32 rows), read here with numpy.
    shape, pixdim, affine = read_nifti_header(path)
    assert shape == geo["shape"]
    assert np.array_equal(np.array(geo["affine"]), affine)
    assert np.array_equal(np.array(geo["spacing"]), pixdim)
    assert geo["axes"] == "xyz"
    # The voxels themselves: the file's bytes after the 352-byte header, x fastest.
    import gzip

    raw = np.frombuffer(gzip.open(path).read()[352:], np.uint8).reshape(shape, order="F")
    assert np.array_equal(array, raw)


def test_load_of_a_rotated_anisotropic_nifti_written_by_hand(tmp_path, cli_compare):
    # sform: x along A (+y), y along L (−x) at 0.75 mm, z along S at 2 mm; all values exact in float32.
    affine = np.array([[0.0, -0.75, 0.0, 12.5],
                       [0.5, 0.0, 0.0, -40.25],
                       [0.0, 0.0, 2.0, 7.0],
                       [0.0, 0.0, 0.0, 1.0]])
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, (9, 7, 5)).astype(np.int16) * 100  # labels 0, 100, 200, 300
    path = tmp_path / "rotated.nii.gz"
    write_nifti(path, labels, affine)
    array, geo = sg.load(path)
    assert np.array_equal(array, labels) and array.dtype == np.uint16
    assert np.array_equal(np.array(geo["affine"]), affine)
    assert geo["spacing"] == [0.5, 0.75, 2.0] and geo["origin"] == [12.5, -40.25, 7.0]
    assert np.array_equal(np.array(geo["direction"]), [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    out = cli_compare(path, path)
    assert (out["shape"], out["spacing"]) == (geo["shape"], geo["spacing"])
    assert_same(sg.compare(array, array, affine=affine), out["labels"])
    assert_same(sg.compare(path, path), out["labels"])


def rtstruct_case():
    case = DICOM / "cases" / "gen_rtstruct_holes"
    info = json.loads((case / "case.json").read_text())
    expected = json.loads((case / "expected" / "expected.json").read_text())
    return case, (case / info["reference_series"]).resolve(), expected


@pytest.mark.parametrize("roi", [1, 2, 3])
def test_load_rtstruct_equals_the_expected_mask(roi):
    # rt-utils' masks of this generated case (contours through pixel centres) are segauge's exactly
    # (crates/segauge-io/tests/io/rtstruct.rs). Expected masks are (z, y, x) C order (CONFORMANCE.md):
    # transposed to segauge's [x, y, z].
    case, series, expected = rtstruct_case()
    name = next(r["name"] for r in expected["roi_summary"] if r["roi_number"] == roi)
    want = np.load(case / "expected" / f"roi-{roi}.npy").transpose(2, 1, 0).astype(bool)
    mask, geo = sg.load_rtstruct(series, case / "input.dcm", name, with_geometry=True)
    assert mask.dtype == np.bool_ and mask.shape == want.shape == tuple(geo["shape"])
    assert int(mask.sum()) == int(want.sum()) > 0
    assert np.array_equal(mask, want)
    assert geo["spacing"] == pytest.approx(expected["grid"]["spacing_zyx"][::-1], rel=1e-12)
    assert np.array_equal(sg.load_rtstruct(series, case / "input.dcm", name), mask)


def test_load_rtstruct_of_an_unknown_roi_is_an_input_error():
    case, series, _ = rtstruct_case()
    with pytest.raises(sg.InputError, match="liver"):
        sg.load_rtstruct(series, case / "input.dcm", "liver")


def test_file_errors_name_the_file(tmp_path):
    gt = example("gt", "case_000")
    missing = tmp_path / "missing.nii.gz"
    with pytest.raises(sg.InputError, match="missing.nii.gz"):
        sg.compare(missing, gt)
    truncated = tmp_path / "truncated.nii.gz"
    data = gt.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(sg.InputError, match="truncated.nii.gz"):
        sg.compare(truncated, gt)
    with pytest.raises(sg.InputError, match="truncated.nii.gz"):
        sg.load(truncated)
    # Another grid: a GridMismatch (an InputError).
    other = tmp_path / "other.nii.gz"
    write_nifti(other, np.zeros((48, 40, 23), np.uint8), np.diag([0.9, 0.9, 2.5, 1.0]))
    with pytest.raises(sg.GridMismatch, match="shape"):
        sg.compare(other, gt)
    with pytest.raises(sg.OptionError, match="tau"):
        sg.compare(gt, gt, tau=-1)
    with pytest.raises(sg.OptionError, match="mesh_compat"):
        sg.compare(gt, gt, mesh_compat="f16")
