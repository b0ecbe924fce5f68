"""Quality benchmark, the metrics: `dedup.evaluate` applied to a system's labels over its grid.

Takes a loaded set and a system's (threshold, labels per level) points; gives, per level, the
`curve` (pairwise P/R/F1, B-cubed F1, hard-negative merge rate and #clusters at every threshold)
and the `default` and `best` points (the system's default threshold, and the threshold of the grid
with the highest pairwise F1) with every metric: B-cubed P/R/F1, recall per language pair, the
hard-negative and same-event merge counts, and at the duplicate level of a set with story gold the
predicted duplicate pairs that span two events (`cross_event_pairs`). A set with story gold only
(ECB+, ktlab-vi: independent reports, no duplicate gold) gets an `unlabelled` duplicate level:
those cross-event pairs at every threshold, the default and at the story level's best threshold.
`grid_of` is the grid a system is swept over; `aggregate_draws` summarises the runs of a drawn set
over its draw seeds (mean, min, max of every metric).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

from quality_sets import LEVELS, Labels, LevelLabels, LoadedSet
from quality_systems import System

from dedup.evaluate import bcubed_prf, merge_rate, pair_recall_by_lang, pairwise_prf

BEST_POINT = "threshold of the grid with the highest pairwise F1, per level"


def grid_of(system: System, floor: float | None = None) -> list[float]:
    """The thresholds a system is swept over: its grid (from `floor` up, when given) and its
    default, ascending."""
    grid = {t for t in system.grid if floor is None or t >= floor - 1e-9}
    return sorted(grid | {system.default_for(lvl) for lvl in LEVELS})


def default_index(system: System, points: list[tuple[float, LevelLabels]], level: str) -> int:
    """The point of a sweep at the system's default threshold of `level` (the nearest one)."""
    d_t = system.default_for(level)
    return min(range(len(points)), key=lambda k: abs(points[k][0] - d_t))


def default_labels(system: System, points: list[tuple[float, LevelLabels]]) -> LevelLabels:
    """Each level's labels at its own default threshold."""
    return {lvl: points[default_index(system, points, lvl)][1][lvl] for lvl in points[0][1]}


