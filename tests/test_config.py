"""Settings (`dedup.config`): `Config` is frozen, validated against `BOUNDS` and the enums, and
holds every default (the CLI's defaults are checked against it in test_cli.py)."""

import json

import pytest

import dedup
from dedup import Config, HashEncoder
from dedup.config import BOUNDS, OnError
from dedup.errors import ConfigError


def test_config_validation():
    with pytest.raises(ConfigError):
        Config(duplicate_threshold=1.5)
    with pytest.raises(ConfigError):
        Config(canonical_policy="nope")
    with pytest.raises(ConfigError):
        Config(neighbours=0)
    assert Config(canonical_policy="earliest").canonical_policy is dedup.CanonicalPolicy.EARLIEST


def test_config_precision_and_max_units():
    assert dedup.Config().precision in ("int8", "fp32")
    with pytest.raises(dedup.ConfigError):
        dedup.Config(precision="fp16")
    with pytest.raises(dedup.ConfigError):
        dedup.Config(max_units=0)
    enc = HashEncoder(16)
    arts = [
        {"id": str(i), "text": " ".join(f"Sentence number {i} {k} is here." for k in range(10))}
        for i in range(3)
    ]
    full = dedup.cluster(arts, dedup.Config(cache=False), encoder=enc)
    few = dedup.cluster(arts, dedup.Config(cache=False, max_units=2), encoder=enc)
    assert len(few.explain("0", "1").aligned) <= 2 <= len(full.explain("0", "1").aligned)


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_every_bound_is_inclusive_and_enforced(name):
    low, high = BOUNDS[name]
    assert getattr(Config(**{name: low}), name) == low and getattr(Config(**{name: high}), name) == high
    step = 0.01 if isinstance(low, float) else 1
    for bad in (low - step, high + step, True, "0.5"):
        with pytest.raises(ConfigError, match=name):
            Config(**{name: bad})


def test_config_is_frozen_and_echoes_as_json():
    c = Config(prefer_lang=(" EN", "vi", ""), on_error="fail")
    assert c.prefer_lang == ("en", "vi") and c.on_error is OnError.FAIL
    with pytest.raises(AttributeError):
        c.duplicate_threshold = 0.1  # type: ignore[misc]
    assert c.with_(story_threshold=0.9).story_threshold == 0.9
    assert c.story_threshold == Config().story_threshold  # a copy: the original is unchanged
    with pytest.raises(ConfigError):
        c.with_(story_threshold=1.5)  # validated again
    d = json.loads(json.dumps(c.to_dict()))
    assert d["on_error"] == "fail" and d["prefer_lang"] == ["en", "vi"]
    assert d["precision"] == c.precision.value
