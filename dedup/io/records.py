"""The read stage's record type and THE one record validation.

Takes raw records (mappings from a reader, or from a library caller through `validate_records`)
and gives `Article`s, or `Reject`s that say where a record is and why it cannot be used. The
readers, `Article.from_mapping` and `validate_records` all go through `build_article` and
`Collector`, so a record is kept or rejected by the same rules wherever it comes from.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigError, InputError

__all__ = [
    "Article",
    "Collector",
    "FieldMap",
    "ReadResult",
    "Reject",
    "build_article",
    "validate_records",
    "where",
]

#: Texts are never cut; this only bounds how much of a text the binary-junk check inspects.
MAX_CHARS = 1_000_000

# Surrogate code points: lone ones come from "\udXXX" JSON escapes or from undecodable bytes.
SURROGATE = re.compile("[\ud800-\udfff]")
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
class Article:
    """One input article. Only `id` and `text` are required.

    `fields` is the input record exactly as read (every field, its original name and value, in
    input order); it is empty for an Article built directly rather than from a record.
    """

    id: str
    text: str
    title: str | None = None
    lang: str | None = None
    published: str | None = None
    url: str | None = None
    source: str | None = None
    html: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_mapping(
        cls,
        record: Mapping[str, Any],
        *,
        where: str = "record",
        fields: FieldMap | None = None,
    ) -> Article:
        """Build an Article from one record by the readers' rules; raise InputError if unusable."""
        try:
            return build_article(record, fields or FieldMap(), library=True)
        except BadRecord as bad:
            raise InputError(f"{where}{f' (id {bad.rid})' if bad.rid else ''}: {bad.reason}") from None


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
    index + 1 for Parquet, the position in the iterable for `validate_records`, and 0 for a file
    of a directory input (then `source` is that file).
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
    #: the Arrow schema of a Parquet input (`write_records(..., schema=)` keeps its column types)
    schema: Any = field(default=None, compare=False, repr=False)


def where(source: str, line: int) -> str:
    """How messages name a record: "FILE line N", "stdin line N", or the file of a directory input."""
    return ("stdin" if source == "-" else source) + (f" line {line}" if line else "")


