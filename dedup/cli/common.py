"""The command line, shared parts: one-line errors and exit codes, output checks, and the run options
that every command running the pipeline takes (`RUN_OPTIONS`, with their defaults from `Config`).

Exit codes: 0 success (rejected records are reported, not fatal), 1 an error, 2 a usage error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Every error is one line on stderr,
"dedup: error: ...", never a traceback: library errors (DedupError) say what to fix, and any
other exception is reported as an internal error (DEDUP_DEBUG=1 shows its traceback).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import signal
import sys
import threading
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from ..config import BOUNDS, CanonicalPolicy, Config, Engine, Precision
from ..errors import DedupError


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
    from ..io import check_target

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
    str,
    typer.Argument(
        help="JSONL/CSV/Parquet file, a folder of .txt/.html, a folder or glob of JSONL/Parquet shards, "
        "or - for stdin."
    ),
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
EngineOpt = Annotated[
    Engine,
    typer.Option("--engine", help="local: this process; ray: read, clean and embed on a Ray cluster."),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option("--ray-address", help="Ray cluster to join (--engine ray; default: start a local one)."),
]
DriverMaxOpt = Annotated[
    int,
    typer.Option(
        "--driver-max-articles",
        **_bounded("driver_max_articles"),
        help="--engine ray: more articles are indexed and scored in blocks on the workers (docs/scale.md).",
    ),
]


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
    "engine": (EngineOpt, _D.engine),
    "ray_address": (RayAddressOpt, _D.ray_address),
    "driver_max_articles": (DriverMaxOpt, _D.driver_max_articles),
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
        engine=run["engine"],
        ray_address=run["ray_address"],
        driver_max_articles=run["driver_max_articles"],
        **more,
    )


def _field_map(run: dict[str, Any]) -> Any:
    """The `FieldMap` of the run options' `--*-field` names."""
    from ..io import FieldMap

    names = ("id", "text", "title", "lang", "published", "source")
    return FieldMap(**{k: run[f"{k}_field"] for k in names if run[f"{k}_field"]})


def _read(input_path: str, run: dict[str, Any]) -> Any:
    """The input's articles and rejects (fields mapped by the run options); an empty input is an error."""
    from ..io import read_articles

    if run["engine"] is Engine.RAY:  # the shards of a directory or glob, read on the workers
        from ..distributed import read_on_ray

        config = Config(engine=run["engine"], ray_address=run["ray_address"], progress=not run["quiet"])
        rr = read_on_ray(input_path, config, fields=_field_map(run), fmt=run["input_format"])
    else:
        rr = read_articles(
            input_path, fields=_field_map(run), fmt=run["input_format"]
        )  # the pipeline applies on_error
    if rr.total == 0:
        if input_path != "-" and Path(input_path).is_dir():
            _fail(f"{input_path} holds no .txt, .html or .htm files (the input is empty)")
        _fail(f"{'stdin' if input_path == '-' else input_path} holds no records (the input is empty)")
    return rr
