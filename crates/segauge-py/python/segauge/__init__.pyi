"""Type stubs of segauge (the implementation and its documentation are in __init__.py)."""

import os
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._errors import GridMismatch as GridMismatch
from ._errors import InputError as InputError
from ._errors import OptionError as OptionError
from ._errors import OutputError as OutputError
from ._errors import SegaugeError as SegaugeError

__version__: str
OPTIONS: Tuple[str, ...]

PathLike = Union[str, bytes, os.PathLike[str]]
ArrayLike = npt.ArrayLike
Table = Any  # a pandas.DataFrame when pandas is installed, else List[Dict[str, Any]]

class Failure(NamedTuple):
    case: str
    reason: str
    model: str

class ShardRun(NamedTuple):
    path: str
    recorded: int
    already_recorded: int

class Case:
    id: str
    pred: Union[PathLike, ArrayLike]
    gt: Union[PathLike, ArrayLike]
    metadata: Dict[str, str]
    spacing: Optional[Sequence[float]]
    origin: Optional[Sequence[float]]
    direction: Optional[ArrayLike]
    affine: Optional[ArrayLike]
    axes: str
    def __init__(
        self,
        id: str,
        pred: Union[PathLike, ArrayLike],
        gt: Union[PathLike, ArrayLike],
        metadata: Optional[Mapping[str, Any]] = ...,
        *,
        spacing: Optional[Sequence[float]] = ...,
        origin: Optional[Sequence[float]] = ...,
        direction: Optional[ArrayLike] = ...,
        affine: Optional[ArrayLike] = ...,
        axes: str = ...,
    ) -> None: ...

class Result:
    def summary(self, as_frame: Optional[bool] = ...) -> Table: ...
    def by_subgroup(self, column: str, as_frame: Optional[bool] = ...) -> Table: ...
    def cases(self, as_frame: Optional[bool] = ...) -> Table: ...
    def lesions(self, as_frame: Optional[bool] = ...) -> Table: ...
    def paired(self, as_frame: Optional[bool] = ...) -> Table: ...
    def ranking(self, as_frame: Optional[bool] = ...) -> Table: ...
    @property
    def failures(self) -> List[Failure]: ...
    @property
    def settings(self) -> Dict[str, Any]: ...
    def to_html(self, path: PathLike) -> None: ...
    def to_csv(self, path: PathLike) -> None: ...
    def to_json(self, path: PathLike) -> None: ...
    def json(self) -> str: ...

def evaluate(
    cases: Optional[Sequence[Case]] = ...,
    labels: Optional[Sequence[Union[int, str]]] = ...,
    surface: Optional[str] = ...,
    tau: float = ...,
    percentile: float = ...,
    lesions: bool = ...,
    bootstrap: int = ...,
    ci_method: str = ...,
    seed: int = ...,
    inf_policy: str = ...,
    threads: Optional[int] = ...,
    progress: bool = ...,
    *,
    models: Optional[Mapping[str, Sequence[Case]]] = ...,
    executor: Any = ...,
    shards: Optional[int] = ...,
    **options: Any,
) -> Result: ...
def evaluate_dirs(
    pred: Union[PathLike, Mapping[str, PathLike]],
    gt: PathLike,
    metadata: Union[None, PathLike, Mapping[str, Mapping[str, Any]]] = ...,
    *,
    executor: Any = ...,
    shards: Optional[int] = ...,
    **options: Any,
) -> Result: ...
def evaluate_shard(
    pred: Union[PathLike, Mapping[str, PathLike]],
    gt: PathLike,
    shard: Union[str, Tuple[int, int]],
    partial: PathLike,
    resume: bool = ...,
    **options: Any,
) -> ShardRun: ...
def merge(
    partial: Union[PathLike, Sequence[PathLike]],
    metadata: Union[None, PathLike, Mapping[str, Mapping[str, Any]]] = ...,
    **options: Any,
) -> Result: ...
def compare(
    pred: Union[PathLike, ArrayLike],
    gt: Union[PathLike, ArrayLike],
    spacing: Optional[Sequence[float]] = ...,
    *,
    affine: Optional[ArrayLike] = ...,
    origin: Optional[Sequence[float]] = ...,
    direction: Optional[ArrayLike] = ...,
    axes: str = ...,
    labels: Optional[Sequence[Union[int, str]]] = ...,
    **options: Any,
) -> List[Dict[str, Any]]: ...
def surface_metrics(
    pred: ArrayLike,
    gt: ArrayLike,
    spacing: Sequence[float],
    tau: float = ...,
    percentile: float = ...,
    surface: str = ...,
    **options: Any,
) -> Dict[int, Dict[str, Any]]: ...
def overlap(
    pred: ArrayLike, gt: ArrayLike, spacing: Optional[Sequence[float]] = ..., **options: Any
) -> Dict[int, Dict[str, Any]]: ...
def lesions(pred: ArrayLike, gt: ArrayLike, spacing: Sequence[float], **options: Any) -> Dict[int, Dict[str, Any]]: ...
def batch_metrics(
    pred: ArrayLike,
    gt: ArrayLike,
    spacing: Optional[Sequence[float]] = ...,
    *,
    one_hot: Optional[bool] = ...,
    include_background: bool = ...,
    labels: Optional[Sequence[int]] = ...,
    axes: str = ...,
    **options: Any,
) -> Dict[str, np.ndarray]: ...
def load(path: PathLike, series: Optional[PathLike] = ..., **options: Any) -> Tuple[np.ndarray, Dict[str, Any]]: ...
def load_rtstruct(
    series_dir: PathLike, rtstruct: PathLike, roi_name: str, with_geometry: bool = ...
) -> Union[np.ndarray, Tuple[np.ndarray, Dict[str, Any]]]: ...
def bootstrap_ci(
    values: ArrayLike,
    method: str = ...,
    level: float = ...,
    resamples: int = ...,
    seed: int = ...,
    case_ids: Optional[Sequence[str]] = ...,
) -> Dict[str, Any]: ...
def paired_significance(
    a: ArrayLike,
    b: ArrayLike,
    method: str = ...,
    level: float = ...,
    resamples: int = ...,
    seed: int = ...,
    case_ids: Optional[Sequence[str]] = ...,
) -> Dict[str, Any]: ...
def ranking_stability(
    scores: Union[Mapping[str, ArrayLike], ArrayLike],
    higher_is_better: bool = ...,
    resamples: int = ...,
    seed: int = ...,
    case_ids: Optional[Sequence[str]] = ...,
) -> Dict[str, Any]: ...
