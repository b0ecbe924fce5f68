"""dedup: cross-lingual near-duplicate and story clustering for news corpora.

>>> import dedup
>>> result = dedup.cluster([{"id": "a", "text": "..."}, {"id": "b", "text": "..."}])
>>> result.clusters, result.stories
"""

from __future__ import annotations

from .config import CanonicalPolicy, Config, Keep, OnError, Precision
from .encoders import Encoder, HashEncoder, SentenceTransformerEncoder, get_encoder
from .errors import (
    ConfigError,
    DedupError,
    EncoderError,
    InputError,
    ModelError,
    NoUsableRecords,
    OutputError,
)
from .io import Article, FieldMap, ReadResult, Reject, read_articles, write_records
from .pipeline import cluster, cluster_embeddings
from .result import Explanation, Result
from .standing import Changes, Index

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Changes",
    "CanonicalPolicy",
    "Config",
    "ConfigError",
    "DedupError",
    "Encoder",
    "EncoderError",
    "Explanation",
    "FieldMap",
    "HashEncoder",
    "Index",
    "InputError",
    "Keep",
    "ModelError",
    "NoUsableRecords",
    "OnError",
    "OutputError",
    "Precision",
    "ReadResult",
    "Reject",
    "Result",
    "SentenceTransformerEncoder",
    "cluster",
    "cluster_embeddings",
    "get_encoder",
    "read_articles",
    "write_records",
]
