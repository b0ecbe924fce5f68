"""Threshold sweeps (`dedup.thresholds`, `dedup thresholds`) and the settings of `dedup explain`.

The logic tests cluster small synthetic document vectors (`dedup.cluster_embeddings`) whose scores
follow from their construction: each planted pair is its members' nearest neighbour, so its one
sentence pair is aligned (coverage 1) and its duplicate score is 0.8 + 0.2 x centred cosine; its
story probability is the vector model's sigmoid(bias + weight x centred cosine); vectors of different
planted pairs are orthogonal (negative once centred), so they never join. Which pair joins at which
grid point is then computed here from those formulas. The CLI tests run `--model hash` (or a hash
encoder that declares a cache key, to exercise the caches); the test marked `slow` reads the five
seed pages with the real default model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FOUR_ARTICLES, CountingEncoder, cli, read_jsonl, usage_error, use_encoder, write_jsonl

import dedup
import dedup.cache.results
from dedup.score.story import VECTOR_STORY_MODEL
from dedup.thresholds import DEFAULT_GRID, Row, check_grid, parse_grid, threshold_table

pytestmark = pytest.mark.usefixtures("private_home")

COSINES = (0.95, 0.75, 0.55)  # raw cosines of the planted pairs (before centring)
SINGLES = 2  # unrelated articles
EPS = 1e-5


def planted(cosines: tuple[float, ...] = COSINES, singles: int = SINGLES) -> tuple[np.ndarray, list[str]]:
    """Pairs (pK_a, pK_b) at the given raw cosines, each in two dimensions of its own, and singles
    in one dimension each."""
    d = 2 * len(cosines) + singles
    rows, ids = [], []
    for k, c in enumerate(cosines):
        a, b = np.zeros(d), np.zeros(d)
        a[2 * k] = 1.0
        b[2 * k], b[2 * k + 1] = c, math.sqrt(1 - c * c)
        rows += [a, b]
        ids += [f"p{k}_a", f"p{k}_b"]
    for s in range(singles):
        v = np.zeros(d)
        v[2 * len(cosines) + s] = 1.0
        rows.append(v)
        ids.append(f"s{s}")
    return np.array(rows, dtype=np.float32), ids


def centred_cosines(x: np.ndarray) -> np.ndarray:
    """Cosines after centring one language on its mean (no neutral prior: the corpus mean)."""
    c = x - x.mean(axis=0)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    return c @ c.T


def pair_scores(x: np.ndarray, ids: list[str], level: str) -> dict[tuple[str, str], float]:
    """The planted pairs' scores at `level`, from the formulas (see the module docstring)."""
    cos = centred_cosines(x)
    out = {}
    for k in range(0, 2 * len(COSINES), 2):
        c = float(cos[k, k + 1])
        assert c >= 0.2 and all(cos[k, j] < c for j in range(len(ids)) if j not in (k, k + 1))
        if level == "duplicate":
            out[(ids[k], ids[k + 1])] = 0.8 + 0.2 * c
        else:
            w = VECTOR_STORY_MODEL.weights["passage_same"]
            out[(ids[k], ids[k + 1])] = 1 / (1 + math.exp(-(VECTOR_STORY_MODEL.bias + w * c)))
    return out


def expected_rows(scores: dict[tuple[str, str], float], n: int, points: list[float]) -> list[tuple[Any, ...]]:
    """(threshold, clusters, pairs joined there) for singleton articles and pairs of them."""
    out = []
    for k, t in enumerate(points):
        above = points[k - 1] if k else math.inf
        joined = sorted(p for p, s in scores.items() if t <= s < above)
        out.append((t, n - sum(s >= t for s in scores.values()), joined))
    return out


def got_rows(rows: list[Row], level: str) -> list[tuple[Any, ...]]:
    return [(r.threshold, r.clusters, sorted((j.a, j.b) for j in r.joins)) for r in rows if r.level == level]


