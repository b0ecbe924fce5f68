"""Score stage: embeddings -> pair evidence that works across languages.

`centring` takes each language's offset out, `space` prepares unit/document/passage vectors and
margin denominators, `align` aligns two articles sentence by sentence, `lexical` weighs words and
names, `story` gives the calibrated story probability, `pairs` scores article pairs at both levels.
"""

from __future__ import annotations

from .align import Alignment, align
from .centring import centre_by_language
from .pairs import (
    PairScorer,
    PairScores,
    date_relation,
    duplicate_score,
    score_pairs,
)
from .space import Space, prepare, space_from_documents
from .story import FEATURES, StoryScorer

__all__ = [
    "FEATURES",
    "StoryScorer",
    "Alignment",
    "PairScorer",
    "PairScores",
    "Space",
    "align",
    "centre_by_language",
    "date_relation",
    "duplicate_score",
    "prepare",
    "score_pairs",
    "space_from_documents",
]
