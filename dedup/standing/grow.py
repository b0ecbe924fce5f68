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

from ..score.space import KNN_FLOOR, MARGIN_K

_EXTRA = 64  # spare neighbours a first search takes to skip a row's own group (as the one-shot run)
_Q_BLOCK = 4096  # query rows per product block
_B_BLOCK = 4096  # base rows per product block (a block is 64 MB of float32 similarities)


def merge_top(old: np.ndarray, new: np.ndarray, k: int) -> np.ndarray:
    """Row-wise top k (descending) of two (n, *) similarity arrays; -inf pads."""
    both = np.concatenate([old, new], axis=1) if new.size else old
    if both.shape[1] < k:
        both = np.hstack([both, np.full((both.shape[0], k - both.shape[1]), -np.inf, np.float32)])
    return -np.sort(-both, axis=1)[:, :k].astype(np.float32)


def _keep(
    run_s: np.ndarray, run_i: np.ndarray, rows: np.ndarray | slice, s: np.ndarray, ids: np.ndarray, k: int
) -> None:
    """Fold the similarities `s` (len(rows), w) to `ids` (w,) into the running top k of `rows`."""
    if s.shape[1] > k:
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        s, i = np.take_along_axis(s, part, axis=1), ids[part]
    else:
        i = np.broadcast_to(ids, s.shape)
    cs = np.concatenate([run_s[rows], s], axis=1)
    ci = np.concatenate([run_i[rows], i], axis=1)
    part = np.argpartition(-cs, k - 1, axis=1)[:, :k]
    run_s[rows] = np.take_along_axis(cs, part, axis=1)
    run_i[rows] = np.take_along_axis(ci, part, axis=1)


