"""Benchmark of the standing index (issue 18): adding a batch against re-clustering everything.

    python benchmarks/standing.py                      # every part below; results/standing.json
    python benchmarks/standing.py --part vectors --size 100000 --batch 1000
    python benchmarks/standing.py --part ntrex
    python benchmarks/standing.py --part equivalence [--sets ntrex-3,ecbplus-dev]

`ntrex`: NTREX-15 dev (960 articles); an index of a random 90% is built, then the other 10% is added,
against `dedup.cluster` on all of it: from the same embedding cache (the 90% embedded, the 10% not:
what a user re-clustering with the cache would have, copied before each), and with no cache.
`vectors`: planted document vectors as `scale.py` makes them; an index of `size` vectors takes a
batch of `batch` new ones in a child process (its peak RSS, VmHWM, is the add's), with planted-group
recall and precision. `equivalence`: each dev set added in 5 batches of a random order against one
batch, and the same after a refit.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_info import cpu_ram  # noqa: E402
from scale import group_recall_precision, machine, make_corpus  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results" / "standing.json"


def ntrex(seed: int = 0) -> dict[str, Any]:
    import dedup

    recs = [
        json.loads(line) for line in (DATA / "ntrex128-dev" / "articles_15lang.jsonl").open(encoding="utf-8")
    ]
    random.Random(seed).shuffle(recs)
    cut = len(recs) * 9 // 10
    old, new = recs[:cut], recs[cut:]
    work = Path(tempfile.mkdtemp(prefix="standing-"))
    try:
        base = work / "cache"
        t = time.perf_counter()
        ix = dedup.Index.create(work / "ix", dedup.Config(cache_dir=str(base)))
        ix.add(old)
        t_create = time.perf_counter() - t
        shutil.copytree(base, work / "cache-b")
        t = time.perf_counter()
        ch = ix.add(new)
        t_add = time.perf_counter() - t
        t = time.perf_counter()
        res = dedup.cluster(recs, dedup.Config(cache_dir=str(work / "cache-b")))
        t_all = time.perf_counter() - t
        t = time.perf_counter()
        dedup.cluster(recs, dedup.Config(cache_dir=str(work / "cache-cold")))
        t_cold = time.perf_counter() - t
        got = {r["id"]: r for r in ix.records()}
        from dedup.evaluate import pairwise_prf

        f = {
            lvl: round(
                pairwise_prf(
                    {i: got[i][fld] for i in got},
                    dict(zip(res.ids, res.cluster_of if lvl == "duplicate" else res.story_of, strict=True)),
                ).f1,
                4,
            )
            for lvl, fld in (("duplicate", "cluster"), ("story", "story"))
        }
        return {
            "articles": len(recs),
            "index_of": len(old),
            "added": len(new),
            "create_s": round(t_create, 1),
            "add_s": round(t_add, 1),
            "add_timings_s": {k: round(v, 2) for k, v in ch.timings.items()},
            "recluster_all_s": round(t_all, 1),
            "recluster_timings_s": {k: round(v, 2) for k, v in res.timings.items()},
            "speedup": round(t_all / t_add, 2),
            "recluster_all_cold_s": round(t_cold, 1),  # no embedding cache: every article embedded
            "speedup_vs_cold": round(t_cold / t_add, 2),
            "beyond_embedding_s": {
                "add": round(t_add - ch.timings.get("embed", 0.0), 2),
                "recluster_all": round(t_all - res.timings.get("embed", 0.0), 2),
            },
            "f1_vs_one_batch": f,
            "events": {e: ch.count(e) for e in ("added", "canonical", "merge", "split", "closed")},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


EQUIVALENCE_SETS = ("ntrex-3", "ntrex-k2", "ecbplus-dev", "ktlab-vi", "ntrex-15")


def equivalence(sets: tuple[str, ...], batches: int = 5, seed: int = 0) -> dict[str, Any]:
    """Each dev set added in `batches` batches of a random order, against one `dedup.cluster` run:
    pairwise F1 between the two partitions at both levels, and each against the gold; against an index
    that took the same first batch (so the same frozen statistics) and then the rest in one add; and
    against the one run again after `Index.refit` (statistics fitted on the union, as the one run fits
    them). Stories do not close here (story_idle_days at its maximum): the one-shot run has no such
    notion."""
    from quality_sets import SETS, load_set

    import dedup
    from dedup.evaluate import pairwise_prf

    out: dict[str, Any] = {}
    config = dedup.Config(story_idle_days=36500)
    for name in sets:
        spec = SETS[name]
        if spec.unavailable():
            out[name] = {"skipped": spec.unavailable()}
            continue
        ls = load_set(spec, "clean", seed=0, draw_seed=0 if spec.draw_k else None)
        recs = ls.inputs(False)
        one = dedup.cluster(recs, config)
        order = list(recs)
        random.Random(seed).shuffle(order)
        size = -(-len(order) // batches)
        row: dict[str, Any] = {"articles": len(recs)}
        with tempfile.TemporaryDirectory() as d:
            ix = dedup.Index.create(Path(d) / "ix", config)
            t = time.perf_counter()
            splits = 0
            for k in range(batches):
                splits += ix.add(order[k * size : (k + 1) * size]).count("split")
            row["adds_s"] = round(time.perf_counter() - t, 1)
            row["split_events"] = splits
            row["adds"] = _agreement(ix.records(), one, ls.gold, pairwise_prf)
            # the same first batch (the same frozen statistics), then the rest in one add
            two = dedup.Index.create(Path(d) / "two", config)
            two.add(order[:size])
            two.add(order[size:])
            row["adds_vs_first_then_rest"] = _same(ix.records(), two.records(), pairwise_prf)
            t = time.perf_counter()
            ix.refit()
            row["refit_s"] = round(time.perf_counter() - t, 1)
            row["adds_then_refit"] = _agreement(ix.records(), one, ls.gold, pairwise_prf)
        out[name] = row
        print(name, json.dumps(row), flush=True)
    return out


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]], prf: Any) -> dict[str, float]:
    """Pairwise F1 between two indexes' partitions of the same articles, at both levels."""
    return {
        lvl: round(prf({r["id"]: r[fld] for r in a}, {r["id"]: r[fld] for r in b}).f1, 4)
        for lvl, fld in (("duplicate", "cluster"), ("story", "story"))
    }


