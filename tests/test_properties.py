"""Issue 5, determinism and fuzzing: property tests with the HashEncoder (fast, no model).

- shuffling the input gives the same clusters, canonicals and scores;
- raising a level's threshold never merges clusters (the clusters refine);
- a duplicated article always lands in its original's cluster;
- story clusters always contain whole duplicate clusters;
- random records (any unicode, mixed scripts, control characters, huge and tiny texts) through
  the library and the CLI: no crash, and every record is accounted for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, co_membership, partition
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import dedup
from dedup.errors import InputError
from dedup.io import Article

# The HashEncoder compares character 3-grams, so articles built from shared sentences score high
# and clusters form; no model is loaded. No embedding cache (HashEncoder is not cacheable).
ENC = dedup.HashEncoder()
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SENTENCES = [
    "A storm cut power to 40,000 homes in western Norway on Tuesday night.",
    "Wind gusts of up to 45 metres per second were measured near Bergen.",
    "Ferries stayed in port and several roads were closed by fallen trees.",
    "The grid operator said some areas may be without power until Thursday.",
    "The city council approved a budget of 4.2 million dollars on Monday.",
    "The money goes to road repairs, bus lanes and three primary schools.",
    "Opposition members said affordable housing should have been the priority.",
    "The central bank raised its key interest rate by 0.75 percentage points.",
    "Stock markets fell sharply after the announcement in Frankfurt.",
    "Analysts expect inflation to slow to 3 percent by the end of next year.",
    "Researchers found a new species of frog in the cloud forests of Peru.",
    "The frog is smaller than a fingernail and lives in moss on tree trunks.",
    "Hà Nội: mưa lớn gây ngập úng nhiều tuyến phố trong giờ cao điểm.",
    "Regeringen föreslår höjd skatt på bensin från årsskiftet.",
    "東京で大きな地震が発生しました。津波の心配はありません。",
    "Москва и Киев обменялись пленными при посредничестве ОАЭ.",
]

ids_st = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.ÄéЖ", min_size=1, max_size=6),
    min_size=12,
    max_size=12,
    unique=True,
)


@st.composite
def corpora(draw: Any, min_size: int = 2, max_size: int = 9) -> list[dict[str, Any]]:
    """Articles made from a few base stories, with sentences dropped, added and words changed."""
    stories = draw(
        st.lists(
            st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4, unique=True),
            min_size=1,
            max_size=3,
        )
    )
    n = draw(st.integers(min_size, max_size))
    ids = draw(ids_st)[:n]
    arts = []
    for i in range(n):
        sents = list(draw(st.sampled_from(stories)))
        if len(sents) > 1 and draw(st.booleans()):
            del sents[draw(st.integers(0, len(sents) - 1))]
        if draw(st.booleans()):
            sents.insert(draw(st.integers(0, len(sents))), draw(st.sampled_from(SENTENCES)))
        if draw(st.booleans()):
            k = draw(st.integers(0, len(sents) - 1))
            sents[k] = sents[k].replace("the", "a", 1).replace("on", "last", 1)
        rec: dict[str, Any] = {"id": ids[i], "text": " ".join(sents)}
        if draw(st.booleans()):
            rec["title"] = sents[0][:40]
        arts.append(rec)
    return arts


def _refines(fine: list[list[str]], coarse: list[list[str]]) -> bool:
    return all(any(set(f) <= set(c) for c in coarse) for f in fine)


def _run(arts: Sequence[dict[str, Any]], **config: Any) -> dedup.Result:
    return dedup.cluster(arts, dedup.Config(**config), encoder=ENC)


def _check_invariants(r: dedup.Result, arts: Sequence[dict[str, Any]]) -> None:
    assert list(r.ids) == [a["id"] for a in arts], "one record per article, in input order"
    for members in r.clusters:  # stories contain whole duplicate clusters
        assert len({r.story_canonical[m] for m in members}) == 1, members
    for aid in r.ids:  # a canonical is a member of its own cluster
        assert r.canonical[r.canonical[aid]] == r.canonical[aid]
        assert r.story_canonical[r.story_canonical[aid]] == r.story_canonical[aid]


# ------------------------------------------------------------------------------------ determinism


@SETTINGS
@given(arts=corpora(), data=st.data())
def test_shuffling_gives_the_same_clusters_and_canonicals(arts: list[dict[str, Any]], data: Any) -> None:
    shuffled = data.draw(st.permutations(arts))
    _run(arts)  # warm the language-priors cache first: see test_priors_cache_cold_and_warm_agree
    a, b = _run(arts), _run(shuffled)
    _check_invariants(a, arts)
    _check_invariants(b, shuffled)
    assert a.canonical == b.canonical
    assert a.story_canonical == b.story_canonical
    assert dict(zip(a.ids, a.duplicate_score, strict=True)) == dict(
        zip(b.ids, b.duplicate_score, strict=True)
    )
    assert dict(zip(a.ids, a.story_score, strict=True)) == dict(zip(b.ids, b.story_score, strict=True))
    assert a.cluster_reason == b.cluster_reason and a.story_reason == b.story_reason


@SETTINGS
@given(
    arts=corpora(min_size=3),
    lo=st.floats(0.05, 0.95),
    step=st.floats(0.01, 0.5),
    story=st.floats(0.0, 0.05),
)
def test_raising_the_duplicate_threshold_never_merges(
    arts: list[dict[str, Any]], lo: float, step: float, story: float
) -> None:
    hi = min(1.0, lo + step)
    low = _run(arts, duplicate_threshold=lo, story_threshold=story)
    high = _run(arts, duplicate_threshold=hi, story_threshold=story)
    _check_invariants(low, arts)
    _check_invariants(high, arts)
    assert _refines(partition(high.canonical), partition(low.canonical))
    # the same through Result.with_thresholds (re-clustering from stored pair scores)
    assert partition(low.with_thresholds(duplicate=hi).canonical) == partition(high.canonical)


@SETTINGS
@given(
    arts=corpora(min_size=3),
    lo=st.floats(0.0, 0.6),
    step=st.floats(0.01, 0.3),
)
def test_raising_the_story_threshold_never_merges(arts: list[dict[str, Any]], lo: float, step: float) -> None:
    dup = 0.95
    hi = min(dup, lo + step)
    low = _run(arts, duplicate_threshold=dup, story_threshold=lo)
    high = _run(arts, duplicate_threshold=dup, story_threshold=hi)
    assert partition(low.canonical) == partition(high.canonical)  # that level did not change
    assert _refines(partition(high.story_canonical), partition(low.story_canonical))


_STORM = "A storm cut power to 40,000 homes in western Norway on Tuesday night."


def test_three_identical_articles_are_one_duplicate_cluster() -> None:
    r = _run([{"id": str(i), "text": _STORM} for i in range(3)])
    assert r.clusters == [["0", "1", "2"]]


@SETTINGS
@example(arts=[{"id": "0", "text": _STORM}, {"id": "1", "text": _STORM}], data=None).via("3 identical")
@given(arts=corpora(min_size=2), data=st.data())
def test_a_duplicated_article_lands_in_its_originals_cluster(arts: list[dict[str, Any]], data: Any) -> None:
    k = data.draw(st.integers(0, len(arts) - 1)) if data is not None else 0
    original = arts[k]
    copy = {**original, "id": original["id"] + "~copy"}
    assume(copy["id"] not in {a["id"] for a in arts})
    at = data.draw(st.integers(0, len(arts))) if data is not None else len(arts)
    grown = [*arts[:at], copy, *arts[at:]]
    r = _run(grown)
    _check_invariants(r, grown)
    assert r.canonical[copy["id"]] == r.canonical[original["id"]]
    assert r.story_canonical[copy["id"]] == r.story_canonical[original["id"]]


def test_priors_cache_cold_and_warm_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_HOME", str(tmp_path))  # cold: the first run measures the priors
    f = "The frog is smaller than a fingernail and lives in moss on tree trunks."
    b = "The city council approved a budget of 4.2 million dollars on Monday."
    s = "Regeringen föreslår höjd skatt på bensin från årsskiftet."
    j = "東京で大きな地震が発生しました。津波の心配はありません。"
    arts = [
        {"id": "a", "text": f"{f} {b.replace('million', 'millilast')} {s} {j}"},
        {"id": "b", "text": f"Wind gusts of up to 45 metres per second hit Bergen. {f} {b} {s} {j}"},
        {"id": "c", "text": f"{f.replace('on', 'last')} {b} {s}"},
    ]
    cold, warm = _run(arts), _run(arts)
    assert cold.duplicate_score == warm.duplicate_score


# ------------------------------------------------------------------------------------ fuzzing

_SCRIPTS = st.sampled_from(
    [
        "Latin ",
        "Tiếng Việt ",
        "Кириллица ",
        "العربية ",
        "עברית ",
        "देवनागरी ",
        "日本語の文章。",
        "한국어 ",
        "ภาษาไทย",
        "ᱥᱟᱱᱛᱟᱲᱤ ",  # Ol Chiki: not in the default model's vocabulary
        "𒀀𒀁 ",
        "🙂🇪🇺 ",
        "\u200b\u200e\u202e",
        "\x00",
        "\x07\x1b[0m",
        "\ud800",  # a lone surrogate (only from JSON escapes)
        "\r\n",
        "\u2028",
        "  \t ",
        ". ! ? ",
        "12,345.6 ",
    ]
)
_TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(_SCRIPTS, max_size=30).map("".join),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=20), st.integers(1, 20_000)),  # huge
    st.sampled_from(["", " ", "x", ".", "Hi.", "\n\n\n"]),  # tiny
    st.sampled_from(SENTENCES).map(lambda s: s + " " + s),
)
_IDS = st.one_of(
    st.text(min_size=0, max_size=8),
    st.integers(-5, 5),
    st.sampled_from([None, True, 1.5, "dup", "dup"]),
)


@st.composite
def records(draw: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        rec["id"] = draw(_IDS)
    if draw(st.integers(0, 9)):
        rec["text"] = draw(st.one_of(_TEXTS, st.sampled_from([None, 3, ["a"]])))
    if draw(st.booleans()):
        rec["title"] = draw(st.one_of(st.none(), st.text(max_size=30)))
    if draw(st.booleans()):
        rec["lang"] = draw(st.sampled_from(["en", "vi", "xx", "", "EN ", None]))
    if draw(st.booleans()):
        rec["html"] = draw(st.booleans())
    if draw(st.booleans()):
        rec["published"] = draw(st.sampled_from(["2024-03-15", "yesterday", "2024-13-45", None]))
    return rec


def _usable(rec: dict[str, Any]) -> bool:
    try:
        Article.from_mapping(rec)
    except InputError:
        return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=6))
def test_fuzz_library(recs: list[dict[str, Any]]) -> None:
    """Every record ends up once: usable records with a new id are clustered, in input order; the
    others are in `rejects` with their position. With on_error="fail" the first unusable record
    raises InputError naming its position; when none is usable, NoUsableRecords."""
    seen: set[str] = set()
    good, bad = [], []
    for k, rec in enumerate(recs, 1):
        if not _usable(rec) or Article.from_mapping(rec).id in seen:
            bad.append(k)
            continue
        seen.add(Article.from_mapping(rec).id)
        good.append(rec)
    if bad:
        with pytest.raises(InputError, match=rf"^records line {bad[0]}: "):
            dedup.cluster(recs, dedup.Config(on_error="fail"), encoder=ENC)
    if not good:
        with pytest.raises(dedup.NoUsableRecords):
            dedup.cluster(recs, encoder=ENC)
        return
    r = dedup.cluster(recs, encoder=ENC)
    assert [j.line for j in r.rejects] == bad
    _check_invariants(r, [{"id": Article.from_mapping(rec).id} for rec in good])


def _jsonl_line(rec: dict[str, Any], ascii_only: bool) -> bytes:
    # A lone surrogate written with ensure_ascii=False becomes invalid UTF-8 bytes on disk.
    return json.dumps(rec, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


_JUNK = st.one_of(
    st.binary(min_size=1, max_size=80).map(lambda b: b"#" + b.replace(b"\n", b" ")),
    st.sampled_from([b"{", b"[1, 2]", b"null", b'{"id": "x", "text": "y"} trailing', b"\xff\xfe{}"]),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.one_of(st.tuples(records(), st.booleans()).map(lambda t: _jsonl_line(*t)), _JUNK),
        min_size=0,
        max_size=8,
    )
)
def test_fuzz_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[bytes]) -> None:
    """Random lines through `dedup cluster`: exit 0 (or 1 when nothing is usable), one-line errors,
    and the output plus the rejects hold exactly one entry per input line."""
    monkeypatch.setenv("DEDUP_HOME", str(tmp_path / "home"))
    lines = [_jsonl_line({"id": "first", "text": "A first, valid record."}, True), *lines]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    out.unlink(missing_ok=True)
    rej.unlink(missing_ok=True)
    r = cli("cluster", src, "-o", out, "--rejects", rej, "--model", "hash", "-q")  # no traceback
    assert r.exit_code == 0, r.stderr  # the first record is always usable
    got = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    bad = [json.loads(x) for x in rej.read_text("utf-8").splitlines()]
    assert len(got) + len(bad) == len(lines)  # nothing lost
    bad_lines = [j["line"] for j in bad]
    assert len(set(bad_lines)) == len(bad_lines) and set(bad_lines) <= set(range(2, len(lines) + 1))
    assert len({g["id"] for g in got}) == len(got)
    assert all(j["reason"] and "\n" not in j["reason"] for j in bad)


# ------------------------------------------------------------------------------------ explain


@SETTINGS
@given(arts=corpora(min_size=3), data=st.data())
def test_explain_verdicts_equal_the_written_clusters(arts: list[dict[str, Any]], data: Any) -> None:
    """For any corpus in any order, every pair's `explain` verdict at each level is what the output
    records say (the verdict once read input-ordered arrays with id-sorted rows)."""
    shuffled = data.draw(st.permutations(arts))
    r = _run(shuffled, duplicate_threshold=data.draw(st.sampled_from([0.2, 0.45])), story_threshold=0.3)
    recs = r.to_records()
    dup, story = co_membership(recs, "cluster"), co_membership(recs, "story")
    for (a, b), same in dup.items():
        ex = r.explain(a, b)
        assert ex.same_duplicate == same, (a, b)
        assert ex.same_story == story[(a, b)], (a, b)


@SETTINGS
@given(n=st.integers(3, 12), seed=st.integers(0, 10_000), data=st.data())
def test_explain_verdicts_of_precomputed_vectors_in_any_order(n: int, seed: int, data: Any) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16))
    x = centres[rng.integers(0, 3, size=n)] + 0.1 * rng.normal(size=(n, 16))
    ids = data.draw(st.permutations([f"d{k:02d}" for k in range(n)]))
    r = dedup.cluster_embeddings(x.astype(np.float32), ids=ids, config=dedup.Config(story_threshold=0.3))
    recs = r.to_records()
    assert [rec["id"] for rec in recs] == list(ids)
    dup, story = co_membership(recs, "cluster"), co_membership(recs, "story")
    for (a, b), same in dup.items():
        ex = r.explain(a, b)
        assert (ex.same_duplicate, ex.same_story) == (same, story[(a, b)]), (a, b)
