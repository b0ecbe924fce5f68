"""Embed stage, test double: a tiny deterministic encoder that needs no model.

Takes texts; gives hashed character 3-grams randomly projected to `dim` and normalised. For logic
tests and dry runs of the plumbing (`--model hash`): it knows no language, so translations are not
close. It declares no `cache_key` (cheaper to recompute than to look up).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

#: `hash` or `hash-DIM`: the HashEncoder, for tests and dry runs (no model is loaded).
HASH_NAME = re.compile(r"hash(?:-([1-9][0-9]{0,3}))?")


class HashEncoder:
    """A tiny deterministic encoder (hashed character 3-grams, random projection)."""

    cache_key = None

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
                h = hashlib.blake2b(s[j : j + 3].encode("utf-8", "surrogatepass"), digest_size=8).digest()
                k = int.from_bytes(h[:4], "little") % self._dim
                out[i, k] += 1.0 if h[4] & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            out[i] = out[i] / norm if norm > 0 else 1.0 / np.sqrt(self._dim)
        return out