def _agreement(records: list[dict[str, Any]], one: Any, gold: dict[str, Any], prf: Any) -> dict[str, Any]:
    """Pairwise F1 of the index's partitions against the one batch run's, and both against the gold."""
    got = {r["id"]: r for r in records}
    out: dict[str, Any] = {}
    for lvl, fld, mine in (("duplicate", "cluster", one.cluster_of), ("story", "story", one.story_of)):
        batch = dict(zip(one.ids, mine, strict=True))
        index = {i: got[i][fld] for i in got}
        out[lvl] = {"f1_vs_one_batch": round(prf(index, batch).f1, 4)}
        if lvl in gold:
            out[lvl]["f1_gold_index"] = round(prf(index, gold[lvl]).f1, 4)
            out[lvl]["f1_gold_one_batch"] = round(prf(batch, gold[lvl]).f1, 4)
    return out


def _hwm_bytes() -> int:
    """This process's peak RSS since its exec (VmHWM): ru_maxrss would carry over the parent's peak
    at fork (the parent holds the whole corpus), which VmHWM does not."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child_add(root: str, vec_path: str, first: int) -> None:
    import dedup

    x = np.load(vec_path)
    ix = dedup.Index.open(root)
    t = time.perf_counter()
    ch = ix.add_embeddings(x, [f"v{first + i:08d}" for i in range(len(x))])
    took = time.perf_counter() - t
    peak = _hwm_bytes()
    timings = {k: round(v, 2) for k, v in ch.timings.items()}
    print(json.dumps({"add_s": round(took, 2), "peak_rss_bytes": peak, "timings_s": timings}))


def vectors(size: int, batch: int, seed: int = 0) -> dict[str, Any]:
    import dedup

    x, group, _ = make_corpus(size + batch, planted=0.2, member_cos=0.95, seed=seed, langs=1)
    order = np.random.default_rng(seed).permutation(size + batch)  # the batch: a random 1%
    x, group = x[order], group[order]
    work = Path(tempfile.mkdtemp(prefix="standing-"))
    try:
        t = time.perf_counter()
        ix = dedup.Index.create(work / "ix")
        ix.add_embeddings(x[:size], [f"v{i:08d}" for i in range(size)])
        t_create = time.perf_counter() - t
        np.save(work / "batch.npy", x[size:])
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(work / "ix"), str(work / "batch.npy"), str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        child = json.loads(out.stdout.strip().splitlines()[-1])
        lab = {r["id"]: r["cluster"] for r in dedup.Index.open(work / "ix").records()}
        pred = np.unique([lab[f"v{i:08d}"] for i in range(size + batch)], return_inverse=True)[1]
        return {
            "index_size": size,
            "batch": batch,
            "create_s": round(t_create, 1),
            **child,
            "peak_rss_gib": round(child["peak_rss_bytes"] / 2**30, 2),
            "duplicate_level": group_recall_precision(pred.reshape(-1), group),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["all", "ntrex", "vectors", "equivalence"], default="all")
    p.add_argument("--sets", default=",".join(EQUIVALENCE_SETS), help="sets of the equivalence part")
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        _child_add(a.child[0], a.child[1], int(a.child[2]))
        return
    here = {**machine(), "cpu_flags": cpu_ram()[1]}
    command = "python benchmarks/standing.py " + " ".join(sys.argv[1:])
    out: dict[str, Any] = {"machine": here}
    if RESULTS.exists():  # a part run alone replaces its own entry
        out = {**json.loads(RESULTS.read_text()), "machine": here}
    out.pop("command", None)
    if a.part in ("all", "vectors"):
        out["vectors"] = {"command": command.strip(), **vectors(a.size, a.batch)}
        print(json.dumps(out["vectors"], indent=1))
    if a.part in ("all", "equivalence"):
        out["equivalence"] = {"command": command.strip(), **equivalence(tuple(a.sets.split(",")))}
    if a.part in ("all", "ntrex"):
        out["ntrex15"] = {"command": command.strip(), **ntrex()}
        print(json.dumps(out["ntrex15"], indent=1))
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
