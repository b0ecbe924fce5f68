"""The Ray engine's block path (past `Config.driver_max_articles`) beside its driver path, on one set.

    python benchmarks/blocks.py --set benchmarks/data/ntrex128-dev/articles_15lang.jsonl \
        --block-max 200 --out benchmarks/results/blocks.json

Feeds id, title, text (and `published` where the set has it) to `dedup.cluster` with
`Config(engine="ray")` three times in one process, on one local Ray instance and one fresh embedding
cache: a warm-up (embeds the corpus), the driver path, and the block path (`driver_max_articles=2`,
`dedup.distributed.blocks.BLOCK_MAX_ARTICLES` set to `--block-max`, so undated articles are split
into FAISS coarse cells). The result cache is emptied before each timed run. Reports wall time and
the index + score stage times of both, the blocks, the candidate pairs, and the pairwise F1 of the
block path's partition against the driver path's at each level (1.0: the same partition).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import dedup
from dedup import Config
from dedup.distributed import blocks
from dedup.evaluate import pairwise_prf


def _run(records: list[dict[str, Any]], config: Config, cache: Path) -> tuple[dedup.Result, float]:
    shutil.rmtree(cache / "results", ignore_errors=True)
    t = time.perf_counter()
    res = dedup.cluster(records, config)
    return res, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", required=True, help="a labelled JSONL set (id, title, text)")
    ap.add_argument("--block-max", type=int, default=200, help="articles per block before FAISS cells")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    keep = ("id", "title", "text", "published")
    lines = Path(args.set).read_text("utf-8").splitlines()
    records = [{k: r[k] for k in keep if r.get(k)} for r in map(json.loads, lines)]
    cache = Path(tempfile.mkdtemp(prefix="dedup-blocks-"))
    base = Config(engine="ray", cache_dir=str(cache), progress=False)
    _run(records, base, cache)  # warm-up: the embedding cache and Ray's workers
    driver, t_driver = _run(records, base, cache)
    blocks.BLOCK_MAX_ARTICLES = args.block_max
    got, t_blocks = _run(records, base.with_(driver_max_articles=2), cache)
    ev = got.evidence.get()  # type: ignore[union-attr]
    days = [blocks.day_of(r.get("published")) for r in sorted(records, key=lambda r: r["id"])]
    parts = blocks.blocks_of(days, ev.scorer.space.story_docs, args.block_max)
    out: dict[str, Any] = {
        "set": args.set,
        "articles": len(records),
        "dated": sum(d is not None for d in days),
        "block_max": args.block_max,
        "blocks": len(parts),
        "block_sizes": sorted((int(p.size) for p in parts), reverse=True),
        "candidate_pairs": {"driver": len(driver.pairs), "blocks": len(got.pairs)},
        "wall_s": {"driver": round(t_driver, 2), "blocks": round(t_blocks, 2)},
        "index_score_s": {
            name: round(r.timings.get("index", 0) + r.timings.get("score", 0), 2)
            for name, r in (("driver", driver), ("blocks", got))
        },
    }
    for level, field in (("duplicate", "cluster_of"), ("story", "story_of")):
        prf = pairwise_prf(
            dict(zip(got.ids, getattr(got, field), strict=True)),
            dict(zip(driver.ids, getattr(driver, field), strict=True)),
        )
        out[f"{level}_agreement"] = {
            "precision": round(prf.precision, 4),
            "recall": round(prf.recall, 4),
            "f1": round(prf.f1, 4),
        }
        out[f"{level}_clusters"] = {
            "driver": len(set(getattr(driver, field))),
            "blocks": len(set(getattr(got, field))),
        }
    shutil.rmtree(cache, ignore_errors=True)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
