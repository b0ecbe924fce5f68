"""Cluster stage: average-linkage agglomeration over a sparse pair graph.

Two clusters merge only when the *average* score over all their cross pairs reaches the threshold,
so a single bridge pair cannot chain unrelated articles together (unlike connected components).
Pairs that were never scored are scored on demand through `score_fn` when the merge is small
enough, and otherwise count as 0.

Merging proceeds best pair first. An average can only reach the threshold when at least one cross
pair does, so two clusters are considered for merging only when a candidate pair between them
scores at or above the threshold (a *strong* pair; the candidates are every article's nearest
neighbours, which is where such pairs are). Consequently the graph falls apart into the connected
components of its strong pairs, which are clustered one by one (a component of two articles needs
no heap at all): the cost grows with the strong pairs, not with all candidate pairs, and a million
articles with twenty neighbours each cluster in seconds.

The story level (`story_linkage`) joins whole duplicate clusters on the story probability of their
article pairs (`dedup.score.story`; same-language pairs when two clusters share a language), with
the mean of the strongest cross pairs instead of the mean of all of them (`STORY_TOP_K`,
`STORY_TOP_FRAC`): a report on one occasion need not resemble
every other report of it (the air traffic controller who died at his post and the death toll of the
same earthquake), but it must resemble several of them once the story has several; with clusters
of one or two members it is the same average.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .score.pairs import PairScorer

ScoreFn = Callable[[np.ndarray], np.ndarray]  # (p, 2) rows -> (p,) scores
ON_DEMAND_MAX = 4096  # largest |A|*|B| whose missing pairs are scored on demand
#: Strongest cross pairs averaged by the story level's linkage: a report must resemble several reports
#: of its story, not all (NTREX-15 story F1 0.871 -> 0.930; benchmarks/README.md).
STORY_TOP_K = 3
#: ... or the strongest 30% of them when that is more: large stories must hang together more widely
#: than by three pairs (ECB+ hard negatives merged 36% at top-3 only; benchmarks/README.md).
STORY_TOP_FRAC = 0.3
PAIRS_PER_CHUNK = 1 << 20  # article pairs scored at once by the story linkage (bounds its temporaries)


def _find(parent: list[int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _start_roots(n: int, init: np.ndarray | None) -> np.ndarray:
    """Root (smallest row) of every row's starting cluster: row r and row init[r] start together."""
    if init is None:
        return np.arange(n, dtype=np.int64)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    lab = np.asarray(init, dtype=np.int64)
    g = coo_matrix((np.ones(n, dtype=np.int8), (np.arange(n), lab)), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    first = np.full(comp.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(n, dtype=np.int64))
    return first[comp]


def average_linkage(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    init: np.ndarray | None = None,
    score_fn: ScoreFn | None = None,
    top_k: int = 0,
    top_frac: float = 0.0,
) -> np.ndarray:
    """Cluster rows 0..n-1; returns a label per row (the smallest row of its cluster).

    `init` gives starting clusters (labels) that are kept whole: the story level starts from the
    duplicate clusters, so stories always contain whole duplicate clusters. `top_k` > 0 merges on
    the mean of the top_k strongest cross pairs (all of them when there are fewer) instead of the
    mean of all cross pairs; `top_frac` > 0 on the strongest max(top_k, top_frac x |A||B|) of them.
    """
    root = _start_roots(n, init)
    cap = top_k if top_frac <= 0 else 1 << 62  # scores kept per cluster pair (strongest first)
    ranked = cap > 0
    labels = root.copy()
    a = np.asarray(a, dtype=np.int64).reshape(-1)
    b = np.asarray(b, dtype=np.int64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    ca, cb = root[a], root[b]
    cross = ca != cb
    lo = np.minimum(ca, cb)[cross]
    hi = np.maximum(ca, cb)[cross]
    s = s[cross]
    del ca, cb, cross  # 20M candidate pairs: free each temporary as soon as it is used
    if lo.size == 0:
        return labels
    # sum, count and max of the known scores between starting clusters (one row per cluster pair)
    key = lo * n + hi
    del lo, hi
    order = np.lexsort((-s, key)) if ranked else np.argsort(key, kind="stable")
    key, s = key[order], s[order]
    del order
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    e_lo, e_hi = key[first] // n, key[first] % n
    e_cnt = np.diff(np.r_[first, key.size])
    if ranked:  # each edge's scores, strongest first, are s[first:first + cnt]: keep `cap`
        rank = np.arange(key.size) - np.repeat(first, e_cnt)
        keep = rank < cap
        # flat, strongest first per edge; edge i's are top_flat[top_at[i]:top_at[i + 1]] (sliced
        # only for the edges of multi-cluster components: no array per cluster pair)
        top_flat: np.ndarray | None = s[keep]
        top_at = np.r_[0, np.cumsum(np.minimum(e_cnt, cap))]
    else:
        top_flat = None
    e_sum = np.add.reduceat(s, first)
    # each edge's index in top_at (top_k only: at the duplicate level of a million articles this
    # would be another array over all cluster pairs)
    e_id = np.arange(first.size) if top_flat is not None else np.zeros(first.size, dtype=np.bool_)
    e_strong = np.maximum.reduceat(s, first) >= threshold
    del key, s
    if not e_strong.any():
        return labels
    # connected components of the strong cluster pairs: clustered independently
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix(
        (np.ones(int(e_strong.sum()), dtype=np.int8), (e_lo[e_strong], e_hi[e_strong])), shape=(n, n)
    )
    _, comp = connected_components(g, directed=False)
    size_of_root = np.bincount(root, minlength=n)
    roots_per_comp = np.bincount(comp[np.flatnonzero(size_of_root)], minlength=comp.max() + 1)
    big = roots_per_comp[comp] > 1  # rows (roots) in a component of 2+ starting clusters
    # edges inside such components (weak ones too: they count in the averages)
    inside = (comp[e_lo] == comp[e_hi]) & big[e_lo]
    e_lo, e_hi, e_sum, e_cnt, e_strong, e_id = (
        e_lo[inside],
        e_hi[inside],
        e_sum[inside],
        e_cnt[inside],
        e_strong[inside],
        e_id[inside],
    )
    # fast path: a component of two singleton starting clusters joined by one strong pair merges
    e_comp = comp[e_lo]
    edges_per_comp = np.bincount(e_comp, minlength=comp.max() + 1)
    pair_comp = (
        (roots_per_comp[e_comp] == 2)
        & (edges_per_comp[e_comp] == 1)
        & (size_of_root[e_lo] == 1)
        & (size_of_root[e_hi] == 1)
    )
    labels[e_hi[pair_comp]] = e_lo[pair_comp]  # e_lo < e_hi: the smaller row labels the pair
    rest = ~pair_comp
    if not rest.any():
        return labels
    e_lo, e_hi, e_sum, e_cnt, e_strong, e_comp, e_id = (
        e_lo[rest],
        e_hi[rest],
        e_sum[rest],
        e_cnt[rest],
        e_strong[rest],
        e_comp[rest],
        e_id[rest],
    )
    # rows of each remaining component's starting clusters
    grp = np.argsort(e_comp, kind="stable")
    bounds = np.flatnonzero(np.r_[True, e_comp[grp][1:] != e_comp[grp][:-1], True])
    comp_rows_order = np.argsort(comp[root], kind="stable")
    comp_sorted = comp[root][comp_rows_order]
    starts = np.searchsorted(comp_sorted, e_comp[grp[bounds[:-1]]])
    ends = np.searchsorted(comp_sorted, e_comp[grp[bounds[:-1]]] + 1)
    for g0, g1, r0, r1 in zip(
        bounds[:-1].tolist(), bounds[1:].tolist(), starts.tolist(), ends.tolist(), strict=True
    ):
        sel = grp[g0:g1]
        rows = comp_rows_order[r0:r1]
        members: dict[int, list[int]] = {}
        for r, rt in zip(rows.tolist(), root[rows].tolist(), strict=True):
            members.setdefault(rt, []).append(r)
        out = _agglomerate(
            members,
            e_lo[sel].tolist(),
            e_hi[sel].tolist(),
            e_sum[sel].tolist(),
            e_cnt[sel].tolist(),
            e_strong[sel].tolist(),
            threshold,
            score_fn,
            [top_flat[top_at[i] : top_at[i + 1]].tolist() for i in e_id[sel].tolist()]
            if top_flat is not None
            else None,
            top_k,
            top_frac,
        )
        for rs in out:
            labels[rs] = min(rs)
    return labels


def _agglomerate(
    members: dict[int, list[int]],
    lo: list[int],
    hi: list[int],
    sums: list[float],
    counts: list[int],
    strong: list[bool],
    threshold: float,
    score_fn: ScoreFn | None,
    tops: list[list[float]] | None = None,
    top_k: int = 0,
    top_frac: float = 0.0,
) -> list[list[int]]:
    """Best-first average (or top_k) linkage of one component; returns the final clusters' rows."""
    # per cluster pair: sum and count of the known scores, whether one is strong, and (top_k) the
    # top_k strongest known scores, strongest first
    adj: dict[int, dict[int, list[Any]]] = {c: {} for c in members}
    for k, (x, y, sm, ct, st) in enumerate(zip(lo, hi, sums, counts, strong, strict=True)):
        e: list[Any] = [sm, ct, 1.0 if st else 0.0, tops[k] if tops is not None else None]
        adj[x][y] = e
        adj[y][x] = e

    def value(e: list[Any], size: int, optimistic: bool) -> float:
        """The linkage of an edge over `size` cross pairs; pairs not scored yet count as 1 when
        `optimistic` (an upper bound: they may still be scored), else as 0."""
        unknown = size - e[1] if optimistic else 0
        if top_k <= 0 and top_frac <= 0:
            return float((e[0] + unknown) / size)
        k = min(max(top_k, math.ceil(top_frac * size)), size)
        ones = min(unknown, k)
        return float((ones + sum(e[3][: k - ones])) / k)

    heap: list[tuple[float, int, int]] = []

    def push(cx: int, cy: int) -> None:
        e = adj[cx][cy]
        if not e[2]:
            return  # no strong pair between them: the linkage cannot reach the threshold
        upper = value(e, len(members[cx]) * len(members[cy]), score_fn is not None)
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
                if e[3] is not None:
                    e[3] = sorted(full.tolist(), reverse=True)[: top_k if top_frac <= 0 else None]
            else:
                e[1] = size  # the rest counts as 0
        avg = value(e, size, False)
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
                exz[2] = max(exz[2], ez[2])
                if exz[3] is not None:
                    exz[3] = sorted(exz[3] + ez[3], reverse=True)[: top_k if top_frac <= 0 else None]
            else:
                adj[cx][cz] = list(ez)
                adj[cz][cx] = adj[cx][cz]
        for cz in sorted(adj[cx]):
            push(cx, cz)
    return list(members.values())


def story_linkage(
    dup: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    threshold: float,
    score_fn: ScoreFn,
    lang: np.ndarray,
) -> np.ndarray:
    """Story level: linkage over whole duplicate clusters (`STORY_TOP_K`, `STORY_TOP_FRAC`).

    Two duplicate clusters that hold a language in common compare on their same-language article
    pairs only (the mean of their story probabilities): an English rewrite of a Vietnamese report
    meets another Vietnamese report of the occasion through the Vietnamese one. Clusters without a
    common language compare on the mean of all their pairs. `score_fn` scores article pairs; `lang`
    is each row's language index. Candidate article pairs (a, b) say which clusters to compare first;
    others are compared on demand during merges. Returns a label per row: the smallest row of its
    story.
    """
    roots, of_row = np.unique(dup, return_inverse=True)
    of_row = of_row.reshape(-1)
    k = roots.shape[0]
    order = np.argsort(of_row, kind="stable")
    starts = np.searchsorted(of_row[order], np.arange(k + 1))

    def cluster_scores(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        sizes = (starts[lo + 1] - starts[lo]) * (starts[hi + 1] - starts[hi])
        out = np.empty(lo.shape[0], dtype=np.float64)
        one = sizes == 1
        if one.any():
            out[one] = score_fn(np.stack([order[starts[lo[one]]], order[starts[hi[one]]]], axis=1))
        rest = np.flatnonzero(~one)
        # chunks of cluster pairs holding at most ~PAIRS_PER_CHUNK article pairs (bounded memory)
        cum = np.cumsum(sizes[rest])
        c0 = 0
        while c0 < rest.size:
            base = cum[c0 - 1] if c0 else 0
            c1 = max(c0 + 1, int(np.searchsorted(cum, base + PAIRS_PER_CHUNK, side="right")))
            out[rest[c0:c1]] = _mean_cluster_pair_scores(lo[rest[c0:c1]], hi[rest[c0:c1]])
            c0 = c1
        return out

    def _mean_cluster_pair_scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Mean score of each cluster pair (x[j], y[j]) over its same-language article pairs (all
        pairs when none share a language), built without a Python loop: pair t of cluster pair j
        is divmod(t, size of y[j]) within the two clusters' rows."""
        sy = starts[y + 1] - starts[y]
        n_pairs = (starts[x + 1] - starts[x]) * sy
        block = np.repeat(np.arange(x.size), n_pairs)
        t = np.arange(block.size) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
        pa = order[starts[x][block] + t // sy[block]]
        pb = order[starts[y][block] + t % sy[block]]
        del t
        same = lang[pa] == lang[pb]
        keep = same | (np.bincount(block, weights=same, minlength=x.size) == 0)[block]
        s = score_fn(np.stack([pa[keep], pb[keep]], axis=1))
        kept = block[keep]
        return np.bincount(kept, weights=s, minlength=x.size) / np.bincount(kept, minlength=x.size)

    ca, cb = of_row[np.asarray(a, dtype=np.int64)], of_row[np.asarray(b, dtype=np.int64)]
    keep = ca != cb
    key = np.unique(np.minimum(ca, cb)[keep] * k + np.maximum(ca, cb)[keep])
    lo, hi = key // k, key % k
    lab = average_linkage(
        k,
        lo,
        hi,
        cluster_scores(lo, hi),
        threshold,
        score_fn=lambda p: cluster_scores(p[:, 0], p[:, 1]),
        top_k=STORY_TOP_K,
        top_frac=STORY_TOP_FRAC,
    )
    return np.asarray(roots, dtype=np.int64)[lab][of_row]


@dataclass(frozen=True)
class Levels:
    """Both levels as a label per row: the smallest row of its cluster."""

    duplicate: np.ndarray
    story: np.ndarray


def cluster_levels(scorer: PairScorer, duplicate_threshold: float, story_threshold: float) -> Levels:
    """Duplicate clusters by average linkage over the scored pairs, then stories over whole
    duplicate clusters (so every duplicate cluster lies inside one story, whatever the thresholds)."""
    t = scorer.table
    dup = average_linkage(
        scorer.n, t.a, t.b, t.duplicate, duplicate_threshold, score_fn=lambda p: scorer.scores(p, "duplicate")
    )
    story = story_linkage(
        dup, t.a, t.b, story_threshold, lambda p: scorer.scores(p, "story"), scorer.space.doc_lang
    )
    return Levels(dup, story)
