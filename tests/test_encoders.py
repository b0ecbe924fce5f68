"""Encoders (`dedup.encoders`): the Protocol and its checks (`CheckedEncoder`), the hash encoder,
`get_encoder`, the int8 ONNX graph against the fp32 model, and the script screen.

The tests marked `slow` use the real default model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import BAD, TWO_ARTICLES, BadEncoder, PickyEncoder

import dedup
import dedup.encoders
from dedup.encoders import CheckedEncoder, Encoder, HashEncoder, get_encoder, unknown_script, validated
from dedup.errors import EncoderError, ModelError

pytestmark = pytest.mark.usefixtures("private_home")


# ------------------------------------------------------------------------------------ Protocol, checks

_BAD_ENCODERS = [
    ("nan", 8, lambda n, c: np.full((n, 8), np.nan), "encoder 'nan' returned non-finite values (NaN or inf)"),
    ("inf", 8, lambda n, c: np.full((n, 8), np.inf), "encoder 'inf' returned non-finite values"),
    ("narrow", 8, lambda n, c: np.ones((n, 4)), "encoder 'narrow' returned dimension 4; expected 8"),
    (
        "drifting",
        None,
        lambda n, c: np.ones((n, 8 if c == 1 else 6)),
        "encoder 'drifting' returned dimension 6; expected 8",
    ),
    ("short", 8, lambda n, c: np.ones((max(n - 1, 0), 8)), "encoder 'short' returned"),
    ("flat", 8, lambda n, c: np.ones(n), "encoder 'flat' returned an array of shape"),
    ("none", 8, lambda n, c: None, "encoder 'none' returned an array of shape ()"),
    (
        "words",
        8,
        lambda n, c: [["x"] * 8] * n,
        "encoder 'words' returned something that is not a numeric array",
    ),
    ("raises", 8, lambda n, c: 1 / 0, "encoder 'raises' failed on a batch of"),
    ("bad-dim", "eight", lambda n, c: np.ones((n, 8)), "encoder 'bad-dim' declares dimension 'eight'"),
]


@pytest.mark.parametrize(("name", "dim", "fn", "message"), _BAD_ENCODERS, ids=[e[0] for e in _BAD_ENCODERS])
def test_bad_custom_encoder(name: str, dim: Any, fn: Any, message: str) -> None:
    config = dedup.Config(cache=False, cache_priors=False)
    with pytest.raises(EncoderError) as info:
        dedup.cluster(TWO_ARTICLES, config, encoder=BadEncoder(name, dim, fn))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_encoder_output_is_validated() -> None:
    arts = [*TWO_ARTICLES, {"id": "c", "text": "Researchers found a new species of frog in Peru."}]
    with pytest.raises(EncoderError, match="non-finite"):
        dedup.cluster(arts, encoder=BadEncoder("bad", 8, lambda n, c: np.full((n, 8), np.nan)))
    with pytest.raises(EncoderError, match="vectors for"):
        dedup.cluster(arts, encoder=BadEncoder("bad", 8, lambda n, c: np.ones((n + 1, 8))))


def test_checked_encoder_wraps_once_and_learns_an_undeclared_dimension() -> None:
    enc = BadEncoder("undeclared", None, lambda n, c: np.ones((n, 5)))
    checked = validated(enc)
    assert isinstance(checked, CheckedEncoder) and validated(checked) is checked
    assert checked.name == "undeclared" and checked.calls == 0  # other attributes are the encoder's
    assert checked.dim == 5 and enc.calls == 1  # probed once
    out = checked.encode(["a", "b"])
    assert out.shape == (2, 5) and out.dtype == np.float32
    with pytest.raises(ModelError, match="neither a model name nor an object with an encode"):
        validated(object())


# ------------------------------------------------------------------------------------ hash, get_encoder


def test_hash_encoder_is_a_deterministic_unit_length_encoder() -> None:
    enc = HashEncoder(32)
    assert isinstance(enc, Encoder) and enc.name == "hash-32" and enc.dim == 32
    assert enc.cache_key is None  # cheaper to recompute than to look up: never cached
    texts = ["The council approved the budget.", "", "Đà Nẵng 東京 🙂"]
    a, b = enc.encode(texts), HashEncoder(32).encode(texts)
    assert a.shape == (3, 32) and np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    near = enc.encode(
        ["The council approved the budget on Monday.", "The council approved the budget on Tuesday."]
    )
    far = enc.encode(["The council approved the budget on Monday.", "Ферри стояли в порту."])
    assert float(near[0] @ near[1]) > float(far[0] @ far[1])


def test_get_encoder_names() -> None:
    assert isinstance(get_encoder("hash"), HashEncoder) and get_encoder("hash").dim == 64
    assert get_encoder("hash-16").dim == 16
    mine = HashEncoder(8)
    assert get_encoder(mine) is mine  # an encoder object is used as given
    with pytest.raises(ModelError, match="neither a model name nor an object with an encode"):
        get_encoder(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ script screen


def test_script_screen_of_an_encoder_that_knows_its_letters() -> None:
    texts = [(BAD / "unknown_script.txt").read_text("utf-8"), "Plain English text.", ""]
    reasons = unknown_script(PickyEncoder(), texts)
    assert reasons[0] is not None
    assert "the model 'hash-64' does not know (Ol Chiki, e.g. 'ᱥ' U+1C65" in reasons[0]
    assert reasons[1:] == [None, None]
    assert unknown_script(HashEncoder(), texts) == [None, None, None]  # no unknown_letters: all known


@pytest.mark.slow
def test_unknown_letters_of_the_real_model() -> None:
    enc = dedup.SentenceTransformerEncoder("e5-small")
    texts = [
        (BAD / "unknown_script.txt").read_text("utf-8"),
        "Leaders met in Brussels on Thursday. «соглашение века» 「歴史的な合意」 🇪🇺",
        "ＦＵＬＬＷＩＤＴＨ letters are normalised",
        "𒀀𒀁𒀂 𒀃𒀄",
        "",
        "An English report that quotes 𒀀𒀁𒀂: most of its letters are known",
    ]
    shares = enc.unknown_letters(texts)
    assert shares[0][0] > 0.9 and shares[0][1] in texts[0]
    assert shares[1] == (0.0, "") and shares[2] == (0.0, "") and shares[4] == (0.0, "")
    reasons = dedup.encoders.unknown_script(enc, texts)
    assert reasons[0] is not None and "Ol Chiki" in reasons[0]
    assert reasons[3] is not None and "Cuneiform" in reasons[3]
    assert reasons[1] is None and reasons[2] is None and reasons[4] is None
    assert 0 < shares[5][0] < 0.2 and reasons[5] is None
    assert enc.encode(["a lone \ud800 surrogate"]).shape == (1, 384)  # the tokenizer would refuse it


# ------------------------------------------------------------------------------------ int8 ONNX


def test_token_batches_bound_texts_and_padded_tokens() -> None:
    from dedup.encoders.onnx import token_batches

    lengths = np.array([600, 300, 300, 120, 40, 40, 40, 30, 20, 10])  # sorted longest first
    batches = token_batches(lengths, batch_size=4, max_tokens=600)
    assert np.concatenate(batches).tolist() == list(range(10))  # every text once, in order
    for b in batches:
        assert len(b) <= 4
        assert len(b) == 1 or len(b) * lengths[b].max() <= 600  # a longer text goes alone
    assert [len(b) for b in batches] == [1, 2, 4, 3]


@pytest.mark.slow
def test_int8_model_keeps_the_fp32_embeddings() -> None:
    from dedup.encoders import Int8OnnxEncoder

    texts = [
        "The council approved the budget on Monday.",
        "Hội đồng đã thông qua ngân sách vào thứ Hai.",
        "Rådet godkände budgeten på måndagen.",
        "A storm hit the coast of Norway and power was cut to 40,000 homes.",
    ]
    q = get_encoder("e5-small", precision="int8")
    assert isinstance(q, Int8OnnxEncoder) and q.name == "e5-small:int8" and q.dim == 384
    f = get_encoder("e5-small", precision="fp32")
    vq, vf = q.encode(texts), f.encode(texts)
    assert np.allclose(np.linalg.norm(vq, axis=1), 1.0, atol=1e-4)
    assert (vq * vf).sum(axis=1).min() >= 0.995  # per-token activations: 0.998 at worst on NTREX units
    assert q.unknown_letters(["plain text", "ᱚᱞ ᱪᱤᱠᱤ ᱚᱞ"])[0] == (0.0, "")
    assert q.unknown_letters(["ᱚᱞ ᱪᱤᱠᱤ ᱚᱞ"])[0][0] > 0.5


@pytest.mark.slow
def test_int8_vector_of_a_text_does_not_depend_on_its_batch() -> None:
    """Activations are quantised per token, so a text embeds the same alone, beside others and in
    any order (with one scale per batch tensor, cosine between the two fell to 0.992)."""
    texts = [
        "Ngân hàng Nhà nước giữ nguyên lãi suất điều hành trong quý III.",
        "Short.",
        " ".join(["The storm cut power to 40,000 homes along the coast of western Norway."] * 12),
        "Regeringen presenterade budgeten för 2024 på tisdagen och fick kritik från oppositionen.",
        "東京で開かれた会議には30カ国の代表が参加した。",
    ]
    q = get_encoder("e5-small", precision="int8")
    together = q.encode(texts)
    alone = np.vstack([q.encode([t]) for t in texts])
    reversed_ = q.encode(texts[::-1])[::-1]
    assert (together * alone).sum(axis=1).min() >= 0.99999
    assert (together * reversed_).sum(axis=1).min() >= 0.99999
