"""The read stage: files, stdin and directories in, validated articles out.

Takes a path (JSON Lines, JSON, CSV/TSV, Parquet, a directory of .txt/.html files, or "-" for
stdin) and gives a `ReadResult`: every record that is seen ends up exactly once in its `articles`
or its `rejects` (with its line number and a one-line reason that names the fix); nothing is
dropped silently. Records are validated by `records.build_article`, the same rules as the
library's `validate_records`. Files are read line by line (JSON Lines, CSV) or batch by batch
(Parquet), so only the `Article` objects of a large input are held in memory.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, cast

from ..errors import InputError
from .formats import DIR_SUFFIXES, input_format
from .records import MAX_CHARS, SURROGATE, Collector, FieldMap, ReadResult
from .shards import shard_files

__all__ = ["read_articles"]

_BOM = b"\xef\xbb\xbf"


def read_articles(
    path: str | Path,
    *,
    fields: FieldMap = FieldMap(),  # noqa: B008 - frozen, so a shared default is safe
    on_error: Literal["reject", "fail"] = "reject",
    fmt: str | None = None,
    max_chars: int = MAX_CHARS,
) -> ReadResult:
    """Read every article of `path` (a file, a directory of .txt/.html files, a directory or glob of
    record files (shards: `io.shards`, read in name order as one input), or "-" for stdin).

    `fmt` (jsonl, json, csv, tsv, parquet, dir; the CLI's --input-format) overrides the extension,
    for stdin and for files with other extensions. Unusable records become `Reject`s
    (`on_error="reject"`) or raise `InputError` naming the file, line and field (`on_error="fail"`).
    Problems with the input as a whole (not found, unknown format, a CSV/Parquet without the id or
    text column) always raise `InputError`. Texts are never truncated or rejected for their length;
    `max_chars` only bounds how much of a text the binary-junk check inspects.
    """
    col = Collector(fields, on_error, max_chars)
    if str(path) == "-":
        _read_stdin(input_format("-", fmt), col)
        return col.result()
    shards = shard_files(path) if fmt != "dir" else None
    if shards is not None:  # one input of many files, read in name order; ids unique across them
        for f in shards:
            _read_file(f, input_format(f, fmt), col)
        return col.result()
    p = Path(path)
    if not p.exists():
        raise InputError(f"input not found: {path}")
    kind = input_format(p, fmt)
    if p.is_dir() or kind == "dir":
        if not p.is_dir():
            raise InputError(f"{path} is not a directory (the 'dir' format reads a directory)")
        _read_directory(p, col)
        return col.result()
    _read_file(p, kind, col)
    return col.result()


def _read_file(p: Path, kind: str, col: Collector) -> None:
    """One file of records in the format `kind`, into `col`."""
    source = str(p)
    if kind == "parquet":
        _read_parquet(p, source, col)
        return
    try:
        with _open_binary(p) as stream:
            if kind == "jsonl":
                _read_jsonl(stream, source, col)
            elif kind == "json":
                _read_json(stream, source, col)
            else:
                _read_csv(stream, source, col, delimiter="\t" if kind == "tsv" else ",")
    except (OSError, EOFError) as e:  # unreadable file, broken gzip stream
        raise InputError(f"cannot read {p}: {getattr(e, 'strerror', None) or e}") from e


# ---------------------------------------------------------------------------------------------
# formats


def _open_binary(p: Path) -> IO[bytes]:
    if p.suffix.lower() == ".gz":
        return cast(IO[bytes], gzip.open(p, "rb"))
    return open(p, "rb")  # noqa: SIM115 - closed by the caller's `with`


def _not_utf8(raw: bytes, err: UnicodeDecodeError, what: str = "line") -> str:
    bad = raw[err.start : err.start + 1].hex()
    return f"not valid UTF-8 (byte 0x{bad} at byte {err.start + 1} of the {what}; re-encode as UTF-8)"


def _read_stdin(kind: str, col: Collector) -> None:
    buffer = getattr(sys.stdin, "buffer", None)
    lines: Iterable[bytes | str] = buffer if buffer is not None else sys.stdin
    if kind == "jsonl":
        _read_jsonl(lines, "-", col)
        return
    data = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
    if kind == "json":
        _read_json(io.BytesIO(data), "-", col)
    elif kind in ("csv", "tsv"):
        _read_csv(io.BytesIO(data), "-", col, delimiter="\t" if kind == "tsv" else ",")
    elif kind == "parquet":
        _read_parquet(io.BytesIO(data), "-", col)
    else:
        raise InputError(f"cannot read the {kind!r} format from stdin")


_CONTAINERS = {
    b"\x1f\x8b": "gzip-compressed (name it .gz, e.g. data.jsonl.gz, or gunzip it)",
    b"PK\x03\x04": "a ZIP archive (unzip it first)",
    b"PAR1": "a Parquet file (name it .parquet)",
    b"\x28\xb5\x2f\xfd": "zstd-compressed (decompress it first)",
}


def _check_utf16(first: bytes, source: str) -> None:
    """Whole-file problems visible in the first bytes: UTF-16 text, compressed or container files."""
    if first[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(
            f"{source}: the file is UTF-16, not UTF-8 (re-encode it, e.g. iconv -f UTF-16 -t UTF-8 IN > OUT)"
        )
    for magic, what in _CONTAINERS.items():
        if first.startswith(magic) and _CONTROL_BYTES.search(first[:64]):  # binary, not a text header
            raise InputError(f"{source}: the file is {what}, not text")


def _read_jsonl(lines: Iterable[bytes | str], source: str, col: Collector) -> None:
    for lineno, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            if lineno == 1:
                _check_utf16(raw, source)
                if raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                col.reject(source, lineno, None, _not_utf8(raw, e))
                continue
        else:
            line = raw.lstrip("\ufeff") if lineno == 1 else raw
        if not line.strip():
            continue  # blank lines are not records
        try:
            record = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as e:
            msg = e.msg[:-3] if e.msg.endswith(" at") else e.msg  # "Invalid control character at"
            col.reject(source, lineno, None, f"malformed JSON ({msg} at column {e.colno}; fix the line)")
            continue
        except RecursionError:
            col.reject(source, lineno, None, "malformed JSON (nested too deeply)")
            continue
        col.add(record, source=source, line=lineno)


def _read_json(stream: IO[bytes], source: str, col: Collector) -> None:
    """A `.json` file: a JSON array of objects, or else JSON Lines."""
    head = stream.read(4096)
    stream.seek(0)
    if not head.lstrip(_BOM + b" \t\r\n").startswith(b"["):
        _read_jsonl(stream, source, col)
        return
    data = stream.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{source}: {_not_utf8(data, e, 'file')}") from None
    dec = json.JSONDecoder()
    ws = re.compile(r"\s*")

    def skip(pos: int) -> int:
        m = ws.match(text, pos)
        return m.end() if m else pos

    def broken(pos: int, msg: str) -> InputError:
        line = text.count("\n", 0, pos) + 1
        return InputError(f"{source} line {line}: malformed JSON array ({msg}; fix the file)")

    pos = skip(skip(0) + 1)
    line, counted = 1, 0
    if text.startswith("]", pos):
        pos = skip(pos + 1)
    else:
        while True:
            line += text.count("\n", counted, pos)
            counted = pos
            try:
                record, end = dec.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                raise broken(e.pos, e.msg) from None
            except RecursionError:
                raise broken(pos, "nested too deeply") from None
            col.add(record, source=source, line=line)
            pos = skip(end)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
                continue
            if text.startswith("]", pos):
                pos = skip(pos + 1)
                break
            raise broken(pos, "expected ',' or ']'")
    if pos != len(text):
        raise broken(pos, "unexpected data after the array")


def _decoded_lines(stream: Iterable[bytes], source: str) -> Iterator[str]:
    """Lines decoded as UTF-8; undecodable bytes become lone surrogates, rejected per record."""
    for i, raw in enumerate(stream):
        if i == 0:
            _check_utf16(raw, source)
            if raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
        yield raw.decode("utf-8", errors="surrogateescape")


def _read_csv(stream: IO[bytes], source: str, col: Collector, *, delimiter: str) -> None:
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)  # a 5 MB article is one field
    reader = csv.reader(_decoded_lines(stream, source), delimiter=delimiter)
    header: list[str] | None = None
    recno = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            recno += 1
            if header is None:
                raise InputError(f"{source}: cannot read the CSV header ({e})") from None
            col.reject(source, recno, None, f"malformed CSV ({e}; fix the row)")
            continue
        if not row:
            continue  # blank rows are not records
        recno += 1
        if header is None:
            header = _csv_header(row, source, col.fields)
            continue
        rid = None
        at = header.index(col.fields.id)
        if at < len(row) and row[at].strip() and not SURROGATE.search(row[at]):
            rid = row[at]
        if len(row) != len(header):
            col.reject(
                source,
                recno,
                rid,
                f"row has {len(row)} fields but the header has {len(header)} "
                f"(quote fields that contain {delimiter!r}, quotes or line breaks)",
            )
            continue
        bad = next((c for c in row if SURROGATE.search(c)), None)
        if bad is not None:
            raw = bad.encode("utf-8", errors="surrogateescape")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                col.reject(source, recno, rid, _not_utf8(raw, e, "field"))
                continue
        col.add(dict(zip(header, row, strict=True)), source=source, line=recno)


def _csv_header(row: list[str], source: str, fields: FieldMap) -> list[str]:
    header = [name.strip() for name in row]
    if any(SURROGATE.search(name) for name in header):
        raise InputError(f"{source}: the header is not valid UTF-8 (re-encode the file as UTF-8)")
    dupes = sorted({n for n in header if header.count(n) > 1})
    if dupes:
        raise InputError(f"{source}: duplicate column names in the header: {', '.join(dupes)}")
    _require_columns(header, source, fields)
    return header


def _require_columns(names: list[str], source: str, fields: FieldMap) -> None:
    missing = [
        (name, option)
        for name, option in ((fields.id, "--id-field"), (fields.text, "--text-field"))
        if name not in names
    ]
    if missing:
        what = " and ".join(f"no {name!r} column" for name, _ in missing)
        how = " and ".join(f"{option} NAME" for _, option in missing)
        raise InputError(
            f"{source}: {what} (columns: {', '.join(names) or 'none'}); map the column to use with {how}"
        )


def _read_parquet(where: Path | IO[bytes], source: str, col: Collector) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(where)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{source}: not a readable Parquet file ({e})") from e
    if pf.metadata.num_rows == 0:
        return  # nothing to read, whatever the columns
    _require_columns(list(pf.schema_arrow.names), source, col.fields)
    if col.schema is None:  # of shards, the first one's column types
        col.schema = pf.schema_arrow
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=1024):
            names = batch.schema.names
            columns = [_python_values(batch.column(k)) for k in range(batch.num_columns)]
            for values in zip(*columns, strict=True):
                row += 1
                col.add(dict(zip(names, values, strict=True)), source=source, line=row)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{source}: cannot read Parquet row {row + 1} onwards ({e})") from e


def _python_values(column: Any) -> list[Any]:
    """A column's values as Python objects. A nanosecond timestamp that a `datetime` cannot hold (a
    nonzero sub-microsecond part) becomes its ISO 8601 text with all nine digits, which the Parquet
    writer casts back to the column's type."""
    import numpy as np
    import pyarrow as pa

    t = column.type
    if not (pa.types.is_timestamp(t) and t.unit == "ns"):
        return list(column.to_pylist())
    micro = pa.timestamp("us", t.tz)
    out: list[Any] = []
    for v in column.cast(pa.int64()).to_pylist():
        if v is None or v % 1000 == 0:
            out.append(None if v is None else pa.scalar(v // 1000, micro).as_py())
        else:
            out.append(f"{np.datetime64(v, 'ns')}" + ("Z" if t.tz else ""))
    return out


_BINARY_SAMPLE = 65536
_BINARY_SHARE = 0.1  # undecodable or control bytes in a file's sample that make it binary
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")


def _binary(raw: bytes) -> str | None:
    """Why a file's bytes are binary data rather than text, or None (text, maybe not UTF-8)."""
    sample = raw[:_BINARY_SAMPLE]
    nul = sample.find(b"\x00")
    if nul >= 0:
        return f"binary data, not text (a NUL byte at byte {nul + 1}; articles are UTF-8 text files)"
    odd = len(_CONTROL_BYTES.findall(sample)) + sample.decode("utf-8", "replace").count("\ufffd")
    if sample and odd >= _BINARY_SHARE * len(sample):
        return (
            f"binary data, not text ({odd} of its first {len(sample)} bytes are control characters or "
            "invalid UTF-8; articles are UTF-8 text files)"
        )
    return None


def _read_directory(p: Path, col: Collector) -> None:
    files = sorted(
        (
            f
            for f in p.iterdir()
            if f.suffix.lower() in DIR_SUFFIXES and not f.name.startswith(".") and f.is_file()
        ),
        key=lambda f: f.name,
    )
    for f in files:
        source = str(f)
        try:
            raw = f.read_bytes()
        except OSError as e:
            col.reject(source, 0, f.stem, f"cannot read the file ({e.strerror or e})")
            continue
        binary = _binary(raw)
        if binary is not None:
            col.reject(source, 0, f.stem, binary)
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            col.reject(source, 0, f.stem, _not_utf8(raw, e, "file"))
            continue
        col.add(
            {"id": f.stem, "text": text},
            source=source,
            line=0,
            fields=FieldMap(),
            html=DIR_SUFFIXES[f.suffix.lower()],
            first_seen=f"in {f.name}",
        )
