"""The command line, `dedup cluster`: read, cluster, write the records (every article's, or the
deduplicated corpus: `--keep canonical|story`) with dedup's fields, and print the end-of-run summary
(`Result.summary`: counts, the largest stories, rejects, where the result came from, seconds per
stage) on stderr, or as one JSON object on stdout (`--json`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..config import Keep, OnError
from ..errors import NoUsableRecords
from .app import app
from .common import (
    _D,
    InputArg,
    _check_outputs,
    _config,
    _errors,
    _fail,
    _field_map,
    _read,
    _same_file,
    with_run_options,
)

SHOWN_CLUSTERS = 5  # duplicate clusters listed per story in the summary
SHOWN_IDS = 6  # ids listed per duplicate cluster


@app.command("cluster")
@with_run_options
def cluster_cmd(
    input_path: InputArg,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Output file (.jsonl, .csv, .parquet), DIR/ for Parquet shards, or - for stdout.",
        ),
    ] = "-",
    rejects: Annotated[
        str | None, typer.Option("--rejects", help="Write unusable records here (JSONL).")
    ] = None,
    on_error: Annotated[
        OnError, typer.Option("--on-error", help="reject: set bad records aside; fail: stop at the first.")
    ] = _D.on_error,
    slim: Annotated[
        bool, typer.Option("--slim", help="Write only id and dedup's fields, not the input's.")
    ] = False,
    keep: Annotated[
        Keep,
        typer.Option(
            "--keep",
            help="Write every article (all), the canonical of each duplicate cluster (canonical), "
            "or of each story (story).",
        ),
    ] = Keep.ALL,
    json_summary: Annotated[
        bool,
        typer.Option("--json", help="Print the summary as one JSON object on stdout (needs -o FILE)."),
    ] = False,
    report: Annotated[
        str | None,
        typer.Option("--report", help="Also write the HTML report of the run here (see dedup report)."),
    ] = None,
    *,
    run: dict[str, Any],
) -> None:
    """Cluster INPUT at the duplicate and story levels and write one record per article: its input
    fields, then dedup's (--keep canonical or story: only the canonical articles, the deduplicated
    corpus).

    Every input record ends up exactly once in the output or, when unusable, in --rejects
    (with its line, id and the reason); --on-error fail stops at the first unusable record.
    """
    with _errors():
        from ..encoders import check_model
        from ..io import where, write_records, write_rejects
        from ..pipeline import cluster

        if json_summary and output == "-":
            raise typer.BadParameter(
                "stdout carries the records; give an output file with -o FILE", param_hint="--json"
            )
        started = time.perf_counter()
        config = _config(run, on_error=on_error)
        _check_outputs(input_path, output, rejects)  # before any work: fail in a second, not in an hour
        if report is not None:
            _check_report(report, input_path, output, rejects)
        check_model(config.model)
        rr = _read(input_path, run)
        read_s = time.perf_counter() - started
        try:
            result = cluster(rr, config, fields=_field_map(run))
        except NoUsableRecords as exc:
            if rejects:
                write_rejects(list(exc.rejects), rejects)
            first = exc.rejects[0]
            _fail(
                f"none of the {rr.total} records of {input_path} is usable, all were rejected "
                f"(the first: {where(first.source, first.line)}: {first.reason})"
                + (f"; see {rejects}" if rejects else "; --rejects FILE lists them all")
            )
            return
        t0 = time.perf_counter()
        records = result.canonical_records(keep, slim=slim)
        write_records(records, output, schema=rr.schema)
        if rejects:
            write_rejects(list(result.rejects), rejects)
        summary = result.summary()
        summary.update(keep=keep.value, written=len(records), output=output, rejects_file=rejects)
        summary["timings"] = {
            "read_input": round(read_s, 4),
            **summary["timings"],
            "write_output": round(time.perf_counter() - t0, 4),
        }
        summary["seconds"] = round(time.perf_counter() - started, 4)
        if report is not None:
            from ..report import write_report

            write_report(result, report)
            summary["report"] = report
        if json_summary:
            typer.echo(json.dumps(summary, ensure_ascii=False))
        elif not run["quiet"]:
            typer.echo(summary_text(summary), err=True)


def _check_report(report: str, *others: str | None) -> None:
    """Fail before any work when the report could not be written or would replace another file."""
    if report == "-" or any(x is not None and _same_file(report, x) for x in others):
        raise typer.BadParameter(
            f"{report} is the input or another output; give the report its own file", param_hint="--report"
        )
    parent = Path(report).resolve().parent
    if not parent.is_dir():
        raise typer.BadParameter(f"folder {parent} does not exist", param_hint="--report")


def summary_text(s: dict[str, Any]) -> str:
    """The summary (`Result.summary` and the run's output) as lines for a person."""
    lines = [
        f"dedup: {s['articles']} articles -> {s['duplicate_clusters']} duplicate clusters "
        f"({_n(s['duplicates_removed'], 'duplicate')} removed), {s['stories']} stories"
    ]
    if s["rejected"]:
        lines[0] += f"; {s['rejected']} of {s['records']} records rejected" + (
            f" (see {s['rejects_file']})" if s["rejects_file"] else " (--rejects FILE lists them)"
        )
    if s["keep"] != Keep.ALL.value:
        lines.append(f"wrote {s['written']} of {s['articles']} articles (--keep {s['keep']})")
    several, shown = s["multi_article_stories"], s["largest_stories"]
    if shown:
        lines.append(
            f"largest stories ({len(shown)} of {several} with more than one article):"
            if several > len(shown)
            else "stories of more than one article:"
        )
    for k, story in enumerate(shown, 1):
        langs = ", ".join(f"{lang} {n}" for lang, n in story["languages"].items())
        lines.append(f"  story {k}: {story['size']} articles ({langs}), canonical {story['story']}")
        lines.append(f"    {json.dumps(story['title'], ensure_ascii=False)}")
        clusters = story["duplicate_clusters"]
        for members in clusters[:SHOWN_CLUSTERS]:
            ids = ", ".join(members[:SHOWN_IDS]) + (
                f" and {len(members) - SHOWN_IDS} more" if len(members) > SHOWN_IDS else ""
            )
            lines.append(f"    duplicate cluster: {ids} (canonical {members[0]})")
        if len(clusters) > SHOWN_CLUSTERS:
            lines.append(f"    and {_n(len(clusters) - SHOWN_CLUSTERS, 'more duplicate cluster')}")
    came = "read back from the result cache" if s["from_cache"] else "computed"
    stages = ", ".join(f"{k.replace('_', ' ')} {v:.1f}s" for k, v in s["timings"].items() if v >= 0.05)
    lines.append(f"{came} in {s['seconds']:.1f}s" + (f" ({stages})" if stages else ""))
    return "\n".join(lines)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
