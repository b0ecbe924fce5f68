"""Report stage, the page: one self-contained HTML file (inline CSS, script, SVG plots and data).

Takes the page data of `dedup.report.data.build`; gives the HTML text. The counts, settings and
plots are written here (every text escaped); the stories are rendered in the browser by
`dedup.report.script` from the data, which is embedded as JSON with `<`, `>` and `&` escaped (no
text of an article can close the script element). A Content-Security-Policy forbids every network
request: the page loads nothing.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from .script import ERRORS_SCRIPT, SCRIPT
from .svg import lang_pair_plot, size_plot, time_plot

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --dup: #3a6ea5; --story: #e0892e; --muted: #666; --line: #ddd; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 16px 24px;
       max-width: 1280px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin: 4px 0 10px; }
h2 { font-size: 17px; margin: 18px 0 8px; }
h4 { margin: 10px 0 4px; font-size: 13px; color: #444; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px;
        min-width: 120px; }
.card b { display: block; font-size: 22px; }
.card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; }
td, th { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { font-weight: 600; font-size: 12px; color: #444; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.row { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.plots svg { background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.controls { position: sticky; top: 0; z-index: 2; background: #fafafa; padding: 8px 0;
            border-bottom: 1px solid var(--line);
            display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
.controls input[type=search] { width: 340px; padding: 5px 8px; font-size: 14px; }
.controls input[type=number] { width: 64px; }
#count { color: var(--muted); }
details.story { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details.story > summary { padding: 8px 12px; cursor: pointer; }
details.story > .body { padding: 0 12px 10px; }
.rank { font-weight: 700; margin-right: 6px; }
.size { color: var(--muted); margin-right: 6px; }
.stitle, .title { font-weight: 600; margin-left: 4px; }
.lang { display: inline-block; font: 11px/1.4 ui-monospace, monospace; background: #eef2f7;
        border: 1px solid #d4dce8;
        border-radius: 3px; padding: 0 4px; margin-right: 3px; }
.cluster { border-left: 3px solid var(--dup); padding: 2px 0 2px 10px; margin: 8px 0; }
.chead, .reason, .minor, .meta { color: var(--muted); font-size: 12px; }
.meta { margin-left: 6px; }
.minor { margin-left: 6px; }
.art { margin: 6px 0; }
.art.canon .title { color: #1d4d80; }
.badge { background: #fff3c4; border: 1px solid #e6cf6e; border-radius: 3px; font-size: 11px;
         padding: 0 5px; margin-left: 6px; }
.lines { color: #333; font-size: 13px; margin: 2px 0 0 2px; }
.links { border-left: 3px solid var(--story); padding-left: 10px; margin-top: 8px; }
details.link { margin: 4px 0; }
details.link > summary { cursor: pointer; font-size: 13px; }
.level { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
         margin-right: 6px; }
.score { font-variant-numeric: tabular-nums; margin-right: 8px; font-weight: 600; }
.yes { color: #1f7a3a; } .no { color: #a33; }
.ltitle { margin-right: 2px; }
.sep { color: var(--muted); }
.jump { font-size: 11px; margin-left: 4px; }
.ex { background: #fcfcfd; border: 1px solid #eee; border-radius: 4px; padding: 6px 10px; margin: 4px 0 8px; }
.verdict { margin-right: 12px; font-weight: 600; }
.chips mark, mark { background: #ffe58a; border-radius: 2px; padding: 0 2px; }
.chip { margin-right: 4px; font-size: 12px; }
table.aligned { width: 100%; margin: 6px 0; font-size: 13px; }
table.aligned td { width: 47%; }
table.aligned td.num { width: 6%; }
table.evidence { font-size: 12px; margin-top: 6px; }
.bar .pos, .bar .neg { display: inline-block; height: 9px; margin-right: 6px; }
.bar .pos { background: #5aa36b; } .bar .neg { background: #c9655b; }
#script-errors { color: #a00; background: #fee; padding: 8px; white-space: pre-wrap; }
#more { margin: 10px 0 30px; padding: 6px 14px; }
footer { color: var(--muted); font-size: 12px; margin: 20px 0; }
"""


def data_json(data: dict[str, Any]) -> str:
    """The data as JSON that is safe inside a <script> element (no `<`, `>` or `&` in it)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cards(summary: dict[str, Any]) -> str:
    items = [
        (summary["articles"], "articles"),
        (summary["duplicate_clusters"], "duplicate clusters"),
        (summary["stories"], "stories"),
        (summary["removed"], "duplicates removed"),
        (summary["rejected"], "records rejected"),
        (
            f"{summary['seconds']:.1f} s",
            "read back from the result cache" if summary["from_cache"] else "time taken",
        ),
    ]
    return "".join(
        f'<div class="card"><b>{escape(str(v))}</b><span>{escape(k)}</span></div>' for v, k in items
    )


def _languages(rows: list[dict[str, Any]]) -> str:
    cols = ("language", "articles", "duplicate clusters", "duplicates removed", "stories")
    head = "<tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
    body = "".join(
        f"<tr><td>{escape(r['lang'])}</td>"
        + "".join(f"<td class=num>{r[k]}</td>" for k in ("articles", "clusters", "removed", "stories"))
        + "</tr>"
        for r in rows
    )
    return f"<table>{head}{body}</table>"


def _settings(config: dict[str, Any], summary: dict[str, Any]) -> str:
    rows = [("model", summary["model"])] + sorted(config.items())
    body = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
        for k, v in rows
    )
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in summary["timings"].items() if v >= 0.01)
    return f"<table>{body}<tr><th>stage timings</th><td>{escape(timings or '-')}</td></tr></table>"


def render(data: dict[str, Any]) -> str:
    """The report page for the page data of `dedup.report.data.build`."""
    s, plots = data["summary"], data["plots"]
    timeline = time_plot(plots["dates"]) or '<p class="minor">No dates known: no timeline.</p>'
    title = escape(data["title"])
    thr = data["thresholds"]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{CSS}</style>
</head>
<body>
<pre id="script-errors" hidden></pre>
<script>{ERRORS_SCRIPT}</script>
<h1>{title}</h1>
<div class="cards">{_cards(s)}</div>
<div class="row">
<div><h2>Per language</h2>{_languages(s["by_language"])}</div>
<div><h2>Settings</h2><details><summary>duplicate threshold {thr["duplicate"]:.2f}, story threshold
{thr["story"]:.2f}, model {escape(str(s["model"]))}</summary>{_settings(data["config"], s)}</details></div>
</div>
<h2>Plots</h2>
<div class="row plots">{size_plot(plots["sizes"])}{lang_pair_plot(plots["lang_pairs"])}{timeline}</div>
<h2>Stories</h2>
<div class="controls">
<input type="search" id="q" placeholder="search titles, text, sources, ids" aria-label="search">
<label>language <select id="lang"><option value="">any</option></select></label>
<label>size from <input type="number" id="min-size" min="1"></label>
<label>to <input type="number" id="max-size" min="1"></label>
<span id="count"></span>
</div>
<div id="stories"></div>
<button id="more" type="button" hidden>show more</button>
<footer>dedup {escape(str(data["version"]))}: {s["explained"]} pairs explained (at most
{s["max_explained"]}, the largest stories first); stories sorted by size.</footer>
<script type="application/json" id="report-data">{data_json(data)}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""


__all__ = ["CSP", "data_json", "render"]
