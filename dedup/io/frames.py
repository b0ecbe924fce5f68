"""The read and write stages for DataFrames: a pandas or polars DataFrame (or a pyarrow Table) in,
validated `Article`s and `Reject`s out, exactly as a file's records; result records back out as a
pandas or polars DataFrame.

Takes a frame and a `FieldMap`; gives a `ReadResult` whose records are the rows as Python values,
validated by the one record validation (`records.Collector`, as `validate_records` and the readers):
a row that cannot be used is a `Reject` at line = its position + 1, as a Parquet file's row. Its
`schema` is the frame's Arrow schema (with each pandas column's dtype in the field's metadata), so
`write_records(..., schema=)` and `records_to_pandas` / `records_to_polars` give the input columns
their types back. pandas and polars are optional: imported only here and only when used; when one is
missing, a ConfigError names the extra to install.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from ..errors import ConfigError, InputError
from .readers import _python_values
from .records import Collector, FieldMap, ReadResult
from .writers import _arrow_value, _columns, _dumps, _has_empty_struct, _typed

__all__ = [
    "as_field_map",
    "is_frame",
    "read_frame",
    "records_to_pandas",
    "records_to_polars",
    "require",
]

#: Arrow field metadata holding a pandas input column's dtype (restored by `records_to_pandas`).
PANDAS_DTYPE = b"dedup.pandas_dtype"
_FRAMES = {("pandas", "DataFrame"), ("polars", "DataFrame"), ("polars", "LazyFrame"), ("pyarrow", "Table")}
_ARROW_ERRORS: tuple[type[Exception], ...] = (TypeError, ValueError, OverflowError)  # + pa.ArrowException


def require(package: str) -> Any:
    """Import an optional package (pandas, polars), or raise ConfigError saying how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise ConfigError(
            f"{package} is not installed; install it with: pip install 'dedup[{package}]'"
        ) from None


def is_frame(obj: Any) -> bool:
    """Whether `obj` is a pandas or polars DataFrame, a polars LazyFrame or a pyarrow Table (checked
    without importing any of them)."""
    kind = type(obj)
    return (kind.__module__.split(".")[0], kind.__name__) in _FRAMES


def as_field_map(fields: FieldMap | Mapping[str, str] | None) -> FieldMap:
    """A `FieldMap` from one, or from a mapping such as {"text": "body"} or the CLI's option names
    {"text_field": "body"}; None is the standard names."""
    if fields is None:
        return FieldMap()
    if isinstance(fields, FieldMap):
        return fields
    if not isinstance(fields, Mapping):
        raise ConfigError(f"fields must be a FieldMap or a mapping, got {type(fields).__name__}")
    known = [f.name for f in dataclasses.fields(FieldMap)]
    given: dict[str, str] = {}
    for key, column in fields.items():
        name = key[: -len("_field")] if isinstance(key, str) and key.endswith("_field") else key
        if name not in known:
            raise ConfigError(f"unknown field {key!r}; map {', '.join(known)}")
        if not isinstance(column, str) or not column:
            raise ConfigError(f"the column of field {key!r} must be a non-empty string, got {column!r}")
        given[name] = column
    return FieldMap(**given)


# ---------------------------------------------------------------------------------------------
# reading


def read_frame(
    frame: Any,
    *,
    fields: FieldMap = FieldMap(),  # noqa: B008 - frozen, so a shared default is safe
    on_error: Literal["reject", "fail"] = "reject",
    source: str = "DataFrame",
) -> ReadResult:
    """Validate a DataFrame's rows exactly as a file's records are validated: one record per row,
    its columns as fields (row k is line k + 1 of `source` in rejects and messages). Named index
    levels of a pandas frame become columns (unless a column has that name); the others are
    dropped. A missing id or text column raises InputError naming the columns and the fix."""
    if not is_frame(frame):
        raise InputError(f"expected a pandas or polars DataFrame, got {type(frame).__name__}")
    names, columns, schema = _columns_of(frame, source)
    missing = [(k, getattr(fields, k)) for k in ("id", "text") if getattr(fields, k) not in names]
    if missing:
        what = " and ".join(f"no {col!r} column" for _, col in missing)
        how = ", ".join(f"{k}=NAME" for k, _ in missing)
        raise InputError(
            f"{source}: {what} (columns: {', '.join(names) or 'none'}); map the column to use with "
            f"fields=FieldMap({how})"
        )
    col = Collector(fields, on_error, library=True)
    col.schema = schema
    for line, values in enumerate(zip(*columns, strict=True), 1):
        col.add(dict(zip(names, values, strict=True)), source=source, line=line)
    return col.result()


