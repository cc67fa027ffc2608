"""Data sets: ``sg.evaluate_dirs`` and ``sg.evaluate`` against ``segauge eval`` (the same files, byte for byte),
cases as arrays in either axis order, failures listed with the file named, outputs refused over inputs, every
option of ``segauge eval --help`` accepted, and the result tables with real floats."""

import json
import math
import os
import re
import shutil

import numpy as np
import pytest

import segauge as sg

from conftest import EXAMPLE_IDS, EXAMPLES, assert_same, example, example_metadata, nonfinite

PRED, GT, METADATA = str(EXAMPLES / "pred"), str(EXAMPLES / "gt"), str(EXAMPLES / "cases.csv")
B = 999  # resamples: intervals are compared, not studied


@pytest.fixture(scope="module")
def cli_eval(cli, tmp_path_factory):
    """``segauge eval`` on the example data set with metadata: {"json", "csv", "report", "lesions"} paths."""
    out = tmp_path_factory.mktemp("cli")
    files = {k: out / name for k, name in [("json", "results.json"), ("csv", "per_case.csv"),
                                           ("report", "report.html"), ("lesions", "lesions.csv")]}
    cli("eval", "--pred", PRED, "--gt", GT, "--metadata", METADATA, "--bootstrap", B, "--json", files["json"],
        "--csv", files["csv"], "--report", files["report"], "--lesion-csv", files["lesions"])
    return files


@pytest.fixture(scope="module")
def result():
    return sg.evaluate_dirs(PRED, GT, metadata=METADATA, bootstrap=B, progress=False)


def test_evaluate_dirs_writes_the_cli_outputs_byte_for_byte(result, cli_eval, tmp_path):
    result.to_json(tmp_path / "results.json")
    result.to_csv(tmp_path / "per_case.csv")
    result.to_html(tmp_path / "report.html")
    for name, key in [("results.json", "json"), ("per_case.csv", "csv"), ("report.html", "report")]:
        assert (tmp_path / name).read_bytes() == cli_eval[key].read_bytes(), name
    assert result.json().encode() == cli_eval["json"].read_bytes()
    assert result.failures == []


def test_metadata_as_a_dict_equals_the_csv_file(result):
    by_dict = sg.evaluate_dirs(PRED, GT, metadata=example_metadata(), bootstrap=B, progress=False)
    assert by_dict.json() == result.json()


def file_cases():
    meta = example_metadata()
    return [sg.Case(i, pred=os.path.join(PRED, f"{i}.nii.gz"), gt=os.path.join(GT, f"{i}.nii.gz"),
                    metadata=meta[i]) for i in EXAMPLE_IDS]


def test_evaluate_of_cases_equals_the_cli(cli_eval):
    # The same files as sg.Case objects with metadata dicts: the same document (gt_dir is the cases' common
    # folder, as --gt gave it).
    r = sg.evaluate(file_cases(), bootstrap=B, progress=False)
    assert r.json().encode() == cli_eval["json"].read_bytes()


def array_cases(axes="xyz", order="F"):
    meta = example_metadata()
    cases = []
    for i in EXAMPLE_IDS:
        p, _ = sg.load(example("pred", i))
        g, geo = sg.load(example("gt", i))
        if axes == "zyx":
            p, g = p.transpose(2, 1, 0), g.transpose(2, 1, 0)
        p, g = (np.asfortranarray(p), np.asfortranarray(g)) if order == "F" else (np.ascontiguousarray(p),
                                                                                  np.ascontiguousarray(g))
        cases.append(sg.Case(i, pred=p, gt=g, metadata=meta[i], spacing=geo["spacing"], origin=geo["origin"],
                             direction=geo["direction"], axes=axes))
    return cases


def test_evaluate_of_array_cases_equals_the_cli_in_either_axis_and_memory_order(cli_eval):
    want = json.loads(cli_eval["json"].read_text())
    xyz = sg.evaluate(array_cases(), bootstrap=B, progress=False).json()
    got = json.loads(xyz)
    assert got.pop("gt_dir") is None  # arrays have no folder
    want.pop("gt_dir")
    assert got == want  # text numbers: identical text, identical doubles
    assert sg.evaluate(array_cases("zyx"), bootstrap=B, progress=False).json() == xyz
    assert sg.evaluate(array_cases("xyz", "C"), bootstrap=B, progress=False).json() == xyz
    assert sg.evaluate(array_cases("zyx", "C"), bootstrap=B, progress=False).json() == xyz


