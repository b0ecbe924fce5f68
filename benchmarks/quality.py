#!/usr/bin/env python
"""Quality benchmark: precision/recall of dedup and four baselines on labelled multilingual sets.

    python benchmarks/quality.py                      # every set, both variants, every system
    python benchmarks/quality.py --sets ntrex-3,seeds --variants page --show-errors 5
    python benchmarks/quality.py --sets ecbplus-dev,ktlab-vi,ntrex-k2,ntrex-k1,union --variants clean

Each set is run as given ('clean': the articles as the set has them) and as 'page' (every article
wrapped in web furniture by benchmarks/pages.py); the seeds are real pages already and run once,
as variant 'real'. Besides the fully parallel sets (NTREX, FLORES: every report in every language)
run the real shapes of news: independent reports of real events (ecbplus-dev; ktlab-vi, read from
../shared and skipped when absent), NTREX drawn to 2 of 15 and 1 of 3 languages per report
(ntrex-k2, ntrex-k1; one run per draw seed, --draws, summarised as mean and min-max), and the
union of every dev set in one corpus (once, clean; each set scored on its own gold; see
quality_union.py). The systems see only `id`, `title` (when the variant has one) and `text`
(ktlab-vi: `published` and `source` too), plus `lang` with --with-lang; gold labels never reach
them. For every set, variant, system and level the harness reports pairwise precision/recall/F1,
B-cubed precision/recall/F1, recall per language pair, the hard-negative merge rate and the
predicted duplicate pairs that span two events, at the system's default threshold and at its best
threshold on a grid, and writes a JSON report and one PNG per set and variant (precision and
recall against the threshold; a drawn set's first draw). See benchmarks/README.md.

Where the results go. Only the full default run (every set, both variants, every system, no
option that changes what is measured: --with-lang, --seed, --draws, --model, --precision,
--batch-size, --dedup-set) writes the committed benchmarks/results/quality.json and its PNGs
results/quality_<set>_<variant>.png. Any other run writes benchmarks/results/quality_subset.json
and results/quality_subset_<set>_<variant>.png (git-ignored), unless --out PATH is given: then the
JSON goes to PATH and the PNGs beside it as <PATH stem>_<set>_<variant>.png, so an explicit
`--out benchmarks/results/quality.json` rewrites the committed file whatever the subset.
--show-errors, --errors-for and --no-plots change no number and keep a run the default run.

Modules: quality_sets.py (the sets, their variants and draws), quality_systems.py (the system
interface, dedup), baselines.py (MinHash, TF-IDF, cosine, semhash and their embedder: dedup's
encoder and embedding cache), quality_metrics.py (dedup.evaluate over the threshold grids, the
draws' summaries), quality_union.py (the union), quality_errors.py (--show-errors),
quality_report.py (tables, provenance), quality_plots.py (the PNGs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from baselines import (  # noqa: E402
    CosineSystem,
    Embedder,
    EmbeddingSystem,
    MinHashSystem,
    SemHashSystem,
    TfidfSystem,
    embed_text,
)
from quality_errors import show_errors  # noqa: E402
from quality_metrics import (  # noqa: E402
    BEST_POINT,
    aggregate_draws,
    complete,
    default_labels,
    grid_of,
    score_points,
)
from quality_plots import plot_run  # noqa: E402
from quality_report import (  # noqa: E402
    git_commit,
    machine,
    markdown_report,
    print_draws,
    print_table,
    print_union,
    versions,
)
from quality_sets import LEVELS, SETS, VARIANTS, Job, LoadedSet, jobs_for, load_set  # noqa: E402
from quality_systems import DedupSystem, System  # noqa: E402
from quality_union import (  # noqa: E402
    build_union,
    clusters_across_families,
    cross_set_curve,
    deltas,
    member_summary,
    score_members,
)

RESULTS = HERE / "results"
#: written by the full default run only (or an explicit --out)
COMMITTED_OUT = RESULTS / "quality.json"
#: written by every other run without --out (git-ignored)
SUBSET_OUT = RESULTS / "quality_subset.json"
DEFAULT_SETS = list(SETS)
DEFAULT_VARIANTS = list(VARIANTS)
SYSTEMS = ["dedup", "minhash", "tfidf", "cosine", "semhash"]
DEFAULT_BATCH = 32
DEFAULT_DRAWS = [0, 1, 2]


@dataclass
class Options:
    sets: list[str]
    variants: list[str]
    systems: list[str]
    with_lang: bool = False
    show_errors: int = 0
    errors_for: list[str] = field(default_factory=lambda: ["dedup"])
    out: Path | None = None  # None: COMMITTED_OUT for the full default run, else SUBSET_OUT
    plots: bool = True
    seed: int = 0
    draws: list[int] = field(default_factory=lambda: list(DEFAULT_DRAWS))  # drawn sets' seeds
    model: str | None = None
    batch_size: int = DEFAULT_BATCH
    precision: str | None = None  # of the embedding baselines; None: dedup's (Config().precision)
    dedup_settings: dict[str, Any] = field(default_factory=dict)  # `--dedup-set KEY=VALUE`

    def is_default_run(self) -> bool:
        """Every set, variant and system, and nothing that changes what is measured."""
        return (self.sets == DEFAULT_SETS and self.variants == DEFAULT_VARIANTS
                and self.systems == SYSTEMS and not self.with_lang and self.seed == 0
                and self.draws == DEFAULT_DRAWS and self.model is None and self.precision is None
                and self.batch_size == DEFAULT_BATCH and not self.dedup_settings)

    def out_path(self) -> Path:
        if self.out is not None:
            return self.out
        return COMMITTED_OUT if self.is_default_run() else SUBSET_OUT


def png_path(out: Path, set_name: str, variant: str) -> Path:
    """The PNG of a set and variant: beside the JSON, named after its stem."""
    return out.parent / f"{out.stem}_{set_name}_{variant}.png"


def parse_args(argv: list[str] | None) -> Options:
    ap = argparse.ArgumentParser(
        prog="benchmarks/quality.py",
        description="Precision/recall of dedup and baselines on the labelled sets.")
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS),
                    help=f"comma-separated, from {', '.join(SETS)}")
    ap.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                    help="clean (articles as given) and/or page (wrapped in web furniture); "
                         "the seeds always run once as 'real'")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--with-lang", action="store_true", help="give the systems `lang` too")
    ap.add_argument("--show-errors", type=int, default=0, metavar="N",
                    help="print the N worst false merges and misses per level")
    ap.add_argument("--errors-for", default="dedup",
                    help="systems whose errors --show-errors prints (default dedup)")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"the JSON report (PNGs beside it); default {COMMITTED_OUT.relative_to(ROOT)} "
                         f"for the full default run, {SUBSET_OUT.relative_to(ROOT)} for any other")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--seed", type=int, default=0, help="seed of the page generator")
    ap.add_argument("--draws", default=",".join(map(str, DEFAULT_DRAWS)),
                    help="seeds of the language draws of ntrex-k2 / ntrex-k1, one run each "
                         "(the union takes the first)")
    ap.add_argument("--model", default=None,
                    help="another model (name or local sentence-transformers directory) for the "
                         "embedding baselines (default: dedup's default model, e5-small)")
    ap.add_argument("--precision", choices=("int8", "fp32"), default=None,
                    help="precision of the embedding baselines' encoder (default: dedup's, int8)")
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    ap.add_argument("--dedup-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a dedup.Config field for the dedup system (JSON value or plain string), "
                         "e.g. --dedup-set max_units=8; repeatable; default: the shipped defaults")
    ap.add_argument("--report", metavar="JSON",
                    help="(alone) print the results of a quality.json as a markdown table")
    a = ap.parse_args(argv)

    def split(s: str) -> list[str]:
        return [x.strip() for x in s.split(",") if x.strip()]

    settings: dict[str, Any] = {}
    for item in a.dedup_set:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--dedup-set wants KEY=VALUE, got {item!r}")
        try:
            settings[key.strip()] = json.loads(value)
        except ValueError:
            settings[key.strip()] = value

    try:
        draws = [int(x) for x in split(a.draws)]
    except ValueError:
        ap.error(f"--draws wants comma-separated integers, got {a.draws!r}")
    if not draws:
        ap.error("--draws needs at least one seed")
    opts = Options(sets=split(a.sets), variants=split(a.variants), systems=split(a.systems),
                   with_lang=a.with_lang, show_errors=a.show_errors,
                   errors_for=split(a.errors_for), out=a.out, plots=not a.no_plots,
                   seed=a.seed, draws=draws, model=a.model, batch_size=a.batch_size, precision=a.precision,
                   dedup_settings=settings)
    for s in opts.sets:
        if s not in SETS:
            ap.error(f"unknown set {s!r}; choose from {', '.join(SETS)}")
    for v in opts.variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}; choose clean or page")
    for s in opts.systems:
        if s not in SYSTEMS:
            ap.error(f"unknown system {s!r}; choose from {', '.join(SYSTEMS)}")
    return opts


def baseline_precision(opts: Options) -> str:
    """The embedding baselines' precision: --precision, else dedup's (with --dedup-set applied)."""
    if opts.precision:
        return opts.precision
    import dedup

    p = dedup.Config(**opts.dedup_settings).precision
    return str(getattr(p, "value", p))


def baseline_cache_dir(opts: Options) -> str | None:
    """dedup's embedding cache directory (`--dedup-set cache_dir=DIR` moves it for both)."""
    import dedup

    return getattr(dedup.Config(**opts.dedup_settings), "cache_dir", None)


