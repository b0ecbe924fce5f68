"""The persistent embedding cache: a second run embeds only new texts."""

import numpy as np

import dedup
from dedup.cache import EmbeddingCache


class CountingEncoder:
    name = "counting-test"
    dim = 16

    def __init__(self):
        self.seen = 0
        self.inner = dedup.HashEncoder(16)

    def encode(self, texts):
        self.seen += len(texts)
        return self.inner.encode(texts)


ARTS = [
    {"id": "a", "text": "The council approved the budget on Monday. Taxes rise by 2 percent."},
    {"id": "b", "text": "A storm hit the coast of Norway. Power was cut to 40,000 homes."},
]


def test_round_trip(tmp_path):
    c = EmbeddingCache(tmp_path, "m")
    v = np.arange(6, dtype=np.float32).reshape(2, 3)
    c.put(["x", "y"], v)
    got = c.get(["y", "z", "x"])
    assert got[1] is None
    assert np.array_equal(got[0], v[1]) and np.array_equal(got[2], v[0])
    assert len(c) == 2
    c.close()
    assert len(EmbeddingCache(tmp_path, "m")) == 2  # persisted
    assert len(EmbeddingCache(tmp_path, "other")) == 0  # keyed by model


def test_second_run_embeds_only_new_texts(tmp_path):
    enc = CountingEncoder()
    cfg = dedup.Config(cache_dir=str(tmp_path))
    r1 = dedup.cluster(ARTS, cfg, encoder=enc)
    first = enc.seen
    assert first > 0
    r2 = dedup.cluster(ARTS, cfg, encoder=enc)
    assert enc.seen == first, "nothing re-embedded"
    assert r1.canonical == r2.canonical
    grown = [*ARTS, {"id": "c", "text": "Researchers found a new frog in Peru."}]
    dedup.cluster(grown, cfg, encoder=enc)
    assert 0 < enc.seen - first <= 2  # only the new article's units (and its title if any)
    dedup.cluster(ARTS, cfg.with_(cache=False), encoder=enc)
    assert enc.seen > first + 2
