"""The library entry points (`dedup.pipeline`: `dedup.cluster`, `dedup.cluster_embeddings`) on the
fake encoder: nesting, order independence, and the validation of records given as dicts."""

import random

import numpy as np
import pytest
from conftest import BAD, FOUR_ARTICLES, TWO_ARTICLES, PickyEncoder

import dedup
from dedup import Config, HashEncoder
from dedup.errors import EncoderError, InputError

ARTS = FOUR_ARTICLES


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


def test_any_pair_of_thresholds_nests_stories_over_duplicates():
    """Stories are built from whole duplicate clusters: a story threshold above the duplicate one is
    accepted and every duplicate cluster still lies inside one story."""
    r = dedup.cluster(ARTS, Config(duplicate_threshold=0.05, story_threshold=0.9), encoder=HashEncoder())
    assert r.config.story_threshold == 0.9
    story_of = r.story_canonical
    for members in r.clusters:
        assert len({story_of[m] for m in members}) == 1


# ------------------------------------------------------------------------------------ records as dicts


def test_bad_articles_are_rejected_or_fail_with_clear_errors():
    r = dedup.cluster([ARTS[0], ARTS[0], ARTS[1]], encoder=HashEncoder())
    assert r.ids == (ARTS[0]["id"], ARTS[1]["id"])
    assert [(j.line, j.id) for j in r.rejects] == [(2, ARTS[0]["id"])]
    assert "duplicate id" in r.rejects[0].reason
    with pytest.raises(InputError, match="records line 2: duplicate id"):
        dedup.cluster([ARTS[0], ARTS[0]], Config(on_error="fail"), encoder=HashEncoder())
    with pytest.raises(dedup.NoUsableRecords, match="empty 'text'") as info:
        dedup.cluster([{"id": "x", "text": "   "}], encoder=HashEncoder())
    assert [j.id for j in info.value.rejects] == ["x"]


@pytest.mark.usefixtures("private_home")
def test_library_rejects_what_the_tokenizer_cannot_take() -> None:
    """dedup.cluster applies the reader's checks to dicts: a lone surrogate or NUL bytes in a text
    is a reject naming the record (an InputError with on_error="fail"), not a crash in the encoder."""
    fail = dedup.Config(on_error="fail")
    first = TWO_ARTICLES[0]
    for text, reason in [
        ("a\ud800b", "not valid Unicode"),
        ("nul\x00", "NUL bytes"),
        (" \t", "empty 'text'"),
    ]:
        r = dedup.cluster([first, {"id": "b", "text": text}], encoder=dedup.HashEncoder())
        assert r.ids == (first["id"],) and [(j.line, j.id) for j in r.rejects] == [(2, "b")]
        assert reason in r.rejects[0].reason
        with pytest.raises(dedup.InputError, match=f"^records line 2: '?.*{reason}"):
            dedup.cluster([first, {"id": "b", "text": text}], fail, encoder=dedup.HashEncoder())
    with pytest.raises(dedup.InputError, match="^records line 1: 'id' must be a string or an integer"):
        dedup.cluster([{"id": True, "text": "x"}], fail, encoder=dedup.HashEncoder())


@pytest.mark.usefixtures("private_home")
def test_library_screens_unknown_scripts_in_dicts() -> None:
    """A text in a script the encoder cannot read, among dicts: a reject at its position (with
    on_error reject), an InputError naming `records line N` (with on_error fail)."""
    ol_chiki = (BAD / "unknown_script.txt").read_text("utf-8")
    recs = [*ARTS[:2], {"id": "santali", "text": ol_chiki}, ARTS[2], {"id": "", "text": "blank id"}]
    r = dedup.cluster(recs, encoder=PickyEncoder())
    assert r.ids == ("a1", "a2", "b1")
    assert [(j.line, j.id, j.source) for j in r.rejects] == [(3, "santali", "records"), (5, None, "records")]
    assert "in a script the model 'hash-64' does not know (Ol Chiki" in r.rejects[0].reason
    assert "blank 'id'" in r.rejects[1].reason
    with pytest.raises(
        InputError, match=r"^records line 3: text is in a script the model 'hash-64' does not know"
    ):
        dedup.cluster(recs[:4], Config(on_error="fail"), encoder=PickyEncoder())
    with pytest.raises(dedup.NoUsableRecords, match="Ol Chiki"):
        dedup.cluster([{"id": "santali", "text": ol_chiki}], encoder=PickyEncoder())


@pytest.mark.usefixtures("private_home")
def test_on_error_fail_names_the_first_bad_record_even_when_it_is_an_unknown_script() -> None:
    ol_chiki = (BAD / "unknown_script.txt").read_text("utf-8")
    recs = [ARTS[0], {"id": "santali", "text": ol_chiki}, {"id": "", "text": "blank id"}]
    with pytest.raises(InputError, match=r"^records line 2: text is in a script"):
        dedup.cluster(recs, Config(on_error="fail"), encoder=PickyEncoder())
