"""Report benchmark: the size of `dedup report`'s HTML page and its load time in headless Chromium
on a synthetic corpus of 10k articles.

    python benchmarks/report_size.py                 # 10k articles -> benchmarks/results/report_size.json
    python benchmarks/report_size.py --n 2000 --out /tmp/report_size.json --keep /tmp/report.html

The corpus (`corpus`): stories of one to 20 reports (most stories are one report, as in a news
feed), each report copied one to four times with light edits (a word dropped or changed, a
sentence left out) under other sources, languages and dates; every article has a title, a source,
a `published` date within 120 days and 6-9 sentences of words from a shared vocabulary plus the
names and numbers of its story. It is clustered with the fast `dedup.HashEncoder` (no model: the
report's size and load time do not depend on the model, only on the shapes of the result).

Measured: the time to cluster and to build the page (`render_report`, explanations included),
the file size (and the share of its embedded JSON data), and, in headless Chromium
(`dedup.report.browser`), the page's own time from navigation start until the first 50 stories
are rendered (`data-render-ms`: reading the 10k-article file, parsing the data, rendering), the
time of one search over all stories (`data-update-ms`, with `#q=` in the URL), and the browser
process's wall time against an empty page's (start-up included). Without a Chromium the load time
is not measured and the JSON says so.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from machine_info import FLAGS, cores, cpu_ram  # noqa: E402

import dedup  # noqa: E402
from dedup.report import browser, render_report  # noqa: E402

LANGS = ["en", "en", "en", "vi", "vi", "sv", "de", "fr", "es"]
SOURCES = [f"{w}.example" for w in ("daily", "herald", "courier", "post", "times", "wire", "news", "press")]
_VOCAB = (
    "government minister meeting council budget report people city region country week talks visit "
    "agreement project company market growth plan police court election party cooperation energy "
    "school hospital water road rail storm flood fire match team season club price trade bank "
    "security health climate research festival museum tourism export import official statement"
)
_NAMES = (
    "Anders Berit Chau Dung Elena Fabian Giang Hana Ivo Jonas Kazuo Linh Mai Nils Olga Pham Quang "
    "Rosa Sven Thang Uwe Vera Wang Xuan Yuki Zofia Hanoi Oslo Lyon Porto Malmo Danang Hue Graz"
)
WORDS = re.findall(r"\S+", _VOCAB)
NAMES = re.findall(r"\S+", _NAMES)


def _sentence(rng: random.Random, names: list[str], numbers: list[str]) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(9, 18))]
    words.insert(rng.randint(1, len(words)), rng.choice(names))
    if rng.random() < 0.5:
        words.insert(rng.randint(1, len(words)), rng.choice(numbers))
    text = " ".join(words) + "."
    return text[0].upper() + text[1:]


def _edit(rng: random.Random, sentences: list[str]) -> list[str]:
    """A light rewrite: a sentence left out, a word dropped or changed in others."""
    out = [s for s in sentences if rng.random() > 0.12] or sentences[:1]
    edited = []
    for s in out:
        w = s.split()
        if rng.random() < 0.4 and len(w) > 4:
            del w[rng.randrange(1, len(w) - 1)]
        if rng.random() < 0.3:
            w[rng.randrange(1, len(w))] = rng.choice(WORDS)
        edited.append(" ".join(w))
    return edited


def corpus(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` synthetic articles in stories of duplicate clusters (see the module docstring)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    story = 0
    while len(out) < n:
        story += 1
        size = 1 if rng.random() < 0.6 else min(20, int(rng.paretovariate(1.3)) + 1)
        names = rng.sample(NAMES, 3)
        numbers = [str(rng.randint(10, 5000)) for _ in range(3)]
        day = rng.randrange(120)
        made = 0
        while made < size and len(out) < n:
            base = [_sentence(rng, names, numbers) for _ in range(rng.randint(6, 9))]
            title = f"{names[0]} and {names[1]}: {' '.join(rng.sample(WORDS, 5))}"
            for copy in range(min(size - made, rng.choice([1, 1, 2, 2, 3, 4]))):
                sents = base if copy == 0 else _edit(rng, base)
                d = day + rng.randrange(3)
                out.append(
                    {
                        "id": f"s{story:05d}-{made:02d}",
                        "title": title,
                        "text": " ".join(sents),
                        "lang": rng.choice(LANGS),
                        "source": rng.choice(SOURCES),
                        "published": f"2024-{1 + d // 30:02d}-{1 + d % 30:02d}",
                    }
                )
                made += 1
                if len(out) >= n:
                    break
    rng.shuffle(out)
    return out


def machine() -> dict[str, Any]:
    cpu, flags, ram = cpu_ram()
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "cpu_flags_checked": list(FLAGS),
        "cores": cores(),
        "ram_gib": ram,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _attr(dom: str, name: str) -> int | None:
    m = re.search(rf'{name}="(\d+)"', dom)
    return int(m.group(1)) if m else None


def load_times(page: Path, runs: int) -> dict[str, Any]:
    """The page's load time in headless Chromium (see the module docstring), or why not."""
    binary = browser.find_chromium()
    if binary is None:
        return {"measured": False, "why": "no headless Chromium found (install Debian's `chromium`)"}
    import subprocess

    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    blank = page.with_name("blank.html")
    blank.write_text("<!DOCTYPE html><html><body>blank</body></html>", "utf-8")
    render, update, wall, blank_wall, errors = [], [], [], [], []
    for _ in range(runs):
        dom, secs = browser.timed_dump_dom(page, budget_ms=10000)
        render.append(_attr(dom, "data-render-ms"))
        errors.append(_attr(dom, "data-script-errors") or 0)
        wall.append(secs)
        dom, _ = browser.timed_dump_dom(page, "q=storm%20Kazuo", budget_ms=10000)
        update.append(_attr(dom, "data-update-ms"))
        blank_wall.append(browser.timed_dump_dom(blank)[1])
    return {
        "measured": True,
        "browser": version,
        "runs": runs,
        "render_ms_median": statistics.median(x for x in render if x is not None),
        "render_ms": render,
        "search_ms_median": statistics.median(x for x in update if x is not None),
        "process_s_median": round(statistics.median(wall), 2),
        "blank_page_process_s_median": round(statistics.median(blank_wall), 2),
        "script_errors": sum(errors),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="articles")
    ap.add_argument("--runs", type=int, default=3, help="browser loads measured")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "report_size.json")
    ap.add_argument("--keep", type=Path, default=None, help="also keep the HTML page here")
    args = ap.parse_args()
    arts = corpus(args.n)
    t0 = time.perf_counter()
    result = dedup.cluster(arts, dedup.Config(cache=False), encoder=dedup.HashEncoder(64))
    cluster_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = render_report(result)
    build_s = time.perf_counter() - t0
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    explained = len(re.findall(r'"cov":', data.group(1))) if data else None
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, "utf-8")
        if args.keep:
            args.keep.write_text(html, "utf-8")
        load = load_times(page, args.runs)
    size = len(html.encode("utf-8"))
    out = {
        "machine": machine(),
        "corpus": {
            "articles": len(result.ids),
            "duplicate_clusters": len(set(result.cluster_of)),
            "stories": len(set(result.story_of)),
            "stories_of_several": sum(1 for s in result.stories if len(s) > 1),
            "generator": "benchmarks/report_size.py corpus(n, seed=0), clustered with dedup.HashEncoder(64)",
        },
        "seconds": {"cluster": round(cluster_s, 1), "render_report": round(build_s, 1)},
        "report": {
            "bytes": size,
            "mib": round(size / 2**20, 2),
            "data_bytes": len(data.group(1).encode("utf-8")) if data else None,
            "bytes_per_article": round(size / len(result.ids)),
            "pairs_explained": explained,
        },
        "load": load,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
