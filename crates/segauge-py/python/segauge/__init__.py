"""segauge: evaluate segmentations against ground truth, exactly, and say what was computed.

The data-set API (the same pipeline and the same outputs, byte for byte, as the ``segauge eval`` command)::

    import segauge as sg
    result = sg.evaluate([
        sg.Case("patient_001", pred="pred.nii.gz", gt="gt.nii.gz", metadata={"scanner": "siemens"}),
        sg.Case("patient_002", pred="pred2.nii.gz", gt="gt2.nii.gz", metadata={"scanner": "ge"}),
    ])
    print(result.summary())            # every metric with its 95 % CI
    print(result.by_subgroup("scanner"))
    result.to_html("report.html")

Sharded and distributed runs (the partial files of ``segauge eval --shard K/N --partial DIR`` and ``segauge merge``,
read and written by both): :func:`evaluate_shard`, :func:`merge`, and ``executor=`` of :func:`evaluate` and
:func:`evaluate_dirs` (a ``distributed.Client`` or any ``concurrent.futures`` executor).

The array API, for notebooks and training loops: :func:`compare`, :func:`surface_metrics`, :func:`overlap`,
:func:`lesions`, :func:`batch_metrics`, :func:`load`, :func:`load_rtstruct`, and statistics on per-case values:
:func:`bootstrap_ci`, :func:`paired_significance`, :func:`ranking_stability`.

Axes: arrays are indexed ``[x, y, z]`` (nibabel's ``get_fdata()`` order) unless ``axes="zyx"`` (SimpleITK's
``GetArrayFromImage``). ``spacing`` is always given in x, y, z order, as ``image.GetSpacing()`` and the NIfTI
header give it, whatever ``axes`` says. The memory order of an array (C or Fortran) never changes its axes.

Options have the names of the command line's options with ``_`` for ``-`` and the same defaults (``tau=2.0``,
``percentile=95``, ``surface="smooth"``, ``bootstrap=9999``, ``lesion_rule="iou"``, ...); :data:`OPTIONS` lists
them. Errors are :class:`SegaugeError` and its subclasses, with the command line's one-line messages.
"""

import json as _json
import os as _os
from collections import namedtuple as _namedtuple

from . import _native
from ._errors import GridMismatch, InputError, OptionError, OutputError, SegaugeError
from ._tables import csv_table as _csv_table
from ._tables import number as _number
from ._tables import records as _records

__version__ = _native.__version__

#: Every option name the functions accept as a keyword argument (the command line's, with ``_`` for ``-``).
OPTIONS = tuple(_native.OPTIONS)

__all__ = [
    "Case",
    "Failure",
    "GridMismatch",
    "InputError",
    "OPTIONS",
    "OptionError",
    "OutputError",
    "Result",
    "ShardRun",
    "SegaugeError",
    "batch_metrics",
    "bootstrap_ci",
    "compare",
    "evaluate",
    "evaluate_dirs",
    "evaluate_shard",
    "lesions",
    "load",
    "load_rtstruct",
    "merge",
    "overlap",
    "paired_significance",
    "ranking_stability",
    "surface_metrics",
]

#: What :func:`evaluate_shard` did: the partial file, the cases it recorded now and those recorded before
#: (``resume=True``).
ShardRun = _namedtuple("ShardRun", ["path", "recorded", "already_recorded"])

#: A case that could not be evaluated: its model, id and one-line reason.
Failure = _namedtuple("Failure", ["case", "reason", "model"])


def _is_path(value):
    return isinstance(value, (str, bytes, _os.PathLike))


