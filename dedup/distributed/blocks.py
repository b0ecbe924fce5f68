"""The Ray engine's blocks: past `Config.driver_max_articles`, the corpus cut into overlapping blocks
that workers index and score on their own (`dedup.distributed.stitch`).

Takes each article's `published` field and its centred passage vector, rows in id order; gives the
blocks, each a sorted array of rows: articles with a date in overlapping time windows
(`WINDOW_DAYS` long, `OVERLAP_DAYS` shared by neighbouring windows), then the undated articles, and
every window of more than `BLOCK_MAX_ARTICLES`, split into the cells of a FAISS coarse quantizer
(k-means of their passage vectors), each article in its `CELLS_PER_ARTICLE` nearest cells. Every
article is in at least one block. Two articles that share no block are never compared.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np

from .. import features

#: days of a time window: the reports of one story fall within days of each other
WINDOW_DAYS = 7
#: days shared by consecutive windows: reports on either side of a cut still meet in one window
OVERLAP_DAYS = 2
#: a block larger than this (a busy window, the undated articles) is split into coarse cells
BLOCK_MAX_ARTICLES = 50_000
#: cells an article joins (its nearest): near neighbours on either side of a cell border still meet
CELLS_PER_ARTICLE = 2
KMEANS_ITERATIONS = 20  # of the coarse quantizer (FAISS's k-means)
KMEANS_SEED = 1234  # the same cells on every run


def day_of(published: str | None) -> int | None:
    """The day (proleptic ordinal) of a `published` field, None without a full date."""
    d = features.parse_published(published)
    if d is None or d[0] is None:
        return None
    try:
        return dt.date(d[0], d[1], d[2]).toordinal()
    except ValueError:
        return None


def time_windows(days: Sequence[int | None]) -> tuple[list[np.ndarray], np.ndarray]:
    """The rows of each non-empty time window in time order (windows start every WINDOW_DAYS -
    OVERLAP_DAYS days from the earliest date), and the undated rows."""
    stride = WINDOW_DAYS - OVERLAP_DAYS
    dated = [d for d in days if d is not None]
    if not dated:
        return [], np.arange(len(days), dtype=np.int64)
    t0 = min(dated)
    windows: dict[int, list[int]] = {}
    undated: list[int] = []
    for r, d in enumerate(days):
        if d is None:
            undated.append(r)
            continue
        off = d - t0
        w = off // stride
        while w >= 0 and off < w * stride + WINDOW_DAYS:  # every window [w*stride, w*stride+WINDOW_DAYS)
            windows.setdefault(w, []).append(r)
            w -= 1
    return [np.asarray(windows[w], dtype=np.int64) for w in sorted(windows)], np.asarray(undated, np.int64)


def coarse_cells(vectors: np.ndarray, rows: np.ndarray, limit: int) -> list[np.ndarray]:
    """`rows` as one block when at most `limit`, else split into the cells of a k-means quantizer of
    their vectors (about CELLS_PER_ARTICLE x len(rows) / limit cells), each row in its nearest
    CELLS_PER_ARTICLE cells; empty cells dropped. Cells are not balanced: one may exceed `limit`."""
    n = int(rows.size)
    if n <= limit:
        return [rows] if n else []
    import faiss

    cells = min(n, math.ceil(CELLS_PER_ARTICLE * n / limit))
    x = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    km = faiss.Kmeans(x.shape[1], cells, niter=KMEANS_ITERATIONS, seed=KMEANS_SEED, spherical=True)
    km.train(x)
    _, near = km.index.search(x, min(CELLS_PER_ARTICLE, cells))
    out = [rows[np.flatnonzero((near == c).any(axis=1))] for c in range(cells)]
    return [c for c in out if c.size]


def blocks_of(
    days: Sequence[int | None], vectors: np.ndarray, limit: int = BLOCK_MAX_ARTICLES
) -> list[np.ndarray]:
    """The blocks of a corpus: time windows (each split into cells past `limit`), then the cells of
    the undated articles; each block a sorted array of rows."""
    windows, undated = time_windows(days)
    out: list[np.ndarray] = []
    for w in [*windows, undated]:
        out.extend(coarse_cells(vectors, w, limit))
    return out


__all__ = ["BLOCK_MAX_ARTICLES", "CELLS_PER_ARTICLE", "OVERLAP_DAYS", "WINDOW_DAYS", "blocks_of", "day_of"]
