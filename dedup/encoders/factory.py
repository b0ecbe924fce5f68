"""Embed stage, the entry: an encoder for a model name, a precision and a device.

Takes a model name or an encoder object; gives an `Encoder`: the `HashEncoder` for `hash`/`hash-DIM`,
the int8 ONNX graph for the default model on the CPU (when onnxruntime is installed), else the
sentence-transformers model.
"""

from __future__ import annotations

import importlib.util

from .. import model as model_mod
from ..errors import ModelError
from .base import Encoder
from .hashing import HASH_NAME, HashEncoder
from .onnx import Int8OnnxEncoder
from .st import SentenceTransformerEncoder, check_device


def get_encoder(
    model: str | Encoder,
    *,
    device: str | None = None,
    batch_size: int = 32,
    progress: bool = False,
    precision: str = "fp32",
) -> Encoder:
    """An Encoder for a model name/path, or the given Encoder unchanged.

    `hash` (or `hash-DIM`) names the `HashEncoder`: no model, for tests and dry runs. With
    `precision="int8"` the default model on the CPU runs as an int8 ONNX graph; every other case
    runs in sentence-transformers. A CUDA device that this torch cannot use is a ConfigError.
    """
    if not isinstance(model, str):
        if not hasattr(model, "encode"):
            raise ModelError(f"{model!r} is neither a model name nor an object with an encode() method")
        return model
    m = HASH_NAME.fullmatch(model)
    if m is not None:
        return HashEncoder(int(m.group(1) or 64))
    check_device(device)
    if (
        str(getattr(precision, "value", precision)) == "int8"
        and (device is None or device == "cpu")
        and model_mod.is_default_model(model)
        and importlib.util.find_spec("onnxruntime") is not None
    ):
        return Int8OnnxEncoder(model, batch_size=batch_size, progress=progress)
    return SentenceTransformerEncoder(model, device=device, batch_size=batch_size, progress=progress)
