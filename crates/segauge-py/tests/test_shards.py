"""Sharded and distributed runs: ``sg.evaluate_shard`` + ``sg.merge`` against ``segauge eval`` and ``segauge merge``
(the same partial files, read by both, and the same bytes), and ``executor=`` over ``concurrent.futures`` and a Dask
``distributed.LocalCluster``, merged into the result of a local run, byte for byte.

Dask (``pip install "dask[distributed]"``) is required: without it the Dask test fails and says so."""

import os
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

import segauge as sg

from conftest import EXAMPLE_IDS, EXAMPLES, example_metadata

GT, METADATA = str(EXAMPLES / "gt"), str(EXAMPLES / "cases.csv")
B = 999  # resamples: the intervals are compared, not studied
STATS = ["--bootstrap", str(B), "--seed", "7"]
OUTPUTS = [("--json", "results.json"), ("--csv", "cases.csv"), ("--summary-csv", "summary.csv"),
           ("--lesion-csv", "lesions.csv"), ("--report", "report.html")]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two models: ``a`` the example predictions; ``b`` the same with two cases swapped and one prediction missing
    (so that the models differ and ``b`` has a failure)."""
    root = tmp_path_factory.mktemp("models")
    a, b = EXAMPLES / "pred", root / "pred_b"
    b.mkdir()
    swap = {"case_001.nii.gz": "case_002.nii.gz", "case_002.nii.gz": "case_001.nii.gz"}
    for path in a.iterdir():
        if path.name != "case_005.nii.gz":
            shutil.copy(path, b / swap.get(path.name, path.name))
    return {"a": str(a), "b": str(b)}


def outputs(out):
    out.mkdir(parents=True, exist_ok=True)
    return [x for flag, name in OUTPUTS for x in (flag, out / name)]


def model_args(models):
    return [x for name, d in models.items() for x in ("--model", f"{name}={d}")]


@pytest.fixture(scope="module")
def single(cli, models, tmp_path_factory):
    """The outputs of one ``segauge eval`` of both models with metadata: their folder."""
    out = tmp_path_factory.mktemp("single")
    cli("eval", *model_args(models), "--gt", GT, "--metadata", METADATA, *STATS, *outputs(out), check=False)
    assert (out / "results.json").is_file()
    return out


def assert_outputs_equal(result, single, tmp_path):
    """The result's JSON, per-case CSV and report equal the single run's files, byte for byte."""
    assert result.json().encode() == (single / "results.json").read_bytes()
    result.to_csv(tmp_path / "cases.csv")
    result.to_html(tmp_path / "report.html")
    for name in ("cases.csv", "report.html"):
        assert (tmp_path / name).read_bytes() == (single / name).read_bytes(), name


def test_three_shards_and_merge_equal_one_run(models, single, cli, tmp_path):
    parts = tmp_path / "parts"
    runs = [sg.evaluate_shard(models, GT, f"{k}/3", parts) for k in (1, 2, 3)]
    assert [os.path.basename(r.path) for r in runs] == [f"segauge-shard-{k}-of-3.jsonl" for k in (1, 2, 3)]
    assert sum(r.recorded for r in runs) == len(EXAMPLE_IDS) and all(r.already_recorded == 0 for r in runs)
    merged = sg.merge(parts, metadata=METADATA, bootstrap=B, seed=7)
    assert_outputs_equal(merged, single, tmp_path)
    assert merged.failures == [sg.Failure("case_005", merged.failures[0].reason, "b")]
    # The command line merges the package's partial files to the same bytes.
    cli("merge", parts, "--metadata", METADATA, *STATS, *outputs(tmp_path / "cli"), check=False)
    for _, name in OUTPUTS:
        assert (tmp_path / "cli" / name).read_bytes() == (single / name).read_bytes(), name


def test_partial_files_of_the_package_and_the_cli_mix(models, single, cli, tmp_path):
    # Shards 1 and 2 from Python, shard 3 from the command line: one run, whoever wrote its files.
    parts = tmp_path / "parts"
    for k in (1, 2):
        sg.evaluate_shard(models, GT, (k, 3), parts)
    cli("eval", *model_args(models), "--gt", GT, "--shard", "3/3", "--partial", parts, check=False)
    assert (parts / "segauge-shard-3-of-3.jsonl").is_file()
    assert_outputs_equal(sg.merge([parts], metadata=METADATA, bootstrap=B, seed=7), single, tmp_path)


def test_a_rerun_needs_resume_and_skips_what_was_recorded(models, tmp_path):
    parts = tmp_path / "parts"
    first = sg.evaluate_shard(models, GT, "2/3", parts)
    with pytest.raises(sg.SegaugeError, match="exists: pass --resume"):
        sg.evaluate_shard(models, GT, "2/3", parts)
    again = sg.evaluate_shard(models, GT, "2/3", parts, resume=True)
    assert (again.recorded, again.already_recorded) == (0, first.recorded)
    # Other per-case options are another run: refused, naming the file.
    with pytest.raises(sg.SegaugeError, match="segauge-shard-2-of-3.jsonl.*another run"):
        sg.evaluate_shard(models, GT, "2/3", parts, resume=True, tau=1.0)


def test_a_missing_shard_is_listed_and_merge_takes_aggregate_options_only(models, tmp_path):
    parts = tmp_path / "parts"
    sg.evaluate_shard(models, GT, "1/3", parts)
    sg.evaluate_shard(models, GT, "3/3", parts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        merged = sg.merge(parts, bootstrap=B)
    assert any("no partial file of shard(s) 2/3" in str(w.message) for w in caught)
    reasons = {f.reason for f in merged.failures if f.case != "case_005" or f.model != "b"}
    assert reasons == {"not evaluated: shard 2/3 missing"}
    with pytest.raises(sg.OptionError, match="tau is a per-case option"):
        sg.merge(parts, tau=1.0)


def array_cases():
    meta = example_metadata()
    cases = []
    for i in EXAMPLE_IDS:
        p, _ = sg.load(EXAMPLES / "pred" / f"{i}.nii.gz")
        g, geo = sg.load(EXAMPLES / "gt" / f"{i}.nii.gz")
        cases.append(sg.Case(i, pred=p, gt=g, metadata=meta[i], spacing=geo["spacing"], origin=geo["origin"],
                             direction=geo["direction"]))
    return cases


def test_a_concurrent_futures_executor_gives_the_local_result(models, single):
    with ThreadPoolExecutor(max_workers=2) as pool:
        dirs = sg.evaluate_dirs(models, GT, metadata=METADATA, bootstrap=B, seed=7, progress=False, executor=pool,
                                shards=3)
        cases = array_cases()
        distributed = sg.evaluate(cases, bootstrap=B, progress=False, executor=pool)
    assert dirs.json().encode() == (single / "results.json").read_bytes()
    assert distributed.json() == sg.evaluate(cases, bootstrap=B, progress=False).json()


def test_dask_local_cluster_gives_the_local_result(models, single):
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        pytest.fail(f"Dask is needed for this test and is not installed ({e}): "
                    f"pip install 'dask[distributed]'", pytrace=False)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        with Client(cluster) as client:
            dirs = sg.evaluate_dirs(models, GT, metadata=METADATA, bootstrap=B, seed=7, progress=False,
                                    executor=client)
            cases = array_cases()
            arrays = sg.evaluate(cases, bootstrap=B, progress=False, executor=client, shards=4)
    finally:
        cluster.close()
    assert dirs.json().encode() == (single / "results.json").read_bytes()
    assert arrays.json() == sg.evaluate(cases, bootstrap=B, progress=False).json()
    assert arrays.failures == []
