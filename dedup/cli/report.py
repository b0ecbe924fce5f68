"""The command line, `dedup report`: an HTML page of the stories, duplicate clusters and evidence
of a run, from the output of `dedup cluster` and its input (re-run with the same settings: the
result is read back from the cache, then checked against the output)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .app import app
from .common import InputArg, _config, _errors, _fail, _read, _same_file, with_run_options


@app.command("report")
@with_run_options
def report_cmd(
    clusters_path: Annotated[
        str, typer.Argument(help="The output of `dedup cluster INPUT -o FILE` (.jsonl, .csv, .parquet).")
    ],
    input_path: InputArg,
    output: Annotated[str, typer.Option("--output", "-o", help="The HTML file to write.")],
    title: Annotated[str | None, typer.Option("--title", help="The page's title.")] = None,
    max_explained: Annotated[
        int,
        typer.Option(
            "--max-explained", min=0, help="Pairs explained in full at most (the largest stories first)."
        ),
    ] = 1500,
    *,
    run: dict[str, Any],
) -> None:
    """Write an HTML report of the clusters in CLUSTERS (written by `dedup cluster INPUT`): counts,
    plots, the stories with their duplicate clusters, and the evidence that joined them.

    Give the options that `dedup cluster` ran with: INPUT is clustered again (read back from the
    result cache when unchanged) and must give the clusters of CLUSTERS. The page is one file that
    needs no network; open it in any browser.
    """
    with _errors():
        from ..encoders import check_model
        from ..pipeline import cluster
        from ..report import write_report
        from ..report.check import check_output

        for other, name in ((input_path, "the input"), (clusters_path, "the clusters file")):
            if other != "-" and _same_file(output, other):
                raise typer.BadParameter(f"{output} is {name}; give another name", param_hint="--output")
        target = Path(output)
        if target.is_dir():
            raise typer.BadParameter(f"{output} is a directory (give a file name)", param_hint="--output")
        if not target.resolve().parent.is_dir():
            raise typer.BadParameter(f"directory {target.parent} does not exist", param_hint="--output")
        if clusters_path == "-" or not Path(clusters_path).is_file():
            _fail(f"{clusters_path} not found (write it with `dedup cluster INPUT -o {clusters_path}`)")
        config = _config(run)
        check_model(config.model)
        rr = _read(input_path, run)
        result = cluster(rr, config)
        check_output(result, clusters_path, run["id_field"])
        write_report(result, target, title=title, max_explained=max_explained)
        if not run["quiet"]:
            size = target.stat().st_size / 1024
            typer.echo(
                f"wrote {output} ({size:,.0f} KB): {len(set(result.story_of))} stories, "
                f"{len(set(result.cluster_of))} duplicate clusters, {len(result.ids)} articles",
                err=True,
            )
