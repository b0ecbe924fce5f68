"""Report stage: one self-contained HTML page that shows a run's stories, duplicate clusters and the
evidence that joined them, for a user to judge the clusters and the thresholds.

Takes a `Result` (its evidence is computed on demand when it was read back from the cache); gives the
HTML text (`render_report`) or writes it to a file (`write_report`, atomically). Modules: `links`
(which pairs each story shows), `data` (the page's data), `svg` (the plots), `html` and `script`
(the page), `check` (does an output file hold a result's clusters), `browser` (headless Chromium,
for tests and benchmarks).
"""

from __future__ import annotations

from pathlib import Path

from ..result import Result
from .data import MAX_EXPLAINED, build
from .html import render


def render_report(result: Result, *, title: str | None = None, max_explained: int = MAX_EXPLAINED) -> str:
    """The report page for `result` as HTML text. `max_explained` bounds the pairs explained (the
    largest stories first; every story still shows its links and their scores)."""
    return render(build(result, title=title, max_explained=max_explained))


def write_report(
    result: Result, path: str | Path, *, title: str | None = None, max_explained: int = MAX_EXPLAINED
) -> Path:
    """Write the report page for `result` to `path` (replaced atomically); gives the path. An
    OutputError says why it cannot be written."""
    from ..io.writers import _atomic

    target = Path(path)
    text = render_report(result, title=title, max_explained=max_explained)
    with _atomic(target) as fh:
        fh.write(text.encode("utf-8"))
    return target


__all__ = ["MAX_EXPLAINED", "render_report", "write_report"]