def make_systems(opts: Options) -> tuple[list[System], Embedder | None]:
    embedder: Embedder | None = None
    if any(s in opts.systems for s in ("cosine", "semhash")):
        embedder = Embedder(opts.model, opts.batch_size, baseline_precision(opts),
                            baseline_cache_dir(opts))
        if not embedder.ok:
            print(f"! embedding baselines skipped: {embedder.error}\n"
                  "  (they need dedup's default model or --model of a local sentence-transformers "
                  "model)", file=sys.stderr)
    systems: list[System] = []
    for name in opts.systems:
        if name == "dedup":
            systems.append(DedupSystem(opts.dedup_settings))
        elif name == "minhash":
            systems.append(MinHashSystem())
        elif name == "tfidf":
            systems.append(TfidfSystem())
        elif name == "cosine":
            assert embedder is not None
            systems.append(CosineSystem(embedder))
        elif name == "semhash":
            assert embedder is not None
            systems.append(SemHashSystem(embedder))
    return systems, embedder


def sweep_system(system: System, inputs: list[dict[str, Any]], label: str,
                 floor: float | None = None) -> tuple[list[Any] | None, dict[str, Any], float]:
    """One system over a corpus at every threshold of its grid (from `floor` up, when given):
    (points, or None with the entry saying why it was skipped, elapsed seconds)."""
    why = system.unavailable()
    if why:
        print(f"  {system.name}: skipped ({why})", file=sys.stderr)
        return None, {"skipped": why}, 0.0
    if isinstance(system, EmbeddingSystem):
        system.current_label = label
    t0 = time.time()
    try:
        points = system.sweep(inputs, grid_of(system, floor))
    except Exception as exc:  # noqa: BLE001 - one failing system must not stop the run
        import traceback

        traceback.print_exc()
        return None, {"skipped": f"failed: {type(exc).__name__}: {exc}"}, 0.0
    elapsed = time.time() - t0
    print(f"  {system.name}: {len(points)} thresholds in {elapsed:.1f}s", file=sys.stderr, flush=True)
    entry = {**system.describe(), "time_s": round(elapsed, 2)}
    if floor is not None:
        entry["grid"] = [t for t in entry["grid"] if t >= floor - 1e-9]
        entry["grid_min"] = floor
    return points, entry, elapsed


