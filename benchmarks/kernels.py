"""Kernel efficiency: the machine's measured matrix-multiply peak beside the encoder's throughput.

    python benchmarks/kernels.py                 # prints JSON; benchmarks/speed.py records it too

Peaks (medians of 30 runs) are measured with ONNX Runtime on one shape of the default model's
own products (a batch of 4,096 tokens times its 384 x 1536 feed-forward weight): `MatMulInteger`
on uint8 activations and int8 weights (the int8 graph's kernel: VNNI on AVX-512 VNNI CPUs, u8 x s8
multiply-add pairs on AVX2) and fp32 `MatMul`, each with the threads the encoder uses. The encoder
is then timed on sentences (~30 tokens) and on passages (~250 tokens) from NTREX-15, and its
tokens/s is turned into the multiply-adds of the model's linear layers (attention scores
excluded), so that
"efficiency" is the share of the int8 peak the whole model reaches.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_info import cores, cpu_ram  # noqa: E402

HIDDEN, FFN, LAYERS = 384, 1536, 12  # multilingual-e5-small
#: multiply-adds per token in the linear layers: Q, K, V, output (4 d^2) and the feed-forward (2 d f)
MACS_PER_TOKEN = LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)
SHAPE = (4096, HIDDEN, FFN)  # M tokens x K x N: one batch of the feed-forward's first product
NTREX = ROOT / "benchmarks" / "data" / "ntrex128-dev" / "articles_15lang.jsonl"


def _session(kind: str, threads: int) -> Any:
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    m, k, n = SHAPE
    rng = np.random.default_rng(0)
    if kind == "int8":
        w = numpy_helper.from_array(rng.integers(-127, 128, (k, n), dtype=np.int8), "w")
        azp = numpy_helper.from_array(np.array(128, dtype=np.uint8), "azp")
        node = helper.make_node("MatMulInteger", ["a", "w", "azp"], ["y"])
        a_type, y_type, inits = TensorProto.UINT8, TensorProto.INT32, [w, azp]
    else:
        w = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w")
        node = helper.make_node("MatMul", ["a", "w"], ["y"])
        a_type, y_type, inits = TensorProto.FLOAT, TensorProto.FLOAT, [w]
    graph = helper.make_graph(
        [node],
        "probe",
        [helper.make_tensor_value_info("a", a_type, [m, k])],
        [helper.make_tensor_value_info("y", y_type, [m, n])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def gemm_peak(kind: str, threads: int, repeats: int = 30) -> dict[str, float]:
    """Giga multiply-adds per second of one product of SHAPE: the median of `repeats` timed runs
    (on a shared virtual machine single runs came out from 0.5x to 2x of it), with the spread."""
    sess = _session(kind, threads)
    m, k, _n = SHAPE
    rng = np.random.default_rng(1)
    if kind == "int8":
        a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    else:
        a = rng.standard_normal((m, k)).astype(np.float32)
    sess.run(None, {"a": a})  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sess.run(None, {"a": a})
        times.append(time.perf_counter() - t0)
    macs = float(np.prod(SHAPE)) / 1e9
    return {
        "gmacs_per_s": round(macs / float(np.median(times)), 1),
        "gmacs_per_s_range": [round(macs / max(times), 1), round(macs / min(times), 1)],
    }


def _texts() -> tuple[list[str], list[str]]:
    """Sentences and passages (title + 8 sentences) of the first 64 NTREX-15 articles."""
    from dedup import clean, embed

    recs = [json.loads(x) for x in NTREX.read_text(encoding="utf-8").splitlines() if x][:64]
    cleaned = [clean.clean_text(r["text"], r.get("title")) for r in recs]
    sents = [embed.sentences_of(c, r["text"]) for r, c in zip(recs, cleaned, strict=True)]
    titles = [r.get("title") for r in recs]
    units, _ = embed.make_units(titles, sents)
    return units, embed.make_passages(titles, sents)


def encoder_rate(precision: str, texts: list[str]) -> dict[str, float]:
    """Tokens/s of the default encoder on `texts` (best of two passes) and its share of the peak."""
    from dedup.encoders import get_encoder

    enc = get_encoder("e5-small", precision=precision)
    model = enc._load()  # noqa: SLF001 - the benchmark counts the model's own tokens
    tok = getattr(model, "_tok", None)
    if tok is not None:
        tokens = sum(len(e.ids) for e in tok.encode_batch(["passage: " + t for t in texts]))
    else:
        ids = model.tokenizer(["passage: " + t for t in texts], truncation=True)["input_ids"]
        tokens = sum(len(x) for x in ids)
    enc.encode(texts[:8])  # warm-up (session, threads)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        enc.encode(texts)
        best = min(best, time.perf_counter() - t0)
    rate = tokens / best
    return {
        "texts": len(texts),
        "tokens": tokens,
        "tokens_per_s": round(rate, 1),
        "linear_gmacs_per_s": round(rate * MACS_PER_TOKEN / 1e9, 1),
    }


def probe(threads: int | None = None) -> dict[str, Any]:
    """Peaks, encoder rates and their ratio, with the machine's CPU flags."""
    threads = threads or cores()
    cpu, flags, _ = cpu_ram()
    peaks = {kind: gemm_peak(kind, threads) for kind in ("int8", "fp32")}
    units, passages = _texts()
    out: dict[str, Any] = {
        "cpu": cpu,
        "cpu_flags": flags,
        "threads": threads,
        "shape_mkn": list(SHAPE),
        "macs_per_token": MACS_PER_TOKEN,
        "peak": peaks,
        "encoder": {},
    }
    for precision in ("int8", "fp32"):
        for what, texts in (("sentences", units), ("passages", passages)):
            r = encoder_rate(precision, texts)
            r["share_of_peak"] = round(r["linear_gmacs_per_s"] / peaks[precision]["gmacs_per_s"], 3)
            out["encoder"][f"{precision}/{what}"] = r
    return out


if __name__ == "__main__":
    print(json.dumps(probe(), indent=1))