class Case:
    """One case of a data set: a prediction and its ground truth, as file paths or as arrays.

    Args:
        id: the case id (subgroups, tables and the resample scope use it).
        pred, gt: paths (``.nii``, ``.nii.gz``, ``.npy``, DICOM-SEG or RTSTRUCT ``.dcm``) or arrays (numpy, or
            anything with ``__array__``, e.g. ``tensor.numpy()``), on one grid.
        metadata: column → value, for subgroup aggregates.
        spacing, origin, direction, affine, axes: the geometry of array inputs (see :func:`compare`).
    """

    __slots__ = ("id", "pred", "gt", "metadata", "spacing", "origin", "direction", "affine", "axes")

    def __init__(self, id, pred, gt, metadata=None, *, spacing=None, origin=None, direction=None, affine=None,
                 axes="xyz"):
        self.id = str(id)
        self.pred = pred
        self.gt = gt
        self.metadata = {str(k): str(v) for k, v in (metadata or {}).items()}
        self.spacing = spacing
        self.origin = origin
        self.direction = direction
        self.affine = affine
        self.axes = axes

    def __repr__(self):
        def show(v):
            return repr(_os.fspath(v)) if _is_path(v) else f"<array {getattr(v, 'shape', '?')}>"
        return f"Case({self.id!r}, pred={show(self.pred)}, gt={show(self.gt)}, metadata={self.metadata!r})"

    def _native(self):
        d = {"id": self.id, "metadata": self.metadata}
        for key in ("pred", "gt"):
            v = getattr(self, key)
            d[key] = _os.fspath(v) if _is_path(v) else (None if v is None else _array(v))
        if not (_is_path(self.pred) and _is_path(self.gt)):
            d.update(_geometry(self.spacing, self.origin, self.direction, self.affine, self.axes, True))
        return d


def _array(value):
    """A numpy array of an array-like (numpy, torch via ``.numpy()``, MONAI MetaTensor, lists)."""
    import numpy

    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return numpy.asarray(value)


def _geometry(spacing, origin, direction, affine, axes, need_spacing):
    g = {"axes": axes, "need_spacing": need_spacing}
    if spacing is not None:
        g["spacing"] = [float(s) for s in (spacing if hasattr(spacing, "__len__") else [spacing])]
    if origin is not None:
        g["origin"] = [float(o) for o in origin]
    if direction is not None:
        g["direction"] = _array(direction).astype(float).reshape(3, 3)
    if affine is not None:
        g["affine"] = _array(affine).astype(float)
    return g


class Result:
    """A data set evaluated and aggregated. Tables are pandas DataFrames when pandas is installed, else lists of
    dicts (``as_frame=False`` asks for lists, ``True`` for frames); ``inf`` and ``nan`` are real floats."""

    def __init__(self, native):
        self._native = native
        self._doc = None

    def _json(self):
        if self._doc is None:
            self._doc = _json.loads(self._native.json())
        return self._doc

    def summary(self, as_frame=None):
        """Every metric and label (and model) over all cases: estimate, interval, method, n, counts, flags."""
        return _records(self._json()["summary"], as_frame)

    def by_subgroup(self, column, as_frame=None):
        """The same per value of a metadata column."""
        rows = [r for r in self._json()["subgroups"] if r["column"] == column]
        if not rows and column not in self._json()["subgroup_columns"]:
            raise OptionError(f"invalid option: subgroup column {column!r} was not sliced "
                              f"(columns: {', '.join(self._json()['subgroup_columns'])})")
        return _records(rows, as_frame)

    def cases(self, as_frame=None):
        """One row per case and label (and per failed case and label, with ``error``), as ``--csv`` writes."""
        return _csv_table(self._native.cases_csv(), as_frame)

    def lesions(self, as_frame=None):
        """One row per lesion (GT and predicted) of every case and label, as ``--lesion-csv`` writes."""
        return _csv_table(self._native.lesions_csv(), as_frame)

    def paired(self, as_frame=None):
        """Every pair of models per metric and label: mean difference, interval, Wilcoxon and Holm p."""
        return _records(self._json().get("paired", []), as_frame)

    def ranking(self, as_frame=None):
        """One row per metric, label and model: its rank, P(rank 1), rank interval, and Kendall's tau_b."""
        rows = []
        for r in self._json().get("ranking", []):
            for m in r["models"]:
                row = {k: v for k, v in r.items() if k != "models"}
                row.update(m)
                rows.append(row)
        return _records(rows, as_frame)

    @property
    def failures(self):
        """Every case that could not be evaluated, as :class:`Failure` ``(case, reason, model)``."""
        return [Failure(case, reason, model) for model, case, reason in self._native.failures()]

    @property
    def settings(self):
        """What was computed: every setting the results JSON states."""
        skip = {"cases", "failures", "summary", "subgroups", "strata", "paired", "ranking"}
        return {k: _number(v) for k, v in self._json().items() if k not in skip}

    def to_html(self, path):
        """Writes the self-contained HTML report (never over an input; whole or not at all)."""
        self._native.to_html(_os.fspath(path))

    def to_csv(self, path):
        """Writes the per-case CSV (never over an input; whole or not at all)."""
        self._native.to_csv(_os.fspath(path))

    def to_json(self, path):
        """Writes the results JSON, schema ``segauge-eval/2`` (never over an input; whole or not at all)."""
        self._native.to_json(_os.fspath(path))

    def json(self):
        """The results JSON as text."""
        return self._native.json()

    def __repr__(self):
        return self._native.summary_text()


