"""File formats of the read and write stages: one table of extensions for both directions.

Takes a path (and a format name the user gave, if any) and gives the format name that the
readers (`input_format`) or the writers (`output_format`) use.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DedupError, InputError, OutputError

__all__ = ["EXTENSIONS", "INPUT_FORMATS", "OUTPUT_FORMATS", "input_format", "output_format"]

#: Extension (lower case) -> format name, for inputs and outputs alike. On input, `.gz` may
#: follow the JSON Lines, JSON, CSV and TSV ones.
EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: Format names a user may give (`--input-format`, `fmt=`); an extension without its dot works too.
OUTPUT_FORMATS = ("jsonl", "ndjson", "json", "csv", "tsv", "parquet")
INPUT_FORMATS = (*OUTPUT_FORMATS, "dir")
#: Files of a directory input that are articles; `.html`/`.htm` ones are HTML.
DIR_SUFFIXES = {".txt": False, ".html": True, ".htm": True}


def _named(fmt: str, allowed: tuple[str, ...]) -> str | None:
    name = fmt.strip().lower().lstrip(".")
    if name in allowed or f".{name}" in EXTENSIONS:
        return EXTENSIONS.get(f".{name}", name)
    return None


def input_format(path: str | Path, fmt: str | None = None) -> str:
    """The format `read_articles` uses for `path`: jsonl, json, csv, tsv, parquet or dir.

    `fmt` wins over the extension (and is how stdin, "-", is read as anything but JSON Lines).
    """
    if fmt is not None:
        return _given(fmt, INPUT_FORMATS, InputError("unknown input format"))
    if str(path) == "-":
        return "jsonl"
    p = Path(path)
    if p.is_dir():
        return "dir"
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in EXTENSIONS:
        return EXTENSIONS[suffixes[-1]]
    raise InputError(
        f"cannot tell the format of {path} from its extension (name it .jsonl, .ndjson, .json, "
        ".csv, .tsv or .parquet, or give the format with --input-format jsonl|json|csv|tsv|parquet)"
    )


def output_format(path: str | Path, fmt: str | None = None) -> str:
    """The format `write_records` uses for `path`: jsonl, json, csv, tsv or parquet ("-": jsonl)."""
    if fmt is not None:
        return _given(fmt, OUTPUT_FORMATS, OutputError("unknown output format"))
    if str(path) == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    raise OutputError(
        f"cannot tell the output format of {path} from its extension "
        "(name it .jsonl, .json, .csv, .tsv or .parquet)"
    )


def _given(fmt: str, formats: tuple[str, ...], error: DedupError) -> str:
    """The format named by `fmt`, or `error` (its message completed with the choices) raised."""
    name = _named(fmt, formats)
    if name is None:
        raise type(error)(f"{error} {fmt!r} (use one of {', '.join(formats)})")
    return name
