"""Standing index, join: new rows meet the open ones, are scored and clustered, and ids stay stable.

Takes `Open` (old rows first, then the new ones), the frozen `Stats` and the config; gives the rows'
neighbour lists and scored pairs brought up to date (old pairs that are no longer candidates leave,
old pairs whose margin denominators moved are scored again), both levels linked again wherever a
change reaches (as one batch on the union would link them: clusters may merge or split), the
canonicals, and stable ids (`ids`: a cluster keeps its id whatever its canonical becomes).
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
from ..score.pairs import alignment_scores, duplicate_score
from ..score.space import MARGIN_K, Space, lang_index
from ..score.story import StoryScorer
from . import grow
from . import ids as ids_mod
from .state import PAIR_FIELDS, Open, Stats, empty_pairs

#: A pair this little below a row's k-th neighbour similarity is still its candidate (the table's
#: cosines and the search's come from different products: their last bits may differ).
CANDIDATE_TOL = 1e-6


@dataclass(frozen=True)
class Level:
    """One level's canonicals for the rows linked again (the others keep theirs)."""

    rows: np.ndarray  # the rows linked again (whole clusters)
    canonical: dict[int, int]  # touched row -> its cluster's canonical row
    reason: dict[int, str]  # canonical row -> why
    score: dict[int, float]  # touched row -> its score with its canonical


@dataclass(frozen=True)
class Joined:
    """The outcome of a join: the updated rows, their scorer, both levels, the merges and splits."""

    open: Open
    scorer: PairScorer
    duplicate: Level
    story: Level
    merges: tuple[ids_mod.Merge, ...]
    splits: tuple[ids_mod.Split, ...]


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
    lexical = lex.Lexical(lex.weigh(o.counts, stats.lexical.idf), doc_lang)
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


def _still_candidates(table: PairScores, o: Open) -> np.ndarray:
    """Mask of the pairs of `table` that the current lists make candidates: one end among the other's
    k nearest documents or passages, as `dedup.index.candidate_pairs` finds them in one batch."""
    kth = o.doc_top[:, -1] - CANDIDATE_TOL
    keep = (table.cosine >= kth[table.a]) | (table.cosine >= kth[table.b])
    if o.passage_top is not None:
        kp = o.passage_top[:, -1] - CANDIDATE_TOL
        keep |= (table.passage >= kp[table.a]) | (table.passage >= kp[table.b])
    return np.asarray(keep, dtype=bool)


def _moved_margins(before: np.ndarray, after: np.ndarray, owner: np.ndarray, n_old: int) -> np.ndarray:
    """(L, n_old) bool: whether an old article has a unit whose margin denominator towards language l
    moved (a new unit entered its nearest)."""
    m_old = before.shape[1]
    out = np.zeros((after.shape[0], n_old), bool)
    li, u = np.nonzero(before != after[:, :m_old])
    out[li, owner[u]] = True
    return out


