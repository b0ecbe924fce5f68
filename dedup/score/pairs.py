"""Score stage, pair scores: the evidence of candidate article pairs at both levels.

Takes the prepared `Space`, pairs of article rows, each article's surface evidence (names,
numbers, event date; `dedup.features`) and the corpus's `StoryScorer`; gives `PairScores`: centred
document and passage cosines, sentence coverage, the date relation, the duplicate score and the story
probability (`dedup.score.story`) that clustering reads.
`PairScorer` answers for any pair: candidate pairs from the table, others scored once on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import features, timing
from ..features import Evidence
from .align import PAIR_BLOCK, align, single_unit_scores
from .space import Space
from .story import StoryScorer

DATE_AGREE_DAYS = 3  # event dates this close: shown as agreeing
DATE_CONFLICT_DAYS = 14  # event dates this far apart: shown as conflicting


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
    story: np.ndarray  # story-level score: probability of one occasion (`StoryScorer`)

    def __len__(self) -> int:
        return int(self.a.shape[0])


def duplicate_score(coverage: float | np.ndarray, cosine: float | np.ndarray) -> np.ndarray:
    """Duplicate level: mostly sentence coverage, with document cosine as a tie-breaker."""
    return np.clip(0.8 * np.asarray(coverage) + 0.2 * np.clip(np.asarray(cosine), 0, 1), 0.0, 1.0)


def date_relation(ea: Evidence | None, eb: Evidence | None) -> int:
    """+1 when both event dates are known and agree, -1 when they conflict, else 0."""
    if ea is None or eb is None or ea.date is None or eb.date is None:
        return 0
    days = features.days_apart(ea.date, eb.date)
    if days <= DATE_AGREE_DAYS:
        return 1
    return -1 if days > DATE_CONFLICT_DAYS else 0


def alignment_scores(
    space: Space, pa: np.ndarray, pb: np.ndarray, *, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Document cosine and sentence coverage of the pairs (pa[i], pb[i]): the only evidence that
    reads the margin denominators. Pairs of single-unit articles (precomputed document vectors,
    one-sentence texts) are scored in vectorised blocks; the others are aligned sentence by sentence."""
    p = pa.shape[0]
    cos = np.empty(p, dtype=np.float32)
    cov = np.empty(p, dtype=np.float32)
    n_units = space.n_units
    single = (n_units[pa] == 1) & (n_units[pb] == 1) if p else np.zeros(0, bool)
    if single.any():
        idx = np.flatnonzero(single)
        cos[idx], cov[idx] = single_unit_scores(space, pa[idx], pb[idx])
    multi = np.flatnonzero(~single).tolist()
    for k in timing.progress(multi, len(multi), "aligning pairs", progress):
        a, b = int(pa[k]), int(pb[k])
        cos[k] = float(space.docs[a] @ space.docs[b])
        cov[k] = align(space, a, b).coverage
    return cos, cov


def score_pairs(
    space: Space,
    pairs: np.ndarray,
    evidence: Sequence[Evidence] | None,
    story: StoryScorer | None = None,
    *,
    progress: bool = False,
) -> PairScores:
    """Score candidate pairs (an (p, 2) int array); `story` defaults to the passage evidence alone."""
    p = pairs.shape[0]
    pa = pairs[:, 0].astype(np.int64) if p else np.zeros(0, np.int64)
    pb = pairs[:, 1].astype(np.int64) if p else np.zeros(0, np.int64)
    cos, cov = alignment_scores(space, pa, pb, progress=progress)
    if space.passages is None:
        pas = cos
    else:
        pas = np.empty(p, dtype=np.float32)
        for s0 in range(0, p, PAIR_BLOCK):
            sl = slice(s0, s0 + PAIR_BLOCK)
            pas[sl] = np.einsum("ij,ij->i", space.passages[pa[sl]], space.passages[pb[sl]])
    dates = np.zeros(p, dtype=np.int8)
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
        story=(story or StoryScorer.of_space(space)).scores(pa, pb),
    )


class PairScorer:
    """Scores of any article pair, each pair scored once.

    Candidate pairs (scored together in `score_pairs`) are read from their table (sorted keys, a
    vectorised lookup); other pairs, which average linkage asks for as clusters grow and the
    canonical scores need, are scored on demand and kept. Scores are symmetric: a pair is keyed as
    min * n + max.
    """

    def __init__(
        self,
        space: Space,
        table: PairScores,
        evidence: Sequence[Evidence] | None,
        story: StoryScorer | None = None,
    ) -> None:
        self.space = space
        self.table = table
        self.evidence = evidence
        self.story = story or StoryScorer.of_space(space)
        self.n = int(space.docs.shape[0])
        self._keys = table.a * self.n + table.b  # sorted: candidate pairs come sorted by (a, b)
        self._memo: dict[int, float] = {}  # duplicate scores of pairs outside the table

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not len(self._keys):
            return np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return pos, self._keys[pos] == keys

    def scores(self, pairs: np.ndarray, level: str) -> np.ndarray:
        """(p,) scores at `level` ("duplicate" or "story") of (p, 2) row pairs."""
        col = 0 if level == "duplicate" else 1
        p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        keys = np.minimum(p[:, 0], p[:, 1]) * self.n + np.maximum(p[:, 0], p[:, 1])
        out = np.empty(len(keys), dtype=np.float32)
        pos, found = self._find(keys)
        column = self.table.duplicate if col == 0 else self.table.story
        out[found] = column[pos[found]]
        rest = np.flatnonzero(~found).tolist()
        key_list = keys.tolist()
        if col == 1:  # the story probability needs no sentence alignment: computed each time
            if rest:
                out[rest] = self.story.scores(p[rest, 0], p[rest, 1])
            return out
        miss = [k for k in rest if key_list[k] not in self._memo]
        if miss:
            s = score_pairs(self.space, p[miss], self.evidence, self.story)
            for k, d in zip(miss, s.duplicate.tolist(), strict=True):
                self._memo[key_list[k]] = d
        for k in rest:
            out[k] = self._memo[key_list[k]]
        return out

    def pair(self, a: int, b: int) -> PairScores:
        """Every score of one pair (a one-row table): its candidate row, or scored now."""
        lo, hi = min(a, b), max(a, b)
        pos, found = self._find(np.array([lo * self.n + hi], dtype=np.int64))
        if found[0]:
            k = slice(int(pos[0]), int(pos[0]) + 1)
            t = self.table
            return PairScores(
                t.a[k],
                t.b[k],
                t.cosine[k],
                t.passage[k],
                t.coverage[k],
                t.dates[k],
                t.duplicate[k],
                t.story[k],
            )
        return score_pairs(self.space, np.array([[lo, hi]], dtype=np.int64), self.evidence, self.story)
