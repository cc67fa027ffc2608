"""Tables of results: pandas DataFrames when pandas is installed, lists of dicts otherwise.

Numbers that JSON and CSV write as the strings ``inf``, ``-inf`` and ``nan`` become real floats.
"""

import csv
import io
import math

_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}

# Columns that are text whatever they hold: a case id "001" stays "001", a name "7" stays "7".
TEXT_COLUMNS = ("model", "case", "name", "side", "empty_state", "error", "partners", "column", "value", "metric",
                "kind", "method", "flags", "scope")


def number(value):
    """A JSON value with the strings inf, -inf and nan as floats (recursively in lists and dicts)."""
    if isinstance(value, str):
        return _NONFINITE.get(value, value)
    if isinstance(value, list):
        return [number(v) for v in value]
    if isinstance(value, dict):
        return {k: number(v) for k, v in value.items()}
    return value


def _cell(text):
    if text == "":
        return None
    if text in _NONFINITE:
        return _NONFINITE[text]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _pandas():
    try:
        import pandas
    except ImportError:
        return None
    return pandas


def records(rows, as_frame=None):
    """Rows (a list of dicts) as a DataFrame (pandas installed, unless as_frame is False) or as they are."""
    pandas = _pandas() if as_frame is not False else None
    if as_frame and pandas is None:
        raise ImportError("as_frame=True needs pandas")
    rows = [number(r) for r in rows]
    return pandas.DataFrame(rows) if pandas is not None else rows


def csv_table(text, as_frame=None):
    """A CSV written by segauge as a DataFrame (pandas reads inf and nan as floats) or a list of dicts."""
    pandas = _pandas() if as_frame is not False else None
    if as_frame and pandas is None:
        raise ImportError("as_frame=True needs pandas")
    header = next(csv.reader(io.StringIO(text)), [])
    text_columns = [c for c in header if c in TEXT_COLUMNS]
    if pandas is not None:
        # Text columns keep their text; every other column reads "", "nan", "inf", "-inf" as floats.
        na = {c: ["", "nan"] for c in header if c not in text_columns}
        frame = pandas.read_csv(io.StringIO(text), keep_default_na=False, na_values=na,
                                dtype={c: str for c in text_columns})
        return frame
    return [{k: (v if k in text_columns else _cell(v)) for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text))]
