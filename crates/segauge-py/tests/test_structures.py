"""Structures from Python: names, regions, the ignore label, folders of masks and the layouts of nnU-Net, MONAI
and TotalSegmentator, each checked against numpy counts or the command line's bytes."""

import json
import shutil

import pytest

import segauge as sg
from conftest import ROOT, nonfinite

DATA = ROOT / "tests" / "data"
NNUNET = DATA / "layouts" / "nnunet"
EXPECTED = json.loads((DATA / "layouts" / "expected.json").read_text())


def test_nnunet_dataset_json_beside_labelstr_names_regions_and_ignore(tmp_path, cli):
    result = sg.evaluate_dirs(NNUNET / "fold_0" / "validation", NNUNET / "labelsTr", only_predicted=True,
                              surface=None, lesions=False, bootstrap=200, progress=False)
    rows = [r for r in result.cases(as_frame=False) if not r["error"]]
    assert {r["name"] for r in rows} == {"edema", "necrosis", "enhancing tumor", "whole tumor", "tumor core"}
    for r in rows:
        want = EXPECTED["nnunet"][r["case"]][r["name"]]
        assert (r["tp"], r["voxels_pred"], r["voxels_gt"]) == (want["tp"], want["voxels_pred"], want["voxels_gt"])
    assert [r["case"] for r in result.failures] == []
    # The same bytes as the command line.
    result.to_json(tmp_path / "py.json")
    cli("eval", "--pred", NNUNET / "fold_0" / "validation", "--gt", NNUNET / "labelsTr", "--only-predicted",
        "--surface", "none", "--no-lesions", "--bootstrap", "200", "--json", tmp_path / "cli.json")
    py, cl = (json.loads((tmp_path / n).read_text()) for n in ("py.json", "cli.json"))
    assert py == cl
    assert py["not_evaluated"][0]["case"] == "case_003"


def test_labels_by_name_regions_and_names_as_keyword_arguments(tmp_path):
    m = DATA / "layouts" / "monai"
    result = sg.evaluate_dirs(m / "pred", m / "gt", label_names={1: "edema", 2: "necrosis", 3: "enhancing"},
                              region={"core": [2, 3]}, labels=["core", "edema"], surface=None, lesions=False,
                              bootstrap=200, progress=False)
    rows = result.cases(as_frame=False)
    assert [(r["case"], r["label"], r["name"]) for r in rows] == [
        ("pat_a", 1, "edema"), ("pat_a", "2+3", "core"), ("pat_b", 1, "edema"), ("pat_b", "2+3", "core")]
    for r in rows:
        if r["name"] == "edema":
            assert r["tp"] == EXPECTED["monai"][r["case"]]["1"]["tp"]
        else:
            want = [EXPECTED["monai"][r["case"]][k] for k in ("2", "3")]
            assert r["voxels_gt"] == sum(w["voxels_gt"] for w in want)
    with pytest.raises(sg.OptionError, match='no structure is named "liver"'):
        sg.evaluate_dirs(m / "pred", m / "gt", labels=["liver"], progress=False)
    with pytest.raises(sg.OptionError, match="region \"core\" names label 7"):
        sg.evaluate_dirs(m / "pred", m / "gt", label_names={1: "a"}, region={"core": [1, 7]}, progress=False)
    with pytest.raises(sg.InputError, match="no case pairs"):
        sg.evaluate_dirs(m / "pred", m / "gt", gt_pattern="{case}_0000.nii.gz", progress=False)


def test_totalsegmentator_folder_against_its_multilabel_file():
    ts = DATA / "totalsegmentator"
    want = json.loads((ts / "expected.json").read_text())["structures"]
    folder = nonfinite(json.loads(sg._native.compare_files(str(ts / "example_seg_fast"),
                                                           str(ts / "example_seg.nii.gz"))))
    multi = nonfinite(json.loads(sg._native.compare_files(str(ts / "example_seg_fast.nii.gz"),
                                                          str(ts / "example_seg.nii.gz"))))
    by_name = {r["name"]: r for r in folder["labels"]}
    assert len(by_name) == 117
    for r in multi["labels"]:
        w = want[r["name"]]
        assert (r["label"], r["tp"], r["voxels_pred"], r["voxels_gt"]) == (
            w["label"], w["tp"], w["voxels_pred"], w["voxels_gt"])
        assert by_name[r["name"]] == r


def test_a_case_folder_layout_pairs_with_multilabel_files(tmp_path):
    ts = DATA / "totalsegmentator"
    (tmp_path / "gt").mkdir()
    shutil.copytree(ts / "example_seg_fast", tmp_path / "pred" / "s01" / "segmentations")
    shutil.copy(ts / "example_seg.nii.gz", tmp_path / "gt" / "s01.nii.gz")
    result = sg.evaluate_dirs(tmp_path / "pred", tmp_path / "gt", labels=["liver", "spleen"], surface=None,
                              lesions=False, bootstrap=100, progress=False)
    rows = {r["name"]: r for r in result.cases(as_frame=False)}
    assert set(rows) == {"liver", "spleen"}
    assert rows["liver"]["dice"] == 2 * 38265 / (39350 + 38634)
