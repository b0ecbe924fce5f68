"""The command line, `dedup explain`: the evidence for one pair, with the settings of `dedup cluster`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from .app import app
from .common import InputArg, _config, _errors, _fail, _read, with_run_options


@app.command("explain")
@with_run_options
def explain_cmd(
    a_id: Annotated[str, typer.Argument(help="Id of the first article.")],
    b_id: Annotated[str, typer.Argument(help="Id of the second article.")],
    input_path: InputArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    *,
    run: dict[str, Any],
) -> None:
    """Show the evidence for one pair: scores, aligned sentences, shared names/numbers, verdicts,
    with the same settings as `dedup cluster` (a cached result is read back)."""
    with _errors():
        from ..encoders import check_model
        from ..pipeline import cluster

        config = _config(run)
        check_model(config.model)
        rr = _read(input_path, run)
        ids = {a.id for a in rr.articles}
        for x in (a_id, b_id):
            if x not in ids:
                _fail(f"id {x!r} is not among the {len(ids)} readable articles of {input_path}")
        result = cluster(rr, config)
        for x in (a_id, b_id):
            if x not in result.ids:
                _fail(f"id {x!r} was rejected: {next(r.reason for r in result.rejects if r.id == x)}")
        ex = result.explain(a_id, b_id)
        typer.echo(json.dumps(ex.to_dict(), ensure_ascii=False, indent=2) if as_json else str(ex))
