"""Read articles from JSON Lines, JSON, CSV, Parquet, stdin or a directory of .txt/.html files.

Every record that is seen ends up exactly once in `ReadResult.articles` or `ReadResult.rejects`
(with its line number and a one-line reason that names the fix); nothing is dropped silently.
Files are read line by line (JSON Lines, CSV) or batch by batch (Parquet), so only the `Article`
objects of a large input are held in memory.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import enum
import gzip
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, cast

from .article import Article
from .errors import ConfigError, InputError

__all__ = ["FieldMap", "Reject", "ReadResult", "read_articles", "input_format", "where"]

#: Extension (lower case) -> format name. `.gz` may follow the JSON Lines, JSON, CSV and TSV ones.
EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FORMATS = ("jsonl", "ndjson", "json", "csv", "tsv", "parquet", "dir")
#: Files of a directory input that are articles; `.html`/`.htm` ones get `html=True`.
DIR_SUFFIXES = {".txt": False, ".html": True, ".htm": True}

_BOM = b"\xef\xbb\xbf"
# Surrogate code points: lone ones come from "\udXXX" JSON escapes or from undecodable bytes.
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 control characters other than the usual whitespace (\t \n \v \f \r).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SUSPECT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # either of the above
_CONTROL_SHARE = 0.25  # a text with at least this share of control characters is binary junk
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FieldMap:
    """Maps our field names to the input's field (column) names."""

    id: str = "id"
    text: str = "text"
    title: str = "title"
    lang: str = "lang"
    published: str = "published"
    url: str = "url"
    source: str = "source"


@dataclass(frozen=True)
class Reject:
    """A record that cannot be used, with where it is and why.

    `line` is 1-based: the physical line for JSON Lines and JSON arrays, the record number for
    CSV with the header as record 1 (data rows start at 2; blank rows are not counted), the row
    index + 1 for Parquet, and 0 for a file of a directory input (then `source` is that file).
    """

    line: int
    id: str | None
    reason: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.id, "reason": self.reason, "source": self.source}


@dataclass(frozen=True)
class ReadResult:
    articles: tuple[Article, ...]
    rejects: tuple[Reject, ...]
    total: int  # records seen == len(articles) + len(rejects)
    #: (source, line) of each article, as a Reject would give them
    positions: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)


def where(source: str, line: int) -> str:
    """How messages name a record: "FILE line N", "stdin line N", or the file of a directory input."""
    return ("stdin" if source == "-" else source) + (f" line {line}" if line else "")


