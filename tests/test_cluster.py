"""The cluster stage (`dedup.cluster`): average linkage on hand-made graphs and against reference
implementations, top-k and top-fraction story linkage, and `cluster_levels`."""

import heapq
import math

import numpy as np
import pytest
from conftest import planted_vectors

from dedup import index as index_mod
from dedup import score as score_mod
from dedup.cluster import ON_DEMAND_MAX, average_linkage, cluster_levels


def _run(n, edges, thr, **kw):
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    s = np.array([e[2] for e in edges], dtype=np.float64)
    return average_linkage(n, a, b, s, thr, **kw).tolist()


def test_pairs_above_threshold_merge():
    assert _run(3, [(0, 1, 0.9), (1, 2, 0.1)], 0.5) == [0, 0, 2]


def test_no_chaining_through_a_bridge():
    # 0-1 and 2-3 are tight; 1-2 is a single strong bridge. Connected components at 0.5 would
    # give one cluster; average linkage sees that 3 of the 4 cross pairs are missing (0).
    edges = [(0, 1, 0.9), (2, 3, 0.9), (1, 2, 0.8)]
    assert _run(4, edges, 0.5) == [0, 0, 2, 2]


def test_average_over_all_cross_pairs():
    # {0,1} vs 2: scores 0.7 and 0.4 -> average 0.55
    edges = [(0, 1, 0.95), (0, 2, 0.7), (1, 2, 0.4)]
    assert _run(3, edges, 0.5) == [0, 0, 0]
    assert _run(3, edges, 0.6) == [0, 0, 2]


def test_init_clusters_stay_whole():
    init = np.array([0, 0, 2])
    # even with no edge between 0 and 1 they stay together; 2 joins if the average is high
    assert _run(3, [(1, 2, 0.9), (0, 2, 0.5)], 0.6, init=init) == [0, 0, 0]
    assert _run(3, [(1, 2, 0.9), (0, 2, 0.1)], 0.6, init=init) == [0, 0, 2]


def test_on_demand_scores_fill_missing_pairs():
    calls = []

    def score_fn(pairs):
        calls.append(pairs.tolist())
        return np.full(len(pairs), 0.9)

    # only 0-1 and 1-2 known; merging {0,1} with 2 needs 0-2, scored on demand
    labels = _run(3, [(0, 1, 0.9), (1, 2, 0.9)], 0.8, score_fn=score_fn)
    assert labels == [0, 0, 0]
    assert calls, "the missing pair was scored on demand"


def test_raising_threshold_never_merges_more():
    rng = np.random.default_rng(0)
    n = 30
    edges = [(i, j, float(rng.random())) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.2]
    prev = None
    for thr in (0.2, 0.4, 0.6, 0.8):
        lab = _run(n, edges, thr)
        n_clusters = len(set(lab))
        if prev is not None:
            assert n_clusters >= prev
        prev = n_clusters


def test_top_fraction_linkage_counts_the_strongest_share_of_cross_pairs():
    # {0,1,2,3} is one story and 4 meets it with 0.9, 0.8, 0.1, 0.1: top-2 mean 0.85 joins it; the
    # strongest half (2 of 4 pairs) too; the strongest 3/4 (0.6) and all four (0.475) do not at 0.65
    tight = [(x, y, 0.95) for x in range(4) for y in range(x + 1, 4)]
    edges = tight + [(0, 4, 0.9), (1, 4, 0.8), (2, 4, 0.1), (3, 4, 0.1)]
    assert _run(5, edges, 0.65, top_k=2) == [0] * 5
    assert _run(5, edges, 0.65, top_k=1, top_frac=0.5) == [0] * 5
    assert _run(5, edges, 0.65, top_k=1, top_frac=0.75) == [0, 0, 0, 0, 4]
    assert _run(5, edges, 0.65) == [0, 0, 0, 0, 4]
    # top_k is a floor: with three pairs at 30% the three strongest count, not one
    assert _run(5, edges, 0.65, top_k=3, top_frac=0.3) == [0, 0, 0, 0, 4]


