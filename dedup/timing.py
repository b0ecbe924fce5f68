"""Stage timings and progress: the seconds each named stage of a run took (echoed in every result),
and a progress bar over a stage's items when it has enough of them to take seconds."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
#: Items from which a stage shows a progress bar (fewer take well under a second).
PROGRESS_MIN_ITEMS = 2000


def progress(items: Iterable[T], total: int, desc: str, enabled: bool) -> Iterable[T]:
    """`items`, counted by a progress bar on stderr when `enabled` and `total` is large enough."""
    if not enabled or total < PROGRESS_MIN_ITEMS:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, total=total, desc=desc, unit="item", leave=False)


class Timer:
    """Accumulates wall-clock seconds per stage name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage `name` (added to earlier time under that name)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