def load_job(job: Job, opts: Options) -> LoadedSet:
    ls = load_set(job.spec, "clean" if job.variant == "real" else job.variant, opts.seed,
                  job.draw_seed)
    ls.variant = job.variant
    return ls


def run_one(job: Job, opts: Options, systems: list[System], embedder: Embedder | None,
            out: Path) -> dict[str, Any]:
    """One set in one variant (one draw), every system: the run's entry of the report."""
    spec, variant = job.spec, job.variant
    t_set = time.time()
    ls = load_job(job, opts)
    inputs = ls.inputs(opts.with_lang)
    ids = [r["id"] for r in inputs]
    print(f"\n[{ls.key}] {len(ids)} articles", file=sys.stderr, flush=True)
    run: dict[str, Any] = {
        "set": spec.name, "variant": variant, "about": spec.about,
        "file": spec.file_label,
        **({"draw_seed": ls.draw_seed, "draw": {"k": spec.draw_k,
                                                "languages": list(spec.draw_langs) or "all"}}
           if ls.draw_seed is not None else {}),
        "n_articles": len(ids), "languages": sorted(set(ls.langs.values())),
        "levels": dict(spec.gold),
        "n_gold_clusters": {lvl: len(set(g.values())) for lvl, g in ls.gold.items()},
        "hard_negative_pairs": len(ls.hard_negatives),
        "visible_fields": ["id", "title", "text", *ls.visible, *(["lang"] if opts.with_lang else [])],
        "mean_chars": round(sum(len(r["text"]) for r in inputs) / max(1, len(inputs))),
        "systems": {},
    }
    for system in systems:
        points, entry, _ = sweep_system(system, inputs, ls.key)
        run["systems"][system.name] = entry
        if points is None:
            continue
        levels, unlabelled, default_labels = score_points(ls, system, ids, points)
        entry["levels"] = levels
        if unlabelled:
            entry["unlabelled"] = unlabelled
        if opts.show_errors and system.name in opts.errors_for and default_labels:
            vecs = None
            if embedder is not None and embedder.ok:
                vecs = embedder.embed([embed_text(r) for r in inputs], ls.key)
            result = getattr(system, "last_result", None)
            full = {lvl: complete(default_labels[lvl], ids, system.name) for lvl in ls.gold}
            show_errors(ls, system.name, full, opts.show_errors, vecs, result)
    run["time_s"] = round(time.time() - t_set, 1)
    print_table(run)
    first_draw = ls.draw_seed is None or ls.draw_seed == opts.draws[0]
    if opts.plots and first_draw:
        png = png_path(out, spec.name, variant)
        plot_run(run, png)
        run["plot"] = str(png.relative_to(ROOT)) if png.is_relative_to(ROOT) else str(png)
    return run


