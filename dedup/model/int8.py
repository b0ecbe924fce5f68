"""Model building stage: the int8 ONNX Runtime graph of the default model.

Takes the fp32 build (:mod:`dedup.model.fp32`, made first if needed); gives
``int8_model_dir()`` holding ``model.onnx`` -- the model exported to ONNX with mean pooling and
L2 normalisation inside the graph, fused by ONNX Runtime's transformer optimizer, its weights
quantised to int8 per output channel and its activations per token -- with the tokenizer files
and ``known_chars.txt`` (the vocabulary's characters). Built once, atomically
(:mod:`dedup.model.build`).
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .build import build_once, ensure, marker_complete, read_marker
from .fp32 import ensure_default_model
from .paths import DEFAULT_MODEL_NAME, default_model_dir, package_version

INT8_FORMAT = 2  # 2: activations quantised per token (batch-independent vectors)
INT8_FILE = "model.onnx"
_INT8_COPY = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")
_MASK = "/m/Cast_output_0_int32"  # the exported graph's attention mask as int32 (batch, seq)


def int8_model_dir() -> Path:
    """``default_model_dir()`` with an ``-int8`` suffix: the int8 ONNX Runtime graph beside it."""
    base = default_model_dir()
    return base.with_name(base.name + "-int8")


def is_complete_int8(path: Path) -> bool:
    """A built int8 directory: marker of the current format and every recorded file at its size."""
    return marker_complete(path, INT8_FORMAT, INT8_FILE)


#: The steps of the int8 build, in order (a progress bar counts them: the whole build takes ~30 s).
INT8_STEPS = ("loading the fp32 model", "exporting to ONNX", "fusing", "quantising", "per-token scales")


def _write_int8_model(src: Path, out: Path, progress: bool = False) -> dict[str, Any]:
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # onnxruntime.quantization's advice lines
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(INT8_STEPS), desc="int8 graph", unit="step", leave=False)

    def step(k: int) -> None:
        if bar is not None:
            bar.n = k
            bar.set_postfix_str(INT8_STEPS[k], refresh=True)

    try:
        return _export_int8(src, out, step)
    finally:
        root.setLevel(level)
        if bar is not None:
            bar.close()


def _export_int8(src: Path, out: Path, step: Callable[[int], None] = lambda k: None) -> dict[str, Any]:
    """Export the fp32 model at ``src`` to ONNX with mean pooling and L2 normalisation inside
    the graph, fuse it with ONNX Runtime's transformer optimizer (attention, layer norm, GELU)
    and quantise every MatMul/Attention weight to int8 per output channel (dynamic activation
    quantisation, the recipe of sentence-transformers' ``avx512_vnni`` configuration)."""
    import math
    import warnings

    import numpy as np
    import onnx
    import onnx.numpy_helper
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    step(0)
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

    raw = io.BytesIO()  # in memory between steps: each file round trip of the ~470 MB graph costs seconds
    ids = torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    step(1)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Pooled(bert),
            (ids, mask),
            raw,  # type: ignore[arg-type]  # the TorchScript exporter writes to a file object too
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
    step(2)
    graph = onnx.load_from_string(raw.getvalue())
    del raw
    # The word embeddings (250k x 384, 96% of the bytes) are only gathered from, never fused or
    # quantised: a one-row stand-in travels through the steps and the table returns at the end.
    table = max(graph.graph.initializer, key=lambda t: math.prod(t.dims))
    stand_in = onnx.numpy_helper.from_array(np.zeros((1, table.dims[1]), dtype=np.float32), table.name)
    table_proto = onnx.TensorProto()
    table_proto.CopyFrom(table)
    table.CopyFrom(stand_in)
    opt = optimize_model(
        graph,
        model_type="bert",
        num_heads=int(cfg["num_attention_heads"]),
        hidden_size=int(cfg["hidden_size"]),
        opt_level=0,  # the Python fusions alone: level 1 adds an ORT pass (5 s) and the same vectors
    )
    del graph
    fusions = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
    opt.topological_sort()  # what saving the fused graph to a file would do: sort, declare the domain
    if not any(o.domain == "com.microsoft" for o in opt.model.opset_import):
        opt.model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    step(3)
    quantize_dynamic(
        opt.model,
        str(out / INT8_FILE),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=False,
        op_types_to_quantize=["MatMul", "Attention", "Gemm"],
        extra_options={"DefaultTensorType": 1},  # FLOAT, for outputs of fused (contrib) operators
    )
    del opt
    step(4)
    _quantize_per_token(out / INT8_FILE, table_proto)
    for name in _INT8_COPY:
        if (src / name).is_file():
            shutil.copy2(src / name, out / name)
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(out / "tokenizer.json")).get_vocab()
    # the vocabulary's characters: texts whose letters are all here need no tokenizer to be
    # screened for unknown scripts (see encoder.Int8OnnxEncoder.unknown_letters)
    (out / "known_chars.txt").write_text("".join(sorted(set("".join(vocab)))), encoding="utf-8")
    return {"fusions": fusions}


def _quantize_per_token(path: Path, table: Any = None) -> None:
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
    ``QuantizeLinear`` quantises a row with one op. ``table``, when given, is the word-embedding
    initializer to put back in place of its stand-in (same name) before saving.
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
    if table is not None:  # the word embeddings back in place of their one-row stand-in
        slot = next((t for t in graph.initializer if t.name == table.name), None)
        if slot is None:
            raise ModelError(f"unexpected int8 graph in {path}: the word embeddings {table.name!r} are gone")
        slot.CopyFrom(table)
    onnx.save(model, str(path))


def build_int8_model(dest: Path | None = None, *, force: bool = False, progress: bool = False) -> Path:
    """Build the int8 ONNX graph of the default model into ``dest`` (default:
    :func:`int8_model_dir`), from the fp32 build (made first if needed). Atomic and locked,
    like :func:`build_default_model`; nothing is done when a complete build is there."""
    dest = Path(dest).expanduser() if dest is not None else int8_model_dir()
    src = ensure_default_model(progress=progress)

    def write(tmp: Path) -> dict[str, Any]:
        extra = _write_int8_model(src, tmp, progress)
        source = read_marker(src) or {}
        return {
            "format": INT8_FORMAT,
            "model": DEFAULT_MODEL_NAME,
            "precision": "int8",
            "source": f"{src.name} (weights sha256 {source.get('weights_sha256')})",
            "onnxruntime": package_version("onnxruntime"),
            "torch": package_version("torch"),
            **extra,
        }

    return build_once(
        dest,
        is_complete_int8,
        write,
        what="the int8 model",
        announce=f"building the int8 ONNX graph of {DEFAULT_MODEL_NAME} into {dest}",
        force=force,
        progress=progress,
    )


def ensure_int8_model(progress: bool = False) -> Path:
    """The int8 ONNX model's directory, built first if it is missing or incomplete."""
    return ensure(int8_model_dir(), is_complete_int8, lambda path: build_int8_model(path, progress=progress))