class _ConventionDefault:
    """The default of a ``surface`` argument: the surface of the ``convention`` (``smooth`` for segauge's)."""

    def __repr__(self):
        return "<the convention's>"


_CONVENTION = _ConventionDefault()


def _gt_dir(models):
    dirs = {_os.path.dirname(_os.fspath(c.gt)) for cases in models.values() for c in cases if _is_path(c.gt)}
    return dirs.pop() if len(dirs) == 1 else None


def evaluate(cases=None, labels=None, surface=_CONVENTION, tau=2.0, percentile=95, lesions=True, bootstrap=9999,
             ci_method="bca", seed=0, inf_policy="cap", threads=None, progress=True, *, models=None, executor=None,
             shards=None, **options):
    """Evaluates cases (one model) or ``models={"name": cases, ...}`` and aggregates every metric with a
    bootstrap interval, per subgroup of the cases' metadata, with paired comparisons and rankings for several
    models. A case that cannot be evaluated is a listed failure (:attr:`Result.failures`), never an exception.

    Every option of ``segauge eval`` is accepted under its name (see :data:`OPTIONS`). ``convention="monai"``
    (``segauge``, ``meshmetrics``, ``deepmind``, ``medpy``, ``monai``, ``nnunet``) computes the metrics as that tool
    does; ``surface`` and the other switches then change single settings of it.

    ``executor`` (a ``distributed.Client``, a ``concurrent.futures`` executor, anything whose ``submit`` returns a
    future with ``result()``) evaluates the cases in ``shards`` tasks (default: one per case, at most 64) on its
    workers, which need this package and, for file cases, the files; the records come back and are merged here
    into the :class:`Result` of a local run, byte for byte. Array cases are sent to the workers with their task.
    """
    if (cases is None) == (models is None):
        raise OptionError("invalid option: give cases or models={name: cases}, not both")
    models = {"pred": list(cases)} if models is None else {str(k): list(v) for k, v in models.items()}
    for name, cs in models.items():
        for c in cs:
            if not isinstance(c, Case):
                raise OptionError(f"invalid option: model {name}: {c!r} is not a segauge.Case")
    native_models = [(name, [c._native() for c in cs]) for name, cs in models.items()]
    metadata = {c.id: c.metadata for cs in models.values() for c in cs if c.metadata}
    if surface is not _CONVENTION:
        options["surface"] = "none" if surface is None else surface
    options.update(labels=labels, tau=tau, percentile=percentile, lesions=lesions, bootstrap=bootstrap,
                   ci_method=ci_method, seed=seed, inf_policy=inf_policy, threads=threads, progress=progress)
    if executor is not None:
        plan = _native.plan(native_models, _gt_dir(models), **options)
        return _distribute(executor, shards, plan, native_models, _gt_dir(models), options, metadata_map=metadata)
    return Result(_native.evaluate(native_models, metadata, _gt_dir(models), **options))


def _models_of(pred):
    if isinstance(pred, dict):
        return [(str(k), _os.fspath(v)) for k, v in pred.items()]
    return [("pred", _os.fspath(pred))]


