"""Embed stage, the encoders: the `Encoder` Protocol and its implementations.

`get_encoder` turns a model name into an encoder; `validated` wraps any encoder so that its output
is checked; `unknown_script` screens texts that a model cannot read.
"""

from __future__ import annotations

from .base import CheckedEncoder, Encoder, cache_key_of, check_vectors, validated
from .factory import get_encoder
from .hashing import HashEncoder
from .onnx import Int8OnnxEncoder
from .scripts import UNKNOWN_SCRIPT_SHARE, script_name, unknown_script
from .st import SentenceTransformerEncoder, check_device, check_model

__all__ = [
    "UNKNOWN_SCRIPT_SHARE",
    "CheckedEncoder",
    "Encoder",
    "HashEncoder",
    "Int8OnnxEncoder",
    "SentenceTransformerEncoder",
    "cache_key_of",
    "check_device",
    "check_model",
    "check_vectors",
    "get_encoder",
    "script_name",
    "unknown_script",
    "validated",
]
