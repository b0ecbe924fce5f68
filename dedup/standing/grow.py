"""Standing index, growth: the neighbour lists behind candidate pairs and margin denominators, kept
up to date as articles join, without searching the old articles against each other again.

Takes the centred vectors of the open articles (old rows first, then the new ones) and the old
rows' lists; gives the lists of all rows and the candidate pairs the new rows bring. A batch run
(`dedup.index.candidate_pairs`, `dedup.score.space.margin_denominators`) keeps, for every vector, its
k most similar others: the top k of a union is the top k of the old top k and the new vectors, so
the old rows are searched against the new rows only, and the lists equal a batch run's (exact
search; the one-shot run switches to an inverted file past `dedup.index.EXACT_MAX`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import index as index_mod
from ..score.space import KNN_FLOOR, MARGIN_K

_EXTRA = 64  # spare neighbours searched to skip a query's own article's units


def merge_top(old: np.ndarray, new: np.ndarray, k: int) -> np.ndarray:
    """Row-wise top k (descending) of two (n, *) similarity arrays; -inf pads."""
    both = np.concatenate([old, new], axis=1) if new.size else old
    if both.shape[1] < k:
        both = np.hstack([both, np.full((both.shape[0], k - both.shape[1]), -np.inf, np.float32)])
    return -np.sort(-both, axis=1)[:, :k].astype(np.float32)


def _search(
    xq: np.ndarray, xb: np.ndarray, k: int, q_groups: np.ndarray | None, b_groups: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (sims, base ids) of each query among `xb`, skipping base rows of the query's own group
    when groups are given; -inf / -1 pad."""
    nq = xq.shape[0]
    if nq == 0 or xb.shape[0] == 0:
        return np.full((nq, k), -np.inf, np.float32), np.full((nq, k), -1, np.int64)
    extra = _EXTRA if q_groups is not None else 0
    sims, ids = index_mod.search(xq, xb, min(k + extra, xb.shape[0]))
    ok = ids >= 0
    if q_groups is not None and b_groups is not None:
        ok &= b_groups[np.maximum(ids, 0)] != q_groups[:, None]
    order = np.argsort(~ok, axis=1, kind="stable")[:, :k]
    s = np.take_along_axis(np.where(ok, sims, -np.inf), order, axis=1).astype(np.float32)
    i = np.take_along_axis(np.where(ok, ids, -1), order, axis=1)
    if s.shape[1] < k:
        s = np.hstack([s, np.full((nq, k - s.shape[1]), -np.inf, np.float32)])
        i = np.hstack([i, np.full((nq, k - i.shape[1]), -1, np.int64)])
    return s, i


def grow_pairs(x: np.ndarray, n_old: int, old_top: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (a < b, rows of `x`, sorted) that rows n_old.. bring: each new row's k nearest
    rows, and each old row's nearest new rows that enter its k nearest; with every row's top-k
    similarities (to keep)."""
    n = x.shape[0]
    new = x[n_old:]
    rows_new = np.arange(n_old, n, dtype=np.int64)
    s_new, i_new = _search(new, x, k, rows_new, np.arange(n, dtype=np.int64))  # self excluded
    keys = [
        np.minimum(rows_new[:, None], i_new)[i_new >= 0] * n
        + np.maximum(rows_new[:, None], i_new)[i_new >= 0]
    ]
    top_old = old_top
    if n_old and new.shape[0]:
        s_rev, i_rev = _search(x[:n_old], new, k, None, None)
        top_old = merge_top(old_top, s_rev, k)
        enter = (i_rev >= 0) & (s_rev >= top_old[:, -1:])
        a = np.repeat(np.arange(n_old, dtype=np.int64), k).reshape(n_old, k)[enter]
        keys.append(a * n + (n_old + i_rev[enter]))
    key = np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
    return np.stack([key // n, key % n], axis=1).astype(np.int64), np.vstack([top_old, s_new])


def grow_unit_lists(
    old: Mapping[str, np.ndarray], x: np.ndarray, lang: np.ndarray, owner: np.ndarray, m_old: int
) -> dict[str, np.ndarray]:
    """Every unit's MARGIN_K highest similarities to units of each language (its own article's
    excluded), for units 0..m_old-1 given in `old` (language -> (m_old, MARGIN_K)) and units m_old..
    new. `lang` holds each unit's language name."""
    m = x.shape[0]
    out: dict[str, np.ndarray] = {}
    new_rows = np.arange(m_old, m)
    for name in sorted(set(lang.tolist()) | set(old)):
        of_l = np.flatnonzero(lang == name)
        prev = old.get(name, np.full((m_old, MARGIN_K), -np.inf, np.float32))
        s_new, _ = _search(x[new_rows], x[of_l], MARGIN_K, owner[new_rows], owner[of_l])
        new_of_l = of_l[of_l >= m_old]
        if m_old and new_of_l.size:
            s_rev, _ = _search(x[:m_old], x[new_of_l], MARGIN_K, None, None)
            prev = merge_top(prev, s_rev, MARGIN_K)
        out[name] = np.vstack([prev, s_new]).astype(np.float32)
    return out


def denominators(lists: Mapping[str, np.ndarray], lang_names: list[str], m: int) -> np.ndarray:
    """(L, m) margin denominators from the unit lists, as `margin_denominators` computes them: the mean
    of the found similarities, at least KNN_FLOOR; 1 where a language has no other unit."""
    out = np.ones((len(lang_names), m), dtype=np.float32)
    for li, name in enumerate(lang_names):
        s = lists.get(name)
        if s is None:
            continue
        ok = np.isfinite(s)
        cnt = ok.sum(axis=1)
        mean = np.where(ok, s, 0.0).sum(axis=1) / np.maximum(cnt, 1)
        out[li] = np.where(cnt > 0, np.maximum(mean, KNN_FLOOR), 1.0)
    return out
