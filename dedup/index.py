"""Index stage: FAISS nearest-neighbour search over L2-normalised vectors, and the candidate pairs.

Takes vectors; gives each one's nearest neighbours, and `candidate_pairs`: the article pairs that
scoring looks at (every article's nearest documents and nearest passages).

Small problems are searched exactly (FAISS flat inner product). Past a measured size (see
`EXACT_MAX` and benchmarks/README.md) an inverted-file search replaces it: the base vectors are
split into cells by spherical k-means, every query is compared with the vectors of its `IVF_PROBES`
nearest cells only, and each (cell, queries) block is one exact BLAS product (`faiss.knn`), so the
cost grows as n * probes * n / cells (about n^1.5) instead of n^2, at BLAS speed.

Callers' arrays are never modified.
"""

from __future__ import annotations

import numpy as np

#: Above this many base vectors the inverted-file search replaces exact search: exact search is
#: kept while it costs seconds (benchmarks/README.md, "Approximate search").
EXACT_MAX = 50_000
#: ... and above this many query x base pairs, whatever the base size (every sentence of a large
#: corpus against one language's sentences costs seconds per search exactly).
EXACT_PAIRS = 1_000_000_000
EXACT_ALWAYS = 2_000  # bases this small are always searched exactly
IVF_PROBES = 8  # cells searched per query
IVF_CELL_SIZE = 1000  # target vectors per cell (nlist = n / IVF_CELL_SIZE, at least sqrt(n))
IVF_TRAIN_PER_CELL = 64  # k-means training sample per cell
IVF_SEED = 1234
_CHUNK = 1 << 17  # queries per block in the inverted-file search


def _f32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32)


def _use_exact(nq: int, nb: int, exact_max: int) -> bool:
    return nb <= EXACT_ALWAYS or nq * nb <= min(exact_max * exact_max, EXACT_PAIRS)