def cross_event(labels: Labels, events: Labels) -> dict[str, Any]:
    """Predicted pairs (two articles in one cluster) whose articles belong to two gold events:
    their count and their share of all predicted pairs (0 when none is predicted). O(n)."""
    ids = list(events)
    pred = [labels[i] for i in ids]
    size = Counter(pred)
    cell = Counter(zip(pred, (events[i] for i in ids), strict=True))
    pairs = sum(c * (c - 1) // 2 for c in size.values())
    same = sum(c * (c - 1) // 2 for c in cell.values())
    return {"predicted_pairs": pairs, "cross_event_pairs": pairs - same,
            "cross_event_share": (pairs - same) / pairs if pairs else 0.0,
            "n_clusters": len(size)}


def score_level(labels: Labels, ls: LoadedSet, level: str, full: bool) -> dict[str, Any]:
    """Metrics of predicted labels against the set's gold at one level (`full`: every metric).
    The hard-negative merge rate is None for a set without hard negatives (ktlab-vi)."""
    gold = ls.gold[level]
    ids = list(gold)
    pred = [labels[i] for i in ids]
    g = [gold[i] for i in ids]
    pw = pairwise_prf(pred, g)
    hn_rate, hn_merged, hn_total = merge_rate(labels, ls.doc_of_id, ls.hard_negatives)
    b3 = bcubed_prf(pred, g)
    out: dict[str, Any] = {
        "precision": pw.precision, "recall": pw.recall, "f1": pw.f1,
        "bcubed_f1": b3.f1,
        "hard_negative_merge_rate": hn_rate if hn_total else None,
        "n_clusters": len(set(pred)),
    }
    if level == "duplicate" and "story" in ls.gold:
        out["cross_event_pairs"] = cross_event(labels, ls.gold["story"])["cross_event_pairs"]
    if full:
        out["bcubed"] = b3.as_dict()
        out["recall_by_lang"] = pair_recall_by_lang(pred, g, [ls.langs[i] for i in ids])
        out["hard_negative"] = {"merged": hn_merged, "total": hn_total, "rate": hn_rate}
        if ls.same_event:
            r, m, t = merge_rate(labels, ls.doc_of_id, ls.same_event)
            out["same_event_cross_outlet"] = {"merged": m, "total": t, "rate": r}
    return out


def complete(labels: Labels, ids: Sequence[str], system: str) -> Labels:
    """Every id needs a label: a missing one becomes its own singleton (and is reported)."""
    missing = [i for i in ids if i not in labels]
    if missing:
        print(f"  ! {system} returned no label for {len(missing)} ids (e.g. {missing[0]}); "
              "counted as singletons", file=sys.stderr)
        labels = dict(labels)
        for i in missing:
            labels[i] = ("__missing__", i)
    return labels


def score_points(ls: LoadedSet, system: System, ids: Sequence[str],
                 points: list[tuple[float, LevelLabels]]
                 ) -> tuple[dict[str, Any], dict[str, Any], LevelLabels | None]:
    """Per level of the set: {"default": ..., "best": ..., "curve": [...]}; the unlabelled levels
    (a duplicate level without gold, beside story gold: {"default", "at_story_best", "curve"} of
    `cross_event`); and the labels at the default threshold (for --show-errors)."""
    levels: dict[str, Any] = {}
    unlabelled: dict[str, Any] = {}
    at_default: LevelLabels | None = None
    for level in ls.gold:
        curve = []
        for t, labels_of in points:
            labels = complete(labels_of[level], ids, system.name)
            curve.append({"threshold": t, **score_level(labels, ls, level, full=False)})
        d_idx = default_index(system, points, level)
        b_idx = max(range(len(curve)), key=lambda k: (curve[k]["f1"], -k))
        level_res: dict[str, Any] = {}
        for point, idx in (("default", d_idx), ("best", b_idx)):
            t, labels_of = points[idx]
            labels = complete(labels_of[level], ids, system.name)
            level_res[point] = {"threshold": t, **score_level(labels, ls, level, True)}
        level_res["curve"] = curve
        levels[level] = level_res
        at_default = default_labels(system, points)
    if "story" in ls.gold and "duplicate" not in ls.gold and points:
        events = ls.gold["story"]
        curve = [{"threshold": t, **cross_event(complete(lab["duplicate"], ids, system.name), events)}
                 for t, lab in points]
        d_idx = default_index(system, points, "duplicate")
        s_t = levels["story"]["best"]["threshold"]
        s_idx = min(range(len(points)), key=lambda k: abs(points[k][0] - s_t))
        unlabelled["duplicate"] = {"gold": None, "default": curve[d_idx],
                                   "at_story_best": curve[s_idx], "curve": curve}
    return levels, unlabelled, at_default


def _numbers(x: Any, prefix: str = "") -> dict[str, float]:
    """Flatten the numeric leaves of a nested dict ("story.best.f1" -> value); lists skipped."""
    out: dict[str, float] = {}
    if isinstance(x, dict):
        for k, v in x.items():
            out.update(_numbers(v, f"{prefix}{k}."))
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        out[prefix[:-1]] = float(x)
    return out


def aggregate_draws(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, min and max over the draw seeds of every metric of every system, level and point
    (curves left out): {system: {"story.best.f1": {"mean", "min", "max", "values"}, ...}}."""
    out: dict[str, Any] = {"draw_seeds": [r.get("draw_seed") for r in runs],
                           "n_articles": [r["n_articles"] for r in runs], "systems": {}}
    names = [n for n in runs[0]["systems"] if all("levels" in r["systems"].get(n, {}) for r in runs)]
    for name in names:
        flat = []
        for r in runs:
            sysres = r["systems"][name]
            tree = {lvl: {pt: res[pt] for pt in ("default", "best")}
                    for lvl, res in sysres["levels"].items()}
            flat.append(_numbers({"time_s": sysres.get("time_s"), **tree}))
        keys = [k for k in flat[0] if all(k in f for f in flat)]
        out["systems"][name] = {
            k: {"mean": sum(f[k] for f in flat) / len(flat), "min": min(f[k] for f in flat),
                "max": max(f[k] for f in flat), "values": [f[k] for f in flat]}
            for k in keys}
    return out


def restrict(labels: dict[str, Hashable], ids: Sequence[str]) -> dict[str, Hashable]:
    """Labels of the given ids only (a member set of the union scored on its own gold)."""
    return {i: labels[i] for i in ids}
