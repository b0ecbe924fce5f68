"""Standing index, join: new rows meet the open ones, are scored and clustered, and ids stay stable.

Takes `Open` (old rows first, then the new ones), the frozen `Stats` and the config; gives the rows'
neighbour lists and scored pairs brought up to date, both levels (old clusters and stories kept whole
as starting clusters: they never split, only grow or merge), the canonicals, and stable ids: a cluster
keeps its id whatever its canonical becomes; when old clusters merge the oldest one's id stays and
the others' are reported merged; a cluster of new articles only takes its canonical's id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .. import canonical as canon
from ..cluster import average_linkage, story_linkage
from ..config import Config
from ..score import PairScorer, PairScores, score_pairs
from ..score import lexical as lex
from ..score.centring import centre_with
from ..score.space import MARGIN_K, Space, lang_index
from ..score.story import StoryScorer
from . import grow
from .state import PAIR_FIELDS, Open, Stats


@dataclass(frozen=True)
class Merge:
    """Old clusters (or stories) joined into one by new articles."""

    level: str  # "duplicate" or "story"
    into: str  # the id that stays
    merged: tuple[str, ...]  # the ids that end
    bridges: tuple[str, ...]  # the new articles in the joined cluster
    evidence: tuple[tuple[str, str, float], ...]  # the strongest pair between each merged part and the rest


@dataclass(frozen=True)
class Level:
    """One level's canonicals for the rows whose cluster the batch touched (the others keep theirs)."""

    rows: np.ndarray  # the touched rows
    canonical: dict[int, int]  # touched row -> its cluster's canonical row
    reason: dict[int, str]  # canonical row -> why
    score: dict[int, float]  # touched row -> its score with its canonical


@dataclass(frozen=True)
class Joined:
    """The outcome of a join: the updated rows, their scorer, both levels and the merges."""

    open: Open
    scorer: PairScorer
    duplicate: Level
    story: Level
    merges: tuple[Merge, ...]


def tfidf(counts: object, idf: np.ndarray) -> object:
    """Normalised TF-IDF rows of a CSR of term counts (sublinear term frequency), as `lexical.rows`."""
    m = counts.tocsr().astype(np.float64, copy=True)  # type: ignore[attr-defined]
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).reshape(-1))
    scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 1.0)
    m = m.multiply(scale[:, None]).tocsr()
    return m.astype(np.float32)


Centred = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]  # units, documents, passages


def centred(o: Open, stats: Stats, kind: str) -> Centred:
    """The open rows' unit, document and passage vectors centred on the frozen language means."""
    n, owner = o.n, o.unit_owner
    cu = centre_with(
        np.array(o.units, dtype=np.float32, copy=True), [o.langs[r] for r in owner.tolist()], stats.unit_means
    )
    if kind == "vectors":
        return cu, cu, None  # one unit per document: the same vectors
    docs = np.zeros((n, cu.shape[1]), dtype=np.float32)
    np.add.at(docs, owner, cu)
    norms = np.linalg.norm(docs, axis=1, keepdims=True)
    docs = (docs / np.where(norms > 1e-12, norms, 1.0)).astype(np.float32)
    assert o.passages is not None
    cp = centre_with(np.array(o.passages, dtype=np.float32, copy=True), o.langs, stats.passage_means)
    return cu, docs, cp


def space_of(o: Open, stats: Stats, kind: str, vectors: Centred | None = None) -> tuple[Space, StoryScorer]:
    """The prepared space of the open rows (`vectors`: their `centred` vectors, when at hand)."""
    n = o.n
    lang_names, doc_lang = lang_index(o.langs) if n else ([], np.zeros(0, np.int64))
    cu, docs, cp = vectors if vectors is not None else centred(o, stats, kind)
    starts = np.searchsorted(o.unit_owner, np.arange(n + 1)).astype(np.int64)
    unit_knn = (
        grow.denominators(o.unit_lists, lang_names, cu.shape[0])
        if o.unit_lists
        else np.ones((len(lang_names), cu.shape[0]), np.float32)
    )
    space = Space(
        units=cu,
        owner=o.unit_owner,
        starts=starts,
        docs=docs,
        unit_knn=unit_knn,
        doc_lang=doc_lang,
        passages=cp,
    )
    if kind == "vectors" or stats.lexical is None or o.counts is None:
        return space, StoryScorer.of_space(space)
    lexical = lex.Lexical(tfidf(o.counts, stats.lexical.idf), doc_lang)
    return space, StoryScorer(space.story_docs, doc_lang, lexical, o.evidence)