def run_union(job: Job, opts: Options, systems: list[System], runs: list[dict[str, Any]]
              ) -> dict[str, Any]:
    """The union of the dev sets in one corpus, every system; each member scored on its own gold,
    the clusters spanning two sets, and each member's F1 in the union minus alone."""
    spec = job.spec
    t_set = time.time()
    members: list[LoadedSet] = []
    skipped: dict[str, str] = {}
    for m in spec.members:
        mspec = SETS[m]
        why = mspec.unavailable()
        if why:
            skipped[m] = why
            print(f"  union: {m} left out ({why})", file=sys.stderr)
            continue
        mjob = Job(mspec, "real" if mspec.real_pages else "clean",
                   opts.draws[0] if mspec.draw_k else None)
        members.append(load_job(mjob, opts))
    union = build_union(members)
    inputs = union.inputs(opts.with_lang)
    print(f"\n[union/clean] {len(inputs)} articles of {', '.join(m.name for m in members)}",
          file=sys.stderr, flush=True)
    run: dict[str, Any] = {
        "set": spec.name, "variant": "clean", "about": spec.about,
        "members": member_summary(members), "left_out": skipped,
        "n_articles": len(inputs), "languages": union.langs(), "systems": {},
    }
    alone_by_name: dict[str, dict[str, Any]] = {}
    for r in runs:
        name = r["set"] if r.get("draw_seed") is None else f"{r['set']}#{r['draw_seed']}"
        if r["variant"] in ("clean", "real"):
            alone_by_name[name] = r
    for system in systems:
        points, entry, _ = sweep_system(system, inputs, "union/clean",
                                        spec.grid_min.get(system.name))
        run["systems"][system.name] = entry
        if points is None:
            continue
        entry["per_set"] = score_members(union, system, points)
        entry["cross_set"] = cross_set_curve(union, system, points)
        default = default_labels(system, points)
        wrong = {lvl: clusters_across_families(union, complete(default[lvl], union.ids,
                                                                system.name), lvl)
                 for lvl in LEVELS if lvl in default}
        for lvl, clusters in wrong.items():
            for c in clusters[: max(3, opts.show_errors)]:
                print(f"  {system.name} {lvl}: a cluster of {c['size']} spans two families: "
                      + "; ".join(f"{k}: {t!r}" for k, t in c["examples"].items()), file=sys.stderr)
        entry["cross_set"]["default_clusters_across_families"] = {
            lvl: [{k: v for k, v in c.items() if k != "examples"} for c in clusters]
            for lvl, clusters in wrong.items()}
        alone = {n: r["systems"].get(system.name, {}) for n, r in alone_by_name.items()}
        entry["delta_vs_alone"] = deltas(entry["per_set"], alone)
    run["time_s"] = round(time.time() - t_set, 1)
    print_union(run)
    return run


