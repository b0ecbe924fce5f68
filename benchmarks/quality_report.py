"""Quality benchmark, the report: console tables, the markdown tables, and the run's provenance.

Takes a run (one set and variant, as the runner builds it) or a whole quality.json report; gives
the console table of a run (`print_table`; `print_union` for the union, `print_draws` for the
summary of a drawn set over its draw seeds), the markdown tables of benchmarks/README.md
(`markdown_report`: every system at its default threshold, then at its best; then, when the report
holds them, the real shapes of news: `real_shapes_report`), and the provenance recorded in
quality.json: git commit and dirtiness, machine, package versions.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

from machine_info import cores, cpu_ram

ROOT = Path(__file__).resolve().parent.parent


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.3f}"


def f2(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _ran(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The systems that ran; a skipped one is printed with its reason."""
    out = []
    for name, sysres in run["systems"].items():
        if "skipped" in sysres:
            print(f"{name:8} skipped: {sysres['skipped']}")
        else:
            out.append((name, sysres))
    return out


def print_table(run: dict[str, Any]) -> None:
    draw = f" draw {run['draw_seed']}" if run.get("draw_seed") is not None else ""
    print(f"\n### {run['set']}{draw} / {run['variant']}  ({run['n_articles']} articles, "
          f"{', '.join(run['languages'])}; {run['hard_negative_pairs']} hard-negative doc pairs)")
    print(f"{'system':8} {'level':9} {'point':7} {'thr':>5} {'P':>5} {'R':>5} {'F1':>5} "
          f"{'B3-F1':>5} {'HNmrg':>5} {'#clus':>5}  recall en-vi en-sv sv-vi  worst-pair")
    for name, sysres in _ran(run):
        for level, res in sysres["levels"].items():
            for point in ("default", "best"):
                d = res[point]
                rl = d["recall_by_lang"]
                cross = {k: v for k, v in rl.items() if k.split("-")[0] != k.split("-")[1]}
                worst = min(cross.items(), key=lambda kv: kv[1]) if cross else None
                w = f"{worst[0]} {worst[1]:.2f}" if worst else ""
                xev = (f"  dup. pairs across events {d['cross_event_pairs']}"
                       if "cross_event_pairs" in d else "")
                print(f"{name:8} {level:9} {point:7} {d['threshold']:5.2f} {fmt(d['precision'])} "
                      f"{fmt(d['recall'])} {fmt(d['f1'])} {fmt(d['bcubed_f1'])} "
                      f"{fmt(d['hard_negative_merge_rate'])} {d['n_clusters']:5d}        "
                      f"{fmt(rl.get('en-vi'))} {fmt(rl.get('en-sv'))} {fmt(rl.get('sv-vi'))}  {w}"
                      f"{xev}")
        for level, res in sysres.get("unlabelled", {}).items():
            for point in ("default", "at_story_best"):
                d = res[point]
                print(f"{name:8} {level:9} {point[:7]:7} {d['threshold']:5.2f} (no gold) "
                      f"{d['n_clusters']} clusters, {d['predicted_pairs']} predicted pairs, "
                      f"{d['cross_event_pairs']} across two events "
                      f"({100 * d['cross_event_share']:.1f}%)")


def print_draws(key: str, summary: dict[str, Any]) -> None:
    """A drawn set over its draw seeds: mean and min-max of the main metrics."""
    print(f"\n### {key}: draws {summary['draw_seeds']} ({summary['n_articles']} articles); "
          "mean (min-max) over the draws")
    for name, m in summary["systems"].items():
        for level in ("duplicate", "story"):
            for point in ("default", "best"):
                pre = f"{level}.{point}."
                if pre + "f1" not in m:
                    continue
                cells = []
                for k in ("threshold", "precision", "recall", "f1", "bcubed.f1",
                          "hard_negative_merge_rate", "cross_event_pairs"):
                    v = m.get(pre + k)
                    if v is not None:
                        cells.append(f"{k.replace('hard_negative_merge_rate', 'HN')} "
                                     f"{v['mean']:.3f} ({v['min']:.3f}-{v['max']:.3f})")
                print(f"{name:8} {level:9} {point:7} " + "  ".join(cells))