def test_several_models_equal_the_cli(cli, tmp_path):
    models = {"perfect": GT, "net": PRED}
    r = sg.evaluate_dirs(models, GT, bootstrap=B, progress=False)
    cli("eval", "--model", f"perfect={GT}", "--model", f"net={PRED}", "--gt", GT, "--bootstrap", B, "--json",
        tmp_path / "cli.json")
    text = (tmp_path / "cli.json").read_text()
    assert r.json() == text
    doc = nonfinite(json.loads(text))
    assert len(doc["paired"]) > 0 and len(doc["ranking"]) > 0
    paired = r.paired(as_frame=False)
    assert_same(paired, doc["paired"])
    ranking = r.ranking(as_frame=False)
    assert len(ranking) == sum(len(x["models"]) for x in doc["ranking"])
    dice = [x for x in ranking if x["metric"] == "dice" and x["label"] == 1]
    assert {x["model"]: x["rank"] for x in dice} == {"perfect": 1, "net": 2}
    # The same as Case lists under models=.
    by_cases = sg.evaluate(models={"perfect": [sg.Case(c.id, pred=c.gt, gt=c.gt) for c in file_cases()],
                                   "net": [sg.Case(c.id, pred=c.pred, gt=c.gt) for c in file_cases()]},
                           bootstrap=B, progress=False)
    assert by_cases.json() == text


def truncated_copy(tmp_path, case_id="case_004"):
    pred = tmp_path / "pred"
    shutil.copytree(PRED, pred)
    bad = pred / f"{case_id}.nii.gz"
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    return pred, bad


def test_a_truncated_file_is_a_listed_failure_and_the_others_are_evaluated(tmp_path, cli):
    pred, bad = truncated_copy(tmp_path)
    r = sg.evaluate_dirs(pred, GT, bootstrap=B, progress=False)
    assert [(f.case, f.model) for f in r.failures] == [("case_004", "pred")]
    assert str(bad) in r.failures[0].reason and "truncated" in r.failures[0].reason
    doc = json.loads(r.json())
    assert (doc["n_cases"], doc["n_failed"]) == (8, 1)
    evaluated = {row["case"] for row in doc["cases"]}
    assert evaluated == set(EXAMPLE_IDS) - {"case_004"}
    assert all(row["n"] == 7 for row in doc["summary"] if row["metric"] == "dice")
    # The CLI says the same (and exits with 1 for the failure).
    out = cli("eval", "--pred", pred, "--gt", GT, "--bootstrap", B, "--json", tmp_path / "cli.json", check=False)
    assert out.returncode == 1 and "case_004" in out.stderr
    assert (tmp_path / "cli.json").read_text() == r.json()
    # The per-case table has the failure with its error on every label.
    rows = [row for row in r.cases(as_frame=False) if row["case"] == "case_004"]
    assert len(rows) == 3 and all(str(bad) in row["error"] for row in rows)
    # evaluate() with the truncated file in a Case list: the same failure.
    cases = [sg.Case(i, pred=os.fspath(pred / f"{i}.nii.gz"), gt=example("gt", i)) for i in EXAMPLE_IDS]
    r2 = sg.evaluate(cases, bootstrap=B, progress=False)
    assert [(f.case, str(bad) in f.reason) for f in r2.failures] == [("case_004", True)]
    doc2 = json.loads(r2.json())
    assert (doc2["n_failed"], {row["case"] for row in doc2["cases"]}) == (1, evaluated)


