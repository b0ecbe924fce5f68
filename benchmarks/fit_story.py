"""Fit the story model: logistic weights over dedup.score.story.FEATURES, from dev pairs.

For each dev set (clean variant, no `lang` given, `published`/`source` where the set has them) the
pipeline runs up to pair scores (embeddings from the cache); the pairs are every candidate pair, every
gold same-story pair and, for ECB+, every same-topic pair (its hard negatives), labelled by the set's
story gold. Each set weighs the same in the fit (a drawn family's draws share one set's weight).

Reported per set, beside the shipped model: pair AUC, and story pairwise F1 / hard negatives merged
when the set is clustered at the default thresholds with (a) the model fitted on all sets and
(b) the model fitted on every *other* set (leave one set out: what a set never seen would get).

    python benchmarks/fit_story.py                 # fit, report, write nothing
    python benchmarks/fit_story.py --write         # also write dedup/score/story_model.py
    python benchmarks/fit_story.py --linkages      # the story linkages compared, shipped model
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from quality_sets import SETS, load_set  # noqa: E402

import dedup  # noqa: E402
from dedup import evaluate  # noqa: E402
from dedup.cluster import cluster_levels  # noqa: E402
from dedup.encoders import get_encoder, validated  # noqa: E402
from dedup.io import validate_records  # noqa: E402
from dedup.pipeline import _evidence  # noqa: E402
from dedup.score import story as story_mod  # noqa: E402
from dedup.score.pairs import PairScores  # noqa: E402
from dedup.timing import Timer  # noqa: E402

FAMILIES: dict[str, list[tuple[str, int | None]]] = {
    "ecbplus-dev": [("ecbplus-dev", None)],
    "ktlab-vi": [("ktlab-vi", None)],
    "ntrex-k2": [("ntrex-k2", s) for s in (0, 1, 2)],
    "ntrex-k1": [("ntrex-k1", s) for s in (0, 1, 2)],
    "ntrex-3": [("ntrex-3", None)],
}
C = 1.0  # inverse L2 strength of the logistic fit
OUT = HERE.parent / "dedup" / "score" / "story_model.py"


def collect(name: str, draw: int | None, enc: Any, config: dedup.Config) -> dict[str, Any]:
    spec = SETS[name]
    ls = load_set(spec, "clean", 0, draw)
    rr = validate_records(ls.inputs(with_lang=False))
    ev = _evidence(list(rr.articles), config, enc, Timer())
    rows = ev.row_ids
    gold = [ls.gold["story"][i] for i in rows]
    t = ev.scorer.table
    pairs = {(int(a), int(b)) for a, b in zip(t.a.tolist(), t.b.tolist(), strict=True)}
    by_gold: dict[Any, list[int]] = {}
    for r, g in enumerate(gold):
        by_gold.setdefault(g, []).append(r)
    for members in by_gold.values():
        pairs |= {(a, b) for k, a in enumerate(members) for b in members[k + 1 :]}
    row_of = {i: r for r, i in enumerate(rows)}
    rows_of_doc: dict[str, list[int]] = {}
    for i, doc in ls.doc_of_id.items():
        rows_of_doc.setdefault(doc, []).append(row_of[i])
    for da, db in ls.hard_negatives:  # pairs of documents: every article pair across them
        for a in rows_of_doc.get(da, []):
            pairs |= {(min(a, b), max(a, b)) for b in rows_of_doc.get(db, [])}
    p = np.array(sorted(pairs), dtype=np.int64)
    x = ev.scorer.story.features(p[:, 0], p[:, 1])
    y = np.array([gold[a] == gold[b] for a, b in p.tolist()], dtype=np.int8)
    return {"name": ls.name, "family": name, "ev": ev, "gold": gold, "pairs": p, "x": x, "y": y,
            "ls": ls, "ids": rows}


#: Weights set, not fitted: the dev sets cannot teach them. Dates weeks apart mean different
#: occasions (the same people's visit three months earlier is another story; Miranda et al. 2018
#: decay similarity over days), but ECB+ has almost no dates and KTLAB's events all fall within
#: two months. -4 at dates far apart takes a pair from probability 0.98 to 0.5.
FIXED = {"date_apart": -4.0}


def fit(data: Sequence[dict[str, Any]], columns: Sequence[int]) -> tuple[float, np.ndarray]:
    """Logistic fit over the given FEATURES columns, the `FIXED` ones set, not fitted. Returns
    (bias, weights over all FEATURES)."""
    cols = [c for c in columns if story_mod.FEATURES[c] not in FIXED]
    bias, w = _fit(data, cols)
    full = np.zeros(len(story_mod.FEATURES))
    full[cols] = w
    for c in columns:
        full[c] = FIXED.get(story_mod.FEATURES[c], full[c])
    return bias, full


def _py_dict(name: str, d: dict[str, float]) -> str:
    """`name = {...}` as formatted Python (one key per line)."""
    return f"{name} = {{\n" + "".join(f'    "{k}": {v},\n' for k, v in d.items()) + "}\n"


def _fit(data: Sequence[dict[str, Any]], columns: Sequence[int]) -> tuple[float, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    fams = sorted({d["family"] for d in data})
    per_fam = {f: sum(1 for d in data if d["family"] == f) for f in fams}
    xs, ys, ws = [], [], []
    for d in data:
        y = d["y"]
        w = np.full(len(y), 1.0 / len(y) / per_fam[d["family"]])  # each set (family) weighs the same
        xs.append(d["x"][:, columns])
        ys.append(y)
        ws.append(w)
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    m = LogisticRegression(C=C, max_iter=2000)
    m.fit(x, y, sample_weight=w * len(y))
    return float(m.intercept_[0]), m.coef_[0]


def auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def cluster_with(d: dict[str, Any], bias: float, w: np.ndarray, config: dedup.Config,
                 sweep: bool = False) -> dict[str, Any]:
    """Story F1 and hard negatives merged with a model (bias, weights over FEATURES); with `sweep`,
    also the best F1 over story thresholds (an oracle)."""
    ev = d["ev"]
    scorer = ev.scorer
    model = story_mod.StoryModel(bias, dict(zip(story_mod.FEATURES, w.tolist(), strict=True)))
    scorer.story.model = model
    scorer.story._w = model.vector()
    t = scorer.table
    scorer.table = PairScores(t.a, t.b, t.cosine, t.passage, t.coverage, t.dates, t.duplicate,
                              scorer.story.scores(t.a, t.b))
    gold = dict(zip(d["ids"], d["gold"], strict=True))
    ls = d["ls"]

    def at(threshold: float) -> dict[str, Any]:
        lv = cluster_levels(scorer, config.duplicate_threshold, threshold)
        pred = {i: int(lab) for i, lab in zip(d["ids"], lv.story.tolist(), strict=True)}
        prf = evaluate.pairwise_prf(pred, gold)
        hn = evaluate.merge_rate(pred, ls.doc_of_id, ls.hard_negatives)[0] if ls.hard_negatives else None
        return {"f1": round(prf.f1, 3), "p": round(prf.precision, 3), "r": round(prf.recall, 3),
                "hn": round(hn, 3) if hn is not None else None}

    out = at(config.story_threshold)
    if sweep:
        best = max(((t, at(t)) for t in np.arange(0.1, 0.95, 0.05).round(2).tolist()),
                   key=lambda x: x[1]["f1"])
        out["best"] = {"threshold": best[0], **best[1]}
    return out


LINKAGES = ((3, 0.3), (3, 0.0), (0, 0.0), (3, 0.5))  # (STORY_TOP_K, STORY_TOP_FRAC)


def compare_linkages(data: Sequence[dict[str, Any]], config: dedup.Config) -> None:
    """Story F1 / hard negatives merged per family with the shipped model, for each linkage of
    `LINKAGES` at story thresholds 0.35 / 0.40 / 0.50 (the module's constants are set and restored)."""
    cluster_mod = sys.modules["dedup.cluster"]  # `dedup.cluster` the attribute is the function
    shipped = story_mod.STORY_MODEL
    saved = cluster_mod.STORY_TOP_K, cluster_mod.STORY_TOP_FRAC
    try:
        for top_k, frac in LINKAGES:
            cluster_mod.STORY_TOP_K, cluster_mod.STORY_TOP_FRAC = top_k, frac
            for t in (0.35, 0.40, 0.50):
                res: dict[str, list[tuple[float, float]]] = {}
                for d in data:
                    r = cluster_with(d, shipped.bias, shipped.vector(), config.with_(story_threshold=t))
                    res.setdefault(d["family"], []).append((r["f1"], r["hn"] or 0.0))
                cells = " ".join(f"{f}:{np.mean([x[0] for x in v]):.3f}/{np.mean([x[1] for x in v]):.2f}"
                                 for f, v in res.items())
                print(f"top_k {top_k} frac {frac} @{t:.2f} {cells}", flush=True)
    finally:
        cluster_mod.STORY_TOP_K, cluster_mod.STORY_TOP_FRAC = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="write dedup/score/story_model.py")
    ap.add_argument("--families", nargs="*", default=list(FAMILIES))
    ap.add_argument("--linkages", action="store_true",
                    help="compare story linkages (STORY_TOP_K, STORY_TOP_FRAC) with the shipped model")
    args = ap.parse_args()
    config = dedup.Config()
    enc = validated(get_encoder(config.model, precision=config.precision))
    t0 = time.time()
    data = []
    for fam in args.families:
        for name, draw in FAMILIES[fam]:
            if SETS[name].unavailable():
                print(f"skip {name}: {SETS[name].unavailable()}")
                continue
            data.append(collect(name, draw, enc, config))
            d = data[-1]
            print(f"{d['name']}: {len(d['y'])} pairs, {int(d['y'].sum())} same story "
                  f"({time.time() - t0:.0f} s)", flush=True)
    if args.linkages:
        compare_linkages(data + [collect(n, None, enc, config) for n in ("ntrex-15", "seeds")], config)
        return
    everything = list(range(len(story_mod.FEATURES)))
    vec_cols = [story_mod.FEATURES.index("passage_same"), story_mod.FEATURES.index("passage_cross")]
    bias, w = fit(data, everything)
    vb, vw = fit(data, vec_cols)
    vw = vw[vec_cols]
    print("text model:", round(bias, 3), dict(zip(story_mod.FEATURES, np.round(w, 3).tolist(), strict=True)))
    print("vector model:", round(vb, 3), np.round(vw, 3).tolist())
    shipped = story_mod.STORY_MODEL
    report: dict[str, Any] = {}
    for d in data:
        others = [o for o in data if o["family"] != d["family"]]
        lb, lw = fit(others, everything) if others else (bias, w)
        z = d["x"] @ w + bias
        row = {"auc": round(auc(d["y"], z), 3),
               "auc_passage": round(auc(d["y"], d["x"][:, 0] + d["x"][:, 1]), 3),
               "shipped": cluster_with(d, shipped.bias, shipped.vector(), config),
               "fitted_all": cluster_with(d, bias, w, config, sweep=True),
               "leave_set_out": cluster_with(d, lb, lw, config)}
        report[d["name"]] = row
        print(d["name"], json.dumps(row), flush=True)
    grid = [round(0.3 + 0.05 * k, 2) for k in range(11)]
    by_t: dict[float, dict[str, list[float]]] = {}
    for d in data:
        for t in grid:
            r = cluster_with(d, bias, w, config.with_(story_threshold=t))
            by_t.setdefault(t, {}).setdefault(d["family"], []).append(r["f1"])
    means = {t: float(np.mean([np.mean(v) for v in fam.values()])) for t, fam in by_t.items()}
    for t in grid:
        print(f"story threshold {t:.2f}: mean story F1 over the families {means[t]:.3f}",
              {f: round(float(np.mean(v)), 3) for f, v in by_t[t].items()})
    best_t = max(grid, key=lambda t: (round(means[t], 3), -abs(t - 0.5)))
    print(f"best story threshold over the families: {best_t} (Config.story_threshold is "
          f"{config.story_threshold})")
    if args.write:
        text = {"bias": round(bias, 4),
                **{f: round(float(v), 4) for f, v in zip(story_mod.FEATURES, w, strict=True)}}
        vec = {"bias": round(vb, 4), "passage_same": round(float(vw[0]), 4),
               "passage_cross": round(float(vw[1]), 4)}
        OUT.write_text(
            '"""Score stage, story model weights: written by `benchmarks/fit_story.py` (do not edit by\n'
            "hand).\n\nLogistic weights over `dedup.score.story.FEATURES`, fitted on candidate, same-story\n"
            "and hard-negative pairs of the dev sets (ECB+, KTLAB, NTREX-3, NTREX drawn to 2 of 15 and 1 of\n"
            "en/vi/sv languages), each set weighing the same. Fit report:\n"
            "benchmarks/results/story_fit.json.\n"
            '"""\n\n'
            + _py_dict("TEXT_MODEL", text)
            + _py_dict("VECTOR_MODEL", vec)
        )
        (HERE / "results" / "story_fit.json").write_text(json.dumps(
            {"features": list(story_mod.FEATURES), "text_model": text, "vector_model": vec, "C": C,
             "sets": report, "threshold_grid": {str(t): round(means[t], 4) for t in grid},
             "best_threshold": best_t}, indent=1) + "\n")
        print("wrote", OUT)


if __name__ == "__main__":
    main()
