"""The end-of-run summary: `Result.summary()` (counts, the largest stories, rejects, where the result
came from, seconds per stage) and how `dedup cluster` prints it: lines on stderr, or one JSON object
on stdout with `--json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FOUR_ARTICLES, CountingEncoder, cli, usage_error, use_encoder, write_jsonl

import dedup
from dedup import Config, HashEncoder
from dedup.result import TOP_STORIES

pytestmark = pytest.mark.usefixtures("private_home")
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
WORDS += ("kilo", "lima", "mike", "november", "oscar")


def copies(groups: int = 14) -> list[dict[str, Any]]:
    """`groups` reports, each with 2-4 copies ("!" appended): that many stories of several articles,
    more than the summary lists. Odd groups have a title; the others' texts lead."""
    out = []
    for g in range(groups):
        w = [WORDS[(g * k + 3) % len(WORDS)] for k in (1, 7, 3)]
        base = f"The {w[0]} {w[1]} report number {g * 101} from {w[2]} city was published."
        for c in range(2 + g % 3):
            rec: dict[str, Any] = {"id": f"g{g:02d}c{c}", "text": base + "!" * c}
            if g % 2:
                rec["title"] = f"Headline of report {g}"
            out.append(rec)
    return out


def test_counts_and_where_the_result_came_from():
    bad = {"id": "empty", "text": "  "}
    r = dedup.cluster([*FOUR_ARTICLES, bad], Config(cache=False), encoder=HashEncoder())
    s = r.summary()
    assert s["articles"] == len(r.ids) == 4
    assert s["rejected"] == len(r.rejects) == 1 and s["records"] == 5
    assert s["duplicate_clusters"] == len(r.clusters) and s["stories"] == len(r.stories)
    assert s["duplicates_removed"] == s["articles"] - s["duplicate_clusters"] == 1  # a1 and a2
    assert (s["source"], s["from_cache"]) == ("computed", False)
    assert set(s["timings"]) == set(r.timings) >= {"embed", "cluster"}
    assert json.loads(json.dumps(s)) == s  # JSON-ready


def test_a_result_read_back_says_so():
    enc = CountingEncoder()
    first = dedup.cluster(FOUR_ARTICLES, encoder=enc)
    again = dedup.cluster(FOUR_ARTICLES, encoder=enc)
    assert first.summary()["source"] == "computed"
    assert (again.summary()["source"], again.summary()["from_cache"]) == ("result cache", True)


def test_largest_stories_are_the_stories_of_several_articles_largest_first():
    recs = copies()
    r = dedup.cluster(recs, Config(cache=False), encoder=HashEncoder())
    several = [s for s in r.stories if len(s) > 1]
    assert len(several) > TOP_STORIES  # the corpus has more than the summary lists
    s = r.summary()
    top = s["largest_stories"]
    assert s["multi_article_stories"] == len(several) and len(top) == TOP_STORIES
    assert [t["size"] for t in top] == sorted((len(x) for x in several), reverse=True)[:TOP_STORIES]
    by_id = {x["id"]: x for x in recs}
    lang = dict(zip(r.ids, r.langs, strict=True))
    for t in top:
        assert t["ids"] in several and t["story"] == t["ids"][0] and t["size"] == len(t["ids"])
        assert sorted(sum(t["duplicate_clusters"], [])) == sorted(t["ids"])
        for members in t["duplicate_clusters"]:
            assert {r.canonical[m] for m in members} == {members[0]}
        assert sum(t["languages"].values()) == t["size"]
        assert t["languages"] == {x: [lang[i] for i in t["ids"]].count(x) for x in t["languages"]}
        given = by_id[t["story"]]
        assert len(given["text"]) < 80 and t["title"] == given.get("title", given["text"])
    assert [len(t["ids"]) for t in r.summary(top=3)["largest_stories"]] == [t["size"] for t in top[:3]]
    assert r.summary(top=0)["largest_stories"] == []


def test_titles_come_from_the_title_field_else_the_texts_first_words():
    long_text = "word " * 100
    recs = [
        {"id": "t", "text": FOUR_ARTICLES[0]["text"], "headline": "  A   mapped\nheadline "},
        {"id": "x", "text": long_text},
        {"id": "h", "text": "<html><body><h1>The page headline</h1><p>Body text here.</p></body></html>"},
        {"id": "p", "text": "<p>No headline, only text in markup.</p>"},
    ]
    r = dedup.cluster(recs, Config(cache=False), encoder=HashEncoder(), fields={"title": "headline"})
    assert r.title("t") == "A mapped headline"
    assert r.title("x").startswith("word word") and r.title("x").endswith("…") and len(r.title("x")) == 80
    assert r.title("h") == "The page headline"
    assert r.title("p") == "No headline, only text in markup."


