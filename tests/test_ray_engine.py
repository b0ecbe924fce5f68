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
