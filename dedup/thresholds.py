"""Result stage, threshold sweeps: how a result's clusters change over a grid of thresholds.

Takes a `Result` (its stored evidence: a result read back from the cache recomputes it once, from
the embedding cache) and a grid of thresholds; gives one `Row` per level and grid point: how many
clusters there are at that threshold (the other level at its configured threshold, each clustering
by `Result.with_thresholds`), and the joins that happen there but not at the next higher grid point:
the weakest joins at this threshold, which split when it is raised to the next one. A join names the
strongest article pair between its two sides, that pair's score and the sides' linkage, the value
that the clustering compares with the threshold (`dedup.cluster`): at the duplicate level the mean
duplicate score of all their article pairs; at the story level the mean of the strongest story
scores between their duplicate clusters (`STORY_TOP_K`, `STORY_TOP_FRAC`), each the mean story
probability of their same-language article pairs when they share a language.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .cluster import ON_DEMAND_MAX, STORY_TOP_FRAC, STORY_TOP_K
from .errors import ConfigError, DedupError
from .result import Result, RunEvidence

LEVELS = ("duplicate", "story")
#: The default grid: 0.20, 0.25, ..., 0.80 (the configured thresholds are added to it).
DEFAULT_GRID = tuple(round(0.2 + 0.05 * k, 2) for k in range(13))
MAX_PAIRS = 3  # joins listed per row by default
TITLE_CHARS = 60  # of an article's title (or first words) shown

Group = list[list[int]]  # a side of a join: its duplicate clusters, each a list of rows


@dataclass(frozen=True)
class Join:
    """Two sides that join at a row's threshold (and split at the next higher one)."""

    a: str  # the strongest article pair between the two sides
    b: str
    a_title: str
    b_title: str
    score: float  # that pair's score at the level
    linkage: float  # the two sides' linkage at the level (what the clustering compares)
    a_size: int  # articles on each side
    b_size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "a_title": self.a_title,
            "b_title": self.b_title,
            "score": round(self.score, 4),
            "linkage": round(self.linkage, 4),
            "a_size": self.a_size,
            "b_size": self.b_size,
        }


@dataclass(frozen=True)
class Row:
    """One level at one threshold."""

    level: str  # "duplicate" or "story"
    threshold: float
    clusters: int  # clusters (duplicate clusters or stories) at this threshold
    configured: bool  # the result's own threshold
    above: float | None  # the next higher grid point (None for the highest)
    #: the joins at this threshold not made at `above` (the highest threshold: all its joins),
    #: weakest first
    joins: tuple[Join, ...]
    more: int  # joins not listed (`max_pairs`)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "threshold": self.threshold,
            "clusters": self.clusters,
            "configured": self.configured,
            "above": self.above,
            "joins": [j.to_dict() for j in self.joins],
            "more_joins": self.more,
        }


def check_grid(values: Iterable[float]) -> tuple[float, ...]:
    """The distinct thresholds of a grid, sorted; ConfigError for a value outside [0, 1] or none."""
    out = set()
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0.0 <= v <= 1.0):
            raise ConfigError(f"a threshold must be a number within [0, 1], got {v!r}")
        out.add(float(v))
    if not out:
        raise ConfigError("the grid holds no threshold")
    return tuple(sorted(out))


def parse_grid(text: str) -> tuple[float, ...]:
    """A grid written as `0.3,0.4,0.5`; ConfigError for anything else."""
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            v = float(part)
        except ValueError:
            raise ConfigError(f"{part!r} is not a number (write the grid as 0.3,0.4,0.5)") from None
        if not math.isfinite(v):
            raise ConfigError(f"a threshold must be a number within [0, 1], got {part!r}")
        values.append(v)
    return check_grid(values)


def threshold_table(
    result: Result, grid: Sequence[float] | None = None, *, max_pairs: int = MAX_PAIRS
) -> list[Row]:
    """Rows of both levels (duplicate first), each from its highest threshold down: the grid
    (default `DEFAULT_GRID`) plus the level's configured threshold. `max_pairs` joins are listed
    per row, the weakest first."""
    base = check_grid(DEFAULT_GRID if grid is None else grid)
    if max_pairs < 0:
        raise ConfigError(f"max_pairs must be >= 0, got {max_pairs}")
    rows: list[Row] = []
    for level in LEVELS:
        configured = float(getattr(result.config, f"{level}_threshold"))
        points = sorted(set(base) | {configured}, reverse=True)
        labels = [_labels(result, level, t, configured) for t in points]
        finder = _Joins(result, level)
        # above the highest threshold: every article apart (duplicate), every duplicate cluster (story)
        start = result.ids if level == "duplicate" else result.cluster_of
        for k, t in enumerate(points):
            joins = finder.between(labels[k - 1] if k else start, labels[k])
            joins.sort(key=lambda j: (j.linkage, j.score, j.a, j.b))
            rows.append(
                Row(
                    level=level,
                    threshold=t,
                    clusters=len(set(labels[k])),
                    configured=t == configured,
                    above=points[k - 1] if k else None,
                    joins=tuple(joins[:max_pairs]),
                    more=max(0, len(joins) - max_pairs),
                )
            )
    return rows


