"""The record type that flows through the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError


@dataclass(frozen=True)
class Article:
    """One input article. Only `id` and `text` are required; `extra` carries unknown fields."""

    id: str
    text: str
    title: str | None = None
    lang: str | None = None
    published: str | None = None
    url: str | None = None
    source: str | None = None
    html: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, record: Mapping[str, Any], *, where: str = "record") -> Article:
        """Build an Article from a dict with the standard field names; raise InputError if unusable.

        The checks are the reader's: a string or integer `id`; a `text` that is a non-blank string,
        valid Unicode (no lone surrogates) and not binary (NUL bytes, mostly control characters).
        """
        from .read import _Bad, _check_text, _get_id  # the reader's checks (imported late: no cycle)

        if not isinstance(record, Mapping):
            raise InputError(f"{where}: expected an object with 'id' and 'text', got {type(record).__name__}")
        try:
            rid = _get_id(record, "id")
            text = _check_text(record.get("text"), "text", rid, 1_000_000)
        except _Bad as bad:
            raise InputError(f"{where}{f' (id {bad.rid})' if bad.rid else ''}: {bad.reason}") from None
        known = {"id", "text", "title", "lang", "published", "url", "source", "html"}

        def opt(name: str) -> str | None:
            v = record.get(name)
            if v is None or v == "":
                return None
            return str(v)

        return cls(
            id=rid,
            text=text,
            title=opt("title"),
            lang=(opt("lang") or "").strip().lower() or None,
            published=opt("published"),
            url=opt("url"),
            source=opt("source"),
            html=bool(record.get("html", False)),
            extra={k: v for k, v in record.items() if k not in known},
        )
