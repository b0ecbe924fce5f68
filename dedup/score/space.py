"""Score stage, the prepared space: centred unit, document and passage vectors of one corpus.

Takes the embedded units (title and lead sentences, `dedup.embed.Units`), the passages and a language
per article, or precomputed document vectors; gives a `Space`: vectors centred by language
(`centring`), document vectors (the normalised mean of an article's centred units) and the margin
denominators of every unit (its mean similarity to its nearest units of each language), which the
sentence alignment (`align`) judges pairs against.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import index as index_mod
from ..embed import Units
from .centring import centre_by_language, centre_inplace

MARGIN_K = 4  # neighbours in the margin denominator
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


def prepare(
    units: Units,
    langs: Sequence[str],
    n: int,
    neutral: Mapping[str, np.ndarray] | None = None,
    passages: np.ndarray | None = None,
    *,
    margins: bool = True,
) -> Space:
    """Centre units (and passages, one row per article) by language, build document vectors and
    margin denominators (without `margins`, all 1: the Ray engine's blocks compute them)."""
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
    lang_names, doc_lang = lang_index(langs) if n else ([], np.zeros(0, np.int64))
    if margins:
        unit_knn = margin_denominators(cu, owner, doc_lang[owner], len(lang_names))
    else:
        unit_knn = np.ones((len(lang_names), cu.shape[0]), dtype=np.float32)
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


def lang_index(langs: Sequence[str]) -> tuple[list[str], np.ndarray]:
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
        cu = centre_inplace(vectors, langs, neutral=neutral)
    else:
        cu = centre_by_language(vectors, langs, neutral=neutral)
    owner = np.arange(n, dtype=np.int32)
    lang_names, doc_lang = lang_index(langs) if n else ([], np.zeros(0, np.int64))
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
