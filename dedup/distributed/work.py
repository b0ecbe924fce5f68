"""The Ray engine's Ray Data maps: the embarrassingly parallel stages on the cluster's workers.

- `read_on_ray`: the shards of an input (`io.shard_files`) read one per task by dedup's own reader,
  then joined on the driver in name order (ids unique across shards, as `read_articles` checks);
- `map_on_ray`: a function of one article (the clean stage) over blocks of articles;
- `encode_on_ray`: the encoder's parts (`embed.embed_units` forms them: distinct texts, longest
  first, `batch` each) on an actor pool, one model per actor; the encoder sorts each part by token
  count and pads it as it does locally, so the vectors are the local engine's bit for bit.

Rows travel as pickled bytes (one Arrow binary column): articles, cleaned pages and vectors keep
their Python types exactly. Results come back in input order.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..encoders.base import CheckedEncoder
from ..io import Article, FieldMap, ReadResult, read_articles, shard_files
from ..io.records import Collector
from .session import Pool, connect

#: articles per block of the clean map (a block is one task)
ARTICLES_PER_BLOCK = 64


def _rows(blobs: Sequence[bytes]) -> list[dict[str, Any]]:
    return [{"k": k, "blob": b} for k, b in enumerate(blobs)]


def _in_order(batches: Any, column: str) -> Iterator[Any]:
    """The unpickled `column` of a dataset's rows, in the order of their `k`, as soon as each one's
    predecessors have come."""
    pending: dict[int, Any] = {}
    nxt = 0
    for batch in batches:
        for k, blob in zip(batch["k"], batch[column], strict=True):
            pending[int(k)] = pickle.loads(blob)
        while nxt in pending:
            yield pending.pop(nxt)
            nxt += 1
    if pending:  # pragma: no cover - Ray lost a row
        raise RuntimeError(f"rows {sorted(pending)[:5]} came without their predecessors")


def _apply(batch: dict[str, np.ndarray], fn: Callable[[Any], Any]) -> dict[str, np.ndarray]:
    out = [pickle.dumps(fn(pickle.loads(b)), protocol=5) for b in batch["blob"]]
    return {"k": batch["k"], "out": np.array(out, dtype=object)}


def map_on_ray(config: Config, fn: Callable[[Article], Any], rows: Sequence[Article]) -> list[Any]:
    """`fn` of every article, in order, computed on the cluster's workers (blocks of articles)."""
    if not rows:
        return []
    ray = connect(config)
    blobs = [pickle.dumps(replace(a, fields={}), protocol=5) for a in rows]  # the record stays here
    blocks = max(1, -(-len(blobs) // ARTICLES_PER_BLOCK))
    ds = ray.data.from_items(_rows(blobs), override_num_blocks=blocks)
    ds = ds.map_batches(_apply, fn_kwargs={"fn": fn}, batch_size=None, batch_format="numpy")
    return list(_in_order(ds.iter_batches(batch_size=None, batch_format="numpy"), "out"))


def _read_shard(batch: dict[str, np.ndarray], fields: FieldMap, fmt: str | None) -> dict[str, np.ndarray]:
    out = [pickle.dumps(read_articles(Path(pickle.loads(b)), fields=fields, fmt=fmt)) for b in batch["blob"]]
    return {"k": batch["k"], "out": np.array(out, dtype=object)}


def read_on_ray(
    path: str | Path,
    config: Config,
    *,
    fields: FieldMap = FieldMap(),  # noqa: B008 - frozen, so a shared default is safe
    fmt: str | None = None,
) -> ReadResult:
    """`read_articles(path)`, with the shards of a directory or glob input read on the workers (one
    task each) and joined here in name order. Any other input is read here, as the local engine
    reads it. Every record ends up once, in the articles or the rejects, as `read_articles` gives."""
    shards = shard_files(path) if fmt != "dir" else None
    if shards is None or len(shards) < 2:
        return read_articles(path, fields=fields, fmt=fmt)
    ray = connect(config)
    ds = ray.data.from_items(_rows([pickle.dumps(str(f)) for f in shards]), override_num_blocks=len(shards))
    ds = ds.map_batches(_read_shard, fn_kwargs={"fields": fields, "fmt": fmt}, batch_size=1)
    col = Collector(fields, "reject")
    for part in _in_order(ds.iter_batches(batch_size=None, batch_format="numpy"), "out"):
        kept = [(line, 1, k) for k, (_, line) in enumerate(part.positions)]
        for line, is_article, k in sorted([(r.line, 0, k) for k, r in enumerate(part.rejects)] + kept):
            if is_article:  # a duplicate of an earlier shard's id is rejected here
                col.add(part.articles[k], source=part.positions[k][0], line=line)
            else:
                col.rejects.append(part.rejects[k])  # in reading order, as read_articles gives them
        if col.schema is None:
            col.schema = part.schema
    return col.result()


class _Embedder:
    """One actor of the pool: one encoder (model loaded once), `encode` of one part per call."""

    def __init__(self, spec: Any, threads: int) -> None:
        self.encoder = _build(spec, threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = [
            pickle.dumps(np.asarray(self.encoder.encode(pickle.loads(b)), dtype=np.float32), protocol=5)
            for b in batch["blob"]
        ]
        return {"k": batch["k"], "out": np.array(out, dtype=object)}


def _build(spec: Any, threads: int) -> Any:
    """The actor's encoder: dedup's own encoders rebuilt from their settings (`spec` is a dict; the
    CPU ones with `threads` threads), any other encoder object as it was pickled."""
    if not isinstance(spec, dict):
        return spec
    from ..encoders.onnx import Int8OnnxEncoder
    from ..encoders.st import SentenceTransformerEncoder

    if spec["kind"] == "int8":
        return Int8OnnxEncoder(spec["model"], batch_size=spec["batch"], threads=threads)
    if not spec["device"] or spec["device"] == "cpu":
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformerEncoder(spec["model"], device=spec["device"], batch_size=spec["batch"])


def encoder_spec(enc: Any, pool: Pool) -> Any:
    """What an actor builds its encoder from: the settings of dedup's own encoders (the int8 graph,
    a sentence-transformers model; on the pool's GPU if it has one), else the encoder object."""
    from ..encoders.onnx import Int8OnnxEncoder
    from ..encoders.st import SentenceTransformerEncoder

    inner = enc.inner if isinstance(enc, CheckedEncoder) else enc
    if isinstance(inner, Int8OnnxEncoder):
        return {"kind": "int8", "model": inner.model_name, "batch": inner._batch_size}
    if type(inner) is SentenceTransformerEncoder:
        device = pool.device or inner._device
        return {"kind": "st", "model": inner.name, "device": device, "batch": inner._batch_size}
    return inner


def encode_on_ray(
    config: Config, spec: Any, pool: Pool, parts: Sequence[Sequence[str]]
) -> Iterator[np.ndarray]:
    """The vectors of every part, in order, encoded by the actor pool (one part per call)."""
    if not parts:
        return
    ray = connect(config)
    blobs = [pickle.dumps(list(p), protocol=5) for p in parts]
    ds = ray.data.from_items(_rows(blobs), override_num_blocks=len(blobs))
    ds = ds.map_batches(
        _Embedder,
        fn_constructor_kwargs={"spec": spec, "threads": pool.cpus},
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=min(pool.actors, len(blobs))),
        num_cpus=pool.cpus,
        num_gpus=pool.gpus or None,
    )
    yield from _in_order(ds.iter_batches(batch_size=None, batch_format="numpy"), "out")
