"""Score stage: embeddings -> pair evidence that works across languages.

`centring` takes each language's offset out, `space` prepares unit/document/passage vectors and
margin denominators, `align` aligns two articles sentence by sentence, `pairs` scores article pairs
at both levels.
"""

from __future__ import annotations

from .align import Alignment, align
from .centring import centre_by_language
from .pairs import (
    PairScorer,
    PairScores,
    date_relation,
    duplicate_score,
    entity_overlap,
    entity_weights,
    score_pairs,
    story_score,
)
from .space import Space, prepare, space_from_documents

__all__ = [
    "Alignment",
    "PairScorer",
    "PairScores",
    "Space",
    "align",
    "centre_by_language",
    "date_relation",
    "duplicate_score",
    "entity_overlap",
    "entity_weights",
    "prepare",
    "score_pairs",
    "space_from_documents",
    "story_score",
]
