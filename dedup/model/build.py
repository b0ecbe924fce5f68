"""Model building stage: building a model directory once, atomically, under a file lock.

Takes a destination directory, a check of whether it is already complete and a writer that fills
a temporary directory and returns the build's facts; gives the destination, built at most once
by concurrent callers, never seen half-written, with a completion marker (``.dedup-complete``:
the facts plus every file's size) that later calls check instead of rebuilding.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ModelError

MARKER_NAME = ".dedup-complete"
# A build takes minutes on a slow machine: wait that long for another process's build to end.
_LOCK_TIMEOUT_S = 900.0


def say(msg: str) -> None:
    """A progress line on stderr."""
    print(f"dedup: {msg}", file=sys.stderr, flush=True)


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented UTF-8 JSON with a final newline (parent directories made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_marker(path: Path) -> dict[str, Any] | None:
    """The completion marker of the model directory ``path``, None if missing or unreadable."""
    try:
        marker = json.loads((path / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def marker_complete(path: Path, build_format: int, required: str) -> bool:
    """A built directory: marker of ``build_format``, listing ``required``, and every recorded
    file at its recorded size."""
    marker = read_marker(path)
    if marker is None or marker.get("format") != build_format:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or required not in files:
        return False
    try:
        return all((path / name).stat().st_size == size for name, size in files.items())
    except OSError:
        return False


@contextlib.contextmanager
def _build_lock(dest: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock = FileLock(str(dest.parent / f".{dest.name}.lock"))
    try:
        lock.acquire(timeout=_LOCK_TIMEOUT_S)
    except Timeout:
        raise ModelError(
            f"timed out after {_LOCK_TIMEOUT_S:.0f}s waiting for another process building {dest}; "
            f"remove {lock.lock_file} if no build is running"
        ) from None
    try:
        yield
    finally:
        lock.release()


def build_once(
    dest: Path,
    complete: Callable[[Path], bool],
    write: Callable[[Path], dict[str, Any]],
    *,
    what: str,
    announce: str,
    force: bool,
    progress: bool,
) -> Path:
    """Under `dest`'s file lock, build it with `_build_into` unless it is `complete` (or `force`),
    so concurrent callers build once; returns `dest`."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create {dest.parent}: {exc.strerror or exc}") from exc
    with _build_lock(dest):
        if not force and complete(dest):
            return dest
        if progress:
            say(announce)
        t0 = time.perf_counter()
        _build_into(dest, write, what)
        if progress:
            say(f"built {dest} in {time.perf_counter() - t0:.1f}s")
    return dest


def _build_into(dest: Path, write: Callable[[Path], dict[str, Any]], what: str) -> None:
    """Build a model directory atomically: `write(tmp)` fills a temporary sibling and returns its
    marker (the files and their sizes are added), then it replaces `dest` in one rename. A failed
    or interrupted build leaves `dest` as it was and nothing half-built behind."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    except OSError as exc:
        raise ModelError(f"cannot write to {dest.parent}: {exc.strerror or exc}") from exc
    with contextlib.suppress(OSError):
        tmp.chmod(0o755)  # mkdtemp makes it 0700; the model is a shareable cache entry
    old: Path | None = None
    try:
        marker = write(tmp)
        marker["built_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        marker["files"] = {
            p.relative_to(tmp).as_posix(): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        write_json(tmp / MARKER_NAME, marker)
        if dest.exists() or dest.is_symlink():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.monotonic_ns()}")
            os.replace(dest, old)
        os.replace(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"cannot build {what} in {dest}: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    old.unlink()


def ensure(path: Path, complete: Callable[[Path], bool], build: Callable[[Path], Path]) -> Path:
    """`path` when a complete build is there, else `build(path)`."""
    return path if complete(path) else build(path)
