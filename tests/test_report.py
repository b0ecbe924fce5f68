"""The HTML report (`dedup.report`, `dedup report`): its data, plots and page with the hash encoder,
and the page itself in headless Chromium (the seeds' report with the real model is `slow`).

The browser tests drive Chromium from its command line (`dedup.report.browser`: `--dump-dom` after
the page's script ran); where no Chromium is found they install Debian's `chromium` when running as
root with apt-get, else they skip saying so.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FOUR_ARTICLES,
    SEEDS,
    cli,
    one_line_error,
    planted_vectors,
    read_jsonl,
    run_cluster,
    write_jsonl,
)

import dedup
from dedup.report import browser, render_report, write_report
from dedup.report.check import check_output
from dedup.report.data import build, highlights
from dedup.report.links import HOLDS
from dedup.report.svg import lang_pair_plot, size_plot, time_plot

pytestmark = pytest.mark.usefixtures("private_home")

EVIL = "<script>alert(1)</script>"
BUDGET = "The city council approved the new budget on Monday. Taxes rise by 2 percent in 2024."
FROG = "Researchers found a new species of frog in Peru. </script><img src=x onerror=alert(2)> "
#: a duplicate cluster of three (b2 is a shorter copy), a storm, and an article with markup in its
#: title and text; (id, title, text, lang, published, source)
ROWS = [
    (
        "b1",
        "Council approves the budget",
        BUDGET + " Mayor Hansen said the vote was close.",
        "en",
        "2024-03-04",
    ),
    ("b2", "Council approves the budget", BUDGET, "en", "2024-03-04", "wire.example"),
    (
        "b3",
        "Council approves the budget!",
        BUDGET.replace(".", "!") + " Mayor Hansen said so.",
        "de",
        "2024-03-05",
    ),
    (
        "s1",
        "Storm in Norway",
        "A storm hit the coast of Norway. Power was cut to 40,000 homes.",
        "no",
        "2024-02-01",
    ),
    ("evil", EVIL, FROG + "The frog is <b>tiny</b> & green.", "es"),
]
CORPUS: list[dict[str, Any]] = [
    dict(zip(("id", "title", "text", "lang", "published", "source"), row, strict=False)) for row in ROWS
]


@pytest.fixture(scope="module")
def result() -> dedup.Result:
    return dedup.cluster(CORPUS, dedup.Config(cache=False), encoder=dedup.HashEncoder())


@pytest.fixture(scope="module")
def page(result: dedup.Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(result, tmp_path_factory.mktemp("report") / "report.html", title="Test <report>")


class Elements(HTMLParser):
    """The elements of a page (tag and attributes) and the text of its script elements."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def page_data(text: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text, re.S)
    assert m is not None
    return json.loads(m.group(1))


# ------------------------------------------------------------------------------------ the data


