"""Cluster stage: average-linkage agglomeration over a sparse pair graph.

Two clusters merge only when the *average* score over all their cross pairs reaches the threshold,
so a single bridge pair cannot chain unrelated articles together (unlike connected components).
Pairs that were never scored are scored on demand through `score_fn` when the merge is small
enough, and otherwise count as 0.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np

ScoreFn = Callable[[np.ndarray], np.ndarray]  # (p, 2) rows -> (p,) scores
ON_DEMAND_MAX = 4096  # largest |A|*|B| whose missing pairs are scored on demand


def _find(parent: list[int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def average_linkage(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    init: np.ndarray | None = None,
    score_fn: ScoreFn | None = None,
) -> np.ndarray:
    """Cluster rows 0..n-1; returns a label per row (the smallest row of its cluster).

    `init` gives starting clusters (labels) that are kept whole: the story level starts from the
    duplicate clusters, so stories always contain whole duplicate clusters.
    """
    parent = list(range(n))
    if init is not None:
        for r in range(n):
            root = int(init[r])
            if root != r:
                ra, rb = _find(parent, r), _find(parent, root)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for r in range(n):
        members.setdefault(_find(parent, r), []).append(r)
    # sum and count of known scores between clusters
    adj: dict[int, dict[int, list[float]]] = {c: {} for c in members}
    for x, y, s in zip(a.tolist(), b.tolist(), scores.tolist(), strict=True):
        cx, cy = _find(parent, x), _find(parent, y)
        if cx == cy:
            continue
        e = adj[cx].setdefault(cy, [0.0, 0])
        e[0] += s
        e[1] += 1
        adj[cy][cx] = e
    heap: list[tuple[float, int, int]] = []

    def push(cx: int, cy: int) -> None:
        e = adj[cx][cy]
        size = len(members[cx]) * len(members[cy])
        upper = (e[0] + (size - e[1]) * 1.0) / size if score_fn is not None else e[0] / size
        if upper >= threshold:
            heapq.heappush(heap, (-upper, min(cx, cy), max(cx, cy)))

    for cx in sorted(adj):
        for cy in sorted(adj[cx]):
            if cx < cy:
                push(cx, cy)
    while heap:
        neg, cx, cy = heapq.heappop(heap)
        if cx not in adj or cy not in adj or cy not in adj[cx]:
            continue
        e = adj[cx][cy]
        size = len(members[cx]) * len(members[cy])
        if score_fn is not None and e[1] < size:
            if size <= ON_DEMAND_MAX:
                known = set()
                for x in members[cx]:
                    for y in members[cy]:
                        known.add((x, y))
                pairs = np.array(sorted(known), dtype=np.int64)
                full = score_fn(pairs)
                e[0], e[1] = float(np.sum(full)), size
            else:
                e[1] = size  # the rest counts as 0
            avg = e[0] / size
            if avg < threshold:
                continue
            if avg < -neg - 1e-12:
                heapq.heappush(heap, (-avg, cx, cy))
                continue
        avg = e[0] / size
        if avg < threshold:
            continue
        if avg < -neg - 1e-12:  # stale entry
            heapq.heappush(heap, (-avg, cx, cy))
            continue
        # merge cy into cx (cx < cy)
        members[cx].extend(members.pop(cy))
        nb_y = adj.pop(cy)
        del adj[cx][cy]
        for cz, ez in nb_y.items():
            if cz == cx:
                continue
            del adj[cz][cy]
            if cz in adj[cx]:
                exz = adj[cx][cz]
                exz[0] += ez[0]
                exz[1] += ez[1]
            else:
                adj[cx][cz] = [ez[0], ez[1]]
                adj[cz][cx] = adj[cx][cz]
        for cz in sorted(adj[cx]):
            push(cx, cz)
    labels = np.empty(n, dtype=np.int64)
    for root, rows in members.items():
        labels[rows] = min(rows) if rows else root
    return labels
