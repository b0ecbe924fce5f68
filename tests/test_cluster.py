"""Average-linkage clustering on hand-made graphs."""

import numpy as np

from dedup.cluster import average_linkage


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


def test_story_linkage_joins_whole_duplicate_clusters():
    from dedup.cluster import story_linkage

    # rows 0,1 form duplicate cluster 0; rows 2,3 cluster 2; row 4 alone. Clusters 0 and 2 are one
    # story (0.6), 4 is not (0.1), whatever the article pairs that pointed at them.
    dup = np.array([0, 0, 2, 2, 4])
    of_row = np.array([0, 0, 1, 1, 2])
    roots = np.array([0, 2, 4])
    table = {(0, 1): 0.6, (0, 2): 0.1, (1, 2): 0.1}

    def scores(a, b):
        return np.array([table[(min(x, y), max(x, y))] for x, y in zip(a.tolist(), b.tolist(), strict=True)])

    got = story_linkage(dup, np.array([1, 3]), np.array([3, 4]), 0.5, scores, of_row, roots)
    assert got.tolist() == [0, 0, 0, 0, 4]
    got = story_linkage(dup, np.array([1, 3]), np.array([3, 4]), 0.7, scores, of_row, roots)
    assert got.tolist() == [0, 0, 2, 2, 4]


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