def test_stories_sorted_by_size_with_their_clusters(result: dedup.Result) -> None:
    data = build(result)
    ids = [a[0] for a in data["articles"]]
    assert ids == list(result.ids)
    sizes = [sum(len(c[2]) for c in s["cl"]) for s in data["stories"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 1
    got = sorted(sorted(ids[k] for c in s["cl"] for k in c[2]) for s in data["stories"])
    assert got == sorted(sorted(s) for s in result.stories)
    for s in data["stories"]:
        assert result.story_of[s["c"]] == ids[s["c"]]  # the story canonical comes first
        for canon, _, members in s["cl"]:
            assert members[0] == canon and {result.cluster_of[k] for k in members} == {ids[canon]}
    counts = data["summary"]
    assert counts["removed"] == len(result.ids) - len(set(result.cluster_of))
    assert sum(r["removed"] for r in counts["by_language"]) == counts["removed"]
    assert data["config"] == result.config.to_dict()


def test_links_are_explained_only_for_the_pairs_shown(result: dedup.Result) -> None:
    data = build(result)
    shown = {(min(lk[0], lk[1]), max(lk[0], lk[1])) for s in data["stories"] for lk in s["ln"]}
    assert shown and len(data["explanations"]) == len(shown)  # one explanation per pair shown
    n = len(result.ids)
    assert len(shown) < n * (n - 1) // 2  # not every pair
    for s in data["stories"]:
        members = {k for c in s["cl"] for k in c[2]}
        for canon, _, ks in s["cl"]:  # each duplicate is shown with its canonical
            holds = {frozenset(lk[:2]) for lk in s["ln"] if lk[4] == "holds"}
            for k in ks[1 : HOLDS + 1]:
                assert frozenset((canon, k)) in holds
        for lk in s["ln"]:
            ex = data["explanations"][lk[5]]
            assert lk[4] == "near" or (lk[0] in members and lk[1] in members)
            want = result.explain(result.ids[lk[0]], result.ids[lk[1]])
            assert ex["d"] == round(want.duplicate_score, 3) and ex["s"] == round(want.story_score, 3)
            assert lk[3] == pytest.approx(ex["d" if lk[2] == "duplicate" else "s"], abs=2e-3)
            assert bool(lk[6]) == want.same_duplicate and bool(lk[7]) == want.same_story


def test_explanations_have_a_budget(result: dedup.Result) -> None:
    data = build(result, max_explained=1)
    links = [lk for s in data["stories"] for lk in s["ln"]]
    assert len(data["explanations"]) == 1 and len(links) > 1
    assert {lk[5] for lk in links} == {0, -1}


def test_precomputed_vectors_without_texts() -> None:
    data = build(dedup.cluster_embeddings(planted_vectors(200, 20, 16)))
    assert {a[2] for a in data["articles"]} == {""}  # no titles: the page shows the ids
    assert data["explanations"] and all(x["al"] == [] and x["nm"] == [] for x in data["explanations"])
    assert max(len(s["cl"][0][2]) for s in data["stories"]) >= 2  # the planted duplicates


def test_highlights_mark_the_shared_names_and_numbers() -> None:
    text = "Shii Kazuo met Trương Mai in 2024; trong 10.500 homes, not 333."
    spans = highlights(text, ["kazuo", "truong", "shii", "trong"], ["2024", "10500"])
    assert [text[a:b] for a, b in spans] == ["Shii", "Kazuo", "Trương", "2024", "10.500"]
    assert highlights(text, [], []) == []


def bars(svg: str) -> int:
    """The bars of a plot (rectangles with a tooltip; the legend's have none)."""
    return len(re.findall(r"<rect[^>]*><title>", svg))


def test_plots_escape_labels_and_skip_an_unknown_timeline() -> None:
    svg = lang_pair_plot({"duplicate": [["<x>", "en", 3]], "story": [["en", "vi", 2]]})
    assert "<x>" not in svg and "&lt;x&gt;" in svg and bars(svg) == 2
    assert time_plot([]) == "" and time_plot([["--12-26", 1]]) == ""
    months = time_plot([["2023-03-28", 1], ["2023-12-27", 2]])
    assert "month" in months and bars(months) == 2  # the empty months between have no bar
    assert ">2023-06<" in months or ">2023-07<" in months  # but they are on the axis
    assert bars(size_plot({"duplicate": [(1, 5), (2, 1)], "story": [(1, 3), (3, 1)]})) == 4


# ------------------------------------------------------------------------------------ the page


def test_page_is_self_contained_and_escapes_every_text(page: Path) -> None:
    text = page.read_text("utf-8")
    doc = Elements(text)
    tags = [t for t, _ in doc.elements]
    assert tags.count("script") == 3  # the error recorder, the data, the page's script
    assert "img" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in doc.elements:
        assert "src" not in attrs, tag  # nothing loaded, inline or not
        for name in ("href", "xlink:href", "action"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(name) or ""), (tag, attrs)
    assert re.search(r"https?://", text) is None
    assert any(t == "meta" and "default-src 'none'" in (a.get("content") or "") for t, a in doc.elements)
    assert "<title>Test &lt;report&gt;</title>" in text
    data = page_data(text)  # the untrusted texts come back intact from the data
    by_id = {a[0]: a for a in data["articles"]}
    assert by_id["evil"][2] == EVIL and "<img src=x onerror=alert(2)>" in by_id["evil"][3]
    assert EVIL not in doc.scripts[1]  # the data holds no markup


def test_write_report_replaces_the_file_and_names_the_problem(result: dedup.Result, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old", "utf-8")
    assert write_report(result, target) == target and target.read_text("utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(dedup.OutputError, match="does not exist"):
        write_report(result, tmp_path / "missing" / "r.html")
    assert render_report(result, title="T").count("<h1>T</h1>") == 1


# ------------------------------------------------------------------------------------ the check and the CLI


def test_check_output_accepts_the_result_and_its_canonicals(result: dedup.Result, tmp_path: Path) -> None:
    records = result.to_records()
    check_output(result, write_jsonl(tmp_path / "all.jsonl", records))
    canon = [r for r in records if r["canonical"]]
    check_output(result, write_jsonl(tmp_path / "canon.jsonl", canon))
    moved = [dict(r, story="s1") if r["id"] == "evil" else r for r in records]
    with pytest.raises(dedup.DedupError, match="disagree.*'evil': story 's1'"):
        check_output(result, write_jsonl(tmp_path / "moved.jsonl", moved))
    with pytest.raises(dedup.DedupError, match="disagree.*holds 4 articles"):
        check_output(result, write_jsonl(tmp_path / "fewer.jsonl", records[1:]))
    with pytest.raises(dedup.DedupError, match="not an output of `dedup cluster`"):
        check_output(result, write_jsonl(tmp_path / "input.jsonl", CORPUS))


def test_cli_report(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", FOUR_ARTICLES)
    r, out, _ = run_cluster(tmp_path, src)
    assert r.exit_code == 0 and out is not None
    report = tmp_path / "report.html"
    r = cli("report", tmp_path / "out.jsonl", src, "-o", report, "--model", "hash")
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stderr and report.is_file()
    data = page_data(report.read_text("utf-8"))
    assert sorted(a[0] for a in data["articles"]) == sorted(
        x["id"] for x in read_jsonl(tmp_path / "out.jsonl") or []
    )
    # other settings give other clusters: the output and the input/settings disagree
    r = cli(
        "report",
        tmp_path / "out.jsonl",
        src,
        "-o",
        report,
        "--model",
        "hash",
        "-q",
        "--duplicate-threshold",
        "1",
    )
    assert "disagree" in one_line_error(r)
    r = cli("report", tmp_path / "nothing.jsonl", src, "-o", report, "--model", "hash", "-q")
    assert "nothing.jsonl not found" in one_line_error(r)
    r = cli("report", tmp_path / "out.jsonl", src, "-o", src, "--model", "hash")
    assert r.exit_code == 2 and "is the input" in " ".join(r.stderr.replace("│", " ").split())
    assert src.read_text("utf-8").startswith("{")  # untouched


def test_cluster_writes_the_report_beside_its_output(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", FOUR_ARTICLES)
    report = tmp_path / "run.html"
    r = cli("cluster", src, "-o", tmp_path / "out.jsonl", "--model", "hash", "-q", "--report", report)
    assert r.exit_code == 0, r.output
    data = page_data(report.read_text("utf-8"))
    written = read_jsonl(tmp_path / "out.jsonl") or []
    assert sorted(a[0] for a in data["articles"]) == sorted(x["id"] for x in written)
    # the report may not replace the input or the output, and fails before any work
    for target in (src, tmp_path / "out.jsonl"):
        before = target.read_text("utf-8")
        r = cli("cluster", src, "-o", tmp_path / "out.jsonl", "--model", "hash", "--report", target)
        assert r.exit_code == 2 and "its own file" in " ".join(r.stderr.replace("│", " ").split())
        assert target.read_text("utf-8") == before


# ------------------------------------------------------------------------------------ in a browser


@pytest.fixture(scope="session")
def chromium() -> str:
    """A headless Chromium: found, or installed from Debian's `chromium` as root; else a skip."""
    found = browser.find_chromium()
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "install", "-y", "chromium"],
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "chromium"],
        ):
            try:
                done = subprocess.run(cmd, capture_output=True, env=env, timeout=1200)
            except (OSError, subprocess.SubprocessError):
                break
            if cmd[1] == "install" and done.returncode == 0:
                break
        found = browser.find_chromium()
    if found is None:
        pytest.skip(
            "no headless Chromium: install Debian's `chromium` (apt-get install -y chromium), "
            "or set DEDUP_CHROMIUM to a Chromium or Chrome binary"
        )
    return found


class Stories:
    """The stories of a DOM dump: id -> its articles' ids, its text (tags removed), and the titles
    and first lines of its articles."""

    def __init__(self, dom: str) -> None:
        listed = dom.split('<div id="stories">', 1)[1].split('<button id="more"', 1)[0]
        self.members: dict[str, list[str]] = {}
        self.text: dict[str, str] = {}
        self.articles: dict[str, str] = {}  # the titles and first lines of its articles
        for chunk in listed.split('<details class="story"')[1:]:
            sid = re.search(r'data-story="([^"]*)"', chunk)
            assert sid is not None
            key = html.unescape(sid.group(1))
            self.members[key] = [
                html.unescape(x) for x in re.findall(r'<div class="art[^"]*" data-id="([^"]*)"', chunk)
            ]
            self.text[key] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", chunk)).split())
            shown = re.findall(r'<span class="title">([^<]*)</span>|<div class="lines">([^<]*)</div>', chunk)
            self.articles[key] = html.unescape(" ".join(a or b for a, b in shown))

    def partition(self) -> list[list[str]]:
        return sorted(sorted(m) for m in self.members.values())


def rendered(dom: str) -> Stories:
    """The stories of a DOM dump, after checking that the page's script ran without an error."""
    assert 'data-rendered="' in dom, dom[:2000]
    errors = re.search(r'<pre id="script-errors"[^>]*>(.*?)</pre>', dom, re.S)
    root = re.search(r"<html[^>]*>", dom)
    assert errors is not None and errors.group(1).strip() == "", errors
    assert root is not None and "data-script-errors" not in root.group()
    return Stories(dom)


def search_by_typing(page: Path, query: str, out: Path) -> Path:
    """A copy of the page that types `query` into the search box once it has loaded."""
    typing = (
        "<script>window.addEventListener('load', function(){ var q = document.getElementById('q');"
        f" q.value = {json.dumps(query)}; q.dispatchEvent(new Event('input')); }});</script></body>"
    )
    out.write_text(page.read_text("utf-8").replace("</body>", typing), "utf-8")
    return out


def test_browser_renders_searches_and_never_runs_article_markup(
    chromium: str, result: dedup.Result, page: Path, tmp_path: Path
) -> None:
    stories = rendered(browser.dump_dom(page))
    assert stories.partition() == sorted(sorted(s) for s in result.stories)
    assert list(stories.members) == [s[0] for s in sorted(result.stories, key=len, reverse=True)]
    evil = stories.text[result.story_canonical["evil"]]
    assert EVIL in evil and "<img src=x onerror=alert(2)> The frog is <b>tiny</b> & green." in evil  # text
    for fragment in ("q=Norway", "q=norway%20POWER", "q=s1"):
        assert rendered(browser.dump_dom(page, fragment)).partition() == [["s1"]], fragment
    typed = rendered(browser.dump_dom(search_by_typing(page, "FROG  peru", tmp_path / "typed.html")))
    assert typed.partition() == [["evil"]]
    several = [s for s in result.stories if len(s) >= 2]
    assert several and rendered(browser.dump_dom(page, "min=2")).partition() == sorted(
        sorted(s) for s in several
    )
    assert rendered(browser.dump_dom(page, "lang=es")).partition() == [["evil"]]
    assert rendered(browser.dump_dom(page, "q=nothing-like-this")).partition() == []


def test_browser_reports_a_script_error(chromium: str, page: Path, tmp_path: Path) -> None:
    """The error recorder itself works: a page whose script fails says so in the DOM."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        page.read_text("utf-8").replace("</body>", "<script>null.boom;</script></body>"), "utf-8"
    )
    dom = browser.dump_dom(broken)
    assert 'data-script-errors="1"' in dom and "TypeError" in dom


# ------------------------------------------------------------------------------------ the seeds, real model


@pytest.mark.slow
def test_seeds_report_in_a_browser(chromium: str, tmp_path: Path, seed_expected: dict[str, Any]) -> None:
    from dedup.clean import clean_text, page_titles, split_sentences

    out, report = tmp_path / "seeds.jsonl", tmp_path / "seeds.html"
    assert cli("cluster", SEEDS, "-o", out, "--quiet").exit_code == 0
    r = cli("report", out, SEEDS, "-o", report, "--quiet")
    assert r.exit_code == 0, r.output
    stories = rendered(browser.dump_dom(report))
    assert stories.partition() == sorted(sorted(g) for g in seed_expected["story"])
    assert [len(m) for m in stories.members.values()] == [3, 1, 1]  # sorted by size
    for sid, members in stories.members.items():  # the story's canonical is one of its articles
        assert sid in members
    # each story shows its articles' titles (found by the clean stage; else the first sentence)
    paths = sorted(SEEDS.glob("*.txt"))
    cleaned = [clean_text(p.read_text("utf-8"), None) for p in paths]
    story_of = {aid: sid for sid, members in stories.members.items() for aid in members}
    for p, c, title in zip(paths, cleaned, page_titles(cleaned), strict=True):
        heading = title or split_sentences(c.paragraphs[0])[0]
        assert " ".join(heading.split())[:60] in stories.text[story_of[p.stem]], p.stem
    # the search box filters: typed, and from the URL
    swedish = story_of[next(aid for aid, lang in seed_expected["languages"].items() if lang == "sv")]
    others = " ".join(text for sid, text in stories.articles.items() if sid != swedish).lower()
    word = next(w for w in re.findall(r"\w{6,}", stories.articles[swedish]) if w.lower() not in others)
    typed = rendered(browser.dump_dom(search_by_typing(report, word, tmp_path / "typed.html")))
    assert list(typed.members) == [swedish]
    assert list(rendered(browser.dump_dom(report, "lang=sv")).members) == [swedish]
    big = rendered(browser.dump_dom(report, "min=3"))
    assert big.partition() == [sorted(g) for g in seed_expected["story"] if len(g) >= 3]
