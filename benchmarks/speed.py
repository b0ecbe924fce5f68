"""Speed benchmark: end-to-end `dedup cluster` against semhash with the same encoder, same input.

    python benchmarks/speed.py                  # NTREX-15 and FLORES-6; settings int8, full, fp32
    python benchmarks/speed.py --sets ntrex-15 --settings int8 --no-big
    python benchmarks/speed.py --sets ntrex-15,union --settings int8 --no-big   # the issue's two sets
    python benchmarks/speed.py --sets ntrex-15 --settings int8 --no-big --no-semhash --ray \
        --out benchmarks/results/speed_ray.json   # the Ray engine beside the local one

For each labelled set (only id, title and text are fed) and each setting, in one run:

- cold: `dedup cluster INPUT -o OUT --cache-dir EMPTY --quiet` in a fresh process, with an empty
  embedding cache (the model and the per-model language priors are built once per machine and
  are not part of it): wall time, articles/s, time per stage, peak RSS of the process;
- warm: the same command again on the unchanged corpus (the embedding cache now full): wall time
  and the re-run speed-up (cold / warm);
- quality of the cold run: duplicate-level pairwise F1 against gold `story`, story-level against
  gold `event` where the set has it;
- semhash: `SemHash.from_records` + `self_deduplicate(0.9)` in a fresh process, encoding
  "title\\ntext" with the same encoder object dedup uses (same model, precision and batching);
  the ratio dedup cold wall time / semhash wall time.

`--sets union` is the union corpus of benchmarks/quality.py (every dev set in one corpus, the real
shapes of news: most articles without a translation; its quality is scored there, not here). The
kernel probe (`kernels.py`: the machine's int8 and fp32 matrix-multiply peak and the encoder's
tokens/s beside it) is recorded under "kernels" unless --no-probe.

With `--ray`, each setting also runs with `--engine ray` (cold and warm, a local Ray instance
started by the CLI on this machine's cores): the overhead over the local engine in seconds and as a
ratio, whether the output equals the local engine's byte for byte, and the GPU (none: no articles/s
on a GPU are measured).

Then (unless --no-big) a 10k-article corpus built from NTREX-15 (each article ten times, each
copy with one sentence dropped and two neighbouring sentences swapped, ids made unique) runs
once more for its end-to-end wall time and peak RSS (its sentences are mostly in the cache by then,
as they would be for a grown corpus).

Settings: `int8` is the shipped default: the default model as an int8 ONNX Runtime graph
(Config.precision="int8"), each article's title and first 8 sentences embedded (Config.max_units=9);
`full` embeds up to FULL_UNITS units per article (the default before the lead-only change); `fp32`
is the fp32 torch model at the default units. A setting
is given as the CLI's options (`--precision`, `--max-units`); the process that runs the CLI wraps
`dedup.pipeline.cluster` only to read the per-stage timings off the result.
Results go to benchmarks/results/speed.json with the machine, versions and load average (the
machine may be shared: compare runs only at low load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_info import cores, cpu_ram  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "speed.json"
SETS = {  # and "union" (union_records)
    "ntrex-15": DATA / "ntrex128-dev" / "articles_15lang.jsonl",
    "flores-6": DATA / "flores200-devtest" / "articles_6lang.jsonl",
}
FULL_UNITS = 64
SETTINGS: dict[str, dict[str, Any]] = {
    "int8": {"precision": "int8"},  # the defaults: title + first 7 sentences, int8 ONNX Runtime
    "full": {"precision": "int8", "max_units": FULL_UNITS},  # title + up to 63 sentences, int8
    "fp32": {"precision": "fp32"},  # default units, fp32 torch (sentence-transformers)
}


# --------------------------------------------------------------------------- child processes


def child_cli(report: Path, overrides: dict[str, Any], cli_args: list[str]) -> int:
    """Run the `dedup cluster` command in this process with the setting's options; write timings."""
    t_start = time.perf_counter()
    import dedup.pipeline as pl
    from dedup.config import Config

    stash: dict[str, Any] = {}
    inner = pl.cluster

    def cluster(articles: Any, config: Config | None = None, **options: Any) -> Any:
        res = inner(articles, config, **options)
        stash.update(timings=dict(res.timings), model=res.model, n=len(res.ids))
        return res

    pl.cluster = cluster  # type: ignore[assignment,unused-ignore]
    from dedup.cli import app

    flags = {"precision": "--precision", "max_units": "--max-units"}
    cli_args = [*cli_args, *(x for k, v in overrides.items() for x in (flags[k], str(v)))]
    rc = 0
    try:
        app(cli_args, standalone_mode=False)
    except SystemExit as exc:  # pragma: no cover - the CLI's own exits
        rc = int(exc.code or 0)
    stash["in_process_s"] = time.perf_counter() - t_start
    stash["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    stash["rc"] = rc if "timings" in stash else (rc or 1)  # no timings: the run failed
    report.write_text(json.dumps(stash))
    return rc


def child_semhash(report: Path, input_path: Path, precision: str, threshold: float) -> int:
    """semhash over "title\\ntext" with dedup's encoder for the default model at `precision`."""
    t_start = time.perf_counter()
    from semhash import SemHash

    try:
        from dedup.encoders import get_encoder
    except ImportError:  # before dedup/encoder.py became the package dedup/encoders/
        from dedup.encoder import get_encoder  # type: ignore[no-redef,unused-ignore]

    recs = [json.loads(line) for line in input_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = [
        {"id": r["id"], "text": (f"{r['title']}\n{r['text']}" if r.get("title") else r["text"])} for r in recs
    ]
    encoder = get_encoder("e5-small", precision=precision)
    t0 = time.perf_counter()
    sh = SemHash.from_records(docs, columns=["text"], model=cast(Any, encoder))
    t_embed_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = sh.self_deduplicate(threshold=threshold)
    t_dedup = time.perf_counter() - t0
    report.write_text(
        json.dumps(
            {
                "encoder": encoder.name,
                "embed_and_index_s": t_embed_index,
                "self_deduplicate_s": t_dedup,
                "removed": len(res.filtered),
                "in_process_s": time.perf_counter() - t_start,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            }
        )
    )
    return 0


# --------------------------------------------------------------------------- helpers


def load_avg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def run_child(args: list[str], report: Path) -> dict[str, Any]:
    la = load_avg()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    out = json.loads(report.read_text()) if report.exists() else {"rc": "no report"}
    if proc.returncode != 0 or out.get("rc"):
        raise SystemExit(f"child failed ({proc.returncode}): {' '.join(args)}\n{proc.stderr[-3000:]}")
    report.unlink()
    out["wall_s"] = wall
    out["load_avg_before"] = la
    out["load_avg_after"] = load_avg()
    return out


def write_input(records: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(
                json.dumps({"id": r["id"], "title": r.get("title"), "text": r["text"]}, ensure_ascii=False)
            )
            f.write("\n")


def quality(out_jsonl: Path, gold: dict[str, str], events: dict[str, str] | None = None) -> dict[str, Any]:
    """Pairwise F1 of the duplicate level against gold `story` and, where the set has them, of the
    story level against gold `event` (as benchmarks/quality.py scores them)."""
    from dedup.evaluate import pairwise_prf

    rows = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    g = [gold[r["id"]] for r in rows]
    dup = pairwise_prf([r["cluster"] for r in rows], g)
    out: dict[str, Any] = {
        "duplicate_f1": round(dup.f1, 4),
        "duplicate_precision": round(dup.precision, 4),
        "duplicate_recall": round(dup.recall, 4),
    }
    if events:
        sto = pairwise_prf([r["story"] for r in rows], [events[r["id"]] for r in rows])
        out["story_f1_vs_event"] = round(sto.f1, 4)
    return out


def perturbed_copies(records: list[dict[str, Any]], copies: int, seed: int) -> list[dict[str, Any]]:
    """Each article `copies` times: the original, then copies with one sentence dropped and two
    neighbouring sentences swapped (ids made unique)."""
    from dedup.clean import split_sentences

    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for r in records:
        sents = split_sentences(r["text"])
        for c in range(copies):
            s = list(sents)
            if c > 0 and len(s) > 2:
                s.pop(rng.randrange(len(s)))
                k = rng.randrange(len(s) - 1)
                s[k], s[k + 1] = s[k + 1], s[k]
            out.append({**r, "id": f"{r['id']}~{c}", "text": " ".join(s)})
    return out


def union_records() -> list[dict[str, Any]]:
    """The union corpus of benchmarks/quality.py (every dev set in one corpus: seeds, NTREX-3,
    FLORES-3, ECB+, KTLAB where present, the first NTREX-k2 draw), each article as its set shows it;
    `story` holds the member's duplicate gold where the member has one."""
    from quality_sets import SETS as QUALITY_SETS
    from quality_sets import load_set
    from quality_union import build_union

    members = []
    for name in QUALITY_SETS["union"].members:
        spec = QUALITY_SETS[name]
        if spec.unavailable():
            print(f"union: {name} left out ({spec.unavailable()})", file=sys.stderr)
            continue
        ls = load_set(spec, "clean", 0, 0 if spec.draw_k else None)
        ls.variant = "real" if spec.real_pages else "clean"
        members.append(ls)
    union = build_union(members)
    dup = {i: f"{m.name}/{g}" for m in union.members for i, g in m.gold.get("duplicate", {}).items()}
    return [{**r, "story": dup.get(r["id"])} for r in union.inputs(with_lang=False)]


def machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    cpu, flags, ram = cpu_ram()
    vers: dict[str, str | None] = {}
    for pkg in ("numpy", "faiss-cpu", "torch", "onnxruntime", "sentence-transformers", "semhash", "dedup"):
        try:
            vers[pkg] = version(pkg)
        except PackageNotFoundError:
            vers[pkg] = None
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "cores": cores(),
        "ram_gib": ram,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": vers,
    }


def stage_summary(child: dict[str, Any], n: int) -> dict[str, Any]:
    stages = {k: round(v, 2) for k, v in child.get("timings", {}).items()}
    wall = child["wall_s"]
    return {
        "wall_s": round(wall, 2),
        "articles_per_s": round(n / wall, 2),
        "stages_s": stages,
        "outside_stages_s": round(wall - sum(child.get("timings", {}).values()), 2),
        "peak_rss_mib": round(child["peak_rss_mib"], 1),
        "model": child.get("model"),
        "load_avg": [child["load_avg_before"], child["load_avg_after"]],
    }


def ray_runs(
    work: Path,
    rep: Path,
    set_name: str,
    setting: str,
    inp: Path,
    local_out: Path,
    overrides: dict[str, Any],
    cold: dict[str, Any],
    warm: dict[str, Any],
    n: int,
) -> dict[str, Any]:
    """The same command with `--engine ray` (a local Ray instance started by the CLI on this
    machine's cores), cold and warm in fresh processes: wall times, the overhead over the local
    engine in seconds and as a ratio, and whether every output record equals the local engine's."""
    cache = work / f"cache-{set_name}-{setting}-ray"
    out = work / f"{set_name}-{setting}.ray.out.jsonl"
    cli = ["cluster", str(inp), "-o", str(out), "--cache-dir", str(cache), "--quiet", "--engine", "ray"]
    child = ["--child", "cli", "--report", str(rep), "--overrides", json.dumps(overrides), "--", *cli]
    print(f"{set_name} / {setting}: ray engine, cold run ...", file=sys.stderr, flush=True)
    ray_cold = run_child(child, rep)
    same = out.read_text(encoding="utf-8") == local_out.read_text(encoding="utf-8")
    print(f"{set_name} / {setting}: ray engine, warm run ...", file=sys.stderr, flush=True)
    ray_warm = run_child(child, rep)
    return {
        "cold": stage_summary(ray_cold, n),
        "warm": stage_summary(ray_warm, n),
        "cold_overhead_s": round(ray_cold["wall_s"] - cold["wall_s"], 2),
        "cold_ratio": round(ray_cold["wall_s"] / cold["wall_s"], 3),
        "warm_overhead_s": round(ray_warm["wall_s"] - warm["wall_s"], 2),
        "warm_ratio": round(ray_warm["wall_s"] / warm["wall_s"], 3),
        "same_output_as_local": same,
        "gpu": gpu_info(),
    }


def gpu_info() -> str | None:
    """The GPU of this machine as torch sees it (None: no GPU; articles/s on a GPU need one)."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="ntrex-15,flores-6")
    ap.add_argument("--settings", default="int8,full,fp32", help=f"of {', '.join(SETTINGS)}")
    ap.add_argument("--no-semhash", action="store_true")
    ap.add_argument("--semhash-threshold", type=float, default=0.9)
    ap.add_argument("--no-big", action="store_true", help="skip the 10k-article run")
    ap.add_argument("--no-probe", action="store_true", help="skip the kernel probe (kernels.py)")
    ap.add_argument("--big-copies", type=int, default=10)
    ap.add_argument("--big-setting", default="int8")
    ap.add_argument("--limit", type=int, default=0, help="first N articles of each set (smoke test)")
    ap.add_argument("--ray", action="store_true", help="also run each setting with --engine ray")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--child", choices=("cli", "semhash"), help=argparse.SUPPRESS)
    ap.add_argument("--report", help=argparse.SUPPRESS)
    ap.add_argument("--overrides", default="{}", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--precision", default="int8", help=argparse.SUPPRESS)
    args, rest = ap.parse_known_args(argv)
    if args.child == "cli":
        return child_cli(Path(args.report), json.loads(args.overrides), [a for a in rest if a != "--"])
    if args.child == "semhash":
        return child_semhash(Path(args.report), Path(args.input), args.precision, args.semhash_threshold)

    out_path = Path(args.out)
    report: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    report["machine"] = machine()
    report["command"] = "python benchmarks/speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report["notes"] = (
        "cold = empty embedding cache (model and language priors already built); warm = same "
        "command again on the unchanged corpus; semhash = same encoder object, fresh process; "
        "load_avg = 1-min load average before/after (2 cores: above ~2 the machine was shared)"
    )
    runs = report.setdefault("runs", {})
    if not args.no_probe:
        from kernels import probe

        print("kernel probe ...", file=sys.stderr, flush=True)
        report["kernels"] = probe()
        print(json.dumps(report["kernels"], indent=1), file=sys.stderr, flush=True)
    settings = [s for s in args.settings.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="dedup-speed-"))
    rep = work / "report.json"
    for set_name in [s for s in args.sets.split(",") if s]:
        if set_name == "union":
            records = union_records()
        else:
            records = [
                json.loads(line) for line in SETS[set_name].read_text(encoding="utf-8").splitlines() if line
            ]
        records = records[: args.limit] if args.limit else records
        gold = {r["id"]: r["story"] for r in records if r.get("story")}
        all_events = {r["id"]: r["event"] for r in records if r.get("event")}
        events = all_events if len(all_events) == len(records) else None
        inp = work / f"{set_name}.jsonl"
        write_input(records, inp)
        n = len(records)
        entry = runs.setdefault(set_name, {})
        langs = {r.get("lang") for r in records}
        entry.update(articles=n, languages=None if None in langs else len(langs))  # the union: not given
        sem_by_precision: dict[str, dict[str, Any]] = {}
        for setting in settings:
            overrides = SETTINGS[setting]
            precision = overrides.get("precision", "int8")
            cache = work / f"cache-{set_name}-{setting}"
            out = work / f"{set_name}-{setting}.out.jsonl"
            cli = ["cluster", str(inp), "-o", str(out), "--cache-dir", str(cache), "--quiet"]
            child = ["--child", "cli", "--report", str(rep), "--overrides", json.dumps(overrides), "--", *cli]
            print(f"{set_name} / {setting}: cold run ...", file=sys.stderr, flush=True)
            cold = run_child(child, rep)
            q = quality(out, gold, events) if len(gold) == n else None  # the union: quality.py scores it
            print(f"{set_name} / {setting}: warm run ...", file=sys.stderr, flush=True)
            warm = run_child(child, rep)
            res: dict[str, Any] = {
                "config": overrides,
                "cold": stage_summary(cold, n),
                "warm": stage_summary(warm, n),
                "rerun_speedup": round(cold["wall_s"] / warm["wall_s"], 1),
                "quality": q,
            }
            if args.ray:
                res["ray"] = ray_runs(work, rep, set_name, setting, inp, out, overrides, cold, warm, n)
            if not args.no_semhash:
                if precision not in sem_by_precision:
                    print(f"{set_name}: semhash ({precision}) ...", file=sys.stderr, flush=True)
                    sem = run_child(
                        [
                            "--child",
                            "semhash",
                            "--report",
                            str(rep),
                            "--input",
                            str(inp),
                            "--precision",
                            precision,
                            "--semhash-threshold",
                            str(args.semhash_threshold),
                        ],
                        rep,
                    )
                    sem_by_precision[precision] = {
                        "wall_s": round(sem["wall_s"], 2),
                        "articles_per_s": round(n / sem["wall_s"], 2),
                        "embed_and_index_s": round(sem["embed_and_index_s"], 2),
                        "self_deduplicate_s": round(sem["self_deduplicate_s"], 2),
                        "encoder": sem["encoder"],
                        "threshold": args.semhash_threshold,
                        "peak_rss_mib": round(sem["peak_rss_mib"], 1),
                        "load_avg": [sem["load_avg_before"], sem["load_avg_after"]],
                    }
                res["semhash"] = sem_by_precision[precision]
                res["dedup_over_semhash"] = round(cold["wall_s"] / sem_by_precision[precision]["wall_s"], 3)
            entry.setdefault("settings", {})[setting] = res
            print(json.dumps(res, indent=1), file=sys.stderr, flush=True)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            out_path.write_text(json.dumps(report, indent=1) + "\n")
    if not args.no_big:
        records = [
            json.loads(line) for line in SETS["ntrex-15"].read_text(encoding="utf-8").splitlines() if line
        ]
        records = records[: args.limit] if args.limit else records
        big = perturbed_copies(records, args.big_copies, seed=0)
        inp = work / "big.jsonl"
        write_input(big, inp)
        setting = args.big_setting
        cache = work / f"cache-ntrex-15-{setting}"  # the NTREX-15 run's cache, when it ran
        out = work / "big.out.jsonl"
        cli = ["cluster", str(inp), "-o", str(out), "--cache-dir", str(cache), "--quiet"]
        print(f"{len(big)} articles / {setting} ...", file=sys.stderr, flush=True)
        ovr = json.dumps(SETTINGS[setting])
        big_run = run_child(["--child", "cli", "--report", str(rep), "--overrides", ovr, "--", *cli], rep)
        gold = {r["id"]: r["story"] for r in big}
        big_events = {r["id"]: r["event"] for r in big if r.get("event")}
        runs["ntrex-15-x10"] = {
            "articles": len(big),
            "built_from": f"ntrex-15, {args.big_copies} copies per article (a sentence dropped, two swapped)",
            "setting": setting,
            "config": SETTINGS[setting],
            "run": stage_summary(big_run, len(big)),
            "quality": quality(out, gold, big_events if len(big_events) == len(big) else None),
        }
        print(json.dumps(runs["ntrex-15-x10"], indent=1), file=sys.stderr, flush=True)
        out_path.write_text(json.dumps(report, indent=1) + "\n")
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out_path.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