def _metadata_args(metadata):
    """``(path, table)`` of a metadata argument: a CSV file or a dict ``{case: {column: value}}``."""
    if isinstance(metadata, dict):
        return None, {str(c): {str(k): str(v) for k, v in row.items()} for c, row in metadata.items()}
    return (None if metadata is None else _os.fspath(metadata)), None


def evaluate_dirs(pred, gt, metadata=None, *, executor=None, shards=None, **options):
    """Evaluates a folder of predictions against a folder of ground truths, paired by case id, as
    ``segauge eval --pred PRED --gt GT [--metadata FILE]`` (the same results, byte for byte).

    ``pred`` may be ``{"model": folder, ...}`` for several models; ``metadata`` a CSV file with a ``case``
    column or a dict ``{case: {column: value}}``. Options and ``executor`` as :func:`evaluate` (the workers read
    the files at the same paths).
    """
    models = _models_of(pred)
    options.setdefault("progress", True)
    if options.get("surface", "") is None:
        options["surface"] = "none"
    path, table = _metadata_args(metadata)
    if executor is not None:
        plan = _native.plan_dirs(models, _os.fspath(gt), **options)
        native_models = [(name, [{"id": i, "pred": p, "gt": g} for i, p, g in cases])
                         for name, cases in plan.file_cases()]
        return _distribute(executor, shards, plan, native_models, _os.fspath(gt), options, path, table)
    return Result(_native.evaluate_dirs(models, _os.fspath(gt), path, table, **options))


_AGGREGATE = frozenset(_native.AGGREGATE_OPTIONS)


def _aggregate(options):
    return {k: v for k, v in options.items() if k in _AGGREGATE}


def _shard_records(options_line, models, gt_dir, threads):
    """An executor's task: the record lines of some cases (``Plan.options_line`` gives the driver's options)."""
    return _native.evaluate_records(options_line, models, gt_dir, threads)


def _distribute(executor, shards, plan, native_models, gt_dir, options, metadata=None, metadata_map=None):
    """Evaluates the plan's shards as tasks of ``executor`` and merges their records into a :class:`Result`."""
    count = plan.case_count()
    n = min(count, 64) if shards is None else int(shards)
    if n < 1 and count > 0:
        raise OptionError(f"invalid option: shards: {shards} (at least 1)")
    options_line = plan.options_line()
    futures = []
    for k in range(1, n + 1):
        ids = set(plan.cases_of(k, n))
        part = [(name, [c for c in cases if c["id"] in ids]) for name, cases in native_models]
        part = [(name, cases) for name, cases in part if cases]
        if part:
            futures.append(executor.submit(_shard_records, options_line, part, gt_dir, options.get("threads")))
    records = [line for f in futures for line in f.result()]
    return Result(plan.merge(records, metadata, metadata_map, **_aggregate(options)))


def evaluate_shard(pred, gt, shard, partial, resume=False, **options):
    """Evaluates shard ``K/N`` of folders paired by case id into its partial file in the folder ``partial``, as
    ``segauge eval --pred PRED --gt GT --shard K/N --partial DIR [--resume]``: the same file, read by
    ``segauge merge`` and by :func:`merge`. Each case is appended, synced, as it finishes; ``resume=True``
    continues a shard that was stopped (its recorded cases are skipped). ``shard`` is ``"K/N"`` or ``(K, N)``.
    Per-case options as :func:`evaluate_dirs` (every shard must get the same ones); returns a :class:`ShardRun`.
    """
    text = shard if isinstance(shard, str) else "/".join(str(int(x)) for x in shard)
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise OptionError(f"invalid option: shard {shard!r}: expected K/N, e.g. 2/8") from None
    options.setdefault("progress", False)
    if options.get("surface", "") is None:
        options["surface"] = "none"
    plan = _native.plan_dirs(_models_of(pred), _os.fspath(gt), **options)
    path, recorded, before, _cut = plan.write_shard(_os.fspath(partial), k, n, bool(resume))
    return ShardRun(_os.fspath(path), recorded, before)


