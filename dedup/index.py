"""Index stage: FAISS nearest-neighbour search over L2-normalised vectors.

FAISS normalises and stores its own copies, so callers' arrays are never modified.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EXACT_MAX = 200_000  # above this many vectors an HNSW index replaces exact search


def knn(vectors: np.ndarray, k: int, *, exact_max: int = EXACT_MAX) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of every row among all rows (itself excluded): (sims, ids), -1 = none."""
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32).copy()
    n, d = x.shape
    if n == 0:
        return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
    kk = min(k + 1, n)
    index: Any
    if n <= exact_max:
        index = faiss.IndexFlatIP(d)
    else:
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = max(64, 2 * kk)
    index.add(x)
    sims, ids = index.search(x, kk)
    # drop self matches; keep k columns
    out_s = np.full((n, k), -np.inf, dtype=np.float32)
    out_i = np.full((n, k), -1, dtype=np.int64)
    for r in range(n):
        keep = ids[r] != r
        row_i = ids[r][keep][:k]
        row_s = sims[r][keep][:k]
        valid = row_i >= 0
        out_i[r, : valid.sum()] = row_i[valid]
        out_s[r, : valid.sum()] = row_s[valid]
    return out_s, out_i


def knn_excluding_groups(
    vectors: np.ndarray,
    groups: np.ndarray,
    k: int,
    *,
    base: np.ndarray | None = None,
    base_groups: np.ndarray | None = None,
    extra: int = 64,
) -> np.ndarray:
    """Mean similarity of each row of `vectors` to its k nearest rows of `base` (default: itself)
    that belong to another group (for margin scoring). NaN where there is none."""
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32).copy()
    if base is None:
        base, base_groups = x, groups
    assert base_groups is not None
    y = np.ascontiguousarray(base, dtype=np.float32).copy()
    n, d = x.shape
    if n == 0 or y.shape[0] == 0:
        return np.full(n, np.nan, dtype=np.float32)
    kk = min(y.shape[0], k + extra)
    index: Any
    if y.shape[0] <= EXACT_MAX:
        index = faiss.IndexFlatIP(d)
    else:
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = max(64, 2 * kk)
    index.add(y)
    sims, ids = index.search(x, kk)
    ok = (ids >= 0) & (base_groups[np.maximum(ids, 0)] != groups[:, None])
    # keep the first k valid columns of each row
    rank = np.cumsum(ok, axis=1)
    keep = ok & (rank <= k)
    cnt = keep.sum(axis=1)
    tot = np.where(keep, sims, 0.0).sum(axis=1)
    out = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan).astype(np.float32)
    return out