def _columns_of(frame: Any, source: str) -> tuple[list[str], list[list[Any]], Any]:
    """The column names, each column's values as Python objects, and the Arrow schema of the columns
    that Arrow can hold (the others, e.g. pandas object columns of mixed types, are kept as given)."""
    import pyarrow as pa

    errors = (*_ARROW_ERRORS, pa.ArrowException)
    module = type(frame).__module__.split(".")[0]
    if module == "polars" and type(frame).__name__ == "LazyFrame":
        frame = frame.collect()
    if module == "pandas":
        frame = _with_index_columns(frame)
        series = [frame.iloc[:, k] for k in range(frame.shape[1])]
        labels: Sequence[Any] = list(frame.columns)
    elif module == "polars":
        series = [frame.to_series(k) for k in range(frame.width)]
        labels = frame.columns
    else:
        series = [frame.column(k) for k in range(frame.num_columns)]
        labels = frame.column_names
    names = [str(c) for c in labels]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{source}: duplicate column names: {', '.join(dupes)}")
    values: list[list[Any]] = []
    typed = []
    for name, s in zip(names, series, strict=True):
        try:
            arr = _to_arrow(module, s)
        except errors:
            values.append(_loose_values(module, s))
            continue
        meta = {PANDAS_DTYPE: str(s.dtype).encode()} if module == "pandas" else None
        typed.append(pa.field(name, arr.type, metadata=meta))
        values.append(_python_values(arr))
    return names, values, pa.schema(typed)


def _with_index_columns(df: Any) -> Any:
    """A pandas frame with its named index levels as columns (not those a column already has)."""
    levels = [n for n in df.index.names if n is not None and n not in df.columns]
    return df.reset_index(level=levels) if levels else df


def _to_arrow(module: str, s: Any) -> Any:
    import pyarrow as pa

    if module == "pandas":
        return pa.array(s, from_pandas=True)  # NaN, NaT and NA are missing values
    if module == "polars":
        if s.dtype == require("polars").Object:  # Arrow would get the objects' addresses
            raise TypeError("a polars Object column")
        return s.to_arrow()
    return s  # a pyarrow ChunkedArray


def _loose_values(module: str, s: Any) -> list[Any]:
    """A column Arrow cannot hold, as Python values; pandas' missing markers (NaN, NaT, NA) are None."""
    values = list(s.to_list() if module == "polars" else s.tolist())
    if module != "pandas":
        return values
    pd = require("pandas")
    return [None if _missing(v, pd) else v for v in values]


def _missing(v: Any, pd: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


# ---------------------------------------------------------------------------------------------
# writing


def records_to_pandas(
    records: Sequence[Mapping[str, Any]], schema: Any = None, *, own: Iterable[str] = ()
) -> Any:
    """A pandas DataFrame of `records`, one row each, columns in first-seen order. With `schema` (the
    input's, `ReadResult.schema`) the input's columns keep their Arrow types, and a pandas input's
    columns their dtypes where the values allow it; `own` names columns the schema does not type
    (dedup's fields, which replace input columns of the same name). A column Arrow cannot hold
    (mixed types) is an object column of the values as given."""
    pd = require("pandas")
    import pyarrow as pa

    own = tuple(own)
    names, typed, loose = _arrow_columns(records, schema, own)

    df = pa.table(typed).to_pandas() if typed else pd.DataFrame(index=pd.RangeIndex(len(records)))
    for name, vals in loose.items():
        df[name] = pd.Series(vals, dtype=object, index=df.index)
    df = df[names] if names else df
    for name in typed:
        want = _pandas_dtype(schema, name) if name not in own else None
        if want is not None and str(df[name].dtype) != want:
            with contextlib.suppress(TypeError, ValueError):  # values that no longer fit: Arrow's
                df[name] = df[name].astype(want)
    return df


def records_to_polars(
    records: Sequence[Mapping[str, Any]], schema: Any = None, *, own: Iterable[str] = ()
) -> Any:
    """A polars DataFrame of `records`, typed as `records_to_pandas` does; a column of mixed types
    is stored as text (JSON for values that are not strings), as Parquet output stores it."""
    pl = require("polars")
    import pyarrow as pa

    names, typed, loose = _arrow_columns(records, schema, tuple(own))
    for name, vals in loose.items():
        typed[name] = pa.array(
            [v if v is None or isinstance(v, str) else _dumps(v) for v in vals], pa.string()
        )
    return pl.from_arrow(pa.table({n: typed[n] for n in names})) if names else pl.DataFrame()


def _arrow_columns(
    records: Sequence[Mapping[str, Any]], schema: Any, own: tuple[str, ...]
) -> tuple[list[str], dict[str, Any], dict[str, list[Any]]]:
    """Column names in first-seen order, the columns Arrow holds (typed by `schema` where it has
    them), and the others' values as given."""
    import pyarrow as pa

    errors = (*_ARROW_ERRORS, pa.ArrowException)
    names = _columns(records)
    if not records and schema is not None:  # no rows: the input's columns, then dedup's
        names = [n for n in schema.names if n not in own] + [n for n in own if n not in schema.names]
    typed: dict[str, Any] = {}
    loose: dict[str, list[Any]] = {}
    for name in names:
        raw = [r.get(name) for r in records]
        arr = None
        if schema is not None and name in schema.names and name not in own:
            arr = _typed(raw, schema.field(name).type)
        if arr is None:
            try:
                arr = pa.array([_arrow_value(v) for v in raw])
                if _has_empty_struct(arr.type):
                    arr = None
            except errors:
                arr = None
        if arr is None:
            loose[name] = raw
        else:
            typed[name] = arr
    return names, typed, loose


def _pandas_dtype(schema: Any, name: str) -> str | None:
    if schema is None or name not in schema.names:
        return None
    meta = schema.field(name).metadata or {}
    raw = meta.get(PANDAS_DTYPE)
    return raw.decode() if raw else None