def test_top_k_linkage_needs_several_strong_links_not_all():
    # {0,1,2} is one story; 3 resembles two of its reports (0.6, 0.55) but not the third (0.2):
    # the average of all three (0.45) keeps it out, the mean of the two strongest (0.575) lets it in
    tight = [(0, 1, 0.9), (0, 2, 0.9), (1, 2, 0.9)]
    edges = tight + [(0, 3, 0.6), (1, 3, 0.55), (2, 3, 0.2)]
    assert _run(4, edges, 0.5) == [0, 0, 0, 3]
    assert _run(4, edges, 0.5, top_k=2) == [0, 0, 0, 0]
    assert _run(4, edges, 0.5, top_k=3) == [0, 0, 0, 3]  # k = all three cross pairs: the average


def test_top_k_linkage_does_not_chain_through_one_bridge():
    # one strong pair (0.8) and two weak ones: top-2 mean 0.45 < 0.5
    edges = [(0, 1, 0.9), (0, 2, 0.9), (1, 2, 0.9), (0, 3, 0.8), (1, 3, 0.1), (2, 3, 0.1)]
    assert _run(4, edges, 0.5, top_k=2) == [0, 0, 0, 3]
    # pairs never scored count as 0 without a score_fn: 0 and 3 alone are not enough
    assert _run(4, [(0, 1, 0.9), (0, 2, 0.9), (1, 2, 0.9), (0, 3, 0.8)], 0.5, top_k=2) == [0, 0, 0, 3]


def test_top_k_linkage_of_singletons_is_the_pair_score():
    edges = [(0, 1, 0.55), (2, 3, 0.45)]
    assert _run(4, edges, 0.5, top_k=3) == [0, 0, 2, 3]


# ------------------------------------------------------------------------------------ reference linkage


def _reference_linkage(n, a, b, scores, threshold, init=None, score_fn=None):
    """The single-heap average linkage over the whole graph (before components)."""
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    if init is not None:
        for r in range(n):
            ra, rb = find(r), find(int(init[r]))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    members = {}
    for r in range(n):
        members.setdefault(find(r), []).append(r)
    adj = {c: {} for c in members}
    for x, y, s in zip(a.tolist(), b.tolist(), scores.tolist(), strict=True):
        cx, cy = find(x), find(y)
        if cx == cy:
            continue
        e = adj[cx].setdefault(cy, [0.0, 0])
        e[0] += s
        e[1] += 1
        adj[cy][cx] = e
    heap = []

    def push(cx, cy):
        e = adj[cx][cy]
        size = len(members[cx]) * len(members[cy])
        upper = (e[0] + (size - e[1])) / size if score_fn is not None else e[0] / size
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
                pairs = np.array(sorted({(x, y) for x in members[cx] for y in members[cy]}), dtype=np.int64)
                e[0], e[1] = float(np.sum(score_fn(pairs))), size
            else:
                e[1] = size
        avg = e[0] / size
        if avg < threshold:
            continue
        if avg < -neg - 1e-12:
            heapq.heappush(heap, (-avg, cx, cy))
            continue
        members[cx].extend(members.pop(cy))
        nb_y = adj.pop(cy)
        del adj[cx][cy]
        for cz, ez in nb_y.items():
            if cz == cx:
                continue
            del adj[cz][cy]
            if cz in adj[cx]:
                adj[cx][cz][0] += ez[0]
                adj[cx][cz][1] += ez[1]
            else:
                adj[cx][cz] = [ez[0], ez[1]]
                adj[cz][cx] = adj[cx][cz]
        for cz in sorted(adj[cx]):
            push(cx, cz)
    labels = np.empty(n, dtype=np.int64)
    for rows in members.values():
        labels[rows] = min(rows)
    return labels


