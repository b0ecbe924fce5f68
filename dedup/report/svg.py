"""Report stage, the plots: small inline SVG charts drawn from the counts of `dedup.report.data`.

Takes the plot counts (`plot_counts`: cluster sizes per level, language pairs joined per level,
stories per date); gives SVG markup (a string, every label escaped) for the cluster-size
distribution, the language pairs joined, and the stories over time ("" when no date is known).
No plotting library: bars and text only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

COLOURS = {"duplicate": "#3a6ea5", "story": "#e0892e"}
W, H = 390, 240
FONT = 'font-family="system-ui,sans-serif" font-size="11"'
_BUCKETS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 9), (10, 19), (20, 49), (50, 99), (100, 10**9)]


def _svg(body: list[str], title: str, w: int = W, h: int = H) -> str:
    return (
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        f'role="img" aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>'
        f'<text x="{w / 2:.0f}" y="14" text-anchor="middle" font-weight="600" font-size="12">'
        f"{escape(title)}</text>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, extra: str = "") -> str:
    """A label (escaped) at (x, y); `extra`: more attributes."""
    return f'<text x="{x:.1f}" y="{y:.1f}"{" " + extra if extra else ""}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, colour: str, tip: str) -> str:
    """A bar with a tooltip (escaped)."""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for label, colour in items:
        out.append(f'<rect x="{x:.0f}" y="{y - 8:.0f}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14:.0f}" y="{y + 1:.0f}">{escape(label)}</text>')
        x += 16 + 6.5 * len(label) + 10
    return out


def _bucket_label(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else (f"{lo}+" if hi >= 10**9 else f"{lo}–{hi}")


def size_plot(sizes: dict[str, list[tuple[int, int]] | list[list[int]]]) -> str:
    """Clusters per size, both levels side by side (log scale: one-article stories dominate)."""
    counts = {lv: [0] * len(_BUCKETS) for lv in ("duplicate", "story")}
    for lv in counts:
        for size, n in sizes.get(lv, []):
            b = next(i for i, (lo, hi) in enumerate(_BUCKETS) if lo <= size <= hi)
            counts[lv][b] += n
    last = max([i for lv in counts for i, n in enumerate(counts[lv]) if n] + [0])
    buckets = _BUCKETS[: last + 1]
    top = max(max(c) for c in counts.values()) or 1
    x0, y0, x1, y1 = 40, 52, W - 10, H - 42
    slot = (x1 - x0) / len(buckets)
    bar = min(18.0, slot / 2 - 3)
    body = [f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#888"/>']
    for t in range(int(math.log10(top)) + 1):  # log grid: 1, 10, 100, ...
        y = y1 - (y1 - y0) * math.log10(10**t + 1) / math.log10(top + 1)
        body.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#eee"/>')
        body.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#666">{10**t}</text>')
    for i, (lo, hi) in enumerate(buckets):
        cx = x0 + slot * (i + 0.5)
        for j, lv in enumerate(("duplicate", "story")):
            n = counts[lv][i]
            if not n:
                continue
            h = (y1 - y0) * math.log10(n + 1) / math.log10(top + 1)
            x = cx - bar - 1 if j == 0 else cx + 1
            tip = f"{n} {lv} cluster(s) of size {_bucket_label(lo, hi)}"
            body.append(_rect(x, y1 - h, bar, h, COLOURS[lv], tip))
            body.append(_text(x + bar / 2, y1 - h - 3, str(n), 'text-anchor="middle" font-size="9"'))
        body.append(f'<text x="{cx:.1f}" y="{y1 + 14}" text-anchor="middle">{_bucket_label(lo, hi)}</text>')
    body.append(
        f'<text x="{(x0 + x1) / 2:.0f}" y="{y1 + 28}" text-anchor="middle" fill="#666">articles</text>'
    )
    body += _legend(
        x0 + 10, 30, [("duplicate clusters", COLOURS["duplicate"]), ("stories", COLOURS["story"])]
    )
    return _svg(body, "Cluster sizes (log scale)")


def lang_pair_plot(lang_pairs: dict[str, list[list[Any]]], top: int = 10) -> str:
    """Article pairs joined per language pair: in one duplicate cluster, and in one story only."""
    total: dict[tuple[str, str], dict[str, int]] = {}
    for lv in ("duplicate", "story"):
        for x, y, n in lang_pairs.get(lv, []):
            total.setdefault((x, y), {"duplicate": 0, "story": 0})[lv] += int(n)
    rows = sorted(total.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]
    if not rows:
        return _svg(
            [_text(W / 2, H / 2, "no articles were joined", 'text-anchor="middle" fill="#666"')],
            "Language pairs joined",
        )
    biggest = max(max(v.values()) for _, v in rows) or 1
    x0, x1, y0 = 70, W - 50, 40
    row_h = min(19.0, (H - y0 - 10) / len(rows))
    body = []
    for i, ((x, y), v) in enumerate(rows):
        yy = y0 + i * row_h
        body.append(_text(x0 - 6, yy + row_h / 2 + 4, f"{x}–{y}", 'text-anchor="end"'))
        for j, lv in enumerate(("duplicate", "story")):
            n = v[lv]
            w = (x1 - x0) * n / biggest
            by = yy + 1 + j * (row_h - 2) / 2
            bh = (row_h - 3) / 2
            if n:
                body.append(_rect(x0, by, max(w, 1), bh, COLOURS[lv], f"{x}–{y}: {n} article pairs ({lv})"))
                body.append(f'<text x="{x0 + max(w, 1) + 3:.1f}" y="{by + bh:.1f}" font-size="9">{n}</text>')
    body += _legend(
        x0, 30, [("same duplicate cluster", COLOURS["duplicate"]), ("same story only", COLOURS["story"])]
    )
    return _svg(body, "Language pairs joined (article pairs)")


def _granularity(dates: Sequence[str]) -> int:
    """Characters of an ISO date that make a bucket: 10 (day), 7 (month) or 4 (year)."""
    import datetime as dt

    try:
        first, last = dt.date.fromisoformat(dates[0][:10]), dt.date.fromisoformat(dates[-1][:10])
    except ValueError:
        return 7
    span = (last - first).days
    return 10 if span <= 62 else (7 if span <= 5 * 366 else 4)


def _timeline(keys: list[str], cut: int) -> list[str]:
    """Every day, month or year from the first key to the last (empty ones too), when the keys
    parse; else the keys themselves."""
    import datetime as dt

    try:
        if cut == 4:
            return [f"{y:04d}" for y in range(int(keys[0]), int(keys[-1]) + 1)]
        if cut == 7:
            y, m = int(keys[0][:4]), int(keys[0][5:7])
            end = (int(keys[-1][:4]), int(keys[-1][5:7]))
            out = []
            while (y, m) <= end:
                out.append(f"{y:04d}-{m:02d}")
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            return out
        first, last = dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])
        return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    except ValueError:
        return keys


def time_plot(dates: Sequence[tuple[str, int] | list[Any]]) -> str:
    """Stories per day, month or year (by the earliest dated member); "" when no date is known."""
    known = sorted((str(d), int(n)) for d, n in dates if str(d)[:4].isdigit())
    if not known:
        return ""
    cut = _granularity([d for d, _ in known])
    counts: dict[str, int] = {}
    for d, n in known:
        counts[d[:cut]] = counts.get(d[:cut], 0) + n
    keys = _timeline(sorted(counts), cut)
    top = max(counts.values())
    x0, y0, x1, y1 = 36, 30, W - 10, H - 42
    slot = (x1 - x0) / len(keys)
    body = [f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#888"/>']
    body.append(f'<text x="{x0 - 4}" y="{y0 + 4}" text-anchor="end" fill="#666">{top}</text>')
    every = max(1, math.ceil(len(keys) / 8))
    for i, k in enumerate(keys):
        n = counts.get(k, 0)
        h = (y1 - y0) * n / top
        bw = min(max(slot * 0.8, 1), 40)
        x = x0 + slot * (i + 0.5) - bw / 2
        if n:
            body.append(
                f'<rect x="{x:.1f}" y="{y1 - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS["story"]}"><title>{escape(k)}: {n} stories</title></rect>'
            )
        if i % every == 0:
            body.append(
                f'<text x="{x0 + slot * (i + 0.5):.1f}" y="{y1 + 14}" text-anchor="middle">{escape(k)}</text>'
            )
    unit = {10: "day", 7: "month", 4: "year"}[cut]
    return _svg(body, f"Stories per {unit} (earliest known date)")


__all__ = ["lang_pair_plot", "size_plot", "time_plot"]