def test_outputs_over_inputs_are_refused_and_the_inputs_unchanged(result, tmp_path):
    pred, bad = truncated_copy(tmp_path)
    r = sg.evaluate_dirs(pred, GT, bootstrap=9, progress=False)
    # An evaluated file, and the file of the failed case: refused, as `segauge eval` refuses them.
    for target in (pred / "case_000.nii.gz", bad):
        before = target.read_bytes()
        for write in (r.to_json, r.to_csv, r.to_html):
            with pytest.raises(sg.OutputError, match=target.name):
                write(target)
            assert target.read_bytes() == before
    # The same with the cases given one by one (no folders).
    cases = [sg.Case(i, pred=pred / f"{i}.nii.gz", gt=example("gt", i)) for i in EXAMPLE_IDS]
    r2 = sg.evaluate(cases, bootstrap=9, progress=False)
    before = bad.read_bytes()
    with pytest.raises(sg.OutputError, match="over the input"):
        r2.to_json(bad)
    assert bad.read_bytes() == before
    gt_file = example("gt", "case_001")
    before = gt_file.read_bytes()
    with pytest.raises(sg.OutputError, match="input"):
        r.to_json(gt_file)
    assert gt_file.read_bytes() == before
    with pytest.raises(sg.OutputError, match="input folder"):
        r.to_csv(pred / "new.csv")
    assert not (pred / "new.csv").exists()
    with pytest.raises(sg.OutputError):
        result.to_json(tmp_path / "no" / "such" / "folder" / "x.json")


def test_errors_of_data_sets(tmp_path, cli):
    with pytest.raises(sg.OptionError, match="tau"):
        sg.evaluate_dirs(PRED, GT, tau=-1, progress=False)
    with pytest.raises(sg.OptionError, match="bootstrap"):
        sg.evaluate_dirs(PRED, GT, bootstrap=0, progress=False)
    with pytest.raises(sg.OptionError, match="unknown option"):
        sg.evaluate_dirs(PRED, GT, bootstrapp=9, progress=False)
    with pytest.raises(sg.OptionError, match="inf_policy"):
        sg.evaluate(file_cases(), inf_policy="ignore", progress=False)
    with pytest.raises(sg.OptionError, match="subgroup"):
        sg.evaluate_dirs(PRED, GT, metadata=METADATA, subgroups="hospital", bootstrap=9, progress=False)
    with pytest.raises(sg.OptionError):
        sg.evaluate(file_cases(), models={"a": file_cases()}, progress=False)
    with pytest.raises(sg.OptionError, match="segauge.Case"):
        sg.evaluate(["case_000"], progress=False)
    with pytest.raises(sg.SegaugeError, match="no_such_folder"):
        sg.evaluate_dirs(os.path.join(PRED, "no_such_folder"), GT, progress=False)
    # A folder without inputs is refused, as segauge eval refuses it (not an empty result).
    (tmp_path / "empty").mkdir()
    with pytest.raises(sg.InputError, match="no case pairs"):
        sg.evaluate_dirs(tmp_path / "empty", tmp_path / "empty", progress=False)
    with pytest.raises(sg.InputError, match="missing.csv"):
        sg.evaluate_dirs(PRED, GT, metadata=os.path.join(PRED, "missing.csv"), progress=False)
    out = cli("eval", "--pred", tmp_path / "empty", "--gt", tmp_path / "empty", check=False)
    assert out.returncode != 0 and "no case pairs" in out.stderr


def test_every_option_of_segauge_eval_is_an_option(cli):
    text = cli("eval", "--help").stdout
    flags = set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", text, flags=re.M))
    io_only = {"pred", "model", "gt", "metadata", "report", "csv", "json", "summary-csv", "lesion-csv", "help",
               "version"}
    # Sharded runs: the arguments of sg.evaluate_shard (shard, partial, resume), not options.
    sharding = {"shard", "partial", "resume"}
    assert sharding <= flags
    wanted = {f.replace("-", "_") for f in flags - io_only - sharding}
    assert len(wanted) >= 25 and "lesion_rule" in wanted and "no_lesions" in wanted
    assert sorted(wanted - set(sg.OPTIONS)) == []
    # compare's own options too (the series of DICOM inputs).
    text = cli("compare", "--help").stdout
    flags = set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", text, flags=re.M))
    wanted = {f.replace("-", "_") for f in flags - {"pred", "gt", "format", "help", "version"}}
    assert sorted(wanted - set(sg.OPTIONS)) == []