def _thresholds(t: Any) -> str:
    """A threshold, or per-level thresholds {"duplicate": d, "story": s} as "duplicate d, story s"."""
    if isinstance(t, dict):
        return ", ".join(f"{lvl} {v:.2f}" for lvl, v in t.items())
    return f"{float(t):.2f}"


def print_union(run: dict[str, Any]) -> None:
    """The union: each member on its own gold (and minus alone), the clusters across sets."""
    print(f"\n### union / clean  ({run['n_articles']} articles: "
          f"{', '.join(m['name'] + ' ' + str(m['n_articles']) for m in run['members'])})")
    for name, sysres in _ran(run):
        xs = sysres["cross_set"]["default"]
        spans = "; ".join(f"{lvl}: {v['clusters_across_families']} clusters across sets of "
                          f"different families ({v['pairs_across_families']} pairs), "
                          f"{v['clusters_across_sets']} across two sets"
                          for lvl, v in xs.items() if lvl != "threshold" and isinstance(v, dict))
        print(f"{name:8} at {_thresholds(xs['threshold'])}: {spans}")
        for member, res in sysres["per_set"].items():
            delta = sysres["delta_vs_alone"].get(member, {})
            for level, r in res["levels"].items():
                cells = []
                for point in ("default", "best"):
                    d = r[point]
                    dd = delta.get(level, {}).get(point, {}).get("f1")
                    ds = f" ({dd:+.3f} vs alone)" if dd is not None else ""
                    cells.append(f"{point} @{d['threshold']:.2f} P {d['precision']:.3f} "
                                 f"R {d['recall']:.3f} F1 {d['f1']:.3f}{ds}")
                print(f"{name:8} {member:14} {level:9} " + "  ".join(cells))

def markdown_report(report: dict[str, Any]) -> str:
    """The results of a quality.json as two markdown tables: every system at its default
    threshold, then at its best threshold of the grid (highest pairwise F1 per level).
    Cells: pairwise precision / recall / F1, then the hard-negative merge rate."""
    names: list[str] = ["dedup"]  # shown as "pending" until a run includes it
    for run in report["runs"]:
        for name in run["systems"]:
            if name not in names:
                names.append(name)
    out = []
    runs = [r for r in report["runs"] if "levels" in r and r.get("draw_seed") is None]
    for point in ("default", "best"):
        what = ("default threshold" if point == "default"
                else "best threshold of the grid (highest pairwise F1), shown as @t")
        out.append(f"**At the {what}.** Cell: P / R / **F1** · hard-negative merge rate\n")
        head = ["set / variant", "level", *names]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for run in runs:
            for level in run["levels"]:
                cells = [f"{run['set']} / {run['variant']}", level]
                for name in names:
                    sysres = run["systems"].get(name)
                    if sysres is None or "skipped" in sysres:
                        cells.append("pending" if name == "dedup" else "skipped")
                        continue
                    d = sysres["levels"][level][point]
                    at = f"@{d['threshold']:.2f} " if point == "best" else ""
                    cells.append(f"{at}{d['precision']:.2f} / {d['recall']:.2f} / "
                                 f"**{d['f1']:.2f}** · {f2(d['hard_negative_merge_rate'])}")
                out.append("| " + " | ".join(cells) + " |")
        out.append("")
    real = real_shapes_report(report)
    if real:
        out.append(real)
    return "\n".join(out)


#: the rows of the real-shapes table: (system, point)
REAL_ROWS = (("dedup", "default"), ("dedup", "best"), ("tfidf", "best"), ("cosine", "best"))
REAL_SETS = ("ecbplus-dev", "ktlab-vi", "ntrex-k2", "ntrex-k1")


