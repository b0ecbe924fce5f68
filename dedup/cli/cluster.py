"""The command line, `dedup cluster`: read, cluster, write every record with dedup's fields, and
print a summary and the stories on stderr."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..config import OnError
from ..errors import NoUsableRecords
from .app import app
from .common import _D, InputArg, _check_outputs, _config, _errors, _fail, _read, with_run_options


@app.command("cluster")
@with_run_options
def cluster_cmd(
    input_path: InputArg,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output file (.jsonl, .csv, .parquet) or - for stdout.")
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
    *,
    run: dict[str, Any],
) -> None:
    """Cluster INPUT at the duplicate and story levels and write one record per article: its input
    fields, then dedup's.

    Every input record ends up exactly once in the output or, when unusable, in --rejects
    (with its line, id and the reason); --on-error fail stops at the first unusable record.
    """
    with _errors():
        from ..encoders import check_model
        from ..io import where, write_records, write_rejects
        from ..pipeline import cluster

        config = _config(run, on_error=on_error)
        _check_outputs(input_path, output, rejects)  # before any work: fail in a second, not in an hour
        check_model(config.model)
        rr = _read(input_path, run)
        try:
            result = cluster(rr, config)
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
        write_records(result.to_records(slim=slim), output, schema=rr.schema)
        if rejects:
            write_rejects(list(result.rejects), rejects)
        if not run["quiet"]:
            _print_summary(result, rr.total, rejects)
            if output != "-":
                _print_clusters(result)


def _print_summary(result: Any, total: int, rejects: str | None) -> None:
    s = result.summary()
    msg = (
        f"dedup: {s['articles']} articles -> {s['duplicate_clusters']} duplicate clusters, "
        f"{s['stories']} stories"
    )
    if result.rejects:
        msg += f"; {len(result.rejects)} of {total} records rejected" + (
            f" (see {rejects})" if rejects else " (--rejects FILE lists them)"
        )
    if result.from_cache:
        msg += " (read back from the result cache)"
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in s["timings"].items() if v >= 0.05)
    typer.echo(msg + (f" [{timing}]" if timing else ""), err=True)


def _print_clusters(result: Any) -> None:
    """Human-readable clusters on stderr."""
    dup_of = result.canonical
    for k, story in enumerate(result.stories, 1):
        typer.echo(f"story {k}: canonical {story[0]}", err=True)
        seen: list[str] = []
        for aid in story:
            c = dup_of[aid]
            if c in seen:
                continue
            seen.append(c)
            members = [x for x in story if dup_of[x] == c]
            typer.echo(f"  duplicate cluster: {', '.join(members)} (canonical {c})", err=True)
