"""Canonical stage: pick one article per cluster by a named, deterministic policy.

Takes cluster labels per row, what each policy looks at (`Candidate`: length, language, date,
source) and a pair-score function; gives each row its cluster's canonical row, the canonical's
reason and each row's score with its canonical.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


@dataclass(frozen=True)
class Canonicals:
    """One level's canonical choice, per row."""

    of_row: list[int]  # the canonical row of each row's cluster
    reasons: dict[int, str]  # canonical row -> why it won
    score: list[float]  # each row's score with its canonical (1.0 for the canonical itself)


def centrality(n: int, a: np.ndarray, b: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each row's pair scores summed (the medoid policy's evidence), in pair order."""
    return np.bincount(
        np.concatenate([a, b]), weights=np.concatenate([scores, scores]).astype(np.float64), minlength=n
    )


def assign(
    labels: np.ndarray,
    cands: Sequence[Candidate],
    config: Config,
    centrality: np.ndarray,
    score_fn: Callable[[np.ndarray], np.ndarray],
) -> Canonicals:
    """The canonical of every cluster of `labels` and each row's score with it (`score_fn` scores
    (p, 2) row pairs)."""
    groups: dict[int, list[int]] = {}
    for r, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, []).append(r)
    canon_of = [0] * len(labels)
    reasons: dict[int, str] = {}
    for rows in groups.values():
        best, why = choose(rows, cands, config, centrality)
        reasons[best] = why
        for r in rows:
            canon_of[r] = best
    score = [1.0] * len(canon_of)
    others = [r for r, c in enumerate(canon_of) if r != c]
    if others:
        pairs = np.array([[min(r, canon_of[r]), max(r, canon_of[r])] for r in others], dtype=np.int64)
        for r, v in zip(others, score_fn(pairs).tolist(), strict=True):
            score[r] = float(v)
    return Canonicals(canon_of, reasons, score)
