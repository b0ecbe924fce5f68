"""The command line, `dedup index`: a standing index that new articles join (`dedup.Index`).

`create DIR [INPUT]` (the settings of `dedup cluster`, frozen in the index), `add DIR NEW` (writes
the batch's changes as JSONL with -o), `export DIR -o OUT`, `info DIR`, `refit DIR`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ..config import BOUNDS
from .app import app
from .common import (
    _D,
    FormatOpt,
    IdField,
    LangField,
    PublishedField,
    Quiet,
    SourceField,
    TextField,
    TitleField,
    _config,
    _errors,
    _read,
    with_run_options,
)

index_app = typer.Typer(no_args_is_help=True, help="A standing index: new articles join known stories.")
app.add_typer(index_app, name="index")

DirArg = Annotated[str, typer.Argument(help="The index directory.")]
IdleOpt = Annotated[
    float,
    typer.Option(
        "--story-idle-days",
        min=BOUNDS["story_idle_days"][0],
        max=BOUNDS["story_idle_days"][1],
        help="Close a story with no new article for this many days.",
    ),
]


def _summary(ch: Any, quiet: bool) -> None:
    if quiet:
        return
    typer.echo(
        f"dedup index: {len(ch.added)} added ({ch.count('added') - _count_new(ch)} joined known clusters or "
        f"stories), {len(ch.rejects)} rejected, {ch.count('canonical')} canonicals changed, "
        f"{ch.count('merge')} merges, {ch.count('split')} splits, {ch.count('closed')} stories closed",
        err=True,
    )


def _count_new(ch: Any) -> int:
    return sum(1 for e in ch.events if e["event"] == "added" and e["new_cluster"] and e["new_story"])


@index_app.command("create")
@with_run_options
def index_create(
    directory: DirArg,
    input_path: Annotated[
        str | None, typer.Argument(help="Articles to start with (as dedup cluster).")
    ] = None,
    idle: IdleOpt = _D.story_idle_days,
    *,
    run: dict[str, Any],
) -> None:
    """Create an index in DIR (a new or empty directory) with these settings, and add INPUT."""
    with _errors():
        from ..standing import Index

        ix = Index.create(directory, _config(run, story_idle_days=idle))
        if input_path is not None:
            _summary(ix.add(_read(input_path, run)), run["quiet"])
        typer.echo(directory)


@index_app.command("add")
def index_add(
    directory: DirArg,
    input_path: Annotated[str, typer.Argument(help="New articles (JSONL/CSV/Parquet, a folder, or -).")],
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the changes here (JSONL).")
    ] = None,
    rejects: Annotated[
        str | None, typer.Option("--rejects", help="Write unusable records here (JSONL).")
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Date of undated articles (ISO; default today).")
    ] = None,
    input_format: FormatOpt = None,
    id_field: IdField = None,
    text_field: TextField = None,
    title_field: TitleField = None,
    lang_field: LangField = None,
    published_field: PublishedField = None,
    source_field: SourceField = None,
    quiet: Quiet = False,
) -> None:
    """Embed the new articles of INPUT and join them to the index's clusters and stories."""
    with _errors():
        from ..io import write_rejects
        from ..io.writers import write_records
        from ..standing import Index

        run = dict(
            input_format=input_format,
            id_field=id_field,
            text_field=text_field,
            title_field=title_field,
            lang_field=lang_field,
            published_field=published_field,
            source_field=source_field,
            quiet=quiet,
            engine=_D.engine,
            ray_address=None,
        )
        ix = Index.open(directory)
        ix.config = ix.config.with_(progress=not quiet)  # progress bars only: the results are the same
        ch = ix.add(_read(input_path, run), today=today)
        if output:
            write_records(list(ch.events), output, fmt="jsonl")
        if rejects:
            write_rejects(list(ch.rejects), rejects)
        _summary(ch, quiet)


@index_app.command("export")
def index_export(
    directory: DirArg,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output file (.jsonl, .csv, .parquet) or -.")
    ] = "-",
) -> None:
    """Write every article of the index with its cluster and story ids and canonicals."""
    with _errors():
        from ..io.writers import write_records
        from ..standing import Index

        write_records(Index.open(directory).records(), output)


@index_app.command("info")
def index_info(
    directory: DirArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print what the index holds: counts, model, settings."""
    with _errors():
        from ..standing import Index

        info = Index.open(directory).info()
        if as_json:
            typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        else:
            for k, v in info.items():
                typer.echo(f"{k}: {json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v}")


@index_app.command("refit")
def index_refit(directory: DirArg) -> None:
    """Fit the corpus statistics (language means, IDF) again on the open articles, rescore them and
    link them again (as one batch on them would; ids stay)."""
    with _errors():
        from ..standing import Index

        Index.open(directory).refit()
