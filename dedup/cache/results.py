"""Result stage, the result cache: a re-run on an unchanged corpus reads its previous result back.

Takes the run's articles, config and encoder; gives a key (None when the encoder declares no
`cache_key`), and saves or loads a result under it: one `.npz` per run under `cache/results/`
(pair arrays, and the rest as one JSON string; no pickles), the newest `RESULTS_KEPT` kept. The key
covers dedup's own source, the encoder's cache key, every setting that changes clusters and every
article field the pipeline reads, so a stale result is never read back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, Engine
from ..encoders import cache_key_of
from ..io import Article
from ..score import PairScores
from .embeddings import cache_dir

FORMAT = 2
RESULTS_KEPT = 32  # result files kept in the cache (the most recently written)
_PAIR_FIELDS = ("a", "b", "cosine", "passage", "coverage", "dates", "duplicate", "story")
#: the Result fields stored (the rest come from the run: config, records, rejects, timings)
FIELDS = (
    "ids",
    "langs",
    "cluster_of",
    "story_of",
    "cluster_reason",
    "story_reason",
    "duplicate_score",
    "story_score",
    "model",
    "row_ids",
)
_TUPLES = ("ids", "langs", "cluster_of", "story_of", "duplicate_score", "story_score", "row_ids")
#: settings that cannot change clusters (the Ray engine gives the local engine's result; a run
#: scored in blocks, past driver_max_articles, is keyed apart below)
_UNKEYED_SETTINGS = (
    "progress",
    "cache",
    "cache_dir",
    "on_error",
    "engine",
    "ray_address",
    "driver_max_articles",
)


_CODE: list[str] = []


def _code_fingerprint() -> str:
    """Hash of dedup's own source: a result cached by other code is never read back."""
    if not _CODE:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parent.parent
        for f in sorted(root.rglob("*.py")):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
        _CODE.append(h.hexdigest())
    return _CODE[0]


def result_key(articles: Sequence[Article], config: Config, encoder: Any) -> str | None:
    """Key of a run: code, encoder, settings and every article field the pipeline reads, in input
    order; None when the encoder declares no `cache_key`."""
    enc_key = cache_key_of(encoder)
    if enc_key is None:
        return None
    h = hashlib.sha256()
    h.update(_code_fingerprint().encode())
    h.update(enc_key.encode("utf-8", "surrogatepass"))
    settings = {k: v for k, v in config.to_dict().items() if k not in _UNKEYED_SETTINGS}
    if config.engine is Engine.RAY and len(articles) > config.driver_max_articles:
        settings["blocks"] = True  # scored in blocks (dedup.distributed.blocks): another result
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for a in articles:
        fields = [a.id, a.text, a.title, a.lang, a.published, a.url, a.source, a.html]
        h.update(json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _path(key: str, config: Config) -> Path:
    return cache_dir(config.cache_dir) / "results" / f"{key[:40]}.npz"


def save(key: str, config: Config, fields: dict[str, Any], pairs: PairScores) -> None:
    """Store a result's `FIELDS` and pair table under `key` (errors only cost the next run its speed)."""
    meta = {"format": FORMAT, "key": key, "fields": {f: fields[f] for f in FIELDS}}
    arrays = {f"pairs_{f}": np.asarray(getattr(pairs, f)) for f in _PAIR_FIELDS}
    path = _path(key, config)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
        np.savez(tmp, allow_pickle=False, **arrays)
        os.replace(tmp, path)
        kept = sorted(path.parent.glob("*.npz"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in kept[RESULTS_KEPT:]:  # the newest results only
            old.unlink()
    except (OSError, ValueError, TypeError):  # a read-only cache directory
        with contextlib.suppress(OSError):
            tmp.unlink()


@dataclass(frozen=True)
class Cached:
    """A stored result: its `FIELDS` and its pair table."""

    fields: dict[str, Any]
    pairs: PairScores


def load(key: str, config: Config) -> Cached | None:
    """The result stored under `key`, or None (missing, partial or foreign file)."""
    try:
        with np.load(_path(key, config), allow_pickle=False) as z:
            data = json.loads(str(z["meta"]))
            if data.get("format") != FORMAT or data.get("key") != key:
                return None
            pairs = PairScores(**{f: z[f"pairs_{f}"] for f in _PAIR_FIELDS})
        fields = data["fields"]
        for f in _TUPLES:
            fields[f] = tuple(fields[f])
    except Exception:  # noqa: BLE001 - anything unreadable: compute afresh
        return None
    return Cached(fields, pairs)