def grow_lists(o: Open, n_old: int, vectors: Centred, k: int, kind: str) -> tuple[Open, np.ndarray]:
    """`o` with every row's neighbour lists up to date, and the candidate pairs rows n_old.. bring."""
    m_old = int(np.searchsorted(o.unit_owner, n_old))
    owner = o.unit_owner
    cu, docs, cp = vectors
    if kind == "vectors" and len(set(o.langs)) == 1 and k >= MARGIN_K:
        # one unit per article and one language: the margin lists are the first MARGIN_K of the
        # document lists (the same search, as `space_from_documents` does it)
        pairs, doc_top = grow.grow_pairs(cu, n_old, o.doc_top[:n_old], k)
        lists = {o.langs[0]: np.ascontiguousarray(doc_top[:, :MARGIN_K])}
        return replace(o, unit_lists=lists, doc_top=doc_top), pairs
    langs_u = np.asarray([o.langs[r] for r in owner.tolist()], dtype=object).astype(str)
    old_lists = {lang: v[:m_old] for lang, v in o.unit_lists.items()}
    lists = grow.grow_unit_lists(old_lists, cu, langs_u, owner, m_old)
    pairs, doc_top = grow.grow_pairs(docs, n_old, o.doc_top[:n_old], k)
    passage_top = None
    if cp is not None:
        assert o.passage_top is not None
        more, passage_top = grow.grow_pairs(cp, n_old, o.passage_top[:n_old], k)
        n = o.n
        key = np.union1d(pairs[:, 0] * n + pairs[:, 1], more[:, 0] * n + more[:, 1])
        pairs = np.stack([key // n, key % n], axis=1).astype(np.int64)
    return replace(o, unit_lists=lists, doc_top=doc_top, passage_top=passage_top), pairs


def merge_tables(n: int, old: PairScores, new: PairScores) -> PairScores:
    """One pair table of two (the new scores win where a pair is in both), sorted by (a, b)."""
    key = np.concatenate([new.a * n + new.b, old.a * n + old.b])
    order = np.argsort(key, kind="stable")  # equal keys: the new score first
    ks = key[order]
    first = order[np.r_[True, ks[1:] != ks[:-1]] if ks.size else np.zeros(0, bool)]
    cols = [np.concatenate([getattr(new, f), getattr(old, f)])[first] for f in ("a", "b", *PAIR_FIELDS)]
    return PairScores(*cols)


def _row_labels(ids: Sequence[str], n_old: int, n: int) -> np.ndarray:
    """Starting labels: old rows with the same stable id together (their smallest row), new rows alone."""
    lab = np.arange(n, dtype=np.int64)
    first: dict[str, int] = {}
    for r in range(n_old):
        lab[r] = first.setdefault(ids[r], r)
    return lab


def _stable(
    labels: np.ndarray,
    rows: np.ndarray,
    canon_of: dict[int, int],
    old_ids: Sequence[str],
    n_old: int,
    row_ids: Sequence[str],
) -> tuple[list[str], list[tuple[str, list[str], list[int]]]]:
    """Stable id of every row (untouched rows keep theirs), and the merges (id kept, ids ended, rows
    of the joined cluster)."""
    members: dict[int, list[int]] = {}
    for r in rows.tolist():
        members.setdefault(int(labels[r]), []).append(r)
    out = list(old_ids[:n_old]) + [""] * (len(labels) - n_old)
    merges: list[tuple[str, list[str], list[int]]] = []
    for group in members.values():
        olds: dict[str, int] = {}
        for r in group:
            if r < n_old:
                olds.setdefault(old_ids[r], r)  # rows come in arrival order: the first is the oldest
        if not olds:
            cid = row_ids[canon_of[group[0]]]
        else:
            ranked = sorted(olds, key=lambda i: olds[i])
            cid = ranked[0]
            if len(ranked) > 1:
                merges.append((cid, ranked[1:], group))
        for r in group:
            out[r] = cid
    return out, merges


def _evidence(
    scorer: PairScorer,
    level: str,
    rows: list[int],
    ids: list[str],
    old_ids: Sequence[str],
    n_old: int,
    ended: list[str],
) -> tuple[tuple[str, str, float], ...]:
    """For each ended part of a merge, its strongest pair with the rest of the joined cluster."""
    out = []
    for e in ended:
        part = [r for r in rows if r < n_old and old_ids[r] == e]
        rest = [r for r in rows if r not in part]
        if not part or not rest:
            continue
        p = np.array([[x, y] for x in part for y in rest], dtype=np.int64)
        s = scorer.scores(p, level)
        j = int(np.argmax(s))
        out.append((ids[int(p[j, 0])], ids[int(p[j, 1])], round(float(s[j]), 4)))
    return tuple(out)


def _pairs_touching(table: PairScores, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices into `table`, and its (a, b), of the pairs with an end among `rows` (a bool mask)."""
    sel = np.flatnonzero(rows[table.a] | rows[table.b])
    return sel, table.a[sel], table.b[sel]


def _canonicals(
    labels: np.ndarray,
    rows: np.ndarray,
    o: Open,
    config: Config,
    cen: np.ndarray,
    fn: Callable[[np.ndarray], np.ndarray],
) -> Level:
    """The canonicals of the clusters of `rows` (whole clusters: rows holds every member)."""
    sub = rows.tolist()
    res = canon.assign(labels[rows], [o.candidates[r] for r in sub], config, cen[rows], lambda p: fn(rows[p]))
    return Level(
        rows=rows,
        canonical={r: sub[c] for r, c in zip(sub, res.of_row, strict=True)},
        reason={sub[c]: why for c, why in res.reasons.items()},
        score=dict(zip(sub, res.score, strict=True)),
    )


def _positions(table: PairScores, pairs: np.ndarray, n: int) -> np.ndarray:
    """Row of each (a, b) of `pairs` in the sorted `table` (every pair is in it)."""
    return np.searchsorted(table.a * n + table.b, pairs[:, 0] * n + pairs[:, 1])


def _whole(labels: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Bool mask of the rows whose cluster (by `labels`) holds a row of the mask `seed`."""
    return np.isin(labels, labels[seed])


def join(
    o: Open,
    n_old: int,
    stats: Stats,
    config: Config,
    kind: str,
    *,
    rescore_old: bool = False,
    n_known: int | None = None,
) -> Joined:
    """Join rows n_old.. of `o` to rows 0..n_old-1 (`rescore_old`: score the old pairs again too).
    Rows 0..n_known-1 (default n_old) have clusters and stories, kept whole (a refit searches and
    scores every row again, n_old = 0, and keeps all of them).

    Only clusters the batch touches are linked again: those holding a new row or an end of a new
    pair (old clusters among themselves were settled before and their scores have not moved), and at
    the story level the stories holding a touched duplicate cluster; a merge needs a pair with a
    touched cluster, so one-hop chains are found, longer ones (an old story joining another only
    through a third that a new article joined) wait for the next batch that touches them."""
    n = o.n
    known = n_old if n_known is None else n_known
    vectors = centred(o, stats, kind)  # once: the lists, the pairs and the space read them
    o, new_pairs = grow_lists(o, n_old, vectors, config.neighbours, kind)
    space, story = space_of(o, stats, kind, vectors)
    if rescore_old:
        key = np.union1d(new_pairs[:, 0] * n + new_pairs[:, 1], o.pairs.a * n + o.pairs.b)
        new_pairs = np.stack([key // n, key % n], axis=1).astype(np.int64)
    table = merge_tables(
        n, o.pairs, score_pairs(space, new_pairs, o.evidence, story, progress=config.progress)
    )
    scorer = PairScorer(space, table, o.evidence, story)
    # a merge needs a pair at or above the threshold: the clusters of new rows and of the ends of
    # such new pairs are the ones to link again, with every pair that touches them
    strong = new_pairs[table.duplicate[_positions(table, new_pairs, n)] >= config.duplicate_threshold]
    seed = np.zeros(n, bool)
    seed[known:] = True
    seed[strong.reshape(-1)] = True
    init_dup = _row_labels(o.cluster, known, n)
    touched = _whole(init_dup, seed)
    sel, a, b = _pairs_touching(table, touched, n)
    dup = average_linkage(
        n,
        a,
        b,
        table.duplicate[sel],
        config.duplicate_threshold,
        init=init_dup,
        score_fn=lambda p: scorer.scores(p, "duplicate"),
    )
    s_strong = new_pairs[table.story[_positions(table, new_pairs, n)] >= config.story_threshold]
    s_seed = _whole(dup, touched)
    s_seed[s_strong.reshape(-1)] = True
    init_story = _row_labels(o.story, known, n)
    s_touched = _whole(init_story, s_seed)
    sel, a, b = _pairs_touching(table, s_touched, n)
    sto = story_linkage(
        dup,
        a,
        b,
        config.story_threshold,
        lambda p: scorer.scores(p, "story"),
        space.doc_lang,
        init=init_story,
    )
    cen = canon.centrality(n, table.a, table.b, table.story)
    d_rows = np.flatnonzero(_whole(dup, touched))
    s_rows = np.flatnonzero(_whole(sto, s_touched))
    cd = _canonicals(dup, d_rows, o, config, cen, lambda p: scorer.scores(p, "duplicate"))
    cs = _canonicals(sto, s_rows, o, config, cen, lambda p: scorer.scores(p, "story"))
    cluster_ids, dmerge = _stable(dup, d_rows, cd.canonical, o.cluster, known, o.ids)
    story_ids, smerge = _stable(sto, s_rows, cs.canonical, o.story, known, o.ids)
    merges = []
    for level, found, old_ids in (("duplicate", dmerge, o.cluster), ("story", smerge, o.story)):
        for into, ended, rows in found:
            bridges = tuple(o.ids[r] for r in rows if r >= known)
            ev = _evidence(scorer, level, rows, o.ids, old_ids, known, ended)
            merges.append(Merge(level, into, tuple(ended), bridges, ev))
    return Joined(
        open=replace(o, pairs=table, cluster=cluster_ids, story=story_ids),
        scorer=scorer,
        duplicate=cd,
        story=cs,
        merges=tuple(merges),
    )


def subset(o: Open, keep: np.ndarray) -> Open:
    """The rows `keep` (sorted) of `o`, renumbered."""
    n = o.n
    new_row = np.full(n, -1, np.int64)
    new_row[keep] = np.arange(keep.size)
    ku = new_row[o.unit_owner] >= 0
    pk = (new_row[o.pairs.a] >= 0) & (new_row[o.pairs.b] >= 0)
    p = o.pairs
    pairs = PairScores(new_row[p.a[pk]], new_row[p.b[pk]], *(getattr(p, f)[pk] for f in PAIR_FIELDS))
    kl = keep.tolist()
    return Open(
        seq=o.seq[keep],
        ids=[o.ids[r] for r in kl],
        langs=[o.langs[r] for r in kl],
        times=o.times[keep],
        units=o.units[ku],
        unit_owner=new_row[o.unit_owner[ku]],
        passages=o.passages[keep] if o.passages is not None else None,
        counts=o.counts[keep] if o.counts is not None else None,
        evidence=[o.evidence[r] for r in kl] if o.evidence is not None else None,
        candidates=[o.candidates[r] for r in kl],
        doc_top=o.doc_top[keep],
        passage_top=o.passage_top[keep] if o.passage_top is not None else None,
        unit_lists={lang: v[ku] for lang, v in o.unit_lists.items()},
        pairs=pairs,
        cluster=[o.cluster[r] for r in kl],
        story=[o.story[r] for r in kl],
    )
