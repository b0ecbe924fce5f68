"""Caches: embeddings per encoder and text (`embeddings`), whole results per run (`results`)."""

from __future__ import annotations

from .embeddings import EmbeddingCache, cache_dir, for_encoder

__all__ = ["EmbeddingCache", "cache_dir", "for_encoder"]