def _first_search(
    q: np.ndarray, q_group: np.ndarray, base: np.ndarray, base_group: np.ndarray, of_l: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (sims, base rows) of each q row among the base rows `of_l` (a mask), skipping its own
    group: `dedup.index.search` (exact, or an inverted file past its size), as the one-shot run."""
    from .. import index as index_mod

    cols = np.flatnonzero(of_l)
    sims, ids = index_mod.search(q, base[cols], min(k + _EXTRA, cols.size))
    ok = ids >= 0
    ids = np.where(ok, cols[np.maximum(ids, 0)], -1)
    ok &= base_group[np.maximum(ids, 0)] != q_group[:, None]
    return index_mod.first_valid(np.where(ok, sims, -np.inf), ids, ok, k)


def cross_top(
    q: np.ndarray,
    q_group: np.ndarray,
    q_lang: np.ndarray,
    base: np.ndarray,
    base_group: np.ndarray,
    base_lang: np.ndarray,
    n_old: int,
    k: int,
    floor: dict[int, np.ndarray] | None = None,
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Both directions of one product of the new rows `q` with the `base` rows (pairs of one group,
    such as a row and itself or the units of one article, skipped): for each language lg of the base,
    every q row's k most similar base rows of language lg; for each language lg of q, every one of the
    first `n_old` base rows' k most similar q rows of language lg. Languages are integer codes; gives
    {lg: (sims, ids)} twice, each row sorted descending, -inf / -1 where fewer exist."""
    nq, nb = q.shape[0], base.shape[0]
    q_langs, b_langs = np.unique(q_lang).tolist(), np.unique(base_lang).tolist()
    if n_old == 0:  # no old rows (a new index, a refit): the one-shot run's search, FAISS
        return {lg: _first_search(q, q_group, base, base_group, base_lang == lg, k) for lg in b_langs}, {}
    fwd = {lg: (np.full((nq, k), -np.inf, np.float32), np.full((nq, k), -1, np.int64)) for lg in b_langs}
    rev = {
        lg: (np.full((n_old, k), -np.inf, np.float32), np.full((n_old, k), -1, np.int64)) for lg in q_langs
    }
    q_of = {lg: np.flatnonzero(q_lang == lg) for lg in q_langs}
    for b0 in range(0, nb, _B_BLOCK):
        b1 = min(nb, b0 + _B_BLOCK)
        xb, gb, lb = base[b0:b1], base_group[b0:b1], base_lang[b0:b1]
        cols = {lg: np.flatnonzero(lb == lg) for lg in b_langs}
        old_rows = slice(b0, min(b1, n_old)) if b0 < n_old else None
        for q0 in range(0, nq, _Q_BLOCK):
            q1 = min(nq, q0 + _Q_BLOCK)
            s = q[q0:q1] @ xb.T
            s[q_group[q0:q1, None] == gb[None, :]] = -np.inf
            for lg, c in cols.items():
                if not c.size:
                    continue
                run_s, run_i = fwd[lg]
                kth = run_s[q0:q1].min(axis=1)  # what a new neighbour must beat
                block = s[:, c]
                hit = block >= kth[:, None]
                rows_hit = np.flatnonzero(hit.any(axis=1))
                if rows_hit.size == q1 - q0:
                    _keep(run_s, run_i, slice(q0, q1), block, b0 + c, k)
                elif rows_hit.size:
                    sub = np.where(hit[rows_hit], block[rows_hit], -np.inf)
                    _keep(run_s, run_i, q0 + rows_hit, sub, b0 + c, k)
            if old_rows is None:
                continue
            st = s[:, : old_rows.stop - b0].T  # (old base rows of the block, q rows)
            for lg, r in q_of.items():
                r = r[(r >= q0) & (r < q1)]
                if not r.size:
                    continue
                block = st[:, r - q0]
                if floor is not None and lg in floor:
                    hit = block >= floor[lg][old_rows, None]
                    rows_hit = np.flatnonzero(hit.any(axis=1))
                    if rows_hit.size:
                        _keep(
                            *rev[lg], b0 + rows_hit, np.where(hit[rows_hit], block[rows_hit], -np.inf), r, k
                        )
                else:
                    _keep(*rev[lg], old_rows, block, r, k)
    for d in (fwd, rev):
        for s, i in d.values():
            o = np.argsort(-s, axis=1, kind="stable")
            s[:], i[:] = np.take_along_axis(s, o, axis=1), np.take_along_axis(i, o, axis=1)
            i[~np.isfinite(s)] = -1
    return fwd, rev


def grow_pairs(x: np.ndarray, n_old: int, old_top: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (a < b, rows of `x`, sorted) that rows n_old.. bring: each new row's k nearest
    rows, and each old row's nearest new rows that enter its k nearest; with every row's top-k
    similarities (to keep)."""
    n = x.shape[0]
    rows = np.arange(n, dtype=np.int64)
    one = np.zeros(n, np.int64)
    fwd, rev = cross_top(x[n_old:], rows[n_old:], one[n_old:], x, rows, one, n_old, k, {0: old_top[:, k - 1]})
    s_new, i_new = fwd[0] if fwd else (np.zeros((0, k), np.float32), np.zeros((0, k), np.int64))
    rows_new = rows[n_old:, None]
    ok = i_new >= 0
    keys = [np.minimum(rows_new, i_new)[ok] * n + np.maximum(rows_new, i_new)[ok]]
    top_old = old_top
    if n_old and n > n_old:
        s_rev, i_rev = rev[0]
        top_old = merge_top(old_top, s_rev, k)
        enter = (i_rev >= 0) & (s_rev >= top_old[:, -1:])
        a = np.broadcast_to(rows[:n_old, None], i_rev.shape)[enter]
        keys.append(a * n + (n_old + i_rev[enter]))
    key = np.unique(np.concatenate(keys))
    return np.stack([key // n, key % n], axis=1).astype(np.int64), np.vstack([top_old, s_new])


def grow_unit_lists(
    old: Mapping[str, np.ndarray], x: np.ndarray, lang: np.ndarray, owner: np.ndarray, m_old: int
) -> dict[str, np.ndarray]:
    """Every unit's MARGIN_K highest similarities to units of each language (its own article's
    excluded), for units 0..m_old-1 given in `old` (language -> (m_old, MARGIN_K)) and units m_old..
    new. `lang` holds each unit's language name."""
    m = x.shape[0]
    names = sorted(set(lang.tolist()) | set(old))
    code = {name: c for c, name in enumerate(names)}
    lc = np.array([code[v] for v in lang.tolist()], dtype=np.int64)
    floor = {code[name]: v[:, MARGIN_K - 1] for name, v in old.items()}
    fwd, rev = cross_top(x[m_old:], owner[m_old:], lc[m_old:], x, owner, lc, m_old, MARGIN_K, floor)
    out: dict[str, np.ndarray] = {}
    for name in names:
        c = code[name]
        prev = old.get(name, np.full((m_old, MARGIN_K), -np.inf, np.float32))
        if c in rev:
            prev = merge_top(prev, rev[c][0], MARGIN_K)
        s_new = fwd[c][0] if c in fwd else np.full((m - m_old, MARGIN_K), -np.inf, np.float32)
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
