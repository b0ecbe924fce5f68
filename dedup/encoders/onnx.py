"""Embed stage, the fast CPU path: the default model as an int8 ONNX Runtime graph.

Takes texts; gives the same kind of vectors as `SentenceTransformerEncoder` on the default model
(mean cosine 0.999 with fp32, see benchmarks/README.md). The graph is built once beside the fp32
model (`dedup.model.ensure_int8_model`). Texts are sorted by token count and batched by padded
tokens, so a batch carries little padding and the attention buffers stay small.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import model as model_mod
from ..errors import DedupError, ModelError
from .base import one_line
from .st import SentenceTransformerEncoder


class _TokenizerShim:
    """What the script screen needs of a tokenizer, over `tokenizers`."""

    def __init__(self, tok: Any) -> None:
        self.backend_tokenizer = tok
        self.unk_token_id = tok.token_to_id("<unk>")

    def get_vocab(self) -> dict[str, int]:
        return dict(self.backend_tokenizer.get_vocab())


#: padded tokens per batch: a batch of long passages is cut short, which keeps the attention buffers
#: (and the peak memory) small and runs faster on two cores than 32 long texts at once
MAX_BATCH_TOKENS = 4096


class _OrtSentenceModel:
    """The int8 ONNX graph (pooling and normalisation inside) behind the small part of the
    SentenceTransformer interface that `SentenceTransformerEncoder` uses."""

    def __init__(self, path: Path, threads: int | None = None, max_length: int = 512) -> None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.enable_truncation(max_length)
        tok.no_padding()
        self._tok = tok
        pad = tok.token_to_id("<pad>")
        self._pad = 1 if pad is None else int(pad)
        self.tokenizer = _TokenizerShim(tok)
        self.prompts = {"query": "query: ", "passage": "passage: "}
        self._dim = int(json.loads((path / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        self._path = path
        self._threads = threads
        self._session: Any = None  # loaded on the first encode (a re-run from the cache needs none)

    def _sess(self) -> Any:
        if self._session is None:
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.intra_op_num_threads = self._threads or _cpu_count()
            so.inter_op_num_threads = 1
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(
                str(self._path / "model.onnx"), so, providers=["CPUExecutionProvider"]
            )
        return self._session

    def get_sentence_embedding_dimension(self) -> int:
        return self._dim

    def encode(
        self, sentences: Sequence[str], batch_size: int = 32, prompt_name: str | None = None, **_: Any
    ) -> np.ndarray:
        prefix = self.prompts.get(prompt_name, "") if prompt_name else ""
        enc = self._tok.encode_batch([prefix + s for s in sentences])
        lengths = np.array([len(e.ids) for e in enc], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(sentences), self._dim), dtype=np.float32)
        for idx in token_batches(lengths[order], batch_size, MAX_BATCH_TOKENS):
            idx = order[idx]
            width = int(lengths[idx].max()) if idx.size else 0
            ids = np.full((idx.size, width), self._pad, dtype=np.int64)
            mask = np.zeros((idx.size, width), dtype=np.int64)
            for j, k in enumerate(idx.tolist()):
                row = enc[k].ids
                ids[j, : len(row)] = row
                mask[j, : len(row)] = 1
            out[idx] = self._sess().run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out


def token_batches(lengths: np.ndarray, batch_size: int, max_tokens: int) -> list[np.ndarray]:
    """Consecutive batches of positions in `lengths` (sorted longest first): at most `batch_size`
    texts and at most `max_tokens` padded tokens each (one long text may exceed it alone)."""
    out: list[np.ndarray] = []
    start, n = 0, len(lengths)
    while start < n:
        per = max(1, min(batch_size, max_tokens // max(1, int(lengths[start]))))
        out.append(np.arange(start, min(n, start + per)))
        start += per
    return out


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Int8OnnxEncoder(SentenceTransformerEncoder):
    """The default model (e5-small) as an int8 ONNX Runtime graph on the CPU.

    MatMul and attention weights are int8 per channel, activations are quantised on the fly per
    token (VNNI on AVX-512 CPUs), so a text's vector does not depend on the texts batched with it.
    Named `<model>:int8`; its vectors are cached apart from fp32 ones and from other graph formats.
    """

    precision = "int8"

    def __init__(
        self,
        model: str = "e5-small",
        *,
        batch_size: int = 32,
        progress: bool = False,
        threads: int | None = None,
    ) -> None:
        super().__init__(model, device="cpu", batch_size=batch_size, progress=progress)
        self.name = f"{model}:int8"
        self.model_name = model
        self._threads = threads

    @property
    def cache_key(self) -> str:
        return f"{self.name}/graph{model_mod.INT8_FORMAT}"  # another build format is cached apart

    def _dir(self) -> Path:
        return model_mod.ensure_int8_model(progress=self._progress)

    @property
    def dim(self) -> int:
        if self._model is None:  # without loading the tokenizer
            try:
                cfg = json.loads((self._dir() / "config.json").read_text(encoding="utf-8"))
                return int(cfg["hidden_size"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return super().dim

    def _screen_home(self) -> Path | None:
        return self._dir()

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        try:
            self._model = _OrtSentenceModel(self._dir(), threads=self._threads)
        except DedupError:
            raise
        except Exception as exc:  # noqa: BLE001 - export, optimizer and runtime failures
            raise ModelError(
                f"cannot build or load the int8 model of {self.name!r}: {one_line(exc)} "
                "(Config(precision='fp32') uses the fp32 model)"
            ) from exc
        self._prompt = "passage"
        return self._model