# ------------------------------------------------------------------------------------ the CLI


def _run(tmp_path: Path, *extra: Any, records: list[dict[str, Any]] | None = None) -> Any:
    src = write_jsonl(tmp_path / "in.jsonl", records if records is not None else copies())
    return cli("cluster", src, "-o", tmp_path / "out.jsonl", "--model", "hash", "--no-cache", *extra)


def test_cli_prints_counts_the_largest_stories_and_timings_on_stderr(tmp_path: Path):
    r = _run(tmp_path, "--keep", "canonical")
    assert r.exit_code == 0, r.output
    lib = dedup.cluster(copies(), Config(model="hash", cache=False)).summary()
    err = r.stderr
    assert (
        f"dedup: {lib['articles']} articles -> {lib['duplicate_clusters']} duplicate clusters "
        f"({lib['duplicates_removed']} duplicates removed), {lib['stories']} stories"
    ) in err
    assert f"wrote {lib['duplicate_clusters']} of {lib['articles']} articles (--keep canonical)" in err
    assert f"largest stories ({TOP_STORIES} of {lib['multi_article_stories']} with more than one" in err
    listed = [line for line in err.splitlines() if line.startswith("  story ")]
    assert len(listed) == TOP_STORIES
    for k, (line, t) in enumerate(zip(listed, lib["largest_stories"], strict=True), 1):
        assert line.startswith(f"  story {k}: {t['size']} articles (") and line.endswith(t["story"])
        assert json.dumps(t["title"], ensure_ascii=False) in err
    assert "computed in " in err.splitlines()[-1] and "rejected" not in err
    assert r.stdout == ""  # the records went to the file


def test_cli_summary_counts_rejects_and_says_when_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    use_encoder(monkeypatch, CountingEncoder())  # cacheable: the second run reads the result back
    recs = [*FOUR_ARTICLES, {"id": "bad", "text": ""}]
    src = write_jsonl(tmp_path / "in.jsonl", recs)
    args = ("cluster", src, "-o", tmp_path / "out.jsonl", "--rejects", tmp_path / "rej.jsonl")
    first, again = cli(*args), cli(*args)
    assert first.exit_code == again.exit_code == 0
    assert f"1 of 5 records rejected (see {tmp_path / 'rej.jsonl'})" in first.stderr
    assert first.stderr.splitlines()[-1].startswith("computed in ")
    assert again.stderr.splitlines()[-1].startswith("read back from the result cache in ")


def test_cli_json_summary_on_stdout(tmp_path: Path):
    r = _run(tmp_path, "--json", "--keep", "story", "--slim")
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)  # one JSON object, nothing else
    lib = dedup.cluster(copies(), Config(model="hash", cache=False)).summary()
    for key in ("records", "articles", "duplicate_clusters", "stories", "duplicates_removed", "rejected"):
        assert s[key] == lib[key], key
    assert s["largest_stories"] == lib["largest_stories"]
    assert (s["keep"], s["written"], s["output"]) == ("story", lib["stories"], str(tmp_path / "out.jsonl"))
    assert s["source"] == "computed" and s["rejects_file"] is None
    assert list(s["timings"])[0] == "read_input" and list(s["timings"])[-1] == "write_output"
    assert s["seconds"] >= sum(v for k, v in s["timings"].items() if k in lib["timings"])
    assert "dedup: " not in r.stderr  # the summary is the JSON, not also the lines
    quiet = _run(tmp_path, "--json", "--quiet")
    assert json.loads(quiet.stdout)["articles"] == lib["articles"] and quiet.stderr == ""


def test_cli_json_refuses_stdout_output(tmp_path: Path):
    src = write_jsonl(tmp_path / "in.jsonl", FOUR_ARTICLES)
    for extra in ([], ["-o", "-"]):
        r = cli("cluster", src, "--model", "hash", "--json", *extra)
        assert "--json" in usage_error(r) and "-o FILE" in usage_error(r)
        assert r.stdout == ""


def test_cli_quiet_prints_no_summary(tmp_path: Path):
    r = _run(tmp_path, "--quiet", records=FOUR_ARTICLES)
    assert r.exit_code == 0 and r.stderr == "" and r.stdout == ""


def test_long_stages_show_a_progress_bar_and_short_ones_none(capsys: pytest.CaptureFixture[str]) -> None:
    from dedup.timing import PROGRESS_MIN_ITEMS, progress

    few = list(range(10))
    assert list(progress(few, len(few), "cleaning", True)) == few
    assert capsys.readouterr().err == ""
    many = range(PROGRESS_MIN_ITEMS)
    assert list(progress(many, len(many), "cleaning", True)) == list(many)
    assert "cleaning" in capsys.readouterr().err
    assert list(progress(many, len(many), "cleaning", False)) == list(many)
    assert capsys.readouterr().err == ""
