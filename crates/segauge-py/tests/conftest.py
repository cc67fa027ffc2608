"""Shared helpers of the segauge Python package's tests.

The tests compare the package with the ``segauge`` command-line binary (the reference for every number the package
returns), so they need it: ``$SEGAUGE_BIN``, else ``target/release/segauge``, else ``target/debug/segauge`` of the
repository holding this file. Without one, every test that needs it fails with a message saying how to get it
(never a silent skip). Nothing is fetched; numpy, pandas, pytest and Dask (`dask[distributed]`, for
test_shards.py, which fails without it) are the only packages used.
"""

import gzip
import json
import math
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

#: The repository root: tests/ is crates/segauge-py/tests.
ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "data"
DICOM = ROOT / "tests" / "data" / "dicom"

#: Every case id of the example data set (``examples/data/{pred,gt}/<id>.nii.gz``).
EXAMPLE_IDS = sorted(p.name[: -len(".nii.gz")] for p in (EXAMPLES / "gt").glob("*.nii.gz"))


def _find_binary():
    exe = "segauge.exe" if os.name == "nt" else "segauge"
    env = os.environ.get("SEGAUGE_BIN")
    if env:
        path = Path(env)
        if not path.is_file():
            return None, f"SEGAUGE_BIN={env} is not a file"
        return path, None
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / exe
        if path.is_file():
            return path, None
    return None, (f"no segauge binary: set SEGAUGE_BIN, or build one (`cargo build -p segauge-cli`, which writes "
                  f"{ROOT / 'target' / 'debug' / exe})")


@pytest.fixture(scope="session")
def segauge_bin():
    """The command-line binary the package is checked against; fails (not skips) every test without it."""
    path, why = _find_binary()
    if path is None:
        pytest.fail(why, pytrace=False)
    return path


@pytest.fixture(scope="session")
def cli(segauge_bin):
    """Runs ``segauge ARGS…``; returns stdout (text). Fails the test with stderr when the command fails."""

    def run(*args, check=True):
        out = subprocess.run([str(segauge_bin), *map(str, args)], capture_output=True, text=True)
        if check and out.returncode != 0:
            pytest.fail(f"segauge {' '.join(map(str, args))} failed ({out.returncode}): {out.stderr}")
        return out

    return run


@pytest.fixture(scope="session")
def cli_compare(cli):
    """``segauge compare --format json`` of two files, parsed, with "inf"/"nan" strings as floats."""

    def run(pred, gt, *args):
        text = cli("compare", "--pred", pred, "--gt", gt, "--format", "json", *args).stdout
        return nonfinite(json.loads(text))

    return run


def nonfinite(value):
    """A parsed JSON document with the strings inf, -inf and nan (the JSON contract's non-finite numbers) as
    floats, recursively."""
    if isinstance(value, str):
        return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}.get(value, value)
    if isinstance(value, list):
        return [nonfinite(v) for v in value]
    if isinstance(value, dict):
        return {k: nonfinite(v) for k, v in value.items()}
    return value


def assert_same(a, b, where="value"):
    """Deep equality with floats compared bit for bit (NaN equals NaN, 0.0 differs from -0.0), and the types of
    numbers kept apart (an int is not a float)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), f"{where}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert type(a) is type(b), f"{where}: {a!r} ({type(a).__name__}) vs {b!r} ({type(b).__name__})"
        assert struct.pack("<d", a) == struct.pack("<d", b), f"{where}: {a!r} != {b!r}"
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def example(kind, case_id):
    """The path of an example file: kind is "pred" or "gt"."""
    return EXAMPLES / kind / f"{case_id}.nii.gz"


def example_metadata():
    """``examples/data/cases.csv`` as {case: {column: value}} (read with the standard library)."""
    import csv

    with open(EXAMPLES / "cases.csv", newline="") as f:
        return {row.pop("case"): row for row in csv.DictReader(f)}


# NIfTI-1, written and read by hand (numpy + gzip): the layout of the standard's nifti1.h.
_DTYPES = {np.dtype("uint8"): (2, 8), np.dtype("<i2"): (4, 16), np.dtype("<i4"): (8, 32),
           np.dtype("<f4"): (16, 32)}


def write_nifti(path, array, affine):
    """Writes ``array`` (indexed [x, y, z]) as a gzipped single-file NIfTI-1 with ``affine`` as its sform
    (code 1, qform code 0) and ``pixdim`` the column norms of the affine."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    code, bitpix = _DTYPES[np.dtype(dtype)]
    affine = np.asarray(affine, dtype=np.float64)
    h = bytearray(352)
    struct.pack_into("<i", h, 0, 348)
    dim = [array.ndim, *array.shape] + [1] * (7 - array.ndim)
    struct.pack_into("<8h", h, 40, *dim)
    struct.pack_into("<hh", h, 70, code, bitpix)
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    struct.pack_into("<8f", h, 76, 1.0, *zooms, 1, 1, 1, 1)
    struct.pack_into("<f", h, 108, 352.0)  # vox_offset
    struct.pack_into("<ff", h, 112, 1.0, 0.0)  # scl_slope, scl_inter
    h[123] = 2  # xyzt_units: mm
    struct.pack_into("<hh", h, 252, 0, 1)  # qform_code, sform_code
    for r in range(3):
        struct.pack_into("<4f", h, 280 + 16 * r, *affine[r])
    h[344:348] = b"n+1\0"
    data = np.asarray(array, dtype=dtype).tobytes(order="F")  # x fastest
    with gzip.open(path, "wb") as f:
        f.write(bytes(h) + data)


def read_nifti_header(path):
    """(shape, pixdim[1:4], sform affine as float64) of a NIfTI-1 file, read with numpy."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        h = f.read(352)
    dim = np.frombuffer(h, "<i2", 8, 40)
    shape = [int(d) for d in dim[1: 1 + dim[0]]]
    pixdim = np.frombuffer(h, "<f4", 8, 76)[1:4].astype(np.float64)
    srow = np.frombuffer(h, "<f4", 12, 280).astype(np.float64).reshape(3, 4)
    affine = np.vstack([srow, [0.0, 0.0, 0.0, 1.0]])
    return shape, pixdim, affine