def test_every_option_is_accepted_by_the_data_set_functions():
    # Each option with a valid, non-default value: accepted (and stated in the settings where the JSON has it).
    values = {"labels": [1, 2], "surface": "grid", "percentile": 90, "percentile_rule": "pooled", "tau": 1.5,
              "mesh_compat": "exact", "lesions": True, "no_lesions": False, "connectivity": 18,
              "lesion_rule": "dice", "match_threshold": 0.3, "lesion_strata": [5.0, 20.0],
              "min_lesion_voxels": 2, "lesion_distances": True, "dilation": 1, "min_gt_volume": 2.0,
              "hd_penalty": 100.0, "spacing": [1.0, 1.0, 1.0], "axes": "xyz", "series_root": PRED,
              "roi": {"liver": 1}, "fractional_threshold": 0.4, "bootstrap": 19, "ci_method": "percentile",
              "seed": 3, "inf_policy": "omit", "hd_cap": 50.0, "subgroups": ["scanner"], "threads": 1,
              "progress": False, "pred_series": None, "gt_series": None, "label_names": {1: "one", 2: "two"},
              "labels_from": None, "no_dataset_json": True, "region": {"both": [1, 2]}, "ignore_label": 9,
              "pred_pattern": "{case}.nii.gz", "gt_pattern": "{case}.nii.gz", "only_predicted": True,
              "percentile_interpolation": "linear", "both_empty": "nan", "convention": "medpy",
              "foreground_mean": True}
    assert sorted(values) == sorted(sg.OPTIONS)
    r = sg.evaluate_dirs(PRED, GT, metadata=METADATA, **values)
    s = r.settings
    assert (s["surface"], s["percentile"], s["percentile_rule"], s["tau"]) == ("grid", 90.0, "pooled", 1.5)
    assert s["lesions"]["connectivity"] == 18 and s["lesions"]["rule"] == "dice"
    assert s["lesions"]["strata_diameter_mm"] == [5.0, 20.0] and s["lesions"]["min_lesion_voxels"] == 2
    assert s["bootstrap"]["resamples"] == 19 and s["bootstrap"]["seed"] == 3
    assert s["bootstrap"]["method"] == "percentile" and s["inf_policy"] == "omit"
    assert s["subgroup_columns"] == ["scanner"]
    # medpy's preset is exactly these switches, so nothing is stated as changed.
    assert s["convention"] == "medpy" and s["convention_changed"] == []
    summary = r.summary()
    assert sorted(set(summary[summary["kind"] != "foreground_mean"]["label"])) == [1, 2]
    assert set(summary[summary["kind"] == "foreground_mean"]["name"]) == {"(foreground mean)"}


def test_summary_is_a_frame_of_real_floats(result, cli_eval):
    import pandas

    doc = nonfinite(json.loads(cli_eval["json"].read_text()))
    frame = result.summary()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == len(doc["summary"])
    for col in ("estimate", "ci_low", "ci_high"):
        assert frame[col].dtype == np.float64, col
    # Degenerate intervals (lesion precision 1 in every case) are NaN floats, not strings.
    degenerate = frame[(frame.metric == "lesion_precision") & (frame.label == 1)]
    assert np.isnan(degenerate.ci_low).all()
    rows = result.summary(as_frame=False)
    assert isinstance(rows, list) and isinstance(rows[0], dict)
    assert_same(rows, doc["summary"])
    assert_same(frame.to_dict("records")[0]["estimate"], doc["summary"][0]["estimate"])


