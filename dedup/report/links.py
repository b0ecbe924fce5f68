"""Report stage, the pairs a report explains: for each story, the links that hold it together, its
weakest links and its near misses, chosen from the run's pair table without explaining every pair.

Takes a `Result` (its clusters, per-article scores and candidate pair table); gives, per story, a
short list of `Link`s (two articles by input position, the level that judges them, the score at that
level and the role). Explanations are computed later, only for these pairs (`dedup.report.data`).

- holds: each duplicate cluster's members with their canonical (strongest first), and for each
  duplicate cluster of a story its strongest story pair with the rest of the story (the bridge);
- weakest: the story's own pairs closest to their level's threshold (its members with the lowest
  score to their canonical, and the candidate pairs inside the story with the smallest margin);
- near: pairs that were not joined but came closest: a member with an article of another story
  (story level), or two of the story's duplicate clusters (duplicate level), within `NEAR_WINDOW`
  below the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..result import Result

HOLDS = 6  # links shown per story that hold it together
WEAKEST = 2  # weakest links shown per story
NEAR = 2  # near misses shown per story
NEAR_WINDOW = 0.15  # a near miss scores at least threshold - NEAR_WINDOW


@dataclass(frozen=True)
class Link:
    """One pair shown in a story: articles `a`, `b` (input positions), judged at `level`."""

    a: int
    b: int
    level: str  # "duplicate" or "story"
    score: float  # the pair's score at `level`
    role: str  # "holds", "weakest" or "near"

    @property
    def key(self) -> tuple[int, int]:
        return (min(self.a, self.b), max(self.a, self.b))


def _labels(values: Sequence[str]) -> np.ndarray:
    index: dict[str, int] = {}
    return np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values))


def story_links(result: Result, stories: Sequence[Sequence[int]]) -> list[list[Link]]:
    """For each story (its members' input positions, canonical first), the links to show."""
    thr = {"duplicate": result.config.duplicate_threshold, "story": result.config.story_threshold}
    pos = {aid: k for k, aid in enumerate(result.ids)}
    cl, st = _labels(result.cluster_of), _labels(result.story_of)
    story_index = {int(st[members[0]]): s for s, members in enumerate(stories)}
    t = result.pairs
    if len(t):
        row2k = np.array([pos[aid] for aid in result.row_ids], dtype=np.int64)
        ka, kb = row2k[np.asarray(t.a)], row2k[np.asarray(t.b)]
    else:
        ka = kb = np.zeros(0, dtype=np.int64)
    dup, sto = np.asarray(t.duplicate, dtype=np.float64), np.asarray(t.story, dtype=np.float64)
    touching: list[list[int]] = [[] for _ in stories]  # pair indices touching each story
    for p, (sa, sb) in enumerate(zip(st[ka].tolist(), st[kb].tolist(), strict=True)):
        touching[story_index[sa]].append(p)
        if sb != sa:
            touching[story_index[sb]].append(p)
    canon = {k: pos[result.cluster_of[k]] for s in stories for k in s}
    out: list[list[Link]] = []
    for s, members in enumerate(stories):
        ps = np.asarray(touching[s], dtype=np.int64)
        out.append(_choose(members, canon, result.duplicate_score, ps, ka, kb, dup, sto, cl, st, thr))
    return out


def _choose(
    members: Sequence[int],
    canon: dict[int, int],
    dup_to_canon: Sequence[float],
    ps: np.ndarray,
    ka: np.ndarray,
    kb: np.ndarray,
    dup: np.ndarray,
    sto: np.ndarray,
    cl: np.ndarray,
    st: np.ndarray,
    thr: dict[str, float],
) -> list[Link]:
    """The links of one story (see the module docstring)."""
    chosen: dict[tuple[int, int], Link] = {}

    def add(link: Link, limit: int) -> bool:
        if link.key in chosen or link.a == link.b:
            return False
        if sum(1 for x in chosen.values() if x.role == link.role) >= limit:
            return False
        chosen[link.key] = link
        return True

    clusters: dict[int, list[int]] = {}
    for k in members:
        clusters.setdefault(canon[k], []).append(k)
    a, b = ka[ps], kb[ps]
    same_story = st[a] == st[b]
    same_cluster = cl[a] == cl[b]
    cross = same_story & ~same_cluster  # two duplicate clusters of this story
    # holds: per duplicate cluster, its members with the canonical (strongest first), and the bridge
    dup_links = {
        c: sorted(
            (Link(c, k, "duplicate", float(dup_to_canon[k]), "holds") for k in ks if k != c),
            key=lambda x: -x.score,
        )
        for c, ks in clusters.items()
    }
    bridges: list[Link] = []
    if len(clusters) > 1:
        idx = np.flatnonzero(cross)
        best: dict[int, Link] = {}
        for i in idx[np.argsort(-sto[ps[idx]], kind="stable")].tolist():
            x, y, score = int(a[i]), int(b[i]), float(sto[ps[i]])
            for c in (canon[x], canon[y]):
                if c not in best:
                    best[c] = Link(x, y, "story", score, "holds")
        first = canon[members[0]]  # the story canonical's cluster needs no bridge of its own
        bridges = sorted((lk for c, lk in best.items() if c != first), key=lambda x: -x.score)
    rounds = max([len(v) for v in dup_links.values()] + [1])
    for r in range(rounds):
        for c in sorted(clusters, key=lambda c: -len(clusters[c])):
            if r < len(dup_links[c]):
                add(dup_links[c][r], HOLDS)
        if r == 0:
            for lk in bridges:
                add(lk, HOLDS)
    # weakest: the story's own pairs, the smallest margin above (or below) their level's threshold
    inside: list[Link] = [lk for links in dup_links.values() for lk in links]
    for i in np.flatnonzero(same_story).tolist():
        level = "duplicate" if same_cluster[i] else "story"
        score = float((dup if level == "duplicate" else sto)[ps[i]])
        inside.append(Link(int(a[i]), int(b[i]), level, score, "weakest"))
    for lk in sorted(inside, key=lambda x: x.score - thr[x.level]):
        add(Link(lk.a, lk.b, lk.level, lk.score, "weakest"), WEAKEST)
    # near misses: not joined at a level, but closest to its threshold
    near: list[Link] = []
    for i in np.flatnonzero(~same_story).tolist():
        near.append(Link(int(a[i]), int(b[i]), "story", float(sto[ps[i]]), "near"))
    for i in np.flatnonzero(cross).tolist():
        near.append(Link(int(a[i]), int(b[i]), "duplicate", float(dup[ps[i]]), "near"))
    for lk in sorted(near, key=lambda x: thr[x.level] - x.score):
        if lk.score >= thr[lk.level] - NEAR_WINDOW:
            add(lk, NEAR)
    order = {"holds": 0, "weakest": 1, "near": 2}
    return sorted(chosen.values(), key=lambda x: (order[x.role], -x.score))


__all__ = ["HOLDS", "NEAR", "NEAR_WINDOW", "WEAKEST", "Link", "story_links"]
