"""The read and write stages for sharded data: a directory or glob of record files in, a directory
of Parquet shards out (written by `writers.write_shards`).

Takes an input path and tells whether it names shards (`shard_files`: a directory of JSON Lines,
JSON, CSV/TSV or Parquet files, or a glob such as `data/*.parquet`), and gives the readers their
files in name order; tells whether an output names a directory of Parquet shards (`is_shard_dir`:
it ends with a slash) and checks it can be written.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from ..errors import InputError, OutputError
from .formats import DIR_SUFFIXES, EXTENSIONS

__all__ = ["SHARD_ROWS", "check_shard_dir", "is_shard_dir", "shard_files"]

SHARD_ROWS = 100_000  # records per output shard
_GLOB = ("*", "?", "[")


def _record_file(f: Path) -> bool:
    """A file of records by its extension (`.gz` may follow the text formats)."""
    suffixes = [s.lower() for s in f.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in EXTENSIONS


def shard_files(path: str | Path) -> list[Path] | None:
    """The files of a sharded input in name order, or None when `path` is not one (a file, stdin,
    a directory with .txt/.html articles). A glob that matches no file is an InputError."""
    s = str(path)
    if s == "-":
        return None
    p = Path(s)
    if p.is_dir():
        files = sorted(
            (f for f in p.iterdir() if not f.name.startswith(".") and f.is_file()), key=lambda f: f.name
        )
        if any(f.suffix.lower() in DIR_SUFFIXES for f in files):
            return None  # a folder of articles (its other files are ignored, as always)
        return [f for f in files if _record_file(f)] or None
    if not p.exists() and any(c in s for c in _GLOB):
        matches = sorted(Path(m) for m in glob.glob(s) if Path(m).is_file())
        if not matches:
            raise InputError(f"no file matches {s}")
        return matches
    return None


def is_shard_dir(path: str | Path) -> bool:
    """Whether an output path names a directory of Parquet shards: it ends with a slash (`out/`; an
    existing directory named without one stays an error, so `-o .` never fills a folder)."""
    return isinstance(path, str) and path.endswith(("/", os.sep))


def check_shard_dir(path: str | Path) -> None:
    """Raise OutputError now if the shards could not be written to `path` (created when missing)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"cannot write shards to {p}: it is a file")
    parent = p if p.exists() else p.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write shards to {p}: directory {parent} does not exist (create it)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write shards to {p}: permission denied")