def test_per_case_table_has_real_infinities(result, cli_eval):
    # case_001 has no label 3 predicted: every distance is infinite.
    frame = result.cases()
    assert frame["hd"].dtype == np.float64
    row = frame[(frame.case == "case_001") & (frame.label == 3)]
    assert len(row) == 1 and np.isinf(row.hd).all() and np.isinf(row.assd).all()
    assert int(np.isinf(frame.hd).sum()) == 1
    rows = result.cases(as_frame=False)
    inf_rows = [r for r in rows if isinstance(r["hd"], float) and math.isinf(r["hd"])]
    assert [(r["case"], r["label"]) for r in inf_rows] == [("case_001", 3)]
    # The same numbers as the JSON's per-case rows.
    doc = nonfinite(json.loads(cli_eval["json"].read_text()))
    for r, want in zip(rows, doc["cases"]):
        assert (r["case"], r["label"]) == (want["case"], want["label"])
        for key in ("dice", "iou", "hd", "hd95", "assd", "masd", "nsd", "biou"):
            assert_same(float(r[key]), want[key], f"{r['case']} {r['label']} {key}")
    assert len(result.lesions()) == len(cli_eval["lesions"].read_text().splitlines()) - 1


def test_subgroups_are_the_json_rows(result, cli_eval):
    doc = nonfinite(json.loads(cli_eval["json"].read_text()))
    got = result.by_subgroup("scanner", as_frame=False)
    assert_same(got, [r for r in doc["subgroups"] if r["column"] == "scanner"])
    assert set(result.by_subgroup("site")["value"]) == {"A", "B", "C"}
    with pytest.raises(sg.OptionError, match="hospital"):
        result.by_subgroup("hospital")
    assert "dice" in repr(result)


def test_per_case_nan_columns_are_floats(result):
    frame = result.cases()
    assert frame["lesion_precision"].dtype == np.float64


def test_case_ids_stay_strings_in_tables(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    for i, src in [("001", "case_000"), ("002", "case_001")]:
        shutil.copy(example("pred", src), tmp_path / "p" / f"{i}.nii.gz")
        shutil.copy(example("gt", src), tmp_path / "g" / f"{i}.nii.gz")
    r = sg.evaluate_dirs(tmp_path / "p", tmp_path / "g", bootstrap=9, progress=False)
    assert [row["case"] for row in r.cases(as_frame=False)][:1] == ["001"]
    assert r.cases()["case"].tolist()[:1] == ["001"]


def test_conventions_reach_python_and_equal_the_cli(cli, tmp_path):
    # nnU-Net's rule on the example data: label 3 is absent from both sides in two cases, which nnU-Net leaves out
    # of its mean (0.3264, where scoring them 1 gives 0.4948); the foreground mean is the mean of the label means.
    nn = sg.evaluate_dirs(PRED, GT, convention="nnunet", surface=None, lesions=False, bootstrap=B, progress=False)
    rows = [r for r in nn.summary(as_frame=False) if r["metric"] == "dice"]
    means = {r["name"]: r["estimate"] for r in rows}
    assert abs(means["3"] - 0.3264) < 5e-5
    assert abs(means["(foreground mean)"] - (means["1"] + means["2"] + means["3"]) / 3) < 1e-12
    doc = json.loads(nn.json())
    assert doc["convention"] == "nnunet" and doc["convention_changed"] == []
    cli("eval", "--pred", PRED, "--gt", GT, "--convention", "nnunet", "--surface", "none", "--no-lesions",
        "--bootstrap", B, "--json", tmp_path / "nn.json")
    assert (tmp_path / "nn.json").read_bytes() == nn.json().encode()
    # A preset equals its switches; changing one of them is stated.
    gt = np.zeros((12, 12, 12), np.uint8)
    gt[3:8, 3:8, 3:8] = 1
    pred = np.roll(gt, 2, axis=0)
    medpy = sg.surface_metrics(pred, gt, (1.0, 1.2, 0.8), convention="medpy")
    switches = sg.surface_metrics(pred, gt, (1.0, 1.2, 0.8), surface="grid", percentile_rule="pooled",
                                  percentile_interpolation="linear", both_empty="nan")
    assert medpy == switches and medpy != sg.surface_metrics(pred, gt, (1.0, 1.2, 0.8))
    changed = sg.evaluate_dirs(PRED, GT, convention="monai", surface="smooth", lesions=False, bootstrap=B,
                               progress=False)
    assert json.loads(changed.json())["convention_changed"] == ["surface", "percentile_interpolation"]
    with pytest.raises(sg.OptionError, match="unknown convention"):
        sg.surface_metrics(pred, gt, (1.0, 1.0, 1.0), convention="nnUNet")
