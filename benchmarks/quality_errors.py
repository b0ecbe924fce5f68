"""Quality benchmark, reading the failures (`--show-errors N`).

Takes a loaded set, a system's labels per level at its default threshold, optionally the articles'
embedding-baseline vectors and dedup's `Result`; prints, per level, the N worst false merges (two
gold groups inside one predicted cluster, ranked by the number of article pairs wrongly joined) and
the N worst misses (one gold group split between two predicted clusters), each with a
representative article pair (the most similar by cosine, when vectors are given), languages, the
article's own title, and `result.explain(a, b)` when the system is dedup.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from typing import Any

import numpy as np
from quality_sets import LevelLabels, LoadedSet


def show_errors(ls: LoadedSet, system: str, levels: LevelLabels, n: int,
                vectors: np.ndarray | None, result: Any) -> None:
    ids = [r["id"] for r in ls.records]
    pos = {rid: i for i, rid in enumerate(ids)}

    def cos(a: str, b: str) -> float | None:
        if vectors is None:
            return None
        return float(vectors[pos[a]] @ vectors[pos[b]])

    def best_pair(xs: list[str], ys: list[str]) -> tuple[str, str, float | None]:
        if vectors is None:
            return xs[0], ys[0], None
        sims = vectors[[pos[x] for x in xs]] @ vectors[[pos[y] for y in ys]].T
        a, b = np.unravel_index(int(np.argmax(sims)), sims.shape)
        return xs[int(a)], ys[int(b)], float(sims[a, b])

    def explain(a: str, b: str) -> str | None:
        fn = getattr(result, "explain", None) if result is not None else None
        if fn is None:
            return None
        try:
            return str(fn(a, b))
        except Exception as exc:  # noqa: BLE001
            return f"(explain failed: {exc})"

    def line(i: str) -> str:
        return f"{i} [{ls.langs[i]}] {ls.display[i]!r}"

    for level, gold in ls.gold.items():
        pred = levels[level]
        by_pred: dict[Hashable, dict[Hashable, list[str]]] = defaultdict(lambda: defaultdict(list))
        by_gold: dict[Hashable, dict[Hashable, list[str]]] = defaultdict(lambda: defaultdict(list))
        for i in ids:
            by_pred[pred[i]][gold[i]].append(i)
            by_gold[gold[i]][pred[i]].append(i)
        merges = _splits(by_pred, best_pair)  # one predicted cluster holding several gold ones
        misses = _splits(by_gold, best_pair)  # one gold cluster cut into several predicted ones
        merges.sort(key=lambda m: (-m[0], -m[1]))
        misses.sort(key=lambda m: (-m[0], -m[1]))
        head = f"== {system} on {ls.key}, {level} level (gold `{ls.spec.gold[level]}`)"
        print(f"\n{head}: {len(merges)} falsely merged gold-group pairs, "
              f"{len(misses)} split gold groups (pairs of parts)")
        print(f"-- worst {min(n, len(merges))} false merges (most article pairs first)")
        for k, (cnt, _, pc, gx, gy, a, b, s) in enumerate(merges[:n], 1):
            sim = f", cosine {s:.3f}" if s is not None else ""
            print(f"{k:2d}. {cnt} article pairs: gold {gx} + gold {gy} in predicted {pc}{sim}")
            print(f"      {line(a)}\n      {line(b)}")
            ex = explain(a, b)
            if ex:
                print("      explain: " + ex.replace("\n", "\n        "))
        print(f"-- worst {min(n, len(misses))} misses (most article pairs first)")
        for k, (cnt, _, gc, px, py, a, b, s) in enumerate(misses[:n], 1):
            sim = f", best cosine {s:.3f}" if s is not None else ""
            print(f"{k:2d}. {cnt} article pairs of gold {gc} split between predicted {px} "
                  f"and {py}{sim}")
            print(f"      {line(a)}\n      {line(b)}")
            ex = explain(a, b)
            if ex:
                print("      explain: " + ex.replace("\n", "\n        "))


def _splits(
    groups_of: dict[Hashable, dict[Hashable, list[str]]], best_pair: Any
) -> list[tuple[Any, ...]]:
    """For every cluster split into parts by the other labelling, each pair of its parts: (article
    pairs it holds, best pair score, cluster, part labels, best pair and score)."""
    out = []
    for cluster, parts in groups_of.items():
        keys = sorted(parts, key=str)
        for x in range(len(keys)):
            for y in range(x + 1, len(keys)):
                pa, pb = parts[keys[x]], parts[keys[y]]
                a, b, s = best_pair(pa, pb)
                out.append((len(pa) * len(pb), s or 0.0, cluster, keys[x], keys[y], a, b, s))
    return out