def check_linkages(rows: list[Row]) -> None:
    """Every join listed at a threshold has a linkage at or above it and below the one above."""
    for r in rows:
        for j in r.joins:
            assert j.linkage >= r.threshold - EPS, (r, j)
            assert r.above is None or j.linkage < r.above + EPS, (r, j)
            assert j.score >= j.linkage - EPS  # the strongest pair of the two sides


# ------------------------------------------------------------------------------------ grids


def test_grids_are_validated() -> None:
    assert parse_grid(" 0.5,0.3, 0.4,0.3,") == (0.3, 0.4, 0.5)
    assert parse_grid("0,1") == (0.0, 1.0)
    assert DEFAULT_GRID[0] == 0.2 and DEFAULT_GRID[-1] == 0.8 and len(DEFAULT_GRID) == 13
    for bad in ("1.5", "-0.1", "abc", "", " , ", "nan", "0.3;0.4"):
        with pytest.raises(dedup.ConfigError):
            parse_grid(bad)
    with pytest.raises(dedup.ConfigError):
        check_grid([True])
    x, ids = planted()
    with pytest.raises(dedup.ConfigError):
        threshold_table(dedup.cluster_embeddings(x, ids=ids), [0.5, 2.0])


# ------------------------------------------------------------------------------------ logic


def test_duplicate_level_joins_where_the_scores_say() -> None:
    x, ids = planted()
    result = dedup.cluster_embeddings(x, ids=ids)
    grid = [0.8, 0.85, 0.9, 0.95, 1.0]
    rows = threshold_table(result, grid)
    points = sorted({*grid, result.config.duplicate_threshold}, reverse=True)
    scores = pair_scores(x, ids, "duplicate")
    want = expected_rows(scores, len(ids), points)
    assert got_rows(rows, "duplicate") == want
    assert [len(j) for _, _, j in want if j] == [1, 1, 1]  # each pair joins at a row of its own
    for r in rows:
        assert r.configured == (r.threshold == getattr(result.config, f"{r.level}_threshold"))
        for j in r.joins if r.level == "duplicate" else ():
            assert j.score == pytest.approx(scores[(j.a, j.b)], abs=EPS)
            assert j.linkage == pytest.approx(j.score, abs=EPS)  # two single articles: their score
            assert (j.a_size, j.b_size) == (1, 1)
    check_linkages(rows)


def test_story_level_joins_where_the_probabilities_say() -> None:
    x, ids = planted()
    config = dedup.Config(duplicate_threshold=1.0)  # no duplicates: the story level joins articles
    result = dedup.cluster_embeddings(x, ids=ids, config=config)
    grid = [0.2, 0.5, 0.9, 0.99]
    rows = threshold_table(result, grid)
    points = sorted({*grid, config.story_threshold}, reverse=True)
    scores = pair_scores(x, ids, "story")
    want = expected_rows(scores, len(ids), points)
    assert got_rows(rows, "story") == want
    assert [len(j) for _, _, j in want if j] == [1, 1, 1]  # each pair joins at a row of its own
    for r in rows:
        for j in r.joins if r.level == "story" else ():
            assert j.linkage == pytest.approx(scores[(j.a, j.b)], abs=EPS)
    dup = [r for r in rows if r.level == "duplicate"]
    assert [r.clusters for r in dup] == [
        len(ids) - sum(s >= r.threshold for s in pair_scores(x, ids, "duplicate").values()) for r in dup
    ]
    check_linkages(rows)


def test_rows_list_the_weakest_joins_first_up_to_max_pairs() -> None:
    x, ids = planted()
    result = dedup.cluster_embeddings(x, ids=ids)
    rows = threshold_table(result, [0.8], max_pairs=2)  # every pair joins at 0.8 and above
    (top,) = [r for r in rows if r.level == "duplicate" and r.above is None]
    scores = pair_scores(x, ids, "duplicate")
    weakest = sorted(scores, key=scores.__getitem__)
    assert [(j.a, j.b) for j in top.joins] == weakest[:2] and top.more == 1
    assert [j.linkage for j in top.joins] == sorted(j.linkage for j in top.joins)
    counted = threshold_table(result, [0.8], max_pairs=0)  # no joins listed: only counted
    assert [(r.joins, r.more) for r in counted] == [((), len(r.joins) + r.more) for r in rows]