def merge(partial, metadata=None, **options):
    """The :class:`Result` of a sharded run from its partial files, as ``segauge merge DIR… [--metadata FILE]``
    (the same outputs, byte for byte, as one run): ``partial`` is a folder or a list of folders. Partial files
    of different runs are refused; a case no shard recorded is a listed failure (``not evaluated: shard K/N
    missing``). Only aggregate options are taken (``bootstrap``, ``ci_method``, ``seed``, ``inf_policy``,
    ``hd_cap``, ``subgroups``, ``threads``); a warning names shards without a file.
    """
    dirs = [partial] if _is_path(partial) else list(partial)
    path, table = _metadata_args(metadata)
    report, notes, missing, n = _native.merge([_os.fspath(d) for d in dirs], path, table, **options)
    if notes or missing:
        import warnings

        for note in notes:
            warnings.warn(note, stacklevel=2)
        if missing:
            shown = ", ".join(f"{k}/{n}" for k in missing)
            warnings.warn(f"no partial file of shard(s) {shown}; their cases are listed as failures", stacklevel=2)
    return Result(report)


def compare(pred, gt, spacing=None, *, affine=None, origin=None, direction=None, axes="xyz", labels=None,
            **options):
    """One prediction against its ground truth: one dict per label with the fields of ``segauge compare
    --format json`` (``dice``, ``iou``, ``hd``, ``hd95``, ``assd``, ``masd``, ``nsd``, ``biou``, counts, volumes,
    ``empty_state``, and ``lesions``).

    ``pred`` and ``gt`` are files, or arrays on one grid indexed ``[x, y, z]`` (``axes="zyx"`` for
    ``[z, y, x]``); ``spacing`` (mm, x, y, z order), or ``affine`` (4×4, e.g. nibabel's ``img.affine``) gives
    their geometry and is required for surface distances. ``origin`` and ``direction`` are optional.
    """
    options["labels"] = labels
    if options.get("surface", "") is None:
        options["surface"] = "none"
    if _is_path(pred) and _is_path(gt):
        text = _native.compare_files(_os.fspath(pred), _os.fspath(gt), **options)
    else:
        need = options.get("surface", "smooth") != "none"
        geometry = _geometry(spacing, origin, direction, affine, axes, need)
        text = _native.compare_arrays(_array(pred), _array(gt), geometry, **options)
    return [_number(row) for row in _json.loads(text)["labels"]]


_SURFACE_FIELDS = ("hd", "assd", "masd", "nsd", "biou", "empty_state")


def surface_metrics(pred, gt, spacing, tau=2.0, percentile=95, surface=_CONVENTION, **options):
    """Surface distances of every label (or of a pair of masks: label 1): ``{label: {hd, hd<P>, assd, masd, nsd,
    biou, empty_state}}``. ``surface`` defaults to the ``convention``'s (``smooth`` for segauge's)."""
    if surface is not _CONVENTION:
        options["surface"] = surface
    rows = compare(pred, gt, spacing, tau=tau, percentile=percentile, lesions=False, **options)
    key = f"hd{percentile:g}"
    return {_key(r): {k: r[k] for k in (*_SURFACE_FIELDS[:1], key, *_SURFACE_FIELDS[1:])} for r in rows}


def overlap(pred, gt, spacing=None, **options):
    """Voxel overlap of every label: ``{label: {dice, iou, tp, fp, fn, voxels_pred, voxels_gt, empty_state}}`` (and
    volumes in mm³ when ``spacing`` is given)."""
    rows = compare(pred, gt, spacing, surface=None, lesions=False, **options)
    keep = ["dice", "iou", "tp", "fp", "fn", "voxels_pred", "voxels_gt", "empty_state"]
    if spacing is not None or options.get("affine") is not None:
        keep += ["volume_pred_mm3", "volume_gt_mm3"]
    return {_key(r): {k: r[k] for k in keep} for r in rows}


def lesions(pred, gt, spacing, **options):
    """Per-lesion detection of every label: ``{label: lesions}`` with the JSON contract's ``lesions`` object
    (counts, precision, recall, F1, PQ, matches, strata, lesion lists)."""
    options.setdefault("surface", None)
    rows = compare(pred, gt, spacing, **options)
    return {_key(r): r["lesions"] for r in rows}