def _reach(
    n: int, a: np.ndarray, b: np.ndarray, groups: Sequence[np.ndarray], seed: np.ndarray
) -> np.ndarray:
    """Bool mask of the rows connected to a `seed` row through the pairs (a, b) or a shared label of
    one of `groups` (a label per row)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    r = np.arange(n, dtype=np.int64)
    rows = np.concatenate([a, *([r] * len(groups))])
    cols = np.concatenate([b, *groups])
    g = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    return np.isin(comp, comp[seed])


def _labels_of(ids: Sequence[str], known: int, n: int) -> np.ndarray:
    """A label per row from the old ids: rows 0..known-1 with one id share its smallest row; the
    others are alone."""
    lab = np.arange(n, dtype=np.int64)
    first: dict[str, int] = {}
    for r in range(known):
        lab[r] = first.setdefault(ids[r], r)
    return lab


def _rescore(
    o: Open,
    n_old: int,
    space: Space,
    story: StoryScorer,
    new_pairs: np.ndarray,
    before: np.ndarray,
    progress: bool,
) -> tuple[PairScores, np.ndarray, PairScores]:
    """The pair table brought up to date: the old pairs that are still candidates (scored again where
    an end's margin denominators moved) and the new pairs. Gives it, with the rows whose duplicate
    evidence changed and the old pairs that left."""
    n = o.n
    old = o.pairs if n_old else empty_pairs()
    keep = _still_candidates(old, o)
    gone = PairScores(*(getattr(old, f)[~keep] for f in ("a", "b", *PAIR_FIELDS)))
    kept = PairScores(*(getattr(old, f)[keep] for f in ("a", "b", *PAIR_FIELDS)))
    moved = _moved_margins(before, space.unit_knn, o.unit_owner, n_old)
    la, lb = space.doc_lang[kept.a], space.doc_lang[kept.b]
    again = np.flatnonzero(moved[lb, kept.a] | moved[la, kept.b])
    # only the sentence coverage reads the denominators: the other evidence of old pairs stays
    cos, cov = alignment_scores(space, kept.a[again], kept.b[again], progress=progress)
    dup = duplicate_score(cov, cos).astype(np.float32)
    changed = np.zeros(n, bool)
    changed[n_old:] = True
    redone = again[dup != kept.duplicate[again]]
    changed[kept.a[redone]] = True
    changed[kept.b[redone]] = True
    coverage, duplicate = kept.coverage.copy(), kept.duplicate.copy()
    coverage[again], duplicate[again] = cov, dup
    kept = replace(kept, coverage=coverage, duplicate=duplicate)
    table = merge_tables(n, kept, score_pairs(space, new_pairs, o.evidence, story, progress=progress))
    return table, changed, gone


def join(
    o: Open, n_old: int, stats: Stats, config: Config, kind: str, *, n_known: int | None = None
) -> Joined:
    """Join rows n_old.. of `o` to rows 0..n_old-1. Rows 0..n_known-1 (default n_old) have clusters
    and stories (a refit searches and scores every row again, n_old = 0, and keeps their ids).

    New rows change more than their own pairs: they enter old rows' nearest lists, so old pairs stop
    being candidates and old margin denominators move (those pairs are scored again). Every cluster
    of the strong-pair graph that such a change reaches is linked again from scratch, as one batch on
    the union would link it (it may split); the others are untouched, so the cost follows the change."""
    n = o.n
    known = n_old if n_known is None else n_known
    vectors = centred(o, stats, kind)  # once: the lists, the pairs and the space read them
    lang_names = lang_index(o.langs)[0] if n else []
    m_old = int(np.searchsorted(o.unit_owner, n_old))
    old_lists = {lang: v[:m_old] for lang, v in o.unit_lists.items()} if n_old else {}
    before = grow.denominators(old_lists, lang_names, m_old)
    o, new_pairs = grow_lists(o, n_old, vectors, config.neighbours, kind)
    space, story = space_of(o, stats, kind, vectors)
    table, changed, gone = _rescore(o, n_old, space, story, new_pairs, before, config.progress)
    scorer = PairScorer(space, table, o.evidence, story)
    # duplicate level: every component of strong pairs and old clusters that a change reaches
    thr = config.duplicate_threshold
    lost = gone.duplicate >= thr
    changed[gone.a[lost]] = True
    changed[gone.b[lost]] = True
    old_dup = _labels_of(o.cluster, known, n)
    strong = table.duplicate >= thr
    d_mask = _reach(n, table.a[strong], table.b[strong], [old_dup], changed)
    sel = d_mask[table.a] & d_mask[table.b]
    dup = average_linkage(
        n,
        table.a[sel],
        table.b[sel],
        table.duplicate[sel],
        thr,
        score_fn=lambda p: scorer.scores(p, "duplicate"),
    )
    dup = np.where(d_mask, dup, old_dup)
    # story level: the same over whole duplicate clusters, from the rows linked again above
    s_thr = config.story_threshold
    s_changed = d_mask.copy()
    lost = gone.story >= s_thr
    s_changed[gone.a[lost]] = True
    s_changed[gone.b[lost]] = True
    old_story = _labels_of(o.story, known, n)
    strong = table.story >= s_thr
    s_mask = _reach(n, table.a[strong], table.b[strong], [dup, old_story], s_changed)
    sel = s_mask[table.a] & s_mask[table.b]
    sto = story_linkage(
        dup, table.a[sel], table.b[sel], s_thr, lambda p: scorer.scores(p, "story"), space.doc_lang
    )
    sto = np.where(s_mask, sto, old_story)
    cen = canon.centrality(n, table.a, table.b, table.story)
    d_rows, s_rows = np.flatnonzero(d_mask), np.flatnonzero(s_mask)
    cd = _canonicals(dup, d_rows, o, config, cen, lambda p: scorer.scores(p, "duplicate"))
    cs = _canonicals(sto, s_rows, o, config, cen, lambda p: scorer.scores(p, "story"))
    d_ids = ids_mod.assign(dup, d_rows, cd.canonical, o.cluster, known, o.ids)
    s_ids = ids_mod.assign(sto, s_rows, cs.canonical, o.story, known, o.ids)
    merges: list[ids_mod.Merge] = []
    splits: list[ids_mod.Split] = []
    for level, found, old_ids, lab in (("duplicate", d_ids, o.cluster, dup), ("story", s_ids, o.story, sto)):
        merges += ids_mod.merges(level, found, old_ids, known, o.ids, scorer.scores, (table.a, table.b))
        splits += ids_mod.splits(level, found, lab, o.ids, scorer.scores, (table.a, table.b))
    return Joined(
        open=replace(o, pairs=table, cluster=d_ids.of_row, story=s_ids.of_row),
        scorer=scorer,
        duplicate=cd,
        story=cs,
        merges=tuple(merges),
        splits=tuple(splits),
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
