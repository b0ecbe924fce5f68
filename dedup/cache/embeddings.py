"""Embed stage, the embedding cache: vectors keyed by encoder and text (SQLite, one file per encoder).

Takes texts and vectors; gives back the vectors of texts embedded before. `for_encoder` opens the
cache of an encoder that declares a `cache_key` (none for one that does not).

A second run on the same corpus, or on a corpus that grew, embeds only texts it has not seen.
SQLite commits are atomic, so an interrupted run leaves the cache usable and keeps what was done.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..encoders import cache_key_of
from ..errors import DedupError
from ..model import dedup_home


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class EmbeddingCache:
    """Vectors of texts for one model, stored under `directory`."""

    def __init__(self, directory: str | Path, model: str) -> None:
        self.directory = Path(directory)
        tag = hashlib.sha256(model.encode("utf-8")).hexdigest()[:16]
        self.path = self.directory / f"embeddings-{tag}.sqlite"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
            self._db.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, dim INTEGER, data BLOB)")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('model', ?)", (model,))
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise DedupError(
                f"cannot use the embedding cache at {self.directory}: {exc} "
                "(give --cache-dir DIR or --no-cache)"
            ) from exc

    def get(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Cached vectors of `texts` (None where missing)."""
        keys = [_key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            q = f"SELECT key, dim, data FROM vec WHERE key IN ({marks})"
            for key, dim, data in self._db.execute(q, chunk):
                found[bytes(key)] = np.frombuffer(data, dtype=np.float32, count=dim)
        return [found.get(k) for k in keys]

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors (one transaction)."""
        rows = [
            (_key(t), int(v.shape[0]), np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vec").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def cache_dir(directory: str | None) -> Path:
    """The cache directory: `directory`, or `$DEDUP_HOME/cache`."""
    return Path(directory) if directory else dedup_home() / "cache"


def for_encoder(encoder: object, directory: str | None) -> EmbeddingCache | None:
    """The embedding cache of `encoder`, or None when it declares no `cache_key`."""
    key = cache_key_of(encoder)
    return EmbeddingCache(cache_dir(directory), key) if key is not None else None