def row_values(sysres: dict[str, Any], point: str) -> dict[str, float | None]:
    """One system at one point of the story level ("default" or "best"), every value measured on
    the clustering of that threshold: story P/R/F1, B-cubed F1, hard negatives, and the duplicate
    level (P/R/F1 when it has gold, pairs across two events) at its own default for the default
    point, else at the same threshold."""
    st = sysres["levels"]["story"][point]
    t = st["threshold"]
    out: dict[str, float | None] = {
        "threshold": t, "precision": st["precision"], "recall": st["recall"], "f1": st["f1"],
        "bcubed_f1": st["bcubed_f1"], "hard_negative": st.get("hard_negative_merge_rate"),
        "dup_precision": None, "dup_recall": None, "dup_f1": None, "cross_event_pairs": None}
    dup = sysres["levels"].get("duplicate")
    curve = dup["curve"] if dup else sysres.get("unlabelled", {}).get("duplicate", {}).get("curve", [])
    if point == "default":
        at = dup["default"] if dup else sysres.get("unlabelled", {}).get("duplicate", {}).get("default")
    else:
        at = next((c for c in curve if abs(c["threshold"] - t) < 1e-9), None)
    if at is not None:
        out["cross_event_pairs"] = at.get("cross_event_pairs")
        if dup:
            out.update(dup_precision=at["precision"], dup_recall=at["recall"], dup_f1=at["f1"])
    return out


def _spread(values: list[float | None], digits: int = 2, spread: bool = False) -> str:
    vs = [v for v in values if v is not None]
    if not vs:
        return "–"
    mean = sum(vs) / len(vs)
    txt = f"{mean:.{digits}f}"
    if spread and len(vs) > 1:
        txt += f" ({min(vs):.{digits}f}–{max(vs):.{digits}f})"
    return txt


def real_rows(runs: list[dict[str, Any]], sysname: str, point: str) -> list[str] | None:
    """The cells of one row of the real-shapes table: one run, or the mean over a drawn set's
    draws (story F1 with its min-max)."""
    vals = [row_values(r["systems"][sysname], point) for r in runs
            if "levels" in r["systems"].get(sysname, {})]
    if not vals:
        return None

    def col(k: str) -> list[float | None]:
        return [v[k] for v in vals]

    thr = [float(v["threshold"] or 0) for v in vals]
    t = f"@{min(thr):.2f}" + (f"–{max(thr):.2f}" if max(thr) != min(thr) else "")
    dup = ("–" if vals[0]["dup_f1"] is None else
           f"{_spread(col('dup_precision'))} / {_spread(col('dup_recall'))} / {_spread(col('dup_f1'))}")
    xev = col("cross_event_pairs")
    return [t, f"{_spread(col('precision'))} / {_spread(col('recall'))} / "
               f"**{_spread(col('f1'), spread=len(vals) > 1)}**",
            _spread(col("bcubed_f1")), _spread(col("hard_negative")),
            _spread(xev, digits=1 if len(vals) > 1 else 0), dup]


