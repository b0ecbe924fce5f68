"""Canonical stage: pick one article per cluster by a named, deterministic policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import CanonicalPolicy, Config


@dataclass(frozen=True)
class Candidate:
    """What the policies look at for one article."""

    id: str
    lang: str
    length: int  # characters of main text after cleaning
    published: str | None
    source: str | None


def _lang_rank(c: Candidate, prefer: Sequence[str]) -> int:
    return prefer.index(c.lang) if c.lang in prefer else len(prefer)


def _source_rank(c: Candidate, priority: Sequence[str]) -> int:
    return priority.index(c.source) if c.source in priority else len(priority)


def choose(
    rows: Sequence[int],
    cands: Sequence[Candidate],
    config: Config,
    centrality: np.ndarray | None = None,
) -> tuple[int, str]:
    """The canonical row among `rows` and a one-line reason."""
    prefer = config.prefer_lang
    policy = config.canonical_policy
    big = "9999-99-99"

    def key(r: int) -> tuple:
        c = cands[r]
        pub = c.published or big
        base: tuple
        if policy is CanonicalPolicy.EARLIEST:
            base = (pub, -c.length, c.id)
        elif policy is CanonicalPolicy.SOURCE:
            base = (_source_rank(c, config.source_priority), -c.length, pub, c.id)
        elif policy is CanonicalPolicy.MEDOID:
            cen = float(centrality[r]) if centrality is not None else 0.0
            base = (-round(cen, 6), -c.length, pub, c.id)
        else:
            base = (-c.length, pub, c.id)
        return (_lang_rank(c, prefer), *base)

    best = min(rows, key=key)
    c = cands[best]
    if len(rows) == 1:
        return best, "only member"
    parts = []
    if prefer and c.lang in prefer:
        parts.append(f"preferred language {c.lang}")
    if policy is CanonicalPolicy.EARLIEST:
        parts.append(f"earliest published ({c.published or 'unknown'})")
    elif policy is CanonicalPolicy.SOURCE:
        parts.append(f"source priority ({c.source or 'unlisted'})")
    elif policy is CanonicalPolicy.MEDOID:
        parts.append("closest to the other members (medoid)")
    else:
        parts.append(f"longest main text ({c.length} chars)")
    return best, f"{policy.value}: " + ", ".join(parts) + f" among {len(rows)} members"
