"""The encoder Protocol and its implementations.

sentence-transformers is imported lazily, so `import dedup` stays cheap and the logic tests can run
with the deterministic `HashEncoder`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import EncoderError, ModelError


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns passages into vectors."""

    name: str

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array, one row per text."""
        ...


def check_vectors(vectors: Any, n: int, dim: int | None = None, *, what: str = "encoder") -> np.ndarray:
    """Validate vectors at the boundary: 2-D, n rows, finite, float32; returns a C-contiguous copy."""
    try:
        arr = np.array(vectors, dtype=np.float32, copy=True)
    except (TypeError, ValueError) as exc:
        raise EncoderError(f"{what} returned something that is not a numeric array: {exc}") from exc
    if arr.ndim != 2:
        raise EncoderError(f"{what} returned an array of shape {arr.shape}; expected (n, dim)")
    if arr.shape[0] != n:
        raise EncoderError(f"{what} returned {arr.shape[0]} vectors for {n} texts")
    if dim is not None and arr.shape[1] != dim:
        raise EncoderError(f"{what} returned dimension {arr.shape[1]}; expected {dim}")
    if arr.shape[1] == 0:
        raise EncoderError(f"{what} returned vectors of dimension 0")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise EncoderError(
            f"{what} returned non-finite values (NaN or inf) for {int(bad.sum())} of {n} texts "
            f"(first at row {int(np.argmax(bad))})"
        )
    return np.ascontiguousarray(arr)


class HashEncoder:
    """A tiny deterministic encoder (hashed character 3-grams, random projection).

    For tests and dry runs only: it knows no language, so translations are not close.
    """

    cacheable = False  # cheaper to recompute than to look up

    def __init__(self, dim: int = 64, seed: int = 0) -> None:
        self.name = f"hash-{dim}"
        self._dim = dim
        self._seed = seed

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, t in enumerate(texts):
            s = f"  {t.lower()}  "
            for j in range(len(s) - 2):
                h = hashlib.blake2b(s[j : j + 3].encode("utf-8"), digest_size=8).digest()
                k = int.from_bytes(h[:4], "little") % self._dim
                out[i, k] += 1.0 if h[4] & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            out[i] = out[i] / norm if norm > 0 else 1.0 / np.sqrt(self._dim)
        return out


class SentenceTransformerEncoder:
    """A sentence-transformers model by name or path; `e5-small` is the built default model."""

    def __init__(
        self,
        model: str = "e5-small",
        *,
        device: str | None = None,
        batch_size: int = 32,
        progress: bool = False,
    ) -> None:
        self.name = model
        self._device = device
        self._batch_size = batch_size
        self._progress = progress
        self._model: Any = None
        self._prompt: str | None = None

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        from . import model as model_mod

        if model_mod.is_default_model(self.name):
            path = str(model_mod.ensure_default_model(progress=self._progress))
        else:
            path = self.name
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer

            m = SentenceTransformer(path, device=self._device or "cpu")
        except Exception as exc:  # noqa: BLE001 - many failure types from hub/loaders
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelError(
                f"cannot load model {self.name!r}: {msg} (give a local sentence-transformers "
                "directory or a model name available offline; the default is e5-small)"
            ) from exc
        prompts = getattr(m, "prompts", None) or {}
        if "passage" in prompts:
            self._prompt = "passage"
        elif "e5" in self.name.lower():
            m.prompts = {**prompts, "passage": "passage: "}
            self._prompt = "passage"
        self._model = m
        return m

    @property
    def dim(self) -> int:
        m = self._load()
        get_dim = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        m = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = m.encode(
            list(texts),
            batch_size=self._batch_size,
            prompt_name=self._prompt,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


def get_encoder(
    model: str | Encoder, *, device: str | None = None, batch_size: int = 32, progress: bool = False
) -> Encoder:
    """An Encoder for a model name/path, or the given Encoder unchanged."""
    if isinstance(model, str):
        return SentenceTransformerEncoder(model, device=device, batch_size=batch_size, progress=progress)
    if not hasattr(model, "encode"):
        raise ModelError(f"{model!r} is neither a model name nor an object with an encode() method")
    return model
