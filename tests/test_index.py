"""The index stage (`dedup.index`): exact and inverted-file FAISS search, and candidate pairs."""

import numpy as np
from conftest import planted_vectors, unit_rows

from dedup import index as index_mod


def test_ivf_search_finds_planted_partners_and_itself():
    x = planted_vectors()
    n = x.shape[0]
    sims, ids = index_mod.ivf_search(x, x, 5, n_cells=16, probes=4)
    assert (ids[:, 0] == np.arange(n)).mean() > 0.99  # itself first
    partner = np.r_[np.arange(n - 300, n), np.arange(300)]
    rows = np.r_[np.arange(300), np.arange(n - 300, n)]
    found = (ids[rows] == partner[:, None]).any(axis=1)
    assert found.mean() >= 0.95
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # sorted, best first


def test_knn_past_exact_max_uses_ivf_and_drops_self():
    x = planted_vectors()
    s_exact, i_exact = index_mod.knn(x, 4)
    s_ivf, i_ivf = index_mod.knn(x, 4, exact_max=500)
    assert i_ivf.shape == (x.shape[0], 4)
    assert not (i_ivf == np.arange(x.shape[0])[:, None]).any()
    # the planted partner (the exact nearest neighbour of a planted row) is found
    rows = np.r_[np.arange(300), np.arange(x.shape[0] - 300, x.shape[0])]
    assert (i_ivf[rows, 0] == i_exact[rows, 0]).mean() > 0.95


def test_exact_search_only_while_it_costs_seconds():
    use = index_mod._use_exact
    assert use(16_000, 1_100, index_mod.EXACT_MAX)  # the quality sets: exact
    assert use(30_000, 30_000, index_mod.EXACT_MAX)
    assert not use(157_000, 10_500, index_mod.EXACT_MAX)  # 10k articles' sentences vs one language
    assert not use(100_000, 100_000, index_mod.EXACT_MAX)
    assert use(1_000_000, index_mod.EXACT_ALWAYS, index_mod.EXACT_MAX)  # a tiny base
    assert not use(3_000, 3_000, 500)  # an explicit limit still forces the inverted file


def test_candidate_pairs_are_unique_ordered_pairs_of_near_neighbours():
    x = planted_vectors(n=400, pairs=40, d=32)
    pairs = index_mod.candidate_pairs(x, 5)
    assert pairs.ndim == 2 and pairs.shape[1] == 2
    a, b = pairs[:, 0], pairs[:, 1]
    assert (a < b).all()  # each pair once, never an article with itself
    assert len({(int(p), int(q)) for p, q in pairs}) == len(pairs)
    got = {(int(p), int(q)) for p, q in pairs}
    n = x.shape[0]
    assert all((k, n - 40 + k) in got for k in range(40))  # every planted near-copy is a candidate
    # the passage vectors add their own neighbours to the candidates
    other = unit_rows(np.random.default_rng(9).standard_normal(x.shape))
    more = {(int(p), int(q)) for p, q in index_mod.candidate_pairs(x, 5, passages=other)}
    assert got <= more and len(more) > len(got)
