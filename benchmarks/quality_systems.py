"""Quality benchmark, the systems under test: their common interface, and dedup itself.

Takes the inputs of a set (what `LoadedSet.inputs` gives: id, title, text, maybe lang) and a grid
of thresholds; gives, per threshold, cluster labels per level (`System.sweep`). `DedupSystem` runs
`dedup.cluster` once at its default threshold and re-clusters the result for every other threshold
with `Result.with_thresholds`; the baselines are in baselines.py. `UnionFind` and `sweep_pairs`
(connected components of scored pairs at every threshold) serve the one-level baselines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from quality_sets import LEVELS, Labels, LevelLabels


class System:
    """A clustering system under test. run() returns labels per level; one-level systems give
    the same labels for both levels."""

    name = "?"
    threshold_name = "threshold"
    default_threshold: float | None = None
    grid: tuple[float, ...] = ()

    def unavailable(self) -> str | None:
        return None

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        raise NotImplementedError

    def sweep(self, records: list[dict[str, Any]], thresholds: Sequence[float]
              ) -> list[tuple[float, LevelLabels]]:
        return [(t, self.run(records, t)) for t in thresholds]

    def default_for(self, level: str) -> float:
        """The system's default threshold at `level` (one for both levels unless overridden)."""
        return float(self.default_threshold or 0.0)

    def describe(self) -> dict[str, Any]:
        return {"threshold": self.threshold_name, "default": self.default_threshold,
                "defaults": {lvl: self.default_for(lvl) for lvl in LEVELS}, "grid": list(self.grid)}


def both_levels(labels: Labels) -> LevelLabels:
    """One clustering scored at both levels (the baselines have one level)."""
    return {lvl: labels for lvl in LEVELS}


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        p = self.parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            if ri < rj:
                self.parent[rj] = ri
            else:
                self.parent[ri] = rj

    def labels(self, ids: Sequence[str]) -> Labels:
        return {ids[i]: ids[self.find(i)] for i in range(len(ids))}


def sweep_pairs(ids: Sequence[str], i: np.ndarray, j: np.ndarray, score: np.ndarray,
                thresholds: Sequence[float]) -> dict[float, Labels]:
    """Connected components of the pairs with score >= t, for every t, in one descending pass."""
    order = np.argsort(-score, kind="stable")
    i, j, score = i[order], j[order], score[order]
    uf = UnionFind(len(ids))
    out: dict[float, Labels] = {}
    k = 0
    for t in sorted(thresholds, reverse=True):
        while k < len(score) and score[k] >= t:
            uf.union(int(i[k]), int(j[k]))
            k += 1
        out[t] = uf.labels(ids)
    return out


class DedupSystem(System):
    """dedup itself: dedup.cluster(records, config=dedup.Config(...)).to_records()."""

    name = "dedup"
    threshold_name = "duplicate_threshold"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = dict(settings or {})  # dedup.Config fields (`--dedup-set KEY=VALUE`)
        self.last_result: Any = None
        self._why: str | None = None
        self.config_echo: dict[str, Any] | None = None
        try:
            import dedup

            if not (hasattr(dedup, "cluster") and hasattr(dedup, "Config")):
                self._why = "dedup.cluster / dedup.Config are not importable yet"
            else:
                cfg = dedup.Config(**self.settings)
                self.default_threshold = float(cfg.duplicate_threshold)
                self.defaults = {"duplicate": float(cfg.duplicate_threshold),
                                 "story": float(cfg.story_threshold)}
                self.grid = tuple(round(0.2 + 0.05 * k, 2) for k in range(13))
                to_dict = getattr(cfg, "to_dict", None)
                self.config_echo = to_dict() if callable(to_dict) else None
        except Exception as exc:  # noqa: BLE001
            self._why = f"cannot import dedup ({type(exc).__name__}: {exc})"

    def unavailable(self) -> str | None:
        return self._why

    def default_for(self, level: str) -> float:
        return self.defaults[level]

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        import dedup

        base = dedup.Config(**self.settings)
        if threshold is None:
            cfg = base
        else:
            cfg = base.with_(duplicate_threshold=threshold, story_threshold=threshold)
        result = dedup.cluster([dict(r) for r in records], config=cfg)
        self.last_result = result
        rows = result.to_records()
        return {"duplicate": {r["id"]: r["cluster"] for r in rows},
                "story": {r["id"]: r["story"] for r in rows}}

    def sweep(self, records: list[dict[str, Any]], thresholds: Sequence[float]
              ) -> list[tuple[float, LevelLabels]]:
        """Embed and score once, then re-cluster per threshold (`Result.with_thresholds`): each
        level sweeps its own threshold with the other at its default (the levels nest whatever
        the pair of thresholds); at a level's default threshold its labels are the default run's."""
        default = self.run(records, None)  # also keeps last_result for --show-errors
        result = self.last_result
        points = []
        for t in sorted(set(thresholds) | set(self.defaults.values())):
            t = float(t)
            lab: LevelLabels = {}
            for lvl in LEVELS:
                if abs(t - self.defaults[lvl]) < 1e-9:
                    lab[lvl] = default[lvl]
                    continue
                r = result.with_thresholds(**{lvl: t})
                lab[lvl] = dict(zip(r.ids, r.cluster_of if lvl == "duplicate" else r.story_of, strict=True))
            points.append((t, lab))
        return sorted(points, key=lambda p: p[0])
