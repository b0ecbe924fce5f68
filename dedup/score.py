"""Score stage: turn embeddings into pair evidence that works across languages.

Raw cosine between multilingual embeddings prefers same-language neighbours, so:
1. every unit (title, sentence) vector is centred on its language's mean, shrunk towards a prior
   when a language has few units (a five-article corpus must not be centred on noise): halfway
   between the corpus mean and the language's mean on neutral text (on a small corpus the corpus
   mean is mostly the corpus's own topic, which centring must not take away);
2. a document vector is the normalised mean of its centred units;
3. two documents are aligned sentence by sentence with margin scoring (Artetxe & Schwenk 2019):
   a sentence pair counts when its similarity clearly exceeds both sentences' usual neighbourhood;
4. names and numbers (diacritics folded) shared by the two texts add evidence for the story level.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import features
from . import index as index_mod
from .embed import Units
from .features import Evidence

LANG_SHRINK = 64.0  # pseudo-count of prior units mixed into every language mean
#: Weight of the language's neutral-text mean in the prior (the rest is the corpus mean). 0 centres a
#: small corpus on its own topic: the seeds' English/Vietnamese duplicate aligned 9 sentences at
#: centred cosines 0.2-0.4 (duplicate score 0.48 at threshold 0.45); 1 keeps all of a corpus's
#: shared news register, so unrelated reports align (80 five-article corpora from NTREX/FLORES:
#: 14 false pairs); 0.5: 0.55 for that pair, 2 false pairs, and the large sets unchanged.
NEUTRAL_WEIGHT = 0.5
MARGIN_K = 4  # neighbours in the margin denominator
ALIGN_MARGIN = 1.0  # a sentence is covered when its best ratio margin reaches this
MARGIN_TOLERANCE = 1e-4  # identical copies sit exactly at margin 1 (their neighbours are copies)
ALIGN_MIN_COS = 0.2  # and its (centred) cosine reaches this: tiny corpora have tiny denominators
#: A sentence pair this close (centred cosine) is covered whatever its margin: in a group of many
#: near-copies (syndicated wire copy) each sentence's nearest neighbours are the other copies, so
#: the margin of two copies sits near 1 and would drop half of them.
NEAR_COPY_COS = 0.85
# (aligned sentence pairs of true duplicates: centred cosine >= 0.39 at the 1st percentile on
# NTREX en/vi/sv, 0.22-0.29 on the five seed pages)
KNN_FLOOR = 0.1  # lower bound of a margin denominator (centred sims can be ~0)


@dataclass(frozen=True)
class Space:
    """Prepared vectors of one corpus."""

    units: np.ndarray  # (m, d) centred, normalised unit vectors
    owner: np.ndarray  # (m,) article row
    starts: np.ndarray  # (n+1,) units of article r are rows starts[r]:starts[r+1]
    docs: np.ndarray  # (n, d) normalised document vectors
    unit_knn: np.ndarray  # (L, m) mean sim of each unit to its MARGIN_K nearest units of language l
    doc_lang: np.ndarray  # (n,) language index of each article (rows of unit_knn)
    # (sims, ids) of every document's nearest documents, when computed with the space (reused
    # by `candidate_pairs`); None otherwise
    doc_knn: tuple[np.ndarray, np.ndarray] | None = None
    # (n, d) centred, normalised passage vectors (title and lead embedded as one text): the
    # story-level evidence; None means `docs` serve
    passages: np.ndarray | None = None

    @property
    def story_docs(self) -> np.ndarray:
        """The vectors that story-level evidence compares: passages when embedded, else docs."""
        return self.passages if self.passages is not None else self.docs

    def units_of(self, row: int) -> slice:
        return slice(int(self.starts[row]), int(self.starts[row + 1]))

    @functools.cached_property
    def n_units(self) -> np.ndarray:
        """(n,) number of units of each article (computed once: pairs are scored in many calls)."""
        return np.diff(self.starts)


def centre_by_language(
    vectors: np.ndarray,
    langs: Sequence[str],
    shrink: float = LANG_SHRINK,
    neutral: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Subtract each language's mean and renormalise; returns a new array.

    A language's mean is its units' mean shrunk (`shrink` pseudo-units) towards a prior: halfway
    (NEUTRAL_WEIGHT) between the corpus mean and the language's mean on neutral text from
    `neutral` (measured once per model, see `dedup.langprior`), or the plain corpus mean for a
    language without one.
    """
    return _centre_inplace(np.array(vectors, dtype=np.float32, copy=True), langs, shrink, neutral)