def draw_summaries(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every drawn set and variant: `aggregate_draws` over its draw seeds."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        if r.get("draw_seed") is not None:
            groups.setdefault(f"{r['set']}/{r['variant']}", []).append(r)
    return {key: aggregate_draws(rs) for key, rs in groups.items()}


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--report"]:
        path = Path(argv[1]) if len(argv) > 1 else COMMITTED_OUT
        print(markdown_report(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    opts = parse_args(argv)
    out = opts.out_path()
    if out.resolve() != COMMITTED_OUT.resolve():
        print(f"(not the full default run: writing {out}, not {COMMITTED_OUT.relative_to(ROOT)})"
              if opts.out is None else f"(writing {out})", file=sys.stderr)
    t_start = time.time()
    systems, embedder = make_systems(opts)
    runs: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for job in jobs_for(opts.sets, opts.variants, opts.draws):
        why = job.spec.unavailable()
        if why:
            if job.spec.name not in skipped:
                print(f"\n[{job.spec.name}] skipped: {why}", file=sys.stderr, flush=True)
            skipped[job.spec.name] = why
            continue
        if job.spec.members:
            runs.append(run_union(job, opts, systems, runs))
        else:
            runs.append(run_one(job, opts, systems, embedder, out))
    draws = draw_summaries(runs)
    for key, summary in draws.items():
        print_draws(key, summary)

    dedup_sys = next((s for s in systems if isinstance(s, DedupSystem)), None)
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["python benchmarks/quality.py", *argv]),
        **git_commit(),
        "machine": machine(),
        "versions": versions(),
        "model": embedder.describe() if embedder else None,
        "config": {
            "sets": opts.sets, "variants": opts.variants, "systems": opts.systems,
            "with_lang": opts.with_lang, "page_seed": opts.seed, "draw_seeds": opts.draws,
            "system_settings": {s.name: {**s.describe(), "doc": (type(s).__doc__ or "").strip()}
                                for s in systems},
            "dedup_config": dedup_sys.config_echo if dedup_sys else None,
            "best_point": BEST_POINT,
            "hard_negatives": "pairs.tsv rows whose relation starts with hard_negative; all "
                              "article combinations of the two documents (gold `story`); "
                              "ecbplus-dev: every two events of one `topic` (documents = events)",
            "cross_event_pairs": "predicted duplicate-level article pairs whose articles belong "
                                 "to two gold events (story-level gold)",
        },
        "skipped_sets": skipped,
        "runs": runs,
        "draws": draws,
        "total_time_s": round(time.time() - t_start, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out} in {report['total_time_s']:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
