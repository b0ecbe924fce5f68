"""Score stage, story evidence: one calibrated probability that two articles report one occasion.

Takes each article's passage vector (language-centred), TF-IDF row (`lexical`), names, numbers and
event date (`dedup.features`); gives for any article pairs their evidence (`FEATURES`) and the
probability of a logistic model over it (`STORY_MODEL`, fitted on dev pairs by
`benchmarks/fit_story.py`). Topic is what the passage embedding sees; the occasion is who, where,
when and what was said, which the lexical, name, number and date evidence add. Every piece reads
only the two articles and fixed priors, so a pair scores the same in any corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import features as feat
from ..features import Evidence
from . import lexical as lex
from .align import PAIR_BLOCK
from .story_model import TEXT_MODEL, VECTOR_MODEL

#: The evidence of a pair, in the order of the model's weights.
FEATURES = (
    "passage_same",  # passage cosine of a same-language pair
    "passage_cross",  # passage cosine of a cross-language pair
    "lexical",  # TF-IDF cosine of title and text (same language only)
    "names",  # shared rare names: weighted containment
    "lead_names",  # the names of each lead (title, first sentences) found in the other report
    "lead_names_cross",  # the same, for a cross-language pair (where no lexical evidence reaches)
    "numbers",  # shared numbers: containment
    "date_apart",  # both dated: 1 - exp(-days / DATE_SCALE_DAYS); 0 when either date is unknown
)
#: Days over which event dates move apart: reports of one occasion come within days. Dates only count
#: against a pair (near dates say little: a week's news holds many occasions of one kind).
DATE_SCALE_DAYS = 7.0


@dataclass(frozen=True)
class StoryModel:
    """Logistic weights over `FEATURES` (missing names weigh 0)."""

    bias: float
    weights: dict[str, float]

    def vector(self) -> np.ndarray:
        return np.array([self.weights.get(f, 0.0) for f in FEATURES], dtype=np.float64)


def _model(spec: dict[str, float]) -> StoryModel:
    return StoryModel(float(spec["bias"]), {k: float(v) for k, v in spec.items() if k != "bias"})


STORY_MODEL = _model(TEXT_MODEL)  # articles with texts
VECTOR_STORY_MODEL = _model(VECTOR_MODEL)  # precomputed vectors only: the passage evidence alone


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class StoryScorer:
    """Story evidence and probability of any article pairs of one corpus."""

    def __init__(
        self,
        passages: np.ndarray,
        lang: np.ndarray,
        lexical: lex.Lexical | None,
        evidence: Sequence[Evidence] | None,
    ) -> None:
        self.passages = passages
        self.lang = np.asarray(lang, dtype=np.int64)
        self.lexical = lexical
        self.evidence = evidence
        self.model = STORY_MODEL if evidence is not None and lexical is not None else VECTOR_STORY_MODEL
        self._w = self.model.vector()
        self._name_w: dict[str, float] = {}
        if evidence is not None:
            for ev in evidence:
                for name in ev.names | ev.lead_names:
                    if name not in self._name_w:
                        self._name_w[name] = lex.rarity(name)

    @classmethod
    def of_space(cls, space: Any) -> StoryScorer:
        """The passage evidence alone of a prepared `Space` (no texts)."""
        return cls(space.story_docs, space.doc_lang, None, None)

    def features(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(p, len(FEATURES)) evidence of the pairs (a[i], b[i])."""
        a = np.asarray(a, dtype=np.int64).reshape(-1)
        b = np.asarray(b, dtype=np.int64).reshape(-1)
        x = np.zeros((a.size, len(FEATURES)), dtype=np.float64)
        if a.size == 0:
            return x
        same = self.lang[a] == self.lang[b]
        cos = np.empty(a.size, dtype=np.float32)
        for s0 in range(0, a.size, PAIR_BLOCK):  # blocks: no (pairs x dim) temporaries
            sl = slice(s0, s0 + PAIR_BLOCK)
            cos[sl] = np.einsum("ij,ij->i", self.passages[a[sl]], self.passages[b[sl]])
        cos = np.clip(cos, 0.0, 1.0)
        x[:, 0] = np.where(same, cos, 0.0)
        x[:, 1] = np.where(same, 0.0, cos)
        if self.lexical is not None:
            x[:, 2] = self.lexical.similarity(a, b)
        ev = self.evidence
        if ev is not None:
            for k, (i, j) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
                ea, eb = ev[i], ev[j]
                x[k, 3] = self._names(ea.names, eb.names)
                lead = min(self._cover(ea.lead_names, eb.names), self._cover(eb.lead_names, ea.names))
                x[k, 4 if same[k] else 5] = lead
                x[k, 6] = _containment(ea.numbers, eb.numbers)
                if ea.date is not None and eb.date is not None:
                    x[k, 7] = -math.expm1(-feat.days_apart(ea.date, eb.date) / DATE_SCALE_DAYS)
        return x

    def _names(self, na: frozenset[str], nb: frozenset[str]) -> float:
        if not na or not nb:
            return 0.0
        w = self._name_w
        shared = sum(w.get(x, 1.0) for x in na & nb)
        small = min(sum(w.get(x, 1.0) for x in na), sum(w.get(x, 1.0) for x in nb))
        return float(shared / small) if small > 0 else 0.0

    def _cover(self, lead: frozenset[str], names: frozenset[str]) -> float:
        """Weighted share of a lead's names that the other report names."""
        if not lead:
            return 0.0
        w = self._name_w
        total = sum(w.get(x, 1.0) for x in lead)
        return float(sum(w.get(x, 1.0) for x in lead & names) / total) if total > 0 else 0.0

    def scores(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(p,) probability that a[i] and b[i] report one occasion."""
        a = np.asarray(a, dtype=np.int64).reshape(-1)
        b = np.asarray(b, dtype=np.int64).reshape(-1)
        out = np.empty(a.size, dtype=np.float32)
        for s0 in range(0, a.size, PAIR_BLOCK):  # blocks: millions of pairs, no (pairs x features)
            sl = slice(s0, s0 + PAIR_BLOCK)
            out[sl] = _sigmoid(self.model.bias + self.features(a[sl], b[sl]) @ self._w)
        return out

    def evidence_of(self, a: int, b: int) -> tuple[tuple[str, float, float], ...]:
        """One pair's evidence: (name, value, contribution to the log-odds), the bias first; the
        probability is the sigmoid of the contributions' sum."""
        x = self.features(np.array([a]), np.array([b]))[0]
        out = [("bias", 1.0, self.model.bias)]
        out += [(f, float(v), float(w * v)) for f, w, v in zip(FEATURES, self._w, x, strict=True)]
        return tuple(out)


def _containment(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
