"""Scaling benchmark: dedup.cluster_embeddings on synthetic corpora of precomputed vectors.

    python benchmarks/scale.py                       # 10k and 100k, results to benchmarks/results/scale.json
    python benchmarks/scale.py --sizes 10000,100000,1000000
    python benchmarks/scale.py --sizes 100000 --langs 5 --tag 100k-5langs

A corpus of n unit vectors (384-d, as multilingual-e5-small) holds planted duplicate groups of
2-10 members (`--planted` of the corpus; each member is the group's centre plus Gaussian noise,
cosine ~0.95 to the centre, ~0.90 between members); the rest are random unit vectors. Each size
runs in its own process, so its peak RSS (ru_maxrss, which includes the input vectors) is its own.

Reported per size: time per stage (index = centring + nearest-neighbour search + margin
denominators; score; cluster = both levels; canonical), wall time of the call, peak RSS; the
planted-group recall (share of planted same-group pairs that end up in one cluster) and pairwise
precision (share of same-cluster pairs that are planted same-group pairs) at both levels; and,
when the approximate (inverted-file) search is used, its recall against exact search on a sample
of queries: recall@k of the k nearest neighbours, and recall of the near neighbours (cosine >= 0.5,
the planted partners) among the candidate pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_info import cores, cpu_ram  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "scale.json"
DIM = 384


def make_corpus(
    n: int, *, planted: float, member_cos: float, seed: int, langs: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(vectors, group, langs): group[i] = planted group id, or -1 for a random vector."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, DIM), dtype=np.float32)
    block = 1 << 16
    for s in range(0, n, block):  # random unit vectors, in blocks (no full-size temporaries)
        e = min(n, s + block)
        x[s:e] = rng.standard_normal((e - s, DIM), dtype=np.float32)
        x[s:e] /= np.linalg.norm(x[s:e], axis=1, keepdims=True)
    group = np.full(n, -1, dtype=np.int64)
    target = int(n * planted)
    sizes: list[int] = []
    while sum(sizes) < target:
        sizes.append(int(rng.integers(2, 11)))
    if sizes and sum(sizes) > target:
        sizes[-1] -= sum(sizes) - target
        if sizes[-1] < 2:
            sizes.pop()
    sigma = float(np.sqrt((1.0 / member_cos**2 - 1.0) / DIM))
    rows = rng.permutation(n)[: sum(sizes)]
    pos = 0
    for g, size in enumerate(sizes):
        members = rows[pos : pos + size]
        pos += size
        centre = x[members[0]].copy()  # a random unit vector
        noisy = centre[None, :] + sigma * rng.standard_normal((size, DIM), dtype=np.float32)
        x[members] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
        group[members] = g
    lang = [f"l{int(k)}" for k in rng.integers(0, langs, n)] if langs > 1 else ["und"] * n
    return x, group, lang


def _pairs_same(labels: np.ndarray) -> int:
    _, counts = np.unique(labels, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def group_recall_precision(pred: np.ndarray, group: np.ndarray) -> dict[str, float]:
    """Pairwise recall of the planted groups and precision of the predicted clusters."""
    n = len(group)
    gold = np.where(group >= 0, group, -(np.arange(n) + 1))  # random vectors: singletons
    gold_pairs = _pairs_same(gold)
    pred_pairs = _pairs_same(pred)
    # true positives: pairs sharing both labels
    _, joint = np.unique(np.stack([pred, gold], axis=1), axis=0, return_inverse=True)
    tp = _pairs_same(joint.reshape(-1))
    return {
        "recall": tp / gold_pairs if gold_pairs else 1.0,
        "precision": tp / pred_pairs if pred_pairs else 1.0,
        "planted_pairs": gold_pairs,
        "predicted_pairs": pred_pairs,
    }


def ann_recall(
    x: np.ndarray,
    langs: list[str],
    pairs_a: np.ndarray,
    pairs_b: np.ndarray,
    k: int,
    n_queries: int,
    seed: int,
) -> dict[str, Any]:
    """Recall of the candidate pairs against exact search on a sample of queries (rows in id order)."""
    from dedup import index as index_mod
    from dedup import score as score_mod

    n = x.shape[0]
    cu = score_mod.centre_by_language(x, langs)
    rng = np.random.default_rng(seed)
    q = np.sort(rng.choice(n, min(n_queries, n), replace=False))
    sims, ids = index_mod._flat_search(cu[q], cu, k + 1)
    cand: dict[int, set[int]] = {int(r): set() for r in q}
    for side, other in ((pairs_a, pairs_b), (pairs_b, pairs_a)):  # pairs touching a sampled query
        sel = np.flatnonzero(np.isin(side, q))
        for a, b in zip(side[sel].tolist(), other[sel].tolist(), strict=True):
            cand[a].add(b)
    hit = tot = near_hit = near_tot = 0
    for row, s_row, i_row in zip(q.tolist(), sims, ids, strict=True):
        keep = i_row != row
        nb, sb = i_row[keep][:k], s_row[keep][:k]
        found = cand[row]
        hit += sum(1 for j in nb.tolist() if j in found)
        tot += len(nb)
        near = nb[sb >= 0.5]
        near_hit += sum(1 for j in near.tolist() if j in found)
        near_tot += len(near)
    return {
        "queries": len(q),
        "recall_at_k": hit / tot if tot else 1.0,
        "near_neighbours": near_tot,
        "near_recall": near_hit / near_tot if near_tot else 1.0,
    }


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def run_one(args: argparse.Namespace, n: int) -> dict[str, Any]:
    import dedup
    from dedup import index as index_mod

    t0 = time.perf_counter()
    x, group, langs = make_corpus(
        n, planted=args.planted, member_cos=args.member_cos, seed=args.seed, langs=args.langs
    )
    t_gen = time.perf_counter() - t0
    width = len(str(n - 1))
    ids = [f"{i:0{width}d}" for i in range(n)]  # id order == row order
    rss_before = current_rss_mib()
    cfg = dedup.Config(neighbours=args.neighbours)
    t0 = time.perf_counter()
    res = dedup.cluster_embeddings(x, ids=ids, langs=langs if args.langs > 1 else None, config=cfg)
    wall = time.perf_counter() - t0
    peak = rss_mib()
    row = {r: k for k, r in enumerate(res.ids)}
    assert all(row[i] == k for k, i in enumerate(ids[:100]))
    dup = np.unique(np.asarray(res.cluster_of), return_inverse=True)[1].reshape(-1)
    sto = np.unique(np.asarray(res.story_of), return_inverse=True)[1].reshape(-1)
    approx = n > index_mod.EXACT_MAX
    out: dict[str, Any] = {
        "n": n,
        "langs": args.langs,
        "planted_share": args.planted,
        "member_cosine": args.member_cos,
        "neighbours": args.neighbours,
        "search": (
            f"inverted file ({index_mod._n_cells(n)} cells, {index_mod.IVF_PROBES} probes)"
            if approx
            else "exact"
        ),
        "generate_s": round(t_gen, 2),
        "wall_s": round(wall, 2),
        "stages_s": {k: round(v, 2) for k, v in res.timings.items()},
        "index_score_cluster_s": round(
            sum(res.timings.get(k, 0.0) for k in ("index", "score", "cluster")), 2
        ),
        "candidate_pairs": len(res.pairs),
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(peak, 1),
        "duplicate": group_recall_precision(dup, group),
        "story": group_recall_precision(sto, group),
    }
    if approx or args.check_recall:
        t0 = time.perf_counter()
        out["search_recall"] = ann_recall(
            x, langs, res.pairs.a, res.pairs.b, args.neighbours, args.recall_queries, args.seed + 1
        )
        out["search_recall"]["check_s"] = round(time.perf_counter() - t0, 1)
    return out


def machine() -> dict[str, Any]:
    cpu, _, ram = cpu_ram()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": cores(),
        "ram_gib": ram,
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "faiss-cpu": version("faiss-cpu"),
        "load_avg_1min_at_start": load,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--planted", type=float, default=0.2, help="share of the corpus in planted groups")
    ap.add_argument("--member-cos", type=float, default=0.95, help="cosine of a member to its group centre")
    ap.add_argument("--langs", type=int, default=1, help="random languages (1: none given)")
    ap.add_argument("--neighbours", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recall-queries", type=int, default=1000)
    ap.add_argument("--check-recall", action="store_true", help="also with exact search")
    ap.add_argument("--tag", default="", help="key suffix in the results file")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size, JSON on stdout
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args, args.one)))
        return 0
    out_path = Path(args.out)
    report = json.loads(out_path.read_text()) if out_path.exists() else {}
    report["machine"] = machine()
    report["command"] = "python benchmarks/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    runs = report.setdefault("runs", {})
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        cmd = [sys.executable, __file__, "--one", str(n), "--planted", str(args.planted)]
        cmd += ["--member-cos", str(args.member_cos), "--langs", str(args.langs)]
        cmd += ["--neighbours", str(args.neighbours), "--seed", str(args.seed)]
        cmd += ["--recall-queries", str(args.recall_queries)] + (
            ["--check-recall"] if args.check_recall else []
        )
        print(f"n={n}: running ...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return proc.returncode
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        key = f"{n}" + (f"-{args.tag}" if args.tag else "")
        runs[key] = res
        print(json.dumps(res, indent=1), file=sys.stderr, flush=True)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
