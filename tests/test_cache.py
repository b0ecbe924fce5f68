"""The caches (`dedup.cache`): embeddings per encoder and text (a second run embeds only new
texts, an interrupted run keeps what it embedded) and whole results per run (an unchanged re-run
reads its result back). Only encoders that declare a `cache_key` are cached."""

from pathlib import Path

import numpy as np
import pytest
from conftest import BUDGET, STORM, TWO_ARTICLES, CountingEncoder, numbered_articles

import dedup
from dedup.cache import EmbeddingCache

ARTS = TWO_ARTICLES


# ------------------------------------------------------------------------------------ embeddings


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


def test_an_encoder_without_a_cache_key_is_never_cached(tmp_path):
    """A custom encoder's output may change under the same name: without `cache_key` it is
    neither read from nor written to the caches."""
    enc = CountingEncoder(cache_key=None)
    # the language priors are kept out of it (they are cached by name: see the xfail test below);
    # with them, this test passed only when the user's home already held priors for the name
    cfg = dedup.Config(cache_dir=str(tmp_path), cache_priors=False)
    dedup.cluster(ARTS, cfg, encoder=enc)
    first = enc.seen
    r = dedup.cluster(ARTS, cfg, encoder=enc)
    assert enc.seen == 2 * first and not r.from_cache
    assert not list(tmp_path.rglob("*.sqlite")) and not list(tmp_path.rglob("*.npz"))


@pytest.mark.usefixtures("private_home")
def test_an_encoder_without_a_cache_key_has_no_priors_cached(tmp_path: Path) -> None:
    enc = CountingEncoder(name="uncached-priors-test", cache_key=None)
    cfg = dedup.Config(cache_dir=str(tmp_path / "cache"))
    dedup.cluster(ARTS, cfg, encoder=enc)
    first = enc.seen
    dedup.cluster(ARTS, cfg, encoder=enc)
    assert enc.seen == 2 * first  # the priors (48 neutral sentences) embedded again
    assert not list((tmp_path / "dedup-home").rglob("*.json"))


@pytest.mark.usefixtures("private_home")
def test_rerun_after_an_interruption_reuses_the_embedding_cache(tmp_path: Path) -> None:
    """Batches embedded before Ctrl-C are in the cache; the next run embeds only the rest."""
    arts = numbered_articles(600)
    config = dedup.Config(cache_dir=str(tmp_path / "cache"), cache_priors=False)
    first = CountingEncoder(prefix="Sentence number", stop_at=2)  # batches of 256 unique texts
    with pytest.raises(KeyboardInterrupt):  # the second batch is interrupted
        dedup.cluster(arts, config, encoder=first)
    assert first.counted == 256
    second = CountingEncoder(prefix="Sentence number")
    dedup.cluster(arts, config, encoder=second)
    assert second.counted == 600 - 256


# ------------------------------------------------------------------------------------ results

RESULT_ARTS = [
    {"id": "a", "title": "Budget passed", "text": BUDGET},
    {"id": "b", "title": "Budget passed", "text": BUDGET},
    {"id": "c", "text": STORM},
]


def test_result_cache_serves_an_unchanged_rerun(tmp_path):
    cfg = dedup.Config(cache_dir=str(tmp_path), cache_priors=False)
    enc = CountingEncoder(32, cache_key="fake-for-tests/v1")
    r1 = dedup.cluster(RESULT_ARTS, cfg, encoder=enc)
    assert "embed" in r1.timings
    calls = enc.calls
    r2 = dedup.cluster(RESULT_ARTS, cfg, encoder=enc)
    assert "result_cache" in r2.timings and "embed" not in r2.timings
    assert enc.calls == calls, "nothing embedded or scored again"
    assert r2.to_records() == r1.to_records()
    assert np.array_equal(r2.pairs.duplicate, r1.pairs.duplicate)
    assert r2.explain("a", "b").to_dict() == r1.explain("a", "b").to_dict()  # computed on demand
    assert r2.with_thresholds(duplicate=0.9, story=0.9).clusters == r1.with_thresholds(0.9, 0.9).clusters
    changed = [*RESULT_ARTS[:2], {**RESULT_ARTS[2], "text": RESULT_ARTS[2]["text"] + " Repairs take a week."}]
    r3 = dedup.cluster(changed, cfg, encoder=enc)
    assert "embed" in r3.timings  # another corpus: computed
    r4 = dedup.cluster(RESULT_ARTS, cfg.with_(cache=False), encoder=enc)
    assert "embed" in r4.timings
