"""Score stage, sentence alignment: the duplicate level's evidence for one pair of articles.

Takes the prepared `Space` and two article rows; gives the in-order chain of mutually best sentence
pairs and the share of both articles' units it covers. Sentence pairs are scored by ratio margin
against each sentence's nearest units in the other article's language (Artetxe & Schwenk 2019),
which cancels the pull of same-language neighbours; a translation or rewrite follows its source,
two reports on one topic do not.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from .space import Space

ALIGN_MARGIN = 1.0  # a sentence is covered when its best ratio margin reaches this
MARGIN_TOLERANCE = 1e-4  # identical copies sit exactly at margin 1 (their neighbours are copies)
ALIGN_MIN_COS = 0.2  # and its (centred) cosine reaches this: tiny corpora have tiny denominators
#: A sentence pair this close (centred cosine) is covered whatever its margin: among many near-copies
#: each sentence's nearest neighbours are the other copies, and the margin alone would split them.
NEAR_COPY_COS = 0.85
#: A pair of precomputed document vectors (one unit each) under this centred cosine is no duplicate,
#: whatever its margin: where nothing is near (isotropic or sparse neighbourhoods) the ratio margin
#: passes the least unrelated neighbour. The largest floor that keeps the gold duplicate pairs of
#: the dev sets on real passage vectors (one KTLAB pair lost; benchmarks/README.md, Tuned constants).
DOC_MIN_COS = 0.3
PAIR_BLOCK = 1 << 16  # pairs per vectorised block (bounds the temporaries)


@dataclass(frozen=True)
class Alignment:
    """Sentence-level alignment of two articles."""

    pairs: tuple[tuple[int, int, float], ...]  # (unit in a, unit in b, margin): the in-order chain
    coverage: float  # share of units (both sides) in the chain


def _longest_chain(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Longest subsequence of (i, j) pairs increasing in both i and j (pairs sorted by i)."""
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


def single_unit_scores(space: Space, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Document cosine and alignment coverage of pairs whose articles have one unit each.

    With one unit per side, the alignment is that one sentence pair when its ratio margin clears
    ALIGN_MARGIN (coverage 1) and nothing otherwise (coverage 0), exactly as `align` computes it;
    a pair of precomputed document vectors must also reach DOC_MIN_COS.
    """
    cos = np.empty(a.shape[0], dtype=np.float32)
    cov = np.empty(a.shape[0], dtype=np.float32)
    la, lb = space.doc_lang[a], space.doc_lang[b]
    documents = space.units is space.docs  # precomputed document vectors: unit == document
    floor = DOC_MIN_COS if documents else ALIGN_MIN_COS
    for s0 in range(0, a.shape[0], PAIR_BLOCK):
        sl = slice(s0, s0 + PAIR_BLOCK)
        ua = space.starts[a[sl]]
        ub = space.starts[b[sl]]
        cos[sl] = np.einsum("ij,ij->i", space.docs[a[sl]], space.docs[b[sl]])
        sim = cos[sl] if documents else np.einsum("ij,ij->i", space.units[ua], space.units[ub])
        denom = (space.unit_knn[lb[sl], ua] + space.unit_knn[la[sl], ub]) / 2.0
        ok = (sim / denom >= ALIGN_MARGIN - MARGIN_TOLERANCE) | (sim >= NEAR_COPY_COS)
        ok &= sim >= floor
        cov[sl] = np.where(ok, 1.0, 0.0)
    return cos, cov