class _Bad(Exception):
    """A record is unusable: `reason` says why and how to fix it."""

    def __init__(self, reason: str, rid: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rid = rid


# ---------------------------------------------------------------------------------------------
# public entry point


def input_format(path: str | Path, fmt: str | None = None) -> str:
    """The format `read_articles` would use for `path`: one of `FORMATS` (`ndjson` -> `jsonl`)."""
    if fmt is not None:
        name = fmt.lower().lstrip(".")
        if name not in FORMATS:
            raise InputError(f"unknown input format {fmt!r} (use one of {', '.join(FORMATS)})")
        return "jsonl" if name == "ndjson" else name
    if str(path) == "-":
        return "jsonl"
    p = Path(path)
    if p.is_dir():
        return "dir"
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in EXTENSIONS:
        return EXTENSIONS[suffixes[-1]]
    raise InputError(
        f"cannot tell the format of {path} from its extension "
        "(name it .jsonl, .ndjson, .json, .csv, .tsv or .parquet, or give the format with --format)"
    )


def read_articles(
    path: str | Path,
    *,
    fields: FieldMap = FieldMap(),  # noqa: B008 - frozen, so a shared default is safe
    on_error: Literal["reject", "fail"] = "reject",
    fmt: str | None = None,
    max_chars: int = 1_000_000,
) -> ReadResult:
    """Read every article of `path` (a file, a directory of .txt/.html files, or "-" for stdin).

    Unusable records become `Reject`s (`on_error="reject"`) or raise `InputError` naming the file,
    line and field (`on_error="fail"`). Problems with the input as a whole (not found, unknown
    format, a CSV/Parquet without the id or text column) always raise `InputError`.
    Texts are never truncated or rejected for their length; `max_chars` only bounds how much of a
    text the binary-junk check inspects.
    """
    if on_error not in ("reject", "fail"):
        raise ConfigError(f"on_error must be 'reject' or 'fail', got {on_error!r}")
    if max_chars < 1:
        raise ConfigError(f"max_chars must be at least 1, got {max_chars}")
    col = _Collector(fields, on_error, max_chars)
    if str(path) == "-":
        _read_stdin(input_format("-", fmt), col)
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
    source = str(path)
    if kind == "parquet":
        _read_parquet(p, source, col)
        return col.result()
    try:
        with _open_binary(p) as stream:
            if kind == "jsonl":
                _read_jsonl(stream, source, col)
            elif kind == "json":
                _read_json(stream, source, col)
            else:
                _read_csv(stream, source, col, delimiter="\t" if kind == "tsv" else ",")
    except (OSError, EOFError) as e:  # unreadable file, broken gzip stream
        raise InputError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    return col.result()


# ---------------------------------------------------------------------------------------------
# record validation


class _Collector:
    """Turns raw records into Articles or Rejects and keeps the counts and the seen ids."""

    def __init__(self, fields: FieldMap, on_error: str, max_chars: int) -> None:
        self.fields = fields
        self.fail = on_error == "fail"
        self.max_chars = max_chars
        self.articles: list[Article] = []
        self.rejects: list[Reject] = []
        self.seen: dict[str, str] = {}  # id -> where it was first seen ("line 3", "a.txt")
        self.positions: list[tuple[str, int]] = []

    def result(self) -> ReadResult:
        articles, rejects = tuple(self.articles), tuple(self.rejects)
        return ReadResult(articles, rejects, len(articles) + len(rejects), tuple(self.positions))

    def reject(self, source: str, line: int, rid: str | None, reason: str) -> None:
        if self.fail:
            raise InputError(f"{where(source, line)}: {reason}")
        self.rejects.append(Reject(line=line, id=rid, reason=reason, source=source))

    def add(
        self,
        record: Any,
        *,
        source: str,
        line: int,
        fields: FieldMap | None = None,
        html: bool = False,
        convert: bool = False,
        first_seen: str | None = None,
    ) -> None:
        """Validate one record; `convert` makes extra values JSON-able (Parquet)."""
        try:
            article = _build(
                record, fields or self.fields, html=html, max_chars=self.max_chars, convert=convert
            )
        except _Bad as bad:
            self.reject(source, line, bad.rid, bad.reason)
            return
        first = self.seen.get(article.id)
        if first is not None:
            self.reject(
                source,
                line,
                article.id,
                f"duplicate id {article.id!r} (first seen {first}; give every record a unique id)",
            )
            return
        self.seen[article.id] = first_seen or f"on line {line}"
        self.articles.append(article)
        self.positions.append((source, line))


def _typename(v: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "number"
    return names.get(type(v), type(v).__name__)


def _get_id(rec: Mapping[str, Any], name: str) -> str:
    fix = "give every record a unique id, or map another field with --id-field"
    v = rec.get(name)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        raise _Bad(f"missing {name!r} ({fix})")
    if isinstance(v, bool):
        raise _Bad(f"{name!r} must be a string or an integer, got a boolean ({fix})")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bytes):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            raise _Bad(f"{name!r} is not valid UTF-8 (re-encode the input as UTF-8)") from None
    if not isinstance(v, str):
        raise _Bad(f"{name!r} must be a string or an integer, got {_typename(v)} ({fix})")
    if not v.strip():
        raise _Bad(f"blank {name!r} ({fix})")
    if _SURROGATE.search(v):
        raise _Bad(f"{name!r} is not valid Unicode (unpaired surrogate; re-encode it as UTF-8)")
    return v


def _check_text(text: Any, name: str, rid: str, max_chars: int) -> str:
    if text is None:
        raise _Bad(f"missing {name!r} (map another field with --text-field)", rid)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _Bad(f"{name!r} is not valid UTF-8 (re-encode it as UTF-8)", rid) from None
    if not isinstance(text, str):
        raise _Bad(
            f"{name!r} must be a string, got {_typename(text)} (map another field with --text-field)",
            rid,
        )
    if not text.strip():
        raise _Bad(f"empty {name!r} (no text to compare; fill it in or drop the record)", rid)
    if _SUSPECT.search(text) is None:
        return text  # the usual case: one scan, nothing to count
    if "\x00" in text:
        raise _Bad(f"{name!r} contains NUL bytes (binary data, not text)", rid)
    if _SURROGATE.search(text):
        raise _Bad(f"{name!r} is not valid Unicode (unpaired surrogate; re-encode as UTF-8)", rid)
    sample = text[:max_chars]
    controls = sum(1 for _ in _CONTROL.finditer(sample))
    if controls >= _CONTROL_SHARE * len(sample):
        raise _Bad(f"{name!r} is mostly control characters (binary data, not text)", rid)
    return text


def _opt(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", errors="replace")
    s = str(v)
    if _SURROGATE.search(s):
        s = s.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
    return s if s.strip() else None


def _published(v: Any) -> str | None:
    """An ISO 8601 date or datetime string, or None when absent or unparseable."""
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if not isinstance(v, str):
        return None
    s = v.strip()
    m = _ISO_DATE.fullmatch(s)
    if m is None:
        return None
    y, mo, d, h, mi, sec = m.groups()
    try:
        dt.date(int(y), int(mo), int(d))
        if h is not None:
            dt.time(int(h), int(mi), min(int(sec or 0), 59))  # allow a leap second
    except ValueError:
        return None
    return s


def _jsonable(v: Any) -> Any:
    """Plain Python/JSON values for what pyarrow's `to_pylist` or numpy may hand us."""
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, decimal.Decimal):
        return _jsonable(float(v))
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(v).decode("ascii")
    if isinstance(v, enum.Enum):
        return _jsonable(v.value)
    item = getattr(v, "item", None)  # numpy scalar
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    tolist = getattr(v, "tolist", None)  # numpy array
    if callable(tolist):
        return _jsonable(tolist())
    return str(v)


def _build(record: Any, f: FieldMap, *, html: bool, max_chars: int, convert: bool = False) -> Article:
    if not isinstance(record, Mapping):
        raise _Bad(f"expected a JSON object with {f.id!r} and {f.text!r}, got {_typename(record)}")
    rid = _get_id(record, f.id)
    text = _check_text(record.get(f.text), f.text, rid, max_chars)
    mapped = {f.id, f.text, f.title, f.lang, f.published, f.url, f.source}
    flag = record.get("html")
    if isinstance(flag, bool) and "html" not in mapped:
        html = html or flag
        mapped.add("html")
    extra = {k: v for k, v in record.items() if k not in mapped}
    if convert:
        extra = {str(k): _jsonable(v) for k, v in extra.items()}
    lang = _opt(record.get(f.lang))
    return Article(
        id=rid,
        text=text,
        title=_opt(record.get(f.title)),
        lang=lang.strip().lower() if lang else None,
        published=_published(record.get(f.published)),
        url=_opt(record.get(f.url)),
        source=_opt(record.get(f.source)),
        html=html,
        extra=extra,
    )


# ---------------------------------------------------------------------------------------------
# formats


def _open_binary(p: Path) -> IO[bytes]:
    if p.suffix.lower() == ".gz":
        return cast(IO[bytes], gzip.open(p, "rb"))
    return open(p, "rb")  # noqa: SIM115 - closed by the caller's `with`


def _not_utf8(raw: bytes, err: UnicodeDecodeError, what: str = "line") -> str:
    bad = raw[err.start : err.start + 1].hex()
    return f"not valid UTF-8 (byte 0x{bad} at byte {err.start + 1} of the {what}; re-encode as UTF-8)"


def _read_stdin(kind: str, col: _Collector) -> None:
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


def _read_jsonl(lines: Iterable[bytes | str], source: str, col: _Collector) -> None:
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


def _read_json(stream: IO[bytes], source: str, col: _Collector) -> None:
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


def _read_csv(stream: IO[bytes], source: str, col: _Collector, *, delimiter: str) -> None:
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
        if at < len(row) and row[at].strip() and not _SURROGATE.search(row[at]):
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
        bad = next((c for c in row if _SURROGATE.search(c)), None)
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
    if any(_SURROGATE.search(name) for name in header):
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


def _read_parquet(where: Path | IO[bytes], source: str, col: _Collector) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(where)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{source}: not a readable Parquet file ({e})") from e
    if pf.metadata.num_rows == 0:
        return  # nothing to read, whatever the columns
    _require_columns(list(pf.schema_arrow.names), source, col.fields)
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                row += 1
                col.add(record, source=source, line=row, convert=True)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{source}: cannot read Parquet row {row + 1} onwards ({e})") from e


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


def _read_directory(p: Path, col: _Collector) -> None:
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