def _random_graph(seed: int, n_max: int, decimals: int | None):
    """Planted groups with noisy scores (rounded to `decimals`, when given): the full score matrix,
    a threshold, and candidate pairs holding every pair at or above it plus 30% of the rest."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, n_max))
    g = rng.integers(0, max(1, n // 3), n)
    s = np.where(g[:, None] == g[None, :], rng.uniform(0.3, 1.0, (n, n)), rng.uniform(0, 0.6, (n, n)))
    s = np.triu(s, 1) + np.triu(s, 1).T
    if decimals is not None:
        s = np.round(s, decimals)
    t = float(rng.choice([0.4, 0.5, 0.6]))
    iu = np.triu_indices(n, 1)
    keep = (s[iu] >= t) | (rng.random(len(iu[0])) < 0.3)
    return n, s, t, iu[0][keep], iu[1][keep]


@pytest.mark.parametrize("seed", range(40))
def test_component_linkage_equals_whole_graph_linkage(seed):
    # equal whenever every pair scoring at or above the threshold is a candidate pair
    n, s, t, a, b = _random_graph(seed, 50, 3)

    def fn(p):
        return s[p[:, 0], p[:, 1]]

    for kw in ({}, {"score_fn": fn}):
        want = _reference_linkage(n, a, b, s[a, b], t, **kw)
        assert average_linkage(n, a, b, s[a, b], t, **kw).tolist() == want.tolist()
        init = _reference_linkage(n, a, b, s[a, b], min(0.95, t + 0.2))
        want = _reference_linkage(n, a, b, s[a, b], t, init=init, **kw)
        assert average_linkage(n, a, b, s[a, b], t, init=init, **kw).tolist() == want.tolist()


def _brute_top_k_linkage(s: np.ndarray, threshold: float, top_k: int, top_frac: float = 0.0) -> np.ndarray:
    """Top-k (or top-fraction) linkage the slow way: every cluster pair's exact value over the full
    score matrix."""
    n = s.shape[0]
    clusters = [[r] for r in range(n)]
    while True:
        best, pick = -1.0, None
        for x in range(len(clusters)):
            for y in range(x + 1, len(clusters)):
                cross = np.sort(s[np.ix_(clusters[x], clusters[y])].ravel())[::-1]
                k = min(max(top_k, math.ceil(top_frac * cross.size)), cross.size)
                v = float(cross[:k].mean())
                if v > best:
                    best, pick = v, (x, y)
        if pick is None or best < threshold:
            break
        x, y = pick
        clusters[x] = clusters[x] + clusters.pop(y)
    labels = np.empty(n, dtype=np.int64)
    for rows in clusters:
        labels[rows] = min(rows)
    return labels


@pytest.mark.parametrize("seed", range(20))
def test_top_k_linkage_equals_brute_force(seed):
    # the component split, the strong-pair gate and the lazy heap change nothing, whenever every
    # pair scoring at or above the threshold is a candidate pair and the rest is scored on demand
    # (unrounded scores: no ties, whose order the two may break differently)
    n, s, t, a, b = _random_graph(100 + seed, 30, None)

    def fn(p):
        return s[p[:, 0], p[:, 1]]

    for k, frac in ((1, 0.0), (2, 0.0), (3, 0.0), (3, 0.3), (1, 0.5)):
        got = average_linkage(n, a, b, s[a, b], t, score_fn=fn, top_k=k, top_frac=frac)
        assert got.tolist() == _brute_top_k_linkage(s, t, k, frac).tolist(), (k, frac)


def test_cluster_levels_nest_stories_over_duplicate_clusters():
    """Whatever the thresholds, every duplicate cluster lies inside one story."""
    x = planted_vectors(n=120, pairs=30, d=32, seed=4)
    space = score_mod.space_from_documents(x, ["en", "vi", "sv"] * 40)
    cands = index_mod.candidate_pairs(space.docs, 10, knn_done=space.doc_knn)
    scorer = score_mod.PairScorer(space, score_mod.score_pairs(space, cands, None), None)
    for dup_t, story_t in [(0.45, 0.45), (0.1, 0.9), (0.9, 0.05), (0.3, 0.3)]:
        levels = cluster_levels(scorer, dup_t, story_t)
        dup, story = levels.duplicate, levels.story
        for root in np.unique(dup):
            assert len(np.unique(story[dup == root])) == 1, (dup_t, story_t, root)
    strict, loose = cluster_levels(scorer, 0.9, 0.9), cluster_levels(scorer, 0.2, 0.2)
    assert len(np.unique(strict.duplicate)) > len(np.unique(loose.duplicate))
