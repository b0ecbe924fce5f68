"""The Ray engine (`Config(engine="ray")`, `--engine ray`): the same clusters, canonicals and scores
as the local engine, from JSON Lines and from a directory of Parquet shards, on a Ray instance the
tests start (2 CPUs, no dashboard) and shut down. Without Ray the engine's tests skip and the
missing-Ray error is checked instead."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FOUR_ARTICLES, ROOT, cli, one_line_error

import dedup
from dedup import Config, HashEncoder, read_articles
from dedup.errors import DedupError, EngineError
from dedup.io import write_shards

#: 30 NTREX-128 articles: the eight reports of the Sulawesi quake (one story) and two others, each
#: in English, Vietnamese and Swedish (10 duplicate clusters, 3 stories)
NTREX = ROOT / "benchmarks" / "data" / "ntrex128-dev" / "articles_en_vi_sv.jsonl"
EVENTS = ("ev_indonesia_sulawesi_quake_tsunami_2018", "ev_warren_hard_look_at_2020_run")


@pytest.fixture(scope="session")
def ray_local() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="the Ray engine needs Ray: pip install 'dedup[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def dev_set() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in NTREX.read_text("utf-8").splitlines()]
    return [{k: r[k] for k in ("id", "title", "text")} for r in rows if r["event"] in EVENTS]


def same_result(a: dedup.Result, b: dedup.Result) -> None:
    assert a.ids == b.ids
    assert a.cluster_of == b.cluster_of and a.story_of == b.story_of  # canonicals: the cluster ids
    assert a.cluster_reason == b.cluster_reason and a.story_reason == b.story_reason
    assert a.duplicate_score == b.duplicate_score and a.story_score == b.story_score  # bit for bit


# ------------------------------------------------------------------------------------ without Ray


def test_import_dedup_does_not_import_ray() -> None:
    code = "import sys, dedup, dedup.distributed; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_ray_is_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(EngineError, match=r"pip install 'dedup\[ray\]'") as info:
        dedup.cluster(FOUR_ARTICLES, Config(model="hash", engine="ray", cache=False))
    assert isinstance(info.value, DedupError) and "\n" not in str(info.value)
    res = cli("cluster", ROOT / "fixtures" / "seeds", "--engine", "ray", "--model", "hash", "--no-cache")
    assert "pip install 'dedup[ray]'" in one_line_error(res)


def test_unknown_engine() -> None:
    with pytest.raises(dedup.ConfigError, match="unknown engine 'spark'; choose local, ray"):
        Config(engine="spark")


def test_shards_round_trip(tmp_path: Path) -> None:
    records = [{"id": str(k), "text": f"text {k}", "n": k} for k in range(5)]
    files = write_shards(records, tmp_path / "out", rows=2)
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    back = read_articles(tmp_path / "out")
    assert [dict(a.fields) for a in back.articles] == records
    write_shards(records[:1], tmp_path / "out", rows=2)  # a smaller result leaves no stale part
    assert [a.id for a in read_articles(tmp_path / "out").articles] == ["0"]


# ------------------------------------------------------------------------------------ with Ray


def test_read_on_ray_as_read_articles(ray_local: Any, tmp_path: Path) -> None:
    from dedup.distributed import read_on_ray

    shards = tmp_path / "in"
    shards.mkdir()
    (shards / "a.jsonl").write_text('{"id": "x", "text": "one"}\n{"id": "y"}\n', encoding="utf-8")
    (shards / "b.jsonl").write_text('{"id": "x", "text": "again"}\nnot json\n', encoding="utf-8")
    write_shards([{"id": "z", "text": "three", "n": 1}], str(tmp_path / "in") + "/")
    local = read_articles(shards)
    on_ray = read_on_ray(shards, Config(engine="ray"))
    assert on_ray == local and on_ray.total == 5 and [a.id for a in on_ray.articles] == ["x", "z"]
    assert on_ray.positions == local.positions
    pattern = str(shards / "*.jsonl")
    assert read_on_ray(pattern, Config(engine="ray")) == read_articles(pattern)


def test_hash_encoder_same_result(ray_local: Any, seed_articles: list[dict[str, str]]) -> None:
    articles = seed_articles + FOUR_ARTICLES
    for kw in ({"config": Config(model="hash", cache=False)}, {"encoder": HashEncoder(32)}):
        config = kw.pop("config", Config(cache=False))
        local = dedup.cluster(articles, config, **kw)
        on_ray = dedup.cluster(articles, config.with_(engine="ray"), **kw)  # the encoder object shipped
        same_result(local, on_ray)


@pytest.mark.slow
def test_same_clusters_from_jsonl(
    ray_local: Any, dev_set: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = dedup.cluster(dev_set, Config(cache=False))
    assert len(set(local.cluster_of)) == 10 and len(set(local.story_of)) < 10  # a real test: stories join
    on_ray = dedup.cluster(dev_set, Config(engine="ray", cache_dir=str(tmp_path)))
    same_result(local, on_ray)
    # the Ray run filled the same caches: the local engine reads its result back, and without the
    # result its embeddings (no unit is encoded again)
    again = dedup.cluster(dev_set, Config(cache_dir=str(tmp_path)))
    assert again.from_cache
    same_result(local, again)
    for f in (tmp_path / "results").glob("*"):
        f.unlink()
    from dedup.encoders.onnx import Int8OnnxEncoder

    encoded: list[str] = []
    real = Int8OnnxEncoder.encode
    monkeypatch.setattr(Int8OnnxEncoder, "encode", lambda self, t: encoded.extend(t) or real(self, t))
    fresh = dedup.cluster(dev_set, Config(cache_dir=str(tmp_path)))
    assert not fresh.from_cache and set(encoded).isdisjoint(fresh.evidence.get().unit_texts or ())
    same_result(local, fresh)


@pytest.mark.slow
def test_cli_parquet_shards_to_shards(ray_local: Any, dev_set: list[dict[str, Any]], tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in dev_set), encoding="utf-8")
    write_shards(dev_set, str(tmp_path / "shards") + "/", rows=11)  # 3 shards
    ref = cli("cluster", src, "-o", tmp_path / "local.jsonl", "--no-cache", "--quiet")
    assert ref.exit_code == 0, ref.stderr
    out = str(tmp_path / "out") + "/"
    res = cli("cluster", tmp_path / "shards", "-o", out, "--engine", "ray", "--no-cache", "--quiet")
    assert res.exit_code == 0, res.stderr
    assert [p.name for p in sorted((tmp_path / "out").iterdir())] == ["part-00000.parquet"]
    local = [{k: v for k, v in r.items() if v is not None} for r in _jsonl(tmp_path / "local.jsonl")]
    got = [{k: v for k, v in dict(a.fields).items() if v is not None} for a in read_articles(out).articles]
    assert got == local  # every field of every record, canonicals and scores included


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


# ------------------------------------------------------------- past driver_max_articles: blocks


def test_blocks_time_windows_and_coarse_cells() -> None:
    from dedup.distributed import blocks

    assert blocks.day_of("2018-09-28T10:00:00Z") == blocks.day_of("2018-09-28") is not None
    assert blocks.day_of(None) is None and blocks.day_of("--09-28") is None
    t0 = blocks.day_of("2020-01-01")
    assert t0 is not None
    # windows [0, 7), [5, 12), [10, 17), ... days from the earliest: days 5 and 6 are in two
    windows, undated = blocks.time_windows([t0, t0 + 4, t0 + 5, t0 + 6, None, t0 + 11, t0 + 40])
    assert [w.tolist() for w in windows] == [[0, 1, 2, 3], [2, 3, 5], [5], [6], [6]]
    assert undated.tolist() == [4]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rows = np.arange(60, dtype=np.int64)
    assert [c.tolist() for c in blocks.coarse_cells(x, rows, 60)] == [rows.tolist()]  # fits: one block
    cells = blocks.coarse_cells(x, rows, 20)  # 6 cells, each article in its 2 nearest
    assert len(cells) <= 6 and all(np.all(np.diff(c) > 0) for c in cells)
    assert np.bincount(np.concatenate(cells), minlength=60).tolist() == [2] * 60
    got = blocks.blocks_of([None] * 60, x, 20)
    assert [c.tolist() for c in got] == [c.tolist() for c in cells]


def test_one_block_is_the_driver_path(
    ray_local: Any, seed_articles: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dedup.distributed import blocks

    articles = seed_articles + FOUR_ARTICLES  # undated: one block while it holds them all
    config = Config(model="hash", cache=False, engine="ray")
    driver = dedup.cluster(articles, config)
    one = dedup.cluster(articles, config.with_(driver_max_articles=2))
    assert one.config.to_dict()["driver_max_articles"] == 2
    same_result(driver, one)  # the same search, margins and scores over one block: bit for bit
    monkeypatch.setattr(blocks, "BLOCK_MAX_ARTICLES", 4)  # coarse cells of the passage vectors
    cells = dedup.cluster(articles, config.with_(driver_max_articles=2))
    ev = cells.evidence.get()  # type: ignore[union-attr]
    parts = blocks.blocks_of([None] * len(ev.row_ids), ev.scorer.space.story_docs, 4)
    assert len(parts) > 2
    shared = {(int(a), int(b)) for p in parts for a in p for b in p if a < b}
    pairs = set(zip(cells.pairs.a.tolist(), cells.pairs.b.tolist(), strict=True))
    assert pairs and pairs <= shared  # only pairs within a cell were searched
    assert len(pairs) < len(set(zip(driver.pairs.a.tolist(), driver.pairs.b.tolist(), strict=True)))


@pytest.mark.slow
def test_blocks_as_driver_where_pairs_share_a_block(
    ray_local: Any, dev_set: list[dict[str, Any]], tmp_path: Path
) -> None:
    quake, far = EVENTS[0], "ntrex.abcnews.306755.sv"
    rows = {
        json.loads(line)["id"]: json.loads(line)["event"] for line in NTREX.read_text("utf-8").splitlines()
    }
    dated = []
    for k, r in enumerate(dev_set):  # the quake within 3 days, the other story 5 months later
        day = f"2018-09-{28 + k % 3}" if rows[r["id"]] == quake else "2019-03-01"
        dated.append({**r, "published": "2019-04-01" if r["id"] == far else day})
    local = dedup.cluster(dated, Config(cache_dir=str(tmp_path)))
    assert any(far in c and len(c) == 3 for c in local.clusters)
    got = dedup.cluster(dated, Config(cache_dir=str(tmp_path), engine="ray", driver_max_articles=10))
    assert not got.from_cache  # a block run is keyed apart from the driver's result

    def split(groups: list[list[str]]) -> list[list[str]]:  # `far` alone: it shares no block
        return sorted(sorted(x for x in g if x != far) for g in groups if g != [far]) + [[far]]

    assert split(got.clusters) == split(local.clusters) and [far] in got.clusters
    assert split(got.stories) == split(local.stories) and [far] in got.stories
    assert len(set(local.cluster_of)) == 10 and len(set(local.story_of)) < 10
