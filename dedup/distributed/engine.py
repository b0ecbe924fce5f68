"""The Ray engine, its stage: the per-article preparation of `dedup.prepared` with the clean stage
and the encoder's batches run on the Ray cluster.

Takes articles in row order, the run's config and encoder (the driver's: the embedding cache and
the language priors use it); gives the same `Prepared` as the local engine. Everything after
(index, score, cluster, canonical) runs on the driver, unchanged: docs/scale.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..config import Config
from ..encoders.onnx import Int8OnnxEncoder
from ..io import Article
from ..prepared import Prepared, prepare_articles
from ..timing import Timer
from .session import connect, pool_for
from .work import encode_on_ray, encoder_spec, map_on_ray


def prepare_on_ray(rows: Sequence[Article], config: Config, enc: Any, timer: Timer) -> Prepared:
    """`prepare_articles(rows, ...)` with cleaning and embedding on Ray: each actor of the pool
    rebuilds dedup's own encoders from their settings, or unpickles the caller's encoder object."""
    ray = connect(config)
    pool = pool_for(ray, config)
    inner = getattr(enc, "inner", enc)
    if isinstance(inner, Int8OnnxEncoder):
        inner.dim  # noqa: B018 - builds the int8 graph here once, before the actors load it
    spec = encoder_spec(enc, pool)

    def mapper(fn: Callable[[Article], Any], items: Sequence[Article]) -> list[Any]:
        return map_on_ray(config, fn, items)

    def encode_parts(_enc: Any, parts: Sequence[Sequence[str]]) -> Any:
        return encode_on_ray(config, spec, pool, parts)

    return prepare_articles(rows, config, enc, timer, map_articles=mapper, encode_parts=encode_parts)


__all__ = ["prepare_on_ray"]