def three_articles() -> tuple[np.ndarray, list[str]]:
    """a and b near copies, c close to a and less to b, and unrelated singles."""
    d = 16
    e = np.eye(d)
    a, b, c = e[0], 0.9 * e[0] + math.sqrt(1 - 0.81) * e[1], 0.7 * e[0] + math.sqrt(1 - 0.49) * e[2]
    return np.array([a, b, c, *e[3:12]], dtype=np.float32), ["a", "b", "c"] + [f"s{i}" for i in range(3, 12)]


@pytest.mark.parametrize("level", ["duplicate", "story"])
def test_a_cluster_joins_on_the_linkage_of_all_its_pairs(level: str) -> None:
    """{a, b} and c join on the mean of c's scores with a and b, not on its best one (at the story
    level {a, b} is one duplicate cluster: its story score with c is that mean)."""
    x, ids = three_articles()
    result = dedup.cluster_embeddings(x, ids=ids, config=dedup.Config(duplicate_threshold=0.95))
    attr = f"{level}_score"
    ab, ac, bc = (getattr(result.explain(p, q), attr) for p, q in (("a", "b"), ("a", "c"), ("b", "c")))
    link = (ac + bc) / 2
    assert ab >= 0.95 > max(ac, bc)  # a and b are duplicates; c is not
    assert ac - link > 0.005  # the best pair and the linkage tell apart
    grid = sorted({round(link - 0.005, 4), round(link + 0.005, 4), round(ac + 0.001, 4), 0.1, 0.99})
    rows = threshold_table(result, grid)
    (row,) = [r for r in rows if r.level == level and any(j.b == "c" or j.a == "c" for j in r.joins)]
    (join,) = [j for j in row.joins if "c" in (j.a, j.b)]
    assert row.threshold == round(link - 0.005, 4)  # it joins below the linkage, not at the best pair
    assert join.linkage == pytest.approx(link, abs=EPS)
    assert {join.a, join.b} == {"a", "c"} and join.score == pytest.approx(ac, abs=EPS)
    assert sorted((join.a_size, join.b_size)) == [1, 2]
    check_linkages(rows)


def test_joins_in_one_row_are_replayed_best_first() -> None:
    """a, b and c join between the same two grid points: first a and b on their score, then {a, b}
    and c on the mean of c's scores with them (as the clustering merges them)."""
    x, ids = three_articles()
    result = dedup.cluster_embeddings(x, ids=ids)
    ab, ac, bc = (result.explain(p, q).duplicate_score for p, q in (("a", "b"), ("a", "c"), ("b", "c")))
    assert min(ab, ac, bc) >= 0.8  # all three are duplicates at the default threshold
    (top,) = [r for r in threshold_table(result, [0.8]) if r.level == "duplicate" and r.above is None]
    got = [({j.a, j.b}, j.a_size + j.b_size, j.linkage) for j in top.joins]
    assert got == [({"a", "c"}, 3, pytest.approx((ac + bc) / 2, abs=EPS)), ({"a", "b"}, 2, pytest.approx(ab))]
    assert top.clusters == len(ids) - 2


def test_joins_name_the_articles_by_title() -> None:
    titles = {"a1": "Council passes budget", "a2": "Budget passed", "b1": "Storm in Norway", "c1": "A frog"}
    arts = [{**a, "title": titles[a["id"]]} for a in FOUR_ARTICLES]
    result = dedup.cluster(arts, dedup.Config(cache=False), encoder=dedup.HashEncoder(32))
    assert result.canonical["a1"] == result.canonical["a2"]
    joins = [j for r in threshold_table(result) if r.level == "duplicate" for j in r.joins]
    (join,) = [j for j in joins if {j.a, j.b} == {"a1", "a2"}]
    assert {(join.a, join.a_title), (join.b, join.b_title)} == {(i, titles[i]) for i in ("a1", "a2")}
    untitled = dedup.cluster(FOUR_ARTICLES, dedup.Config(cache=False), encoder=dedup.HashEncoder(32))
    joins = [j for r in threshold_table(untitled) if r.level == "duplicate" for j in r.joins]
    (join,) = [j for j in joins if {j.a, j.b} == {"a1", "a2"}]
    texts = {a["id"]: a["text"] for a in FOUR_ARTICLES}
    assert join.a_title and texts[join.a].startswith(join.a_title)  # its first sentence
    assert join.b_title and texts[join.b].startswith(join.b_title)