def _key(row):
    """A row's key in the per-structure dicts: its label number, or its name for a region."""
    return row["label"] if row.get("label") is not None else row["name"]


def batch_metrics(pred, gt, spacing=None, *, one_hot=None, include_background=False, labels=None, axes="xyz",
                  **options):
    """Metrics of a batch, for a training loop: ``[B, X, Y, Z]`` label arrays, or ``[B, C, X, Y, Z]`` one-hot arrays
    (MONAI's layout; ``one_hot`` is guessed from the dimension when not given). Returns ``{metric: array [B, C]}``
    (NaN where undefined) and ``"labels"``: the label or channel of each column. Background (label 0, channel 0)
    is left out unless ``include_background=True`` (one-hot only). Items run in parallel."""
    import numpy

    p, g = _array(pred), _array(gt)
    if one_hot is None:
        one_hot = p.ndim == 5
    need = options.get("surface", "smooth") not in ("none", None)
    if options.get("surface", "") is None:
        options["surface"] = "none"
    geometry = _geometry(spacing, None, None, options.pop("affine", None), axes, need)
    out, columns = _native.batch_metrics(p, g, geometry, bool(one_hot), bool(include_background), labels,
                                         **options)
    out["labels"] = numpy.asarray(columns)
    return out


def load(path, series=None, **options):
    """Reads any input segauge reads as ``(array, geometry)``: the labels indexed ``[x, y, z]`` (Fortran order,
    no copy) and ``{shape, spacing, origin, direction, affine, axes}`` (RAS, mm)."""
    return _native.load(_os.fspath(path), None if series is None else _os.fspath(series), **options)


def load_rtstruct(series_dir, rtstruct, roi_name, with_geometry=False):
    """One ROI of an RTSTRUCT rasterised on its image series: a boolean mask indexed ``[x, y, z]`` (and its
    geometry with ``with_geometry=True``)."""
    mask, geometry = _native.load_rtstruct(_os.fspath(series_dir), _os.fspath(rtstruct), str(roi_name))
    return (mask, geometry) if with_geometry else mask


def bootstrap_ci(values, method="bca", level=0.95, resamples=9999, seed=0, case_ids=None):
    """A bootstrap interval of the mean of per-case values (non-finite values left out and counted), with the
    report's resampling: given the case ids, it reproduces the report's interval for those cases exactly."""
    return _native.bootstrap_ci([float(v) for v in _array(values).ravel()], method, level, resamples, seed,
                                None if case_ids is None else [str(c) for c in case_ids])


def paired_significance(a, b, method="bca", level=0.95, resamples=9999, seed=0, case_ids=None):
    """Two models' per-case values compared: mean difference ``a - b`` with its paired bootstrap interval and the
    two-sided Wilcoxon signed-rank p (cases where either value is not finite dropped and counted)."""
    fa = [float(v) for v in _array(a).ravel()]
    fb = [float(v) for v in _array(b).ravel()]
    return _native.paired_significance(fa, fb, method, level, resamples, seed,
                                       None if case_ids is None else [str(c) for c in case_ids])


def ranking_stability(scores, higher_is_better=True, resamples=9999, seed=0, case_ids=None):
    """How stable a ranking of models is under resampling of the cases: ``scores`` is ``{model: per-case
    values}`` (or a ``[models, cases]`` array). Returns each model's rank on all cases, P(rank 1) (ties shared),
    median rank and 2.5–97.5 % rank range, and Kendall's tau_b between replicate and full rankings."""
    if isinstance(scores, dict):
        names = [str(k) for k in scores]
        rows = [[float(v) for v in _array(s).ravel()] for s in scores.values()]
    else:
        a = _array(scores)
        names = [str(i) for i in range(a.shape[0])]
        rows = [[float(v) for v in row.ravel()] for row in a]
    out = _native.ranking_stability(rows, higher_is_better, resamples, seed,
                                    None if case_ids is None else [str(c) for c in case_ids])
    out["models"] = names
    return out
