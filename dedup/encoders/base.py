"""Embed stage, the boundary: the `Encoder` Protocol and the checks every encoder output passes.

Takes any object with `name`, `dim` and `encode(texts)`; gives `check_vectors` (shape, dtype,
finiteness; always a copy) and `CheckedEncoder`, which validates every `encode` call. An encoder
may also declare `cache_key`: a string that its vectors depend on, with the text, and on nothing
else. Only encoders that declare one are cached (embeddings and results); see `cache_key_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import DedupError, EncoderError, ModelError


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


def cache_key_of(encoder: Any) -> str | None:
    """The key its vectors are cached under, or None for an encoder that must not be cached (one
    that declares no `cache_key`: a custom encoder's output may change under the same name)."""
    key = getattr(encoder, "cache_key", None)
    return str(key) if key else None


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


def one_line(exc: BaseException) -> str:
    """An exception as `Type: message` on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class CheckedEncoder:
    """Wraps an encoder so that every `encode` is validated at the boundary.

    Each output must be (n, dim) and finite, where dim is the encoder's declared `dim` (or, if it
    declares none, the dimension of its first output); an exception from the encoder becomes an
    `EncoderError`. Every message names the encoder. Other attributes are the wrapped encoder's.
    """

    def __init__(self, inner: Any) -> None:
        if not callable(getattr(inner, "encode", None)):
            raise ModelError(f"{inner!r} is neither a model name nor an object with an encode() method")
        self.inner = inner
        self.name = str(getattr(inner, "name", None) or type(inner).__name__)
        self._dim: int | None = None
        self._declared_checked = False

    def __getattr__(self, attr: str) -> Any:  # only called for attributes not found on self
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def _declared(self) -> int | None:
        try:
            d = getattr(self.inner, "dim", None)
        except DedupError:
            raise
        except Exception as exc:  # noqa: BLE001 - a custom encoder's property
            raise EncoderError(
                f"encoder {self.name!r} failed to report its dimension: {one_line(exc)}"
            ) from exc
        if d is None:
            return None
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or int(d) < 1:
            raise EncoderError(f"encoder {self.name!r} declares dimension {d!r}; expected a positive integer")
        return int(d)

    @property
    def dim(self) -> int:
        if self._dim is None and not self._declared_checked:
            self._dim = self._declared()
            self._declared_checked = True
        if self._dim is None:  # nothing declared and nothing encoded yet
            self._dim = int(self.encode(["dimension probe"]).shape[1])
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if self._dim is None and not self._declared_checked:
            self._dim = self._declared()
            self._declared_checked = True
        try:
            out = self.inner.encode(texts)
        except DedupError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a custom or third-party encoder raises
            raise EncoderError(
                f"encoder {self.name!r} failed on a batch of {len(texts)} texts: {one_line(exc)}"
            ) from exc
        vec = check_vectors(out, len(texts), self._dim, what=f"encoder {self.name!r}")
        if self._dim is None:
            self._dim = int(vec.shape[1])
        return vec


def validated(encoder: Any) -> CheckedEncoder:
    """`encoder` wrapped in a `CheckedEncoder` (unchanged if it already is one)."""
    return encoder if isinstance(encoder, CheckedEncoder) else CheckedEncoder(encoder)
