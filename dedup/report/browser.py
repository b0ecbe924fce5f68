"""Report stage, checking a page in a real browser: headless Chromium, driven from its command line.

Takes an HTML file (and a URL fragment such as `q=...`, read by the page's script); gives the DOM
after the page's script ran (`dump_dom`, Chromium's `--dump-dom`, with virtual time so that timers
fire), or a PNG screenshot (`screenshot`). No Python package is needed, only a Chromium binary
(`find_chromium`: $DEDUP_CHROMIUM, else chromium, chromium-browser, google-chrome on the PATH);
without one, or when it fails, a `BrowserError`. For the tests, the benchmarks and the README's
screenshot; the report itself needs no browser to be written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import DedupError

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserError(DedupError):
    """No headless browser, or it failed."""


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary to use, or None."""
    given = os.environ.get("DEDUP_CHROMIUM")
    if given:
        return shutil.which(given) or (given if Path(given).is_file() else None)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _url(page: str | Path, fragment: str = "") -> str:
    url = Path(page).resolve().as_uri()
    return url + ("#" + fragment if fragment else "")


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        raise BrowserError("no Chromium found (install Debian's `chromium`, or set DEDUP_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="dedup-chromium-") as profile:
        cmd = [
            binary,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            done = subprocess.run(
                cmd + args,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise BrowserError(f"Chromium did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = " ".join(done.stderr.split()[-40:])
        raise BrowserError(f"Chromium failed (exit {done.returncode}): {tail}")
    return done


def dump_dom(page: str | Path, fragment: str = "", *, budget_ms: int = 3000, timeout: float = 180) -> str:
    """The page's DOM, serialised after its scripts ran and `budget_ms` of virtual time passed."""
    done = _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", _url(page, fragment)], timeout)
    if "<html" not in done.stdout:
        raise BrowserError(f"Chromium gave no DOM for {page}: {' '.join(done.stderr.split()[-40:])}")
    return done.stdout


def timed_dump_dom(
    page: str | Path, fragment: str = "", *, budget_ms: int = 3000, timeout: float = 180
) -> tuple[str, float]:
    """`dump_dom` and the seconds the browser process took (start-up included)."""
    t0 = time.perf_counter()
    dom = dump_dom(page, fragment, budget_ms=budget_ms, timeout=timeout)
    return dom, time.perf_counter() - t0


def screenshot(
    page: str | Path,
    out: str | Path,
    *,
    fragment: str = "",
    size: tuple[int, int] = (1280, 1600),
    budget_ms: int = 3000,
    timeout: float = 180,
) -> Path:
    """A PNG screenshot of the page's first `size` pixels."""
    target = Path(out).resolve()
    _run(
        [
            f"--window-size={size[0]},{size[1]}",
            f"--virtual-time-budget={budget_ms}",
            f"--screenshot={target}",
            _url(page, fragment),
        ],
        timeout,
    )
    if not target.is_file() or target.stat().st_size == 0:
        raise BrowserError(f"Chromium wrote no screenshot to {target}")
    return target


__all__ = ["BrowserError", "dump_dom", "find_chromium", "screenshot", "timed_dump_dom"]
