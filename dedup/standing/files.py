"""Standing index, files: the directory's manifest, its lock and atomic generations.

Takes file contents (arrays, JSON values, JSONL records); gives them back. Every update writes new
files named by the next generation and then replaces `manifest.json` (the one file that says which
files are current) with one `os.replace`: a crash or Ctrl-C at any point leaves the index as it was
before or as it is after. Files no manifest names (an interrupted update's) are removed by the next
writer. A file lock (`.lock`) makes concurrent writers wait. Arrays are `.npz` files read with
`allow_pickle=False`; nothing is pickled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DedupError

FORMAT = 1  # of the directory; an index of another format is refused with how to rebuild it
MANIFEST = "manifest.json"
LOCK = ".lock"
LOCK_TIMEOUT = 600.0  # seconds a writer waits for another before giving up


class IndexStateError(DedupError):
    """A standing index directory is missing, of another format, or locked too long."""


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of the index in `root`, checked."""
    path = root / MANIFEST
    if not path.is_file():
        raise IndexStateError(
            f"{root} is not a dedup index (no {MANIFEST}); create one with `dedup index create`"
        )
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexStateError(f"{path} cannot be read ({exc}); restore the directory from a backup") from exc
    if man.get("format") != FORMAT:
        raise IndexStateError(
            f"{root} is an index of format {man.get('format')!r}, this dedup reads format {FORMAT}; "
            "export it with the dedup that wrote it and create a new one"
        )
    return man


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the index's write lock (waits for another writer, up to LOCK_TIMEOUT)."""
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(root / LOCK), timeout=LOCK_TIMEOUT):
            yield
    except Timeout as exc:
        raise IndexStateError(f"{root} has been locked by another writer for {LOCK_TIMEOUT:.0f} s") from exc


def _fsync_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write named arrays to one `.npz` file (durably)."""
    import io

    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
    _fsync_write(path, buf.getvalue())


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The named arrays of a `.npz` file (no pickles)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_json(path: Path, value: Any) -> None:
    _fsync_write(path, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_jsonl(path: Path, records: list[Any]) -> None:
    data = "".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":"), default=str) + "\n" for r in records
    )
    _fsync_write(path, data.encode("utf-8"))


def read_jsonl(path: Path) -> list[Any]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def commit(root: Path, manifest: Mapping[str, Any]) -> None:
    """Make `manifest` (whose files are written) the index's state, atomically; then remove the
    files it no longer names."""
    _fsync_write(root / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    sweep(root, manifest)


def referenced(manifest: Mapping[str, Any]) -> set[str]:
    """Every file name the manifest names."""
    names = {MANIFEST, LOCK}
    for seg in manifest.get("segments", []):
        names.update(seg["files"])
    names.update(manifest.get("files", {}).values())
    return names


def sweep(root: Path, manifest: Mapping[str, Any]) -> None:
    """Remove files of the index directory that `manifest` does not name (an interrupted update's)."""
    keep = referenced(manifest)
    for p in root.iterdir():
        if p.is_file() and p.name not in keep:
            p.unlink(missing_ok=True)
