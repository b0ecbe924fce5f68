"""dedup: cross-lingual near-duplicate and story clustering for news corpora.

>>> import dedup
>>> result = dedup.cluster([{"id": "a", "text": "..."}, {"id": "b", "text": "..."}])
>>> result.clusters, result.stories
"""

from __future__ import annotations

from .article import Article
from .config import CanonicalPolicy, Config, Precision
from .encoder import Encoder, HashEncoder, SentenceTransformerEncoder
from .errors import ConfigError, DedupError, EncoderError, InputError, ModelError
from .pipeline import cluster, cluster_embeddings
from .result import Explanation, Result

__version__ = "0.1.0"

__all__ = [
    "Article",
    "CanonicalPolicy",
    "Precision",
    "Config",
    "ConfigError",
    "DedupError",
    "Encoder",
    "EncoderError",
    "Explanation",
    "HashEncoder",
    "InputError",
    "ModelError",
    "Result",
    "SentenceTransformerEncoder",
    "cluster",
    "cluster_embeddings",
]
