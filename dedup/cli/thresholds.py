"""The command line, `dedup thresholds`: the clusters of INPUT over a grid of thresholds at each
level, and the article pairs that join or split between neighbouring grid points (`dedup.thresholds`),
with the settings of `dedup cluster` (a cached result is read back; re-clustering reads the stored
evidence, and nothing is embedded again when the caches are warm)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ..thresholds import LEVELS, MAX_PAIRS, Join, Row
from .app import app
from .common import InputArg, _config, _errors, _read, with_run_options

#: What each level's score and linkage are, for the table's headings.
_MEANING = {
    "duplicate": "score = 0.8 x sentence coverage + 0.2 x document cosine; two clusters join on the "
    "mean score of their article pairs",
    "story": "score = probability of one occasion; two stories join on the mean of the strongest "
    "scores between their duplicate clusters",
}
TITLE_CHARS = 40  # of a title in the text table


@app.command("thresholds")
@with_run_options
def thresholds_cmd(
    input_path: InputArg,
    grid: Annotated[
        str | None,
        typer.Option(
            "--grid",
            help="Thresholds in [0, 1], e.g. 0.3,0.4,0.5 (default 0.20 to 0.80 by 0.05); the "
            "configured thresholds are always added.",
        ),
    ] = None,
    pairs: Annotated[
        int, typer.Option("--pairs", min=0, max=1000, help="Joins listed per row, the weakest first.")
    ] = MAX_PAIRS,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    *,
    run: dict[str, Any],
) -> None:
    """Show how many clusters each level has over a grid of thresholds, and which article pairs
    join at each threshold (and split at the next higher one): a guide to choosing
    --duplicate-threshold and --story-threshold."""
    with _errors():
        from ..encoders import check_model
        from ..errors import ConfigError
        from ..pipeline import cluster
        from ..thresholds import parse_grid, threshold_table

        values = None
        if grid is not None:
            try:
                values = parse_grid(grid)
            except ConfigError as exc:
                raise typer.BadParameter(str(exc), param_hint="--grid") from None
        config = _config(run)
        check_model(config.model)
        rr = _read(input_path, run)
        result = cluster(rr, config)
        rows = threshold_table(result, values, max_pairs=pairs)
        if as_json:
            out = {
                "articles": len(result.ids),
                "from_cache": result.from_cache,
                "thresholds": {
                    "duplicate": config.duplicate_threshold,
                    "story": config.story_threshold,
                },
                "levels": {
                    level: [r.to_dict() for r in rows if r.level == level] for level in ("duplicate", "story")
                },
            }
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        cached = " (read back from the result cache)" if result.from_cache else ""
        typer.echo(f"{len(result.ids)} articles{cached}")
        for level in LEVELS:
            typer.echo("")
            typer.echo(_table(level, [r for r in rows if r.level == level]))


def _table(level: str, rows: list[Row]) -> str:
    """One level's rows as a text table: threshold, clusters, the joins at that threshold."""
    noun = "clusters" if level == "duplicate" else "stories"
    other = "story" if level == "duplicate" else "duplicate"
    configured = next((r.threshold for r in rows if r.configured), None)
    lines = [
        f"{level} level ({_MEANING[level]}; the {other} level at its configured threshold)",
        f"  {'threshold':>9}  {noun:>8}  {'linkage':>7}  joined here (the top row: here and above), "
        "split at the threshold above (pair score)",
    ]
    pad = " " * 25
    for r in rows:
        head = f"{'*' if r.configured else ' '} {r.threshold:>9.2f}  {r.clusters:>8}  "
        if not r.joins:
            lines.append(head + f"{'-':>7}")
            continue
        for k, j in enumerate(r.joins):
            lines.append((head if k == 0 else pad) + _join(j))
        if r.more:
            lines.append(pad + f"{'':>7}  ... and {r.more} more (--pairs N lists more)")
    if configured is not None:
        lines.append(f"* the configured threshold ({configured:.2f})")
    return "\n".join(lines)


def _join(j: Join) -> str:
    def side(aid: str, title: str, size: int) -> str:
        others = f" (+{size - 1})" if size > 1 else ""
        if len(title) > TITLE_CHARS:
            title = title[: TITLE_CHARS - 1].rstrip() + "…"
        return f"{aid}{others} {json.dumps(title, ensure_ascii=False)}" if title else f"{aid}{others}"

    a, b = side(j.a, j.a_title, j.a_size), side(j.b, j.b_title, j.b_size)
    return f"{j.linkage:>7.3f}  {a} ~ {b} ({j.score:.3f})"
