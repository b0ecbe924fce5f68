"""The library API on the fake encoder: shapes, order independence, nesting, validation."""

import random

import numpy as np
import pytest

import dedup
from dedup import Config, HashEncoder
from dedup.errors import ConfigError, EncoderError, InputError

ARTS = [
    {"id": "a1", "text": "The city council approved the new budget on Monday. Taxes rise by 2 percent."},
    {"id": "a2", "text": "The city council approved the new budget on Monday. Taxes rise by 2 percent!"},
    {"id": "b1", "text": "A storm hit the coast of Norway, cutting power to 40,000 homes overnight."},
    {"id": "c1", "text": "Researchers found a new species of frog in the rainforest of Peru."},
]


def test_result_shape_and_fields():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    recs = r.to_records()
    assert [x["id"] for x in recs] == [a["id"] for a in ARTS]
    for x in recs:
        assert {"id", "lang", "cluster", "story", "canonical", "story_canonical"} <= set(x)
        assert x["canonical"] == (x["id"] == x["cluster"])
        assert x["story_canonical"] == (x["id"] == x["story"])
    assert r.canonical["a1"] == r.canonical["a2"]  # near-identical copies
    assert r.canonical["b1"] != r.canonical["a1"]
    assert set(r.timings) >= {"clean", "embed", "score", "cluster", "canonical"}
    assert r.summary()["config"]["duplicate_threshold"] == Config().duplicate_threshold


def test_stories_contain_whole_duplicate_clusters():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    story_of = r.story_canonical
    for cl in r.clusters:
        assert len({story_of[x] for x in cl}) == 1


def test_order_does_not_matter():
    base = dedup.cluster(ARTS, encoder=HashEncoder())
    shuffled = ARTS[:]
    random.Random(5).shuffle(shuffled)
    r = dedup.cluster(shuffled, encoder=HashEncoder())
    assert r.canonical == base.canonical
    assert r.story_canonical == base.story_canonical


def test_explain_gives_evidence():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    ex = r.explain("a1", "a2")
    assert ex.same_duplicate
    assert ex.aligned, "identical sentences align"
    assert "2" in ex.shared_numbers or ex.shared_names
    with pytest.raises(dedup.DedupError):
        r.explain("a1", "zzz")


def test_cluster_embeddings_entry_point():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 16)).astype(np.float32)
    vecs = np.vstack([base, base + rng.normal(size=(3, 16)).astype(np.float32) * 0.01])
    before = vecs.copy()
    r = dedup.cluster_embeddings(vecs, ids=[f"x{i}" for i in range(6)], config=Config(story_threshold=0.4))
    assert np.array_equal(vecs, before), "caller's array is not normalised in place"
    assert r.canonical["x0"] == r.canonical["x3"]
    assert r.canonical["x1"] == r.canonical["x4"]
    assert len(r.clusters) == 3
    with pytest.raises(EncoderError):
        dedup.cluster_embeddings(np.array([[np.nan, 1.0], [0.0, 1.0]]))


def test_config_validation():
    with pytest.raises(ConfigError):
        Config(duplicate_threshold=1.5)
    with pytest.raises(ConfigError):
        Config(duplicate_threshold=0.3, story_threshold=0.6)
    with pytest.raises(ConfigError):
        Config(canonical_policy="nope")
    assert Config(canonical_policy="earliest").canonical_policy is dedup.CanonicalPolicy.EARLIEST


def test_bad_articles_raise_clear_errors():
    with pytest.raises(InputError, match="duplicate id"):
        dedup.cluster([ARTS[0], ARTS[0]], encoder=HashEncoder())
    with pytest.raises(InputError, match="text"):
        dedup.cluster([{"id": "x", "text": "   "}], encoder=HashEncoder())


class _BadEncoder:
    name = "bad"
    dim = 8

    def __init__(self, out):
        self.out = out

    def encode(self, texts):
        return self.out(len(texts))


def test_encoder_output_is_validated():
    with pytest.raises(EncoderError, match="non-finite"):
        dedup.cluster(ARTS, encoder=_BadEncoder(lambda n: np.full((n, 8), np.nan)))
    with pytest.raises(EncoderError, match="vectors for"):
        dedup.cluster(ARTS, encoder=_BadEncoder(lambda n: np.ones((n + 1, 8))))


def test_with_thresholds_reclusters_without_the_model():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    loose = r.with_thresholds(duplicate=0.05, story=0.0)
    strict = r.with_thresholds(duplicate=1.0, story=1.0)
    assert len(loose.clusters) <= len(r.clusters) <= len(strict.clusters)
    assert len(strict.clusters) == len(ARTS)  # no pair reaches 1.0
    assert loose.config.duplicate_threshold == 0.05 and "embed" not in loose.timings
