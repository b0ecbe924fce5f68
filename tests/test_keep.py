"""The deduplicated corpus: `Result.canonical_records(keep)` and `dedup cluster --keep`.

Fast tests run the logic with the hash encoder; the seeds' acceptance (4 of 5 written, by the
canonical policy) runs the real default model and is marked slow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import (
    FOUR_ARTICLES,
    TYPED_RECORDS,
    assert_pass_through,
    cli,
    read_jsonl,
    usage_error,
    write_jsonl,
)

import dedup
from dedup import Config, HashEncoder
from dedup.config import Keep
from dedup.result import DEDUP_FIELDS


@pytest.fixture
def typed(private_home):
    return dedup.cluster(TYPED_RECORDS, Config(cache=False), encoder=HashEncoder())


@pytest.fixture
def four(private_home):
    return dedup.cluster(FOUR_ARTICLES, Config(cache=False), encoder=HashEncoder())


def test_canonical_records_are_the_canonicals_records_in_input_order(four):
    everything = four.to_records()
    got = four.canonical_records()
    assert got == [r for r in everything if r["canonical"]]  # the same records, input order
    assert sorted(r["id"] for r in got) == sorted(c[0] for c in four.clusters)  # one per cluster
    assert len(got) == len(four.clusters) == 3  # a1 and a2 are one report
    assert len({four.canonical[r["id"]] for r in got}) == len(got)


def test_keep_story_and_all(four):
    story = four.canonical_records("story")
    assert sorted(r["id"] for r in story) == sorted(s[0] for s in four.stories)
    assert all(r["story_canonical"] for r in story)
    assert four.canonical_records(Keep.ALL) == four.canonical_records("all") == four.to_records()
    assert four.canonical_records(Keep.STORY) == story


def test_every_input_field_passes_through(typed):
    given = {str(r["id"]): r for r in TYPED_RECORDS}
    kept = typed.canonical_records()
    assert 0 < len(kept) < len(TYPED_RECORDS)  # "a" and "b" are one report
    for rec in kept:
        assert_pass_through(rec, given[str(rec["id"])])


def test_slim_combines_with_keep(typed):
    full = typed.canonical_records("canonical")
    slim = typed.canonical_records("canonical", slim=True)
    assert [r["id"] for r in slim] == [r["id"] for r in full]
    for s, f in zip(slim, full, strict=True):
        assert list(s) == ["id", *[k for k in DEDUP_FIELDS if k in s]]
        assert s == {k: f[k] for k in s}


def test_unknown_keep_is_a_config_error(four):
    with pytest.raises(dedup.ConfigError, match="unknown keep 'first'; choose all, canonical, story"):
        four.canonical_records("first")


def test_keep_follows_the_canonical_policy(private_home):
    """Which copy is kept is the canonical policy's choice: the longest text by default, the earliest
    with `earliest`."""
    recs = [
        {"id": "short", "text": FOUR_ARTICLES[0]["text"], "published": "2024-01-01"},
        {"id": "long", "text": FOUR_ARTICLES[0]["text"] + " More.", "published": "2024-02-01"},
        FOUR_ARTICLES[2],
    ]
    longest = dedup.cluster(recs, Config(cache=False), encoder=HashEncoder())
    assert longest.canonical["short"] == longest.canonical["long"]  # one report
    assert [r["id"] for r in longest.canonical_records()] == ["long", "b1"]
    earliest = dedup.cluster(recs, Config(cache=False, canonical_policy="earliest"), encoder=HashEncoder())
    assert [r["id"] for r in earliest.canonical_records()] == ["short", "b1"]


# ------------------------------------------------------------------------------------ the CLI


@pytest.mark.usefixtures("private_home")
@pytest.mark.parametrize("keep", ["canonical", "story", "all"])
def test_cli_keep_writes_what_the_library_gives(tmp_path: Path, keep: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", TYPED_RECORDS)
    out = tmp_path / "out.jsonl"
    r = cli("cluster", src, "-o", out, "--model", "hash", "--no-cache", "--keep", keep, "-q")
    assert r.exit_code == 0, r.output
    lib = dedup.cluster(TYPED_RECORDS, Config(model="hash", cache=False))
    assert read_jsonl(out) == json.loads(json.dumps(lib.canonical_records(keep)))


@pytest.mark.usefixtures("private_home")
def test_cli_keep_with_slim_and_parquet(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", FOUR_ARTICLES)
    out = tmp_path / "out.parquet"
    r = cli("cluster", src, "-o", out, "--model", "hash", "--keep", "canonical", "--slim", "-q")
    assert r.exit_code == 0, r.output
    import pyarrow.parquet as pq

    rows = [{k: v for k, v in row.items() if v is not None} for row in pq.read_table(out).to_pylist()]
    lib = dedup.cluster(FOUR_ARTICLES, Config(model="hash")).canonical_records(slim=True)
    assert rows == lib and len(rows) == 3
    assert "text" not in rows[0]


@pytest.mark.usefixtures("private_home")
def test_cli_default_keeps_everything(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", FOUR_ARTICLES)
    out = tmp_path / "out.jsonl"
    assert cli("cluster", src, "-o", out, "--model", "hash", "-q").exit_code == 0
    assert [r["id"] for r in read_jsonl(out) or []] == [a["id"] for a in FOUR_ARTICLES]


def test_cli_keep_default_and_choices_come_from_the_enum() -> None:
    r = cli("cluster", "--help")
    text = " ".join(r.output.replace("│", " ").split())
    assert "--keep" in text and f"[default: {Keep.ALL.value}]" in text
    bad = cli("cluster", "x.jsonl", "--keep", "first")
    assert "first" in usage_error(bad) and "canonical" in usage_error(bad)


# ------------------------------------------------------------------------------------ the seeds


def _dropped(expected: dict, policy: str) -> set[str]:
    """The seeds that --keep canonical drops under a policy of expected.json: the other members of
    each duplicate cluster whose canonical it names."""
    canon = expected["canonical"][policy]
    out: set[str] = set()
    for group in expected["duplicate"]:
        chosen = {canon[a] for a in group if a in canon}
        if chosen:
            out |= set(group) - chosen
    return out


@pytest.mark.slow
def test_seeds_keep_canonical_with_the_real_model(tmp_path: Path, seed_articles, seed_expected) -> None:
    """The acceptance: 4 of the 5 seeds are written, with every input field; the copy dropped is the
    canonical policy's choice (003 by default, 000 when English is preferred); the library gives the
    same records."""
    cache = tmp_path / "cache"
    out = tmp_path / "s.jsonl"
    r = cli("cluster", "fixtures/seeds/", "-o", out, "--keep", "canonical", "--cache-dir", cache, "-q")
    assert r.exit_code == 0, r.output
    got = read_jsonl(out) or []
    assert len(got) == len(seed_expected["duplicate"]) == 4
    everyone = {a["id"] for a in seed_articles}
    assert {g["id"] for g in got} == everyone - _dropped(seed_expected, "default")  # 000: 003 is canonical
    texts = {a["id"]: a["text"] for a in seed_articles}
    for g in got:
        assert list(g)[:2] == ["id", "text"] and g["text"] == texts[g["id"]]
        assert g["canonical"] is True and g["cluster"] == g["id"]
    lib = dedup.cluster(seed_articles, Config(cache_dir=str(cache)))
    assert json.loads(json.dumps(lib.canonical_records("canonical"))) == got

    pref = tmp_path / "pref.jsonl"
    r = cli(
        "cluster", "fixtures/seeds/", "-o", pref, "--keep", "canonical", "--prefer-lang", "en",
        "--slim", "--cache-dir", cache, "-q",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    slim = read_jsonl(pref) or []
    assert {g["id"] for g in slim} == everyone - _dropped(seed_expected, "prefer_lang_en")  # 003
    assert all("text" not in g for g in slim)

    story = tmp_path / "story.jsonl"
    r = cli("cluster", "fixtures/seeds/", "-o", story, "--keep", "story", "--cache-dir", cache, "-q")
    assert r.exit_code == 0, r.output
    assert len(read_jsonl(story) or []) == len(seed_expected["story"])