def _centre_inplace(
    x: np.ndarray,
    langs: Sequence[str],
    shrink: float = LANG_SHRINK,
    neutral: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """`centre_by_language` on a float32 array that the caller owns (modified and returned):
    no copies of the whole array, so a million document vectors fit in memory."""
    if x.shape[0] == 0:
        return x
    lang_arr = np.asarray(langs)
    g = x.mean(axis=0)
    for lang in sorted(set(lang_arr.tolist())):
        mask = lang_arr == lang
        cnt = float(mask.sum())
        if neutral is not None and lang in neutral:
            prior = (1.0 - NEUTRAL_WEIGHT) * g + NEUTRAL_WEIGHT * np.asarray(neutral[lang], dtype=np.float32)
        else:
            prior = g
        if cnt == x.shape[0]:  # one language: same values, without the masked copies
            mu = (x.sum(axis=0) + shrink * prior) / (cnt + shrink)
            x -= mu
        else:
            mu = (x[mask].sum(axis=0) + shrink * prior) / (cnt + shrink)
            x[mask] -= mu
    for start in range(0, x.shape[0], 1 << 16):  # normalise in blocks (no full-size temporaries)
        blk = x[start : start + (1 << 16)]
        norms = np.linalg.norm(blk, axis=1, keepdims=True)
        blk /= np.where(norms > 1e-12, norms, 1.0)
    return x


def prepare(
    units: Units,
    langs: Sequence[str],
    n: int,
    neutral: Mapping[str, np.ndarray] | None = None,
    passages: np.ndarray | None = None,
) -> Space:
    """Centre units (and passages, one row per article) by language, build document vectors and
    margin denominators."""
    order = np.argsort(units.owner, kind="stable")
    owner = units.owner[order]
    unit_langs = [langs[int(o)] for o in owner]
    cu = centre_by_language(units.vectors[order], unit_langs, neutral=neutral)
    counts = np.bincount(owner, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    d = cu.shape[1] if cu.ndim == 2 and cu.shape[0] else units.vectors.shape[1]
    docs = np.zeros((n, d), dtype=np.float32)
    np.add.at(docs, owner, cu)
    norms = np.linalg.norm(docs, axis=1, keepdims=True)
    docs = (docs / np.where(norms > 1e-12, norms, 1.0)).astype(np.float32)
    lang_names, doc_lang = _lang_index(langs) if n else ([], np.zeros(0, np.int64))
    unit_knn = margin_denominators(cu, owner, doc_lang[owner], len(lang_names))
    cp = centre_by_language(passages, langs, neutral=neutral) if passages is not None else None
    return Space(
        units=cu, owner=owner, starts=starts, docs=docs, unit_knn=unit_knn, doc_lang=doc_lang, passages=cp
    )


def margin_denominators(x: np.ndarray, owner: np.ndarray, unit_lang: np.ndarray, n_langs: int) -> np.ndarray:
    """(L, m): mean similarity of every unit to its MARGIN_K nearest units of each language l
    (units of its own article excluded). As in bitext mining, a pair (x in A, y in B) is then
    judged against x's neighbours in B and y's neighbours in A, which cancels the bias of
    multilingual embeddings towards same-language neighbours."""
    m = x.shape[0]
    out = np.ones((n_langs, m), dtype=np.float32)
    for lang in range(n_langs):
        own = unit_lang == lang
        sel = np.flatnonzero(own)
        if sel.size == 0 or m == 0:
            continue
        base, base_groups = x[sel], owner[sel]
        n_own = int(sel.size)
        if min(n_own, m - n_own) < _BLAS_MIN_QUERIES:
            knn = index_mod.knn_excluding_groups(x, owner, MARGIN_K, base=base, base_groups=base_groups)
        else:
            # Units of other languages have no unit of their own article among this language's:
            # they need no spare neighbours (same values, a much cheaper search).
            knn = np.empty(m, dtype=np.float32)
            knn[sel] = index_mod.knn_excluding_groups(
                x[sel], owner[sel], MARGIN_K, base=base, base_groups=base_groups
            )
            other = np.flatnonzero(~own)
            knn[other] = index_mod.knn_excluding_groups(
                x[other], owner[other], MARGIN_K, base=base, base_groups=base_groups, no_shared_groups=True
            )
        out[lang] = np.where(np.isnan(knn), 1.0, np.maximum(knn, KNN_FLOOR))
    return out


# FAISS computes inner products of fewer queries than this without BLAS (another summation
# order); splitting the queries of a search keeps both parts above it, so values do not change.
_BLAS_MIN_QUERIES = 20


def _lang_index(langs: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Sorted distinct languages and each item's index among them."""
    names, idx = np.unique(np.asarray(list(langs), dtype=object).astype(str), return_inverse=True)
    return [str(x) for x in names], idx.astype(np.int64).reshape(-1)


def space_from_documents(
    vectors: np.ndarray,
    langs: Sequence[str],
    neutral: Mapping[str, np.ndarray] | None = None,
    *,
    neighbours: int = 0,
    inplace: bool = False,
) -> Space:
    """A Space for precomputed document vectors: each document is its own single unit.

    With one language, the margin denominators (each document's MARGIN_K nearest documents)
    come from the same nearest-neighbour search as the candidate pairs (`neighbours` of them,
    kept in `doc_knn`): one search of the corpus, not two. `inplace` centres `vectors` (a float32
    array the caller gives up) without a copy.
    """
    n = vectors.shape[0]
    if (
        inplace
        and isinstance(vectors, np.ndarray)
        and vectors.dtype == np.float32
        and vectors.flags.c_contiguous
    ):
        cu = _centre_inplace(vectors, langs, neutral=neutral)
    else:
        cu = centre_by_language(vectors, langs, neutral=neutral)
    owner = np.arange(n, dtype=np.int32)
    lang_names, doc_lang = _lang_index(langs) if n else ([], np.zeros(0, np.int64))
    doc_knn = None
    if len(lang_names) == 1 and n > 1:
        k = min(max(neighbours, MARGIN_K), n - 1)
        sims, ids = index_mod.knn(cu, k)
        valid = ids[:, :MARGIN_K] >= 0
        cnt = valid.sum(axis=1)
        tot = np.where(valid, sims[:, :MARGIN_K], 0.0).sum(axis=1)
        knn = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan).astype(np.float32)
        unit_knn = np.where(np.isnan(knn), 1.0, np.maximum(knn, KNN_FLOOR)).astype(np.float32)[None, :]
        doc_knn = (sims, ids)
    else:
        unit_knn = margin_denominators(cu, owner, doc_lang, len(lang_names))
    return Space(
        units=cu,
        owner=owner,
        starts=np.arange(n + 1),
        docs=cu,  # one unit per document: the same vectors (never modified)
        unit_knn=unit_knn,
        doc_lang=doc_lang,
        doc_knn=doc_knn,
    )


@dataclass(frozen=True)
class Alignment:
    """Sentence-level alignment of two articles."""

    pairs: tuple[tuple[int, int, float], ...]  # (unit in a, unit in b, margin): the in-order chain
    coverage: float  # share of units (both sides) in the chain


def _longest_chain(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Longest subsequence of (i, j) pairs increasing in both i and j (pairs sorted by i)."""
    import bisect

    tails: list[int] = []
    tails_idx: list[int] = []
    prev = [-1] * len(pairs)
    for k, (_, j, _) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tails_idx.append(k)
        else:
            tails[pos] = j
            tails_idx[pos] = k
        prev[k] = tails_idx[pos - 1] if pos > 0 else -1
    out: list[tuple[int, int, float]] = []
    k = tails_idx[-1] if tails_idx else -1
    while k >= 0:
        out.append(pairs[k])
        k = prev[k]
    return out[::-1]


def align(space: Space, a: int, b: int) -> Alignment:
    """Align the units of articles a and b.

    Sentence pairs are scored with the ratio margin against each side's neighbours in the other
    side's language; mutual best pairs that clear ALIGN_MARGIN and keep their order in both
    articles (a translation or rewrite follows its source; two reports on one topic do not)
    form the alignment, and coverage is the share of both articles' units it covers.
    """
    sa, sb = space.units_of(a), space.units_of(b)
    ua, ub = space.units[sa], space.units[sb]
    if ua.shape[0] == 0 or ub.shape[0] == 0:
        return Alignment((), 0.0)
    sim = ua @ ub.T
    la, lb = int(space.doc_lang[a]), int(space.doc_lang[b])
    denom = (space.unit_knn[lb, sa][:, None] + space.unit_knn[la, sb][None, :]) / 2.0
    marg = sim / denom
    arg_a = marg.argmax(axis=1)
    arg_b = marg.argmax(axis=0)
    mutual = [
        (i, int(arg_a[i]), float(marg[i, arg_a[i]]))
        for i in range(len(arg_a))
        if arg_b[arg_a[i]] == i
        and (marg[i, arg_a[i]] >= ALIGN_MARGIN - MARGIN_TOLERANCE or sim[i, arg_a[i]] >= NEAR_COPY_COS)
        and sim[i, arg_a[i]] >= ALIGN_MIN_COS
    ]
    chain = _longest_chain(mutual)
    cov = 2.0 * len(chain) / (ua.shape[0] + ub.shape[0])
    return Alignment(tuple(chain), float(cov))


def entity_overlap(ea: Evidence, eb: Evidence, weights: dict[str, float] | None = None) -> float:
    """Weighted containment of shared names and numbers: shared / smaller side, in [0, 1]."""
    a = ea.names | {"#" + x for x in ea.numbers}
    b = eb.names | {"#" + x for x in eb.numbers}
    if not a or not b:
        return 0.0

    def w(e: str) -> float:
        return weights.get(e, 1.0) if weights else 1.0

    shared = sum(w(e) for e in a & b)
    return float(shared / min(sum(w(e) for e in a), sum(w(e) for e in b)))


def entity_weights(evidence: Sequence[Evidence]) -> dict[str, float]:
    """Smoothed inverse document frequency of names and numbers in the corpus."""
    df: dict[str, int] = {}
    for ev in evidence:
        for e in ev.names | {"#" + x for x in ev.numbers}:
            df[e] = df.get(e, 0) + 1
    n = len(evidence)
    return {e: float(np.log((n + 1) / (c + 0.5))) + 0.5 for e, c in df.items()}


@dataclass(frozen=True)
class PairScores:
    """Evidence for candidate pairs (rows a < b)."""

    a: np.ndarray
    b: np.ndarray
    cosine: np.ndarray  # centred document cosine
    passage: np.ndarray  # centred passage cosine (title and lead embedded as one text)
    coverage: np.ndarray  # sentence alignment coverage
    dates: np.ndarray  # +1 event dates agree, -1 conflict, 0 unknown
    duplicate: np.ndarray  # duplicate-level score
    story: np.ndarray  # story-level score

    def __len__(self) -> int:
        return int(self.a.shape[0])


def duplicate_score(coverage: float | np.ndarray, cosine: float | np.ndarray) -> np.ndarray:
    """Duplicate level: mostly sentence coverage, with document cosine as a tie-breaker."""
    return np.clip(0.8 * np.asarray(coverage) + 0.2 * np.clip(np.asarray(cosine), 0, 1), 0.0, 1.0)


DATE_AGREE_DAYS = 3  # event dates this close support one story
DATE_CONFLICT_DAYS = 14  # event dates this far apart are different occasions
DATE_BONUS = 0.0  # agreeing dates are weak evidence: a corpus is often one week of news
DATE_PENALTY = 0.25


def date_relation(ea: Evidence | None, eb: Evidence | None) -> int:
    """+1 when both event dates are known and agree, -1 when they conflict, else 0."""
    if ea is None or eb is None or ea.date is None or eb.date is None:
        return 0
    days = features.days_apart(ea.date, eb.date)
    if days <= DATE_AGREE_DAYS:
        return 1
    return -1 if days > DATE_CONFLICT_DAYS else 0


def story_score(
    cosine: float | np.ndarray,
    coverage: float | np.ndarray,
    passage: float | np.ndarray,
    dates: int | np.ndarray = 0,
) -> np.ndarray:
    """Story score of an article pair: the cosine of their passages (at least the duplicate
    score), moved down by conflicting event dates. Stories join whole duplicate clusters on
    `ClusterEvidence`, the same evidence taken over the clusters' same-language pairs."""
    d = np.asarray(dates)
    s = np.maximum(np.clip(np.asarray(passage), 0, 1), duplicate_score(coverage, cosine))
    return np.clip(s + DATE_BONUS * (d > 0) - DATE_PENALTY * (d < 0), 0.0, 1.0)


_PAIR_BLOCK = 1 << 16  # pairs per vectorised block (bounds the temporaries)


def _single_unit_scores(space: Space, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Document cosine and alignment coverage of pairs whose articles have one unit each.

    With one unit per side, the alignment is that one sentence pair when its ratio margin clears
    ALIGN_MARGIN (coverage 1) and nothing otherwise (coverage 0), exactly as `align` computes it.
    """
    cos = np.empty(a.shape[0], dtype=np.float32)
    cov = np.empty(a.shape[0], dtype=np.float32)
    la, lb = space.doc_lang[a], space.doc_lang[b]
    for s0 in range(0, a.shape[0], _PAIR_BLOCK):
        sl = slice(s0, s0 + _PAIR_BLOCK)
        ua = space.starts[a[sl]]
        ub = space.starts[b[sl]]
        cos[sl] = np.einsum("ij,ij->i", space.docs[a[sl]], space.docs[b[sl]])
        if space.units is space.docs:  # precomputed document vectors: unit == document
            sim = cos[sl]
        else:
            sim = np.einsum("ij,ij->i", space.units[ua], space.units[ub])
        denom = (space.unit_knn[lb[sl], ua] + space.unit_knn[la[sl], ub]) / 2.0
        ok = (sim / denom >= ALIGN_MARGIN - MARGIN_TOLERANCE) | (sim >= NEAR_COPY_COS)
        ok &= sim >= ALIGN_MIN_COS
        cov[sl] = np.where(ok, 1.0, 0.0)
    return cos, cov


def score_pairs(
    space: Space,
    pairs: np.ndarray,
    evidence: Sequence[Evidence] | None,
) -> PairScores:
    """Score candidate pairs (an (p, 2) int array).

    Pairs of single-unit articles (precomputed document vectors, one-sentence texts) are scored
    in vectorised blocks; the others are aligned sentence by sentence.
    """
    p = pairs.shape[0]
    pa = pairs[:, 0].astype(np.int64) if p else np.zeros(0, np.int64)
    pb = pairs[:, 1].astype(np.int64) if p else np.zeros(0, np.int64)
    cos = np.empty(p, dtype=np.float32)
    cov = np.empty(p, dtype=np.float32)
    if space.passages is None:
        pas = cos
    else:
        pas = np.empty(p, dtype=np.float32)
        for s0 in range(0, p, _PAIR_BLOCK):
            sl = slice(s0, s0 + _PAIR_BLOCK)
            pas[sl] = np.einsum("ij,ij->i", space.passages[pa[sl]], space.passages[pb[sl]])
    dates = np.zeros(p, dtype=np.int8)
    n_units = space.n_units
    single = (n_units[pa] == 1) & (n_units[pb] == 1) if p else np.zeros(0, bool)
    if single.any():
        idx = np.flatnonzero(single)
        cos[idx], cov[idx] = _single_unit_scores(space, pa[idx], pb[idx])
    for k in np.flatnonzero(~single).tolist():
        a, b = int(pa[k]), int(pb[k])
        cos[k] = float(space.docs[a] @ space.docs[b])
        cov[k] = align(space, a, b).coverage
    if evidence is not None:
        for k, (a, b) in enumerate(zip(pa.tolist(), pb.tolist(), strict=True)):
            dates[k] = date_relation(evidence[a], evidence[b])
    return PairScores(
        a=pa,
        b=pb,
        cosine=cos,
        passage=pas,
        coverage=cov,
        dates=dates,
        duplicate=duplicate_score(cov, cos).astype(np.float32),
        story=story_score(cos, cov, pas, dates).astype(np.float32),
    )


def candidate_pairs(docs: np.ndarray | Space, k: int, floor: float = -1.0) -> np.ndarray:
    """Unique (a < b) pairs among each document's k nearest neighbours with cosine >= floor.

    Given a Space, its document vectors are searched (reusing `doc_knn` when that search was
    already done) and so are its passage vectors, when it has them: the union of both.
    """
    if not isinstance(docs, Space):
        return _knn_pairs(docs, k, floor)
    pairs = _knn_pairs(docs.docs, k, floor, docs.doc_knn)
    if docs.passages is None:
        return pairs
    more = _knn_pairs(docs.passages, k, floor)
    n = docs.docs.shape[0]
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
        sims, ids = index_mod.knn(docs, kk)
    rows = np.repeat(np.arange(n, dtype=np.int64), ids.shape[1])
    cols = ids.ravel()
    ok = (cols >= 0) & (sims.ravel() >= floor) & (cols != rows)
    rows, cols = rows[ok], cols[ok]
    key = np.unique(np.minimum(rows, cols) * n + np.maximum(rows, cols))  # sorted by (a, b)
    return np.stack([key // n, key % n], axis=1).astype(np.int64)


# ---- story level: evidence between duplicate clusters ---------------------------------------


class ClusterEvidence:
    """Story-level similarity between duplicate clusters, from their passage vectors.

    Multilingual embeddings compare best within one language: two reports of one occasion in
    the same language sit closer than either does to the other's translations. So two clusters
    that share languages are compared on their same-language article pairs only (the mean
    passage cosine over those pairs); clusters with no language in common on all their pairs.
    Means of pairwise cosines are dot products of mean vectors, so each (cluster, language)
    keeps one mean vector and any two clusters compare in O(shared languages * d).
    """

    def __init__(
        self,
        labels: np.ndarray,
        vectors: np.ndarray,
        lang: np.ndarray,
        evidence: Sequence[Evidence] | None = None,
    ) -> None:
        n = labels.shape[0]
        self.roots, self.of_row = np.unique(labels, return_inverse=True)  # clusters by smallest row
        self.of_row = self.of_row.reshape(-1)
        k = self.roots.shape[0]
        n_langs = int(lang.max()) + 1 if n else 1
        key = self.of_row.astype(np.int64) * n_langs + lang
        gkey, g_of_row, gcount = np.unique(key, return_inverse=True, return_counts=True)
        g_of_row = g_of_row.reshape(-1)
        self.g_lang = gkey % n_langs
        self.g_count = gcount.astype(np.float64)
        g_cluster = gkey // n_langs
        # a group's mean vector: its row for one-member groups, else a mean of the members
        self.g_row = np.full(gkey.shape[0], -1, dtype=np.int64)
        self.g_row[g_of_row] = np.arange(n)  # any member; right for one-member groups
        multi = np.flatnonzero(gcount > 1)
        self.g_multi = np.full(gkey.shape[0], -1, dtype=np.int64)
        self.g_multi[multi] = np.arange(multi.shape[0])
        rows = np.flatnonzero(gcount[g_of_row] > 1)
        rows = rows[np.argsort(g_of_row[rows], kind="stable")]
        self.multi_mean = np.zeros((multi.shape[0], vectors.shape[1]), dtype=np.float32)
        if rows.size:  # in blocks of groups: no copy of all their rows at once (a million fit)
            cut = np.flatnonzero(np.r_[True, g_of_row[rows][1:] != g_of_row[rows][:-1]])
            ends = np.r_[cut[1:], rows.size]
            for g0 in range(0, cut.size, 8192):
                c, e = cut[g0 : g0 + 8192], ends[g0 : g0 + 8192]
                blk = vectors[rows[c[0] : e[-1]]]
                self.multi_mean[g0 : g0 + c.size] = np.add.reduceat(blk, c - c[0], axis=0) / gcount[
                    multi[g0 : g0 + c.size]
                ][:, None].astype(np.float32)
        self.vectors = vectors
        self.g_start = np.searchsorted(g_cluster, np.arange(k + 1))  # groups of cluster c
        self.n_groups = np.diff(self.g_start)
        # dates: a cluster's event date is that of its first member that has one
        self.date: list[Evidence | None] = [None] * k
        if evidence is not None:
            for r in range(n - 1, -1, -1):
                if evidence[r].date is not None:
                    self.date[int(self.of_row[r])] = evidence[r]
        self.dated = np.array([d is not None for d in self.date], dtype=bool)

    def _gmean(self, g: np.ndarray) -> np.ndarray:
        out = self.vectors[self.g_row[g]].astype(np.float32)
        m = self.g_multi[g]
        sel = np.flatnonzero(m >= 0)
        if sel.size:
            out[sel] = self.multi_mean[m[sel]]
        return out

    def _cmean(self, c: int) -> np.ndarray:
        gs = np.arange(self.g_start[c], self.g_start[c + 1])
        w = self.g_count[gs]
        return (self._gmean(gs) * w[:, None]).sum(axis=0) / w.sum()

    def scores(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Story scores of cluster pairs (cluster indices), in [0, 1]."""
        a = np.asarray(a, dtype=np.int64).reshape(-1)
        b = np.asarray(b, dtype=np.int64).reshape(-1)
        out = np.empty(a.shape[0], dtype=np.float64)
        one = (self.n_groups[a] == 1) & (self.n_groups[b] == 1)
        idx = np.flatnonzero(one)
        for s0 in range(0, idx.shape[0], _PAIR_BLOCK):  # one language each: one dot product
            sl = idx[s0 : s0 + _PAIR_BLOCK]
            ga, gb = self.g_start[a[sl]], self.g_start[b[sl]]
            out[sl] = np.einsum("ij,ij->i", self._gmean(ga), self._gmean(gb))
        for k in np.flatnonzero(~one).tolist():
            ca, cb = int(a[k]), int(b[k])
            ga = np.arange(self.g_start[ca], self.g_start[ca + 1])
            gb = np.arange(self.g_start[cb], self.g_start[cb + 1])
            _, ia, ib = np.intersect1d(self.g_lang[ga], self.g_lang[gb], return_indices=True)
            if ia.size:
                w = self.g_count[ga[ia]] * self.g_count[gb[ib]]
                dots = np.einsum("ij,ij->i", self._gmean(ga[ia]), self._gmean(gb[ib]))
                out[k] = float((w * dots).sum() / w.sum())
            else:
                out[k] = float(self._cmean(ca) @ self._cmean(cb))
        if self.dated.any():
            for k in np.flatnonzero(self.dated[a] & self.dated[b]).tolist():
                if date_relation(self.date[int(a[k])], self.date[int(b[k])]) < 0:
                    out[k] -= DATE_PENALTY
        return np.clip(out, 0.0, 1.0)