class BadRecord(Exception):
    """A record is unusable: `reason` says why and how to fix it."""

    def __init__(self, reason: str, rid: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rid = rid


# ---------------------------------------------------------------------------------------------
# the one validation


def build_article(
    record: Any,
    fields: FieldMap = FieldMap(),  # noqa: B008 - frozen, so a shared default is safe
    *,
    html: bool = False,
    max_chars: int = MAX_CHARS,
    library: bool = False,
) -> Article:
    """The Article for one record, or BadRecord saying why it cannot be used.

    Rules: `id` a non-blank string or an integer; `text` a non-blank, valid Unicode string that is
    not binary junk; `lang` lower-cased; `published` kept only when it is a valid ISO 8601 date or
    datetime (or a date/datetime value), else None, never a reject; a boolean `html` field (when no
    standard field is mapped to that name) marks the text as HTML. `library` names the fix as a
    `FieldMap` argument instead of a command-line option.
    """
    if not isinstance(record, Mapping):
        what = "a mapping (dict) or an Article" if library else "a JSON object"
        raise BadRecord(f"expected {what} with {fields.id!r} and {fields.text!r}, got {_typename(record)}")
    rid = _get_id(record, fields.id, library)
    text = _check_text(record.get(fields.text), fields.text, rid, max_chars, library)
    mapped = {fields.id, fields.text, fields.title, fields.lang, fields.published, fields.url, fields.source}
    flag = record.get("html")
    if isinstance(flag, bool) and "html" not in mapped:
        html = html or flag
    lang = _opt(record.get(fields.lang))
    return Article(
        id=rid,
        text=text,
        title=_opt(record.get(fields.title)),
        lang=lang.strip().lower() if lang else None,
        published=_published(record.get(fields.published)),
        url=_opt(record.get(fields.url)),
        source=_opt(record.get(fields.source)),
        html=html,
        fields=dict(record),
    )


def _typename(v: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "number"
    return names.get(type(v), type(v).__name__)


def _map_hint(name: str, library: bool) -> str:
    return f"FieldMap({name}=...)" if library else f"--{name}-field"


def _get_id(rec: Mapping[str, Any], name: str, library: bool = False) -> str:
    fix = f"give every record a unique id, or map another field with {_map_hint('id', library)}"
    v = rec.get(name)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        raise BadRecord(f"missing {name!r} ({fix})")
    if isinstance(v, bool):
        raise BadRecord(f"{name!r} must be a string or an integer, got a boolean ({fix})")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bytes):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRecord(f"{name!r} is not valid UTF-8 (re-encode the input as UTF-8)") from None
    if not isinstance(v, str):
        raise BadRecord(f"{name!r} must be a string or an integer, got {_typename(v)} ({fix})")
    if not v.strip():
        raise BadRecord(f"blank {name!r} ({fix})")
    if SURROGATE.search(v):
        raise BadRecord(f"{name!r} is not valid Unicode (unpaired surrogate; re-encode it as UTF-8)")
    return v


def _check_text(text: Any, name: str, rid: str, max_chars: int, library: bool = False) -> str:
    fix = f"map another field with {_map_hint('text', library)}"
    if text is None:
        raise BadRecord(f"missing {name!r} ({fix})", rid)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRecord(f"{name!r} is not valid UTF-8 (re-encode it as UTF-8)", rid) from None
    if not isinstance(text, str):
        raise BadRecord(f"{name!r} must be a string, got {_typename(text)} ({fix})", rid)
    if not text.strip():
        raise BadRecord(f"empty {name!r} (no text to compare; fill it in or drop the record)", rid)
    if _SUSPECT.search(text) is None:
        return text  # the usual case: one scan, nothing to count
    if "\x00" in text:
        raise BadRecord(f"{name!r} contains NUL bytes (binary data, not text)", rid)
    if SURROGATE.search(text):
        raise BadRecord(f"{name!r} is not valid Unicode (unpaired surrogate; re-encode as UTF-8)", rid)
    sample = text[:max_chars]
    controls = sum(1 for _ in _CONTROL.finditer(sample))
    if controls >= _CONTROL_SHARE * len(sample):
        raise BadRecord(f"{name!r} is mostly control characters (binary data, not text)", rid)
    return text


def _opt(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", errors="replace")
    s = str(v)
    if SURROGATE.search(s):
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


# ---------------------------------------------------------------------------------------------
# collecting: every record ends up once, as an Article or a Reject


class Collector:
    """Turns raw records into Articles or Rejects and keeps the counts and the seen ids."""

    def __init__(
        self, fields: FieldMap, on_error: str, max_chars: int = MAX_CHARS, *, library: bool = False
    ) -> None:
        if on_error not in ("reject", "fail"):
            raise ConfigError(f"on_error must be 'reject' or 'fail', got {on_error!r}")
        if max_chars < 1:
            raise ConfigError(f"max_chars must be at least 1, got {max_chars}")
        self.fields = fields
        self.fail = on_error == "fail"
        self.max_chars = max_chars
        self.library = library
        self.articles: list[Article] = []
        self.rejects: list[Reject] = []
        self.seen: dict[str, str] = {}  # id -> where it was first seen ("on line 3", "in a.txt")
        self.positions: list[tuple[str, int]] = []
        self.schema: Any = None  # set by the Parquet reader

    def result(self) -> ReadResult:
        articles, rejects = tuple(self.articles), tuple(self.rejects)
        return ReadResult(articles, rejects, len(articles) + len(rejects), tuple(self.positions), self.schema)

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
        first_seen: str | None = None,
    ) -> None:
        """Validate one record (an `Article` is taken as it is) and keep it or reject it."""
        if isinstance(record, Article):
            article = record
        else:
            try:
                article = build_article(
                    record,
                    fields or self.fields,
                    html=html,
                    max_chars=self.max_chars,
                    library=self.library,
                )
            except BadRecord as bad:
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


def validate_records(
    records: Iterable[Article | Mapping[str, Any]],
    *,
    fields: FieldMap = FieldMap(),  # noqa: B008 - frozen, so a shared default is safe
    on_error: Literal["reject", "fail"] = "reject",
    source: str = "records",
) -> ReadResult:
    """Validate in-memory records exactly as a file's records are validated.

    `line` (of a Reject, and in `positions`) is the 1-based position in `records`; `source` names
    them in messages ("records line 3: ..."). `Article`s are taken as they are, but their ids are
    checked for duplicates with the rest. With `on_error="fail"` the first unusable record raises
    InputError naming it and the fix.
    """
    if isinstance(records, (Mapping, str, bytes)):
        raise InputError(f"expected an iterable of records, got one {type(records).__name__}")
    col = Collector(fields, on_error, library=True)
    for line, record in enumerate(records, 1):
        col.add(record, source=source, line=line)
    return col.result()
