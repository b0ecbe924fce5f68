"""The result (`dedup.result`): `Result.to_records` (input fields, then dedup's), `explain`,
`with_thresholds` and the summary. Properties of explain over random corpora are in
test_properties.py; on the real seeds, in test_seeds.py."""

import json

import pytest
from conftest import FOUR_ARTICLES, TYPED_RECORDS, assert_pass_through, co_membership

import dedup
from dedup import Config, HashEncoder
from dedup.result import DEDUP_FIELDS

ARTS = FOUR_ARTICLES


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


def test_records_hold_the_input_fields_then_dedups():
    r = dedup.cluster(TYPED_RECORDS, Config(cache=False), encoder=HashEncoder())
    recs = r.to_records()
    for got, given in zip(recs, TYPED_RECORDS, strict=True):
        assert_pass_through(got, given)
    assert recs[0]["cluster"] == recs[1]["cluster"] and recs[2]["cluster"] == "7"  # ids as text
    for got in r.to_records(slim=True):
        assert list(got) == ["id", *[f for f in DEDUP_FIELDS if f in got]]
    assert json.loads(json.dumps(recs)) == recs  # JSON-ready


def test_records_of_a_rerun_on_its_own_output_replace_the_old_verdicts():
    """dedup's fields replace input fields of the same name: clustering the output again gives the
    same records, and stale reasons on articles that are no longer canonical are dropped."""
    first = dedup.cluster(ARTS, encoder=HashEncoder()).to_records()
    again = dedup.cluster(first, encoder=HashEncoder()).to_records()
    assert again == first
    stale = [{**rec, "cluster": "zzz", "canonical": True, "canonical_reason": "old"} for rec in first]
    fresh = dedup.cluster(stale, encoder=HashEncoder()).to_records()
    assert fresh == first


def test_explain_gives_evidence():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    ex = r.explain("a1", "a2")
    assert ex.same_duplicate
    assert ex.aligned, "identical sentences align"
    assert "2" in ex.shared_numbers or ex.shared_names
    with pytest.raises(dedup.DedupError):
        r.explain("a1", "zzz")


def test_explain_is_symmetric_and_printable():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    ab, ba = r.explain("a1", "b1").to_dict(), r.explain("b1", "a1").to_dict()
    assert ab["scores"] == ba["scores"] and ab["verdict"] == ba["verdict"]
    assert ab["thresholds"] == {"duplicate": Config().duplicate_threshold, "story": Config().story_threshold}
    assert json.loads(json.dumps(ab)) == ab
    assert "a1" in str(r.explain("a1", "b1"))


def test_explain_verdicts_follow_with_thresholds():
    """A re-clustered result explains with its own thresholds and clusters."""
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    for dup, story in [(0.05, 0.0), (1.0, 1.0), (0.5, 0.2)]:
        t = r.with_thresholds(duplicate=dup, story=story)
        recs = t.to_records()
        same_dup, same_story = co_membership(recs, "cluster"), co_membership(recs, "story")
        for (a, b), same in same_dup.items():
            ex = t.explain(a, b)
            assert (ex.same_duplicate, ex.same_story) == (same, same_story[(a, b)]), (dup, story, a, b)
            assert ex.thresholds == {"duplicate": dup, "story": story}


def test_with_thresholds_reclusters_without_the_model():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    loose = r.with_thresholds(duplicate=0.05, story=0.0)
    strict = r.with_thresholds(duplicate=1.0, story=1.0)
    assert len(loose.clusters) <= len(r.clusters) <= len(strict.clusters)
    assert len(strict.clusters) == len(ARTS)  # no pair reaches 1.0
    assert loose.config.duplicate_threshold == 0.05 and "embed" not in loose.timings


def test_with_thresholds_equals_a_fresh_run():
    r = dedup.cluster(ARTS, encoder=HashEncoder())
    for dup, story in [(0.05, 0.0), (0.3, 0.6), (0.9, 0.1)]:
        fresh = dedup.cluster(
            ARTS, Config(duplicate_threshold=dup, story_threshold=story), encoder=HashEncoder()
        )
        assert r.with_thresholds(duplicate=dup, story=story).to_records() == fresh.to_records()
