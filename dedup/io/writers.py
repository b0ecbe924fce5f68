"""The write stage: result records in, files (or stdout) out, written atomically.

Takes a sequence of mappings (result records: `{**article.fields, **dedup_fields}`, or rejects)
and writes them as JSON Lines, JSON, CSV, TSV or Parquet, keeping each value's type as far as
the format allows: JSON keeps numbers, booleans, null, nested lists and objects (datetimes become
ISO 8601 strings); CSV/TSV write strings back unchanged; Parquet keeps int, float, bool, string,
timestamp, date, binary, list and struct columns as such. A file is written to a temporary file
next to it and moved into place with `os.replace`, so an interrupted run leaves either the old
file or the new one, never part of one. "-" writes to stdout.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import dataclasses
import datetime as dt
import decimal
import enum
import io
import json
import math
import os
import secrets
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import IO, Any

from ..errors import OutputError
from .formats import output_format
from .records import Reject
from .shards import SHARD_ROWS, check_shard_dir, is_shard_dir

__all__ = ["check_target", "write_records", "write_rejects", "write_shards"]


def check_target(path: str | Path, *, fmt: str | None = None) -> None:
    """Raise OutputError now if `path` could not be written: unknown format, a directory, a missing
    parent directory, no permission. For checking outputs before a long run; "-" is always fine."""
    if str(path) == "-":
        output_format(path, fmt)
        return
    if is_shard_dir(path) and fmt in (None, "parquet"):
        check_shard_dir(path)
        return
    target = Path(path)
    target = target.resolve() if target.is_symlink() else target
    _check_target(target)
    output_format(path, fmt)
    # os.access cannot see read-only mounts, ACLs or what root may not do (/sys): try it
    probe = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.probe"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as e:
        raise OutputError(f"cannot write {target}: {_why(e)}") from e
    with contextlib.suppress(OSError):
        os.unlink(probe)


def write_records(
    records: Sequence[Mapping[str, Any]], path: str | Path, *, fmt: str | None = None, schema: Any = None
) -> None:
    """Write `records` to `path`: the format comes from `fmt` or the extension; "-" is stdout; a
    path ending with a slash is a directory of Parquet shards (`write_shards`).

    Values keep their types: JSON writes each record with its own keys in order (numbers,
    booleans, null and nested lists/objects as they are; datetimes as ISO 8601 strings, bytes as
    UTF-8 text or base64, NaN as null); CSV/TSV write strings unchanged and other values as
    text (true/false, JSON for nested values, empty for None); Parquet infers one Arrow type per
    column (int64, double, bool, string, timestamp, date, binary, list, struct, null) and stores a
    column of mixed types as text; with `schema` (a Parquet input's, `ReadResult.schema`) the
    input's columns keep their Arrow types (int8, float32, timestamp[ms], decimal, map, ...).
    CSV, TSV and Parquet columns are the union of the records' keys in first-seen order; a key a
    record lacks is an empty cell or null there. Text is UTF-8 and never escaped. Raises
    `OutputError` naming the path when it cannot be written.
    """
    if is_shard_dir(path) and fmt in (None, "parquet"):
        write_shards(records, path, schema=schema)
        return
    if str(path) != "-":
        _check_target(Path(path))
    kind = output_format(path, fmt)
    if str(path) == "-":
        _write_stdout(records, kind, schema)
        return
    target = Path(path)
    if target.is_symlink():  # write where the link points, as open() would, keeping the link
        target = target.resolve()
    with _atomic(target) as fh:
        if kind == "parquet":
            _write_parquet(records, fh, schema)
        else:
            _write_text(records, kind, fh)


def _write_text(records: Sequence[Mapping[str, Any]], kind: str, fh: IO[bytes]) -> None:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    try:
        _SERIALIZERS[kind](records, text)
    finally:
        text.flush()
        text.detach()


def _write_stdout(records: Sequence[Mapping[str, Any]], kind: str, schema: Any = None) -> None:
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (captured output, notebooks)
        if kind == "parquet":
            raise OutputError("cannot write Parquet to this stdout (it takes text only)")
        _SERIALIZERS[kind](records, sys.stdout)
    else:
        sys.stdout.flush()
        if kind == "parquet":
            _write_parquet(records, buffer, schema)
        else:
            _write_text(records, kind, buffer)
        buffer.flush()
    sys.stdout.flush()


def write_shards(
    records: Sequence[Mapping[str, Any]], path: str | Path, *, schema: Any = None, rows: int = SHARD_ROWS
) -> list[Path]:
    """Write `records` as Parquet shards of at most `rows` records into the directory `path` (made
    if missing): `part-00000.parquet`, ... in record order, every shard with the same column types.
    Parts left by an earlier run with more shards are removed. Returns the files written."""
    import pyarrow.parquet as pq

    if rows < 1:
        raise OutputError(f"rows per shard must be at least 1, got {rows}")
    check_shard_dir(path)
    out = Path(path)
    try:
        out.mkdir(exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {out}: {e.strerror or e}") from e
    table = parquet_table(records, schema)
    written: list[Path] = []
    for k, start in enumerate(range(0, max(1, len(records)), rows)):
        target = out / f"part-{k:05d}.parquet"
        with _atomic(target) as fh:
            pq.write_table(table.slice(start, rows), fh)
        written.append(target)
    for stale in out.glob("part-*.parquet"):
        if stale not in written:
            stale.unlink()
    return written


def write_rejects(rejects: Sequence[Reject], path: str | Path) -> None:
    """Write rejects as JSON Lines: one {"line", "id", "reason", "source"} object each."""
    write_records([r.to_dict() for r in rejects], path, fmt="jsonl")


# ---------------------------------------------------------------------------------------------
# atomic replacement


def _why(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, IsADirectoryError):
        return "it is a directory"
    return e.strerror or str(e)


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise OutputError(
            f"cannot write {path}: it is a directory (give a file name, or {path}/ for Parquet shards)"
        )
    parent = path.parent
    if not parent.exists():
        raise OutputError(f"cannot write {path}: directory {parent} does not exist (create it)")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {path}: permission denied")


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` when the block ends without an exception."""
    _check_target(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        # 0o666 minus the umask: the permissions a plain open() would give a new file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {_why(e)}") from e
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            if path.exists():  # keep the permissions of the file we replace
                os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {_why(exc)}") from exc
        raise


# ---------------------------------------------------------------------------------------------
# values


def _default(o: Any) -> Any:
    """JSON for the values that `json` does not know (numpy, datetimes, sets, mappings, ...)."""
    if isinstance(o, Mapping):
        return dict(o)
    if isinstance(o, (set, frozenset)):
        try:
            return sorted(o)
        except TypeError:
            return list(o)
    if isinstance(o, (dt.datetime, dt.date, dt.time)):
        return o.isoformat()
    if isinstance(o, dt.timedelta):
        return o.total_seconds()
    if isinstance(o, decimal.Decimal):
        return float(o)
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, PurePath):
        return str(o)
    if isinstance(o, (bytes, bytearray)):  # text when it is UTF-8, else base64
        try:
            return bytes(o).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(o).decode("ascii")
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    item = getattr(o, "item", None)  # numpy scalar (or 1-element array)
    tolist = getattr(o, "tolist", None)
    if callable(tolist) and int(getattr(o, "ndim", 0)) > 0:
        return tolist()
    if callable(item):
        return item()
    raise TypeError(f"cannot write a value of type {type(o).__name__}")


def _finite(v: Any) -> Any:
    """`v` with NaN and infinities replaced by None (JSON has no such numbers)."""
    v = _plain(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def _plain(v: Any) -> Any:
    """Python built-ins for `v` where `_default` knows how (bool/int/str/... stay as they are)."""
    if v is None or isinstance(v, (str, int, float, list, tuple, dict)):
        return v
    try:
        return _default(v)
    except TypeError:
        return v


# Characters that str.splitlines() and many JSONL readers take for line ends: escaped, so one
# record stays one line for every reader.
_LINE_ENDS = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def _dumps(record: Any) -> str:
    try:
        out = json.dumps(record, ensure_ascii=False, allow_nan=False, default=_default)
    except ValueError:  # NaN or infinity somewhere
        out = json.dumps(_finite(record), ensure_ascii=False, allow_nan=False, default=_default)
    return out.translate(_LINE_ENDS)


def _columns(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of every record, in first-seen order."""
    seen: dict[str, None] = {}
    for r in records:
        for k in r:
            seen.setdefault(str(k), None)
    return list(seen)


# ---------------------------------------------------------------------------------------------
# serializers


def _write_jsonl(records: Sequence[Mapping[str, Any]], out: IO[str]) -> None:
    for r in records:
        out.write(_dumps(dict(r)))
        out.write("\n")


def _write_json(records: Sequence[Mapping[str, Any]], out: IO[str]) -> None:
    """A JSON array with one record per line."""
    out.write("[")
    for i, r in enumerate(records):
        out.write(",\n" if i else "\n")
        out.write(_dumps(dict(r)))
    out.write("\n]\n" if records else "]\n")


def _cell(v: Any) -> str:
    v = _plain(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    if isinstance(v, int):
        return str(v)
    return _dumps(v)


def _write_delimited(records: Sequence[Mapping[str, Any]], out: IO[str], delimiter: str) -> None:
    columns = _columns(records)
    if not columns:
        return
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")  # RFC 4180
    writer.writerow(columns)
    for r in records:
        writer.writerow([_cell(r.get(c)) for c in columns])


def _write_csv(records: Sequence[Mapping[str, Any]], out: IO[str]) -> None:
    _write_delimited(records, out, ",")


def _write_tsv(records: Sequence[Mapping[str, Any]], out: IO[str]) -> None:
    _write_delimited(records, out, "\t")


def _write_parquet(records: Sequence[Mapping[str, Any]], out: IO[bytes], schema: Any = None) -> None:
    import pyarrow.parquet as pq

    pq.write_table(parquet_table(records, schema), out)


def parquet_table(records: Sequence[Mapping[str, Any]], schema: Any = None) -> Any:
    """The records as one Arrow table, the column types as `write_records` writes them to Parquet."""
    import pyarrow as pa

    columns = _columns(records)
    arrays = []
    for c in columns:
        values = [_arrow_value(r.get(c)) for r in records]
        arr = None
        if schema is not None and c in schema.names:  # the input's column type, for values as read
            arr = _typed([r.get(c) for r in records], schema.field(c).type)
        try:
            if arr is None:
                arr = pa.array(values)
            if _has_empty_struct(arr.type):
                raise TypeError("a struct without fields cannot be stored in Parquet")
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            # mixed or unsupported types: store the column as text (JSON for non-strings)
            arr = pa.array(
                [v if v is None or isinstance(v, str) else _dumps(v) for v in values],
                type=pa.string(),
            )
        arrays.append(arr)
    return pa.table(dict(zip(columns, arrays, strict=True))) if columns else pa.table({})


def _typed(values: list[Any], kind: Any) -> Any:
    """`values` as an Arrow array of the input column's type `kind`, or None when they do not fit it
    (a column that dedup's fields replaced, for one)."""
    import pyarrow as pa

    try:
        return pa.array(values, type=kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    try:  # e.g. nanosecond timestamps kept as ISO text by the reader
        return pa.array(values).cast(kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None


# Values Arrow stores as they are (timestamp, date, time, duration, decimal, binary columns).
_ARROW_NATIVE = (dt.date, dt.time, dt.timedelta, decimal.Decimal, bytes)


def _arrow_value(v: Any) -> Any:
    if isinstance(v, _ARROW_NATIVE):  # datetime is a date
        return v
    v = _plain(v)
    if isinstance(v, dict):
        return {str(k): _arrow_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_arrow_value(x) for x in v]
    return v


def _has_empty_struct(t: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_struct(t):
        return t.num_fields == 0 or any(_has_empty_struct(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return bool(_has_empty_struct(t.value_type))
    return False


_SERIALIZERS = {
    "jsonl": _write_jsonl,
    "json": _write_json,
    "csv": _write_csv,
    "tsv": _write_tsv,
}