def _n_cells(nb: int) -> int:
    return int(max(16, min(65536, max(nb // IVF_CELL_SIZE, int(np.sqrt(nb))))))


def _flat_search(xq: np.ndarray, xb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    sims, ids = index.search(xq, k)
    return sims, ids


def ivf_search(
    xq: np.ndarray,
    xb: np.ndarray,
    k: int,
    *,
    n_cells: int | None = None,
    probes: int = IVF_PROBES,
    seed: int = IVF_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate top-k inner-product search of every query among `xb`: (sims, ids), -1 = none.

    Spherical k-means cells over `xb`; each query is compared exactly with the vectors of its
    `probes` nearest cells (one BLAS block per cell). A query that is also a base vector always
    searches its own cell, so it finds itself (self matches are the caller's to drop).
    """
    import faiss

    xq, xb = _f32(xq), _f32(xb)
    nq, d = xq.shape
    nb = xb.shape[0]
    k = min(k, nb)
    nlist = min(n_cells or _n_cells(nb), nb)
    probes = min(probes, nlist)
    rng = np.random.default_rng(seed)
    n_train = min(nb, IVF_TRAIN_PER_CELL * nlist)
    sample = xb if n_train == nb else xb[np.sort(rng.choice(nb, n_train, replace=False))]
    km = faiss.Kmeans(d, nlist, niter=10, spherical=True, seed=seed, max_points_per_centroid=1 << 30)
    km.train(sample)
    del sample
    quant = faiss.IndexFlatIP(d)
    centroids = km.centroids
    assert centroids is not None  # set by train()
    quant.add(centroids)
    cell = quant.search(xb, 1)[1][:, 0]
    base_order = np.argsort(cell, kind="stable")
    base_start = np.searchsorted(cell[base_order], np.arange(nlist + 1))
    del cell
    out_s = np.full((nq, k), -np.inf, dtype=np.float32)
    out_i = np.full((nq, k), -1, dtype=np.int64)
    for q0 in range(0, nq, _CHUNK):
        q1 = min(nq, q0 + _CHUNK)
        xc = xq[q0:q1]
        probe = quant.search(xc, probes)[1]  # (c, probes) cells of each query
        buf_s = np.full((q1 - q0, probes, k), -np.inf, dtype=np.float32)
        buf_i = np.full((q1 - q0, probes, k), -1, dtype=np.int64)
        flat = probe.ravel()
        order = np.argsort(flat, kind="stable")
        start = np.searchsorted(flat[order], np.arange(nlist + 1))
        for c in np.flatnonzero(np.diff(start)):
            base = base_order[base_start[c] : base_start[c + 1]]
            if base.size == 0:
                continue
            sel = order[start[c] : start[c + 1]]
            rows, slot = sel // probes, sel % probes
            kk = min(k, base.size)
            s, i = faiss.knn(xc[rows], xb[base], kk, metric=faiss.METRIC_INNER_PRODUCT)
            buf_s[rows, slot, :kk] = s
            buf_i[rows, slot, :kk] = np.where(i >= 0, base[np.maximum(i, 0)], -1)
        buf_s = buf_s.reshape(q1 - q0, probes * k)
        buf_i = buf_i.reshape(q1 - q0, probes * k)
        top = np.argsort(-buf_s, axis=1, kind="stable")[:, :k]
        out_s[q0:q1] = np.take_along_axis(buf_s, top, axis=1)
        out_i[q0:q1] = np.take_along_axis(buf_i, top, axis=1)
    out_i[~np.isfinite(out_s)] = -1
    return out_s, out_i


def search(
    xq: np.ndarray, xb: np.ndarray, k: int, *, exact_max: int = EXACT_MAX
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k inner-product search of every query among the base: exact for small problems,
    `ivf_search` past `exact_max`. (sims, ids) with k columns (-inf, -1 where none)."""
    xq, xb = _f32(xq), _f32(xb)
    nq, nb = xq.shape[0], xb.shape[0]
    if nq == 0 or nb == 0 or k <= 0:
        return np.full((nq, max(k, 0)), -np.inf, np.float32), np.full((nq, max(k, 0)), -1, np.int64)
    kk = min(k, nb)
    if _use_exact(nq, nb, exact_max):
        sims, ids = _flat_search(xq, xb, kk)
    else:
        sims, ids = ivf_search(xq, xb, kk)
    if kk < k:
        sims = np.hstack([sims, np.full((nq, k - kk), -np.inf, np.float32)])
        ids = np.hstack([ids, np.full((nq, k - kk), -1, np.int64)])
    return sims, ids


def first_valid(sims: np.ndarray, ids: np.ndarray, ok: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first k columns where `ok` holds, in their order (-inf, -1 pad)."""
    n = sims.shape[0]
    order = np.argsort(~ok, axis=1, kind="stable")[:, :k]
    cnt = np.minimum(ok.sum(axis=1), k)
    out_s = np.take_along_axis(sims, order, axis=1).astype(np.float32, copy=False)
    out_i = np.take_along_axis(ids, order, axis=1).astype(np.int64, copy=False)
    pad = np.arange(order.shape[1])[None, :] >= cnt[:, None]
    out_s[pad] = -np.inf
    out_i[pad] = -1
    if out_s.shape[1] < k:
        out_s = np.hstack([out_s, np.full((n, k - out_s.shape[1]), -np.inf, np.float32)])
        out_i = np.hstack([out_i, np.full((n, k - out_i.shape[1]), -1, np.int64)])
    return out_s, out_i


def knn(vectors: np.ndarray, k: int, *, exact_max: int = EXACT_MAX) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of every row among all rows (itself excluded): (sims, ids), -1 = none."""
    x = _f32(vectors)
    n = x.shape[0]
    if n == 0:
        return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
    kk = min(k + 1, n)
    sims, ids = search(x, x, kk, exact_max=exact_max)
    ok = (ids != np.arange(n)[:, None]) & (ids >= 0)
    return first_valid(sims, ids, ok, k)


def knn_excluding_groups(
    vectors: np.ndarray,
    groups: np.ndarray,
    k: int,
    *,
    base: np.ndarray | None = None,
    base_groups: np.ndarray | None = None,
    extra: int = 64,
    exact_max: int = EXACT_MAX,
    no_shared_groups: bool = False,
) -> np.ndarray:
    """Mean similarity of each row of `vectors` to its k nearest rows of `base` (default: itself)
    that belong to another group (for margin scoring). NaN where there is none.

    `extra` spare neighbours are searched to skip rows of the own group; `no_shared_groups`
    promises that no row of `vectors` has its group in `base`, so none are searched (the same
    values: the sum runs over the same zero-padded columns).
    """
    x = _f32(vectors)
    if base is None:
        base, base_groups = x, groups
    assert base_groups is not None
    y = _f32(base)
    n = x.shape[0]
    if n == 0 or y.shape[0] == 0:
        return np.full(n, np.nan, dtype=np.float32)
    kk = min(y.shape[0], k + extra)
    sims, ids = search(x, y, min(kk, k) if no_shared_groups else kk, exact_max=exact_max)
    if sims.shape[1] < kk:
        sims = np.hstack([sims, np.zeros((n, kk - sims.shape[1]), np.float32)])
        ids = np.hstack([ids, np.full((n, kk - ids.shape[1]), -1, np.int64)])
    ok = (ids >= 0) & (base_groups[np.maximum(ids, 0)] != groups[:, None])
    # keep the first k valid columns of each row
    rank = np.cumsum(ok, axis=1)
    keep = ok & (rank <= k)
    cnt = keep.sum(axis=1)
    tot = np.where(keep, sims, 0.0).sum(axis=1)
    out = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan).astype(np.float32)
    return out


def candidate_pairs(
    docs: np.ndarray,
    k: int,
    floor: float = -1.0,
    *,
    passages: np.ndarray | None = None,
    knn_done: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Unique (a < b) pairs among each document's k nearest neighbours with cosine >= floor, sorted.

    `knn_done` is a search of `docs` already made (sims, ids), reused; with `passages` (one row per
    document) their nearest neighbours are searched too and the pairs are the union of both.
    """
    pairs = _knn_pairs(docs, k, floor, knn_done)
    if passages is None:
        return pairs
    more = _knn_pairs(passages, k, floor)
    n = docs.shape[0]
    key = np.union1d(pairs[:, 0] * n + pairs[:, 1], more[:, 0] * n + more[:, 1])
    return np.stack([key // n, key % n], axis=1).astype(np.int64)


def _knn_pairs(
    docs: np.ndarray, k: int, floor: float, knn_done: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    n = docs.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    kk = min(k, n - 1)
    if knn_done is not None and knn_done[1].shape[1] >= kk:
        sims, ids = knn_done[0][:, :kk], knn_done[1][:, :kk]
    else:
        sims, ids = knn(docs, kk)
    rows = np.repeat(np.arange(n, dtype=np.int64), ids.shape[1])
    cols = ids.ravel()
    ok = (cols >= 0) & (sims.ravel() >= floor) & (cols != rows)
    rows, cols = rows[ok], cols[ok]
    key = np.unique(np.minimum(rows, cols) * n + np.maximum(rows, cols))  # sorted by (a, b)
    return np.stack([key // n, key % n], axis=1).astype(np.int64)