def _labels(result: Result, level: str, t: float, configured: float) -> tuple[str, ...]:
    """Each article's cluster label (input order) at threshold `t` of `level`."""
    r = result if t == configured else result.with_thresholds(**{level: t})
    return r.cluster_of if level == "duplicate" else r.story_of


class _Joins:
    """The joins of one level between two thresholds, from a result's evidence."""

    def __init__(self, result: Result, level: str) -> None:
        self.result = result
        self.level = level
        if result.evidence is None:
            raise DedupError("this result carries no evidence (it was built without a run)")
        self.ev: RunEvidence = result.evidence.get()
        self.scorer = self.ev.scorer
        self.position = {aid: k for k, aid in enumerate(result.ids)}
        self.titles: dict[int, str] = {}

    def between(self, above: tuple[str, ...], here: tuple[str, ...]) -> list[Join]:
        """The joins between the clusters at the higher threshold (`above`) that make one cluster
        `here`, replayed best first as the clustering merges them (k sides: k - 1 joins)."""
        result, row_of = self.result, self.ev.row_of
        sides: dict[tuple[str, str], list[str]] = {}  # (cluster here, cluster above) -> ids
        for aid, lo, hi in zip(result.ids, here, above, strict=True):
            sides.setdefault((lo, hi), []).append(aid)
        by_here: dict[str, list[int]] = {}  # cluster here -> its sides
        side_ids = list(sides.values())
        for s, (lo, _) in enumerate(sides):
            by_here.setdefault(lo, []).append(s)
        side_of = np.full(self.scorer.n, -1, dtype=np.int64)
        for s, ids in enumerate(side_ids):
            side_of[[row_of[i] for i in ids]] = s
        # sides that candidate pairs connect (the clustering merges no others)
        t = self.scorer.table
        sa, sb = side_of[t.a], side_of[t.b]
        adj: dict[int, set[int]] = {}
        for x, y in set(zip(sa[sa != sb].tolist(), sb[sa != sb].tolist(), strict=True)):
            adj.setdefault(x, set()).add(y)
            adj.setdefault(y, set()).add(x)
        dup_of = dict(zip(result.ids, result.cluster_of, strict=True))  # the configured duplicate level
        out: list[Join] = []
        for lo in sorted(by_here):
            if len(by_here[lo]) < 2:
                continue
            groups: dict[int, Group] = {}
            for s in by_here[lo]:
                clusters: dict[str, list[int]] = {}
                for i in side_ids[s]:  # stories link duplicate clusters; duplicate clusters, articles
                    clusters.setdefault(dup_of[i] if self.level == "story" else "", []).append(row_of[i])
                groups[s] = list(clusters.values())
            out.extend(self._replay(groups, {s: adj.get(s, set()) & set(groups) for s in groups}))
        return out

    def _replay(self, members: dict[int, Group], adj: dict[int, set[int]]) -> list[Join]:
        """Merge connected groups, the best linkage first, until none is left to merge."""
        heap: list[tuple[float, int, int]] = []
        found: dict[tuple[int, int], tuple[float, tuple[int, int, float]]] = {}

        def push(x: int, y: int) -> None:
            x, y = min(x, y), max(x, y)
            found[(x, y)] = self._link(members[x], members[y])
            heapq.heappush(heap, (-found[(x, y)][0], x, y))

        for x in sorted(adj):
            for y in sorted(adj[x]):
                if x < y:
                    push(x, y)
        joins = []
        while heap:
            neg, x, y = heapq.heappop(heap)
            if (x, y) not in found or found[(x, y)][0] != -neg:
                continue  # a side merged since (its new linkage has an entry of its own)
            link, (ra, rb, score) = found.pop((x, y))
            joins.append(
                Join(
                    a=self.ev.row_ids[ra],
                    b=self.ev.row_ids[rb],
                    a_title=self._title(ra),
                    b_title=self._title(rb),
                    score=score,
                    linkage=link,
                    a_size=sum(len(c) for c in members[x]),
                    b_size=sum(len(c) for c in members[y]),
                )
            )
            members[x] = members[x] + members.pop(y)
            neighbours = (adj.pop(x) | adj.pop(y)) - {x, y}
            for z in neighbours:
                adj[z] -= {y}
                adj[z].add(x)
                found.pop((min(x, z), max(x, z)), None)
                found.pop((min(y, z), max(y, z)), None)
            adj[x] = neighbours
            for z in sorted(neighbours):
                push(x, z)
        return joins

    def _link(self, x: Group, y: Group) -> tuple[float, tuple[int, int, float]]:
        """The linkage of two groups and their strongest counted article pair (rows, score)."""
        scorer = self.scorer
        if self.level == "duplicate":
            xs = [r for c in x for r in c]
            ys = [r for c in y for r in c]
            size = len(xs) * len(ys)
            pairs = _cross(xs, ys) if size <= ON_DEMAND_MAX else self._candidates(xs, ys)
            if not len(pairs):
                return 0.0, (xs[0], ys[0], 0.0)
            s = scorer.scores(pairs, "duplicate").astype(np.float64)
            k = int(np.argmax(s))
            return float(s.sum()) / size, (int(pairs[k, 0]), int(pairs[k, 1]), float(s[k]))
        # story: each pair of duplicate clusters scores the mean of its (same-language) article
        # pairs; the linkage is the mean of the strongest of those (pairs not scored count as 0)
        size = len(x) * len(y)
        lang = scorer.space.doc_lang
        values: list[float] = []
        best = (x[0][0], y[0][0], 0.0)
        for cx, cy in self._cluster_pairs(x, y, size > ON_DEMAND_MAX):
            p = _cross(cx, cy)
            same = lang[p[:, 0]] == lang[p[:, 1]]
            p = p[same] if same.any() else p
            s = scorer.scores(p, "story").astype(np.float64)
            values.append(float(s.mean()))
            k = int(np.argmax(s))
            if s[k] > best[2]:
                best = (int(p[k, 0]), int(p[k, 1]), float(s[k]))
        top = min(max(STORY_TOP_K, math.ceil(STORY_TOP_FRAC * size)), size)
        return sum(sorted(values, reverse=True)[:top]) / top, best

    def _cluster_pairs(self, x: Group, y: Group, known_only: bool) -> list[tuple[list[int], list[int]]]:
        """Every pair of duplicate clusters across two groups, or (`known_only`) those that
        candidate pairs connect."""
        if not known_only:
            return [(cx, cy) for cx in x for cy in y]
        xs = [r for c in x for r in c]
        ys = [r for c in y for r in c]
        of = {r: k for k, c in enumerate(x) for r in c} | {r: k for k, c in enumerate(y) for r in c}
        on_x = set(xs)
        keys = set()
        for a, b in self._candidates(xs, ys).tolist():
            keys.add((of[a], of[b]) if a in on_x else (of[b], of[a]))
        return [(x[i], y[j]) for i, j in sorted(keys)]

    def _candidates(self, xs: Sequence[int], ys: Sequence[int]) -> np.ndarray:
        """The candidate pairs (scored with the run) between two sets of rows."""
        t = self.scorer.table
        sel = (np.isin(t.a, xs) & np.isin(t.b, ys)) | (np.isin(t.a, ys) & np.isin(t.b, xs))
        return np.stack([t.a[sel], t.b[sel]], axis=1).astype(np.int64)

    def _title(self, row: int) -> str:
        """An article's title (its first unit: the title, else its first sentence), else the
        start of its input title or text; shortened."""
        if row in self.titles:
            return self.titles[row]
        ev, text = self.ev, ""
        if ev.unit_texts is not None:
            units = self.scorer.space.units_of(row)
            if units.start < units.stop <= len(ev.unit_texts):
                text = ev.unit_texts[units.start]
        if not text:
            rec = self.result.records[self.position[ev.row_ids[row]]]
            text = str(rec.get("title") or rec.get("text") or "")
        text = " ".join(text.split())
        self.titles[row] = text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"
        return self.titles[row]


def _cross(xs: Sequence[int], ys: Sequence[int]) -> np.ndarray:
    return np.array(np.meshgrid(xs, ys, indexing="ij"), dtype=np.int64).reshape(2, -1).T


__all__ = [
    "DEFAULT_GRID",
    "LEVELS",
    "MAX_PAIRS",
    "Join",
    "Row",
    "check_grid",
    "parse_grid",
    "threshold_table",
]