# ------------------------------------------------------------------------------------ the command

TEXTS = [
    (
        "a1",
        "Council passes budget",
        "The city council approved the new budget on Monday. Taxes rise by 2 "
        "percent. The mayor welcomed the vote.",
    ),
    (
        "a2",
        "Council passes budget",
        "The city council approved the new budget on Monday. Taxes rise by 2 "
        "percent. The mayor welcomed the vote!",
    ),
    (
        "a3",
        "Budget approved",
        "The city council approved the new budget on Monday. Critics say the tax rise "
        "hurts families. The opposition will appeal.",
    ),
    (
        "b1",
        "Storm in Norway",
        "A storm hit the coast of Norway. Power was cut to 40,000 homes. Repairs take a week.",
    ),
    (
        "b2",
        "Norway storm cuts power",
        "A storm hit the coast of Norway on Sunday. Ferries were cancelled. Power was cut to many homes.",
    ),
    (
        "c1",
        "New frog",
        "Researchers found a new species of frog in the rainforest of Peru. It is bright green.",
    ),
]


def corpus(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", [{"id": i, "title": t, "text": x} for i, t, x in TEXTS])


def test_cli_counts_are_those_of_dedup_cluster_at_each_threshold(tmp_path: Path) -> None:
    src = corpus(tmp_path)
    grid = [0.3, 0.5, 0.7]
    r = cli("thresholds", src, "--model", "hash", "--grid", ",".join(map(str, grid)), "--json", "-q")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["articles"] == len(TEXTS) and got["thresholds"] == {"duplicate": 0.45, "story": 0.4}
    counts = set()
    for level, option, field in (
        ("duplicate", "--duplicate-threshold", "cluster"),
        ("story", "--story-threshold", "story"),
    ):
        rows = got["levels"][level]
        assert [row["threshold"] for row in rows] == sorted({*grid, got["thresholds"][level]}, reverse=True)
        for row in rows:
            out = tmp_path / f"{level}-{row['threshold']}.jsonl"
            c = cli("cluster", src, "-o", out, "--model", "hash", option, row["threshold"], "-q")
            assert c.exit_code == 0, c.output
            assert row["clusters"] == len({rec[field] for rec in read_jsonl(out) or []}), (level, row)
            counts.add((level, row["clusters"]))
            for j in row["joins"]:
                assert {"a", "b", "a_title", "b_title", "score", "linkage", "a_size", "b_size"} <= set(j)
    assert len(counts) > 2  # the counts vary over the grid


def test_cli_text_table(tmp_path: Path) -> None:
    r = cli("thresholds", corpus(tmp_path), "--model", "hash", "-q", "--pairs", "1")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == f"{len(TEXTS)} articles"
    for level, t in (("duplicate", 0.45), ("story", 0.40)):
        assert any(x.startswith(f"{level} level (") for x in lines)
        assert any(x.startswith(f"* {t:>9.2f}") for x in lines)  # the configured row, marked
    grid_rows = [x for x in lines if x[2:11].strip() in {f"{g:.2f}" for g in DEFAULT_GRID}]
    assert len(grid_rows) == 2 * len(DEFAULT_GRID)
    assert any('a1 "Council passes budget" ~ a2 "Council passes budget"' in x for x in lines)


@pytest.mark.parametrize("grid", ["1.5", "-0.2", "x", ",", "0.2,nan"])
def test_cli_rejects_a_bad_grid(tmp_path: Path, grid: str) -> None:
    r = cli("thresholds", corpus(tmp_path), "--model", "hash", "--grid", grid, "-q")
    assert "--grid" in usage_error(r)


def _spy_result_cache(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each run found its result in the cache."""
    hits: list[bool] = []
    real = dedup.cache.results.load

    def load(key: str, config: dedup.Config) -> Any:
        got = real(key, config)
        hits.append(got is not None)
        return got

    monkeypatch.setattr(dedup.cache.results, "load", load)
    return hits


def test_cli_thresholds_reads_the_cached_result_and_embeds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enc = CountingEncoder(32, cache_key="thresholds-test/v1")
    use_encoder(monkeypatch, enc)
    hits = _spy_result_cache(monkeypatch)
    src, cache = corpus(tmp_path), tmp_path / "cache"
    first = cli("thresholds", src, "--cache-dir", cache, "--json", "-q")
    assert first.exit_code == 0, first.output
    calls = enc.calls
    assert calls > 0 and hits == [False]
    second = cli("thresholds", src, "--cache-dir", cache, "--json", "-q")
    assert second.exit_code == 0, second.output
    assert hits == [False, True] and enc.calls == calls  # the result and the embeddings read back
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert (a["from_cache"], b["from_cache"]) == (False, True)
    assert a["levels"] == b["levels"]


# ------------------------------------------------------------------------------------ dedup explain


def test_explain_reads_the_cached_result_and_takes_the_cluster_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_encoder(monkeypatch, CountingEncoder(32, cache_key="explain-test/v1"))
    hits = _spy_result_cache(monkeypatch)
    src, cache = corpus(tmp_path), tmp_path / "cache"
    common = ["--cache-dir", cache, "--json", "-q"]

    def explain(*extra: Any) -> dict[str, Any]:
        r = cli("explain", "b1", "c1", src, *common, *extra)
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    first = explain()
    assert hits == [False]
    assert explain() == first and hits == [False, True]  # an unchanged input: the result read back
    assert first["verdict"] == {"duplicate": False, "story": False}
    assert first["scores"]["story"] > 0.0
    joined = explain("--story-threshold", "0.0")  # every pair of a candidate joins
    assert hits[-1] is False  # another setting: computed
    assert joined["verdict"]["story"] is True and joined["thresholds"]["story"] == 0.0
    assert joined["scores"] == first["scores"]  # the evidence does not depend on the threshold
    out = tmp_path / "out.jsonl"
    c = cli("cluster", src, "-o", out, "--cache-dir", cache, "-q", "--canonical", "earliest")
    assert c.exit_code == 0, c.output
    explain("--canonical", "earliest")  # dedup cluster's result, with the same options
    assert hits[-1] is True


# ------------------------------------------------------------------------------------ real model


@pytest.mark.slow
def test_seeds_at_the_default_thresholds(tmp_path: Path, seed_expected: dict[str, Any]) -> None:
    r = cli("thresholds", "fixtures/seeds/", "--cache-dir", tmp_path / "cache", "--json", "-q")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    for level in ("duplicate", "story"):
        (row,) = [x for x in got["levels"][level] if x["configured"]]
        assert row["threshold"] == getattr(dedup.Config(), f"{level}_threshold")
        assert row["clusters"] == len(seed_expected[level]), (level, row)
        counts = [x["clusters"] for x in got["levels"][level]]  # from the highest threshold down
        assert counts == sorted(counts, reverse=True)
        for x in got["levels"][level]:
            for j in x["joins"]:
                assert j["linkage"] >= x["threshold"] - EPS
                assert x["above"] is None or j["linkage"] < x["above"] + EPS
    r2 = cli("thresholds", "fixtures/seeds/", "--cache-dir", tmp_path / "cache", "--json", "-q")
    assert r2.exit_code == 0 and json.loads(r2.stdout)["from_cache"] is True
    assert json.loads(r2.stdout)["levels"] == got["levels"]