def real_shapes_report(report: dict[str, Any]) -> str:
    """The markdown tables of the real shapes of news (ecbplus-dev, ktlab-vi, the draws, the
    union), when the report holds them: '' otherwise."""
    out: list[str] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in report["runs"]:
        if r["set"] in REAL_SETS and r["variant"] == "clean":
            groups.setdefault(r["set"], []).append(r)
    if groups:
        out.append("**Real shapes of news** (clean). Every cell at the row's threshold: story "
                   "level pairwise P / R / **F1**, B-cubed F1, hard negatives merged (ECB+: "
                   "same-topic, different-event article pairs; NTREX: pairs.tsv), predicted "
                   "duplicate pairs across two events, and duplicate-level pairwise P / R / F1 "
                   "(NTREX; ECB+ and ktlab-vi have no duplicate gold; `ntrex-k1` has no duplicate "
                   "gold pair, so its duplicate precision is 0 as soon as one pair is predicted). "
                   "Draws: mean over the draw seeds, story F1 min-max in brackets. `best` = the "
                   "threshold of the grid with the highest story F1 (an oracle); TF-IDF and cosine "
                   "have one level.\n")
        out.append("| set | system | threshold | story P / R / F1 | story B³ F1 | hard neg. merged | "
                   "dup. pairs across events | duplicate P / R / F1 |")
        out.append("|---|---|---|---|---|---|---|---|")
    for name in REAL_SETS:
        runs = groups.get(name)
        if not runs:
            continue
        label = name if len(runs) == 1 else f"{name} ({len(runs)} draws)"
        for sysname, point in REAL_ROWS:
            cells = real_rows(runs, sysname, point)
            if cells is not None:
                out.append("| " + " | ".join([label, f"{sysname} {point}", *cells]) + " |")
    union = next((r for r in report["runs"] if r["set"] == "union"), None)
    if union is not None:
        out.append("")
        out.append(union_report(union))
    return "\n".join(out)


def union_report(run: dict[str, Any]) -> str:
    """The union: per member, story (or duplicate) F1 in the union and minus alone; spans."""
    names = [n for n in ("dedup", "tfidf", "cosine") if "per_set" in run["systems"].get(n, {})]
    out = [f"**Union** ({run['n_articles']} articles in one corpus: "
           + ", ".join(f"{m['name']} {m['n_articles']}" for m in run["members"])
           + "). Pairwise F1 of each set on its own gold in the union, and in brackets minus its F1 "
           "alone; dedup at its default, the baselines at each set's best threshold.\n"]
    head = ["set", "level", *[f"{n} {'default' if n == 'dedup' else 'best'}" for n in names]]
    if "dedup" in names:
        head.insert(3, "dedup best")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for m in run["members"]:
        member = m["name"]
        levels = run["systems"][names[0]]["per_set"][member]["levels"] if names else {}
        for level in levels:
            cells = [member, level]
            for n in names:
                points = ("default", "best") if n == "dedup" else ("best",)
                for point in points:
                    sysres = run["systems"][n]
                    d = sysres["per_set"][member]["levels"][level][point]
                    dd = sysres["delta_vs_alone"].get(member, {}).get(level, {}).get(point, {})
                    delta = f" ({dd['f1']:+.3f})" if "f1" in dd else ""
                    at = f"@{d['threshold']:.2f} " if point == "best" else ""
                    cells.append(f"{at}**{d['f1']:.3f}**{delta}")
            out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for n in names:
        xs = run["systems"][n]["cross_set"]["default"]
        parts = []
        for lvl in ("duplicate", "story"):
            v = xs.get(lvl)
            if isinstance(v, dict):
                parts.append(f"{lvl}: {v['clusters_across_families']} clusters join two unrelated "
                             f"sets ({v['pairs_across_families']} article pairs); "
                             f"{v['pairs_across_sets_of_one_family']} pairs join ntrex-3 and the "
                             f"ntrex-k2 draw ({v['of_which_same_gold']} of them the same "
                             f"{'report' if lvl == 'duplicate' else 'event'})")
        out.append(f"- {n} at {_thresholds(xs['threshold'])}: " + "; ".join(parts))
    return "\n".join(out)


def git_commit() -> dict[str, Any]:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return {"commit": "uncommitted", "dirty": True}
        st = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                            text=True, timeout=10)
        return {"commit": head.stdout.strip(), "dirty": bool(st.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "uncommitted", "dirty": True}


def machine() -> dict[str, Any]:
    cpu, _, ram_gib = cpu_ram()
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu": cpu,
            "cores": cores(), "ram_gib": ram_gib}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("numpy", "faiss-cpu", "torch", "onnxruntime", "sentence-transformers", "datasketch",
                "semhash", "dedup"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out
