"""Report stage, what the page shows: a JSON-ready dict built from a `Result`.

Takes a `Result` (with its evidence, computed on demand for a result read back from the cache);
gives the page's data: the counts (articles, clusters, stories, duplicates removed per language),
timings and settings, one compact row per article (id, language, title, source, date, the first
cleaned lines, scores), the stories sorted by size with their duplicate clusters, and for each
story the links chosen by `dedup.report.links` with their explanations (aligned sentence pairs with
the shared names and numbers marked, the story evidence). Explanations are computed only for those
links, at most `max_explained` in all (the largest stories first); the plots' counts come with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..features import fold
from ..result import Explanation, Result, RunEvidence
from .links import Link, story_links

TITLE_CHARS = 160  # of an article's title (its first unit: the title, else its first sentence)
LINES_CHARS = 280  # of the cleaned lines that follow it
SENTENCE_CHARS = 320  # of an aligned sentence
ALIGNED_SHOWN = 8  # aligned sentence pairs shown per link (the count says how many there are)
MAX_EXPLAINED = 1500  # explanations per report (the largest stories first)

_WORD = re.compile(r"\w+")
_NUM = re.compile(r"\d+(?:[.,]\d+)*")


def _cut(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def _r(x: float) -> float:
    return round(float(x), 3)


def _number(token: str) -> str:
    """A number as `dedup.features` normalises it (digits only, no leading zeros)."""
    d = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in re.sub(r"[.,]", "", token))
    return d.lstrip("0") or "0"


def highlights(text: str, names: Iterable[str], numbers: Iterable[str]) -> list[list[int]]:
    """[start, end) spans of `text` holding one of the shared (folded) `names` or `numbers`."""
    names, numbers = set(names), set(numbers)
    spans: list[list[int]] = []
    if names:
        spans += [  # capitalised, as `dedup.features` finds names ("Trong", not "trong")
            [m.start(), m.end()]
            for m in _WORD.finditer(text)
            if m.group()[0].isupper() and fold(m.group()) in names
        ]
    if numbers:
        spans += [[m.start(), m.end()] for m in _NUM.finditer(text) if _number(m.group()) in numbers]
    return sorted(spans)


def explanation_data(ex: Explanation) -> dict[str, Any]:
    """What the page shows of one explanation (sentences cut, marks as spans)."""
    aligned = []
    for x, y, m in ex.aligned[:ALIGNED_SHOWN]:
        x, y = _cut(x, SENTENCE_CHARS), _cut(y, SENTENCE_CHARS)
        aligned.append(
            [
                x,
                y,
                _r(m),
                highlights(x, ex.shared_names, ex.shared_numbers),
                highlights(y, ex.shared_names, ex.shared_numbers),
            ]
        )
    return {
        "d": _r(ex.duplicate_score),
        "s": _r(ex.story_score),
        "cos": _r(ex.cosine),
        "pas": _r(ex.passage),
        "cov": _r(ex.coverage),
        "al": aligned,
        "alN": len(ex.aligned),
        "nm": list(ex.shared_names),
        "nu": list(ex.shared_numbers),
        "dt": ex.dates,
        "ev": [[name, _r(v), _r(c)] for name, v, c in ex.story_evidence],
    }


def _fmt_date(d: tuple[int | None, int, int] | None) -> str:
    if d is None:
        return ""
    y, m, day = d
    return f"{y:04d}-{m:02d}-{day:02d}" if y else f"--{m:02d}-{day:02d}"


def _article_rows(result: Result, ev: RunEvidence | None) -> list[list[Any]]:
    """Per article (input order): id, lang, title, lines, source, date, date found in the text
    (1) or given (0), duplicate score, story score."""
    rows: list[list[Any]] = []
    for k, aid in enumerate(result.ids):
        title = lines = source = date = ""
        from_text = 0
        rec = result.records[k]
        if ev is not None:
            row = ev.row_of[aid]
            cand = ev.candidates[row]
            source, date = cand.source or "", (cand.published or "")[:10]
            if ev.unit_texts is not None:
                units = ev.unit_texts[ev.scorer.space.units_of(row)]
                title = units[0] if units else ""
                lines = " ".join(units[1:])
            if not date and ev.features is not None and ev.features[row].date is not None:
                date, from_text = _fmt_date(ev.features[row].date), 1
        else:  # a result without evidence: the input fields by their usual names
            title = str(rec.get("title") or "")
            lines = str(rec.get("text") or "")
            source, date = str(rec.get("source") or ""), str(rec.get("published") or "")[:10]
        rows.append(
            [
                aid,
                result.langs[k],
                _cut(title, TITLE_CHARS),
                _cut(lines, LINES_CHARS),
                _cut(source, 80),
                date,
                from_text,
                _r(result.duplicate_score[k]),
                _r(result.story_score[k]),
            ]
        )
    return rows


def _stories(result: Result) -> list[list[int]]:
    """Stories as input positions (canonical first), largest first (ties: earlier canonical)."""
    pos = {aid: k for k, aid in enumerate(result.ids)}
    stories = [[pos[a] for a in s] for s in result.stories]
    return sorted(stories, key=lambda s: (-len(s), s[0]))


def _clusters_of(result: Result, members: list[int], pos: dict[str, int]) -> list[list[Any]]:
    """A story's duplicate clusters: [canonical, reason, members (canonical first)], the story
    canonical's cluster first, then by size."""
    groups: dict[int, list[int]] = {}
    for k in members:
        groups.setdefault(pos[result.cluster_of[k]], []).append(k)
    first = pos[result.cluster_of[members[0]]]
    order = sorted(groups, key=lambda c: (c != first, -len(groups[c]), c))
    return [
        [c, result.cluster_reason.get(result.ids[c], ""), [c] + [k for k in groups[c] if k != c]]
        for c in order
    ]


def _by_language(result: Result) -> list[dict[str, Any]]:
    """Per language: articles, duplicate clusters, duplicates removed (articles that are not their
    cluster's canonical), stories (by the story canonical's language)."""
    arts = Counter(result.langs)
    canon = Counter(
        lang for aid, lang, c in zip(result.ids, result.langs, result.cluster_of, strict=True) if aid == c
    )
    stories = Counter(
        lang for aid, lang, s in zip(result.ids, result.langs, result.story_of, strict=True) if aid == s
    )
    return [
        {
            "lang": lang,
            "articles": n,
            "clusters": canon[lang],
            "removed": n - canon[lang],
            "stories": stories[lang],
        }
        for lang, n in sorted(arts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def plot_counts(result: Result, stories: list[list[int]], articles: list[list[Any]]) -> dict[str, Any]:
    """What the plots count: cluster sizes at both levels, language pairs joined at each level
    (article pairs in one duplicate cluster; in one story but not one duplicate cluster), and
    stories per date (the earliest dated member with a known year)."""
    sizes = {
        "duplicate": sorted(Counter(Counter(result.cluster_of).values()).items()),
        "story": sorted(Counter(len(s) for s in stories).items()),
    }
    pairs: dict[str, Counter[tuple[str, str]]] = {"duplicate": Counter(), "story": Counter()}
    for level, labels in (("duplicate", result.cluster_of), ("story", result.story_of)):
        groups: dict[str, Counter[str]] = {}
        for lab, lang in zip(labels, result.langs, strict=True):
            groups.setdefault(lab, Counter())[lang] += 1
        for counts in groups.values():
            if sum(counts.values()) < 2:
                continue
            langs = sorted(counts)
            for i, x in enumerate(langs):
                for y in langs[i:]:
                    n = counts[x] * (counts[x] - 1) // 2 if x == y else counts[x] * counts[y]
                    if n:
                        pairs[level][(x, y)] += n
    pairs["story"].subtract(pairs["duplicate"])  # story pairs that are not duplicate pairs
    dates: Counter[str] = Counter()
    for s in stories:
        known = [articles[k][5] for k in s if articles[k][5][:1].isdigit()]
        if known:
            dates[min(known)] += 1
    return {
        "sizes": sizes,
        "lang_pairs": {lv: [[x, y, n] for (x, y), n in c.most_common() if n > 0] for lv, c in pairs.items()},
        "dates": sorted(dates.items()),
    }


def build(result: Result, *, title: str | None = None, max_explained: int = MAX_EXPLAINED) -> dict[str, Any]:
    """The page's data for `result` (JSON-ready)."""
    from .. import __version__

    ev = result.evidence.get() if result.evidence is not None else None
    articles = _article_rows(result, ev)
    pos = {aid: k for k, aid in enumerate(result.ids)}
    stories = _stories(result)
    chosen = story_links(result, stories)
    explained: dict[tuple[int, int], int] = {}  # pair -> index in `explanations`
    explanations: list[dict[str, Any]] = []
    story_rows: list[dict[str, Any]] = []
    for s, members in enumerate(stories):
        links: list[list[Any]] = []
        for lk in chosen[s]:
            x = explained.get(lk.key)
            if x is None and ev is not None and len(explanations) < max_explained:
                explanations.append(explanation_data(result.explain(result.ids[lk.a], result.ids[lk.b])))
                x = explained[lk.key] = len(explanations) - 1
            links.append(_link_row(result, lk, x))
        story_rows.append(
            {
                "c": members[0],
                "r": result.story_reason.get(result.ids[members[0]], ""),
                "cl": _clusters_of(result, members, pos),
                "ln": links,
            }
        )
    counts = plot_counts(result, stories, articles)
    return {
        "title": title or f"dedup report: {len(result.ids)} articles",
        "version": __version__,
        "summary": {
            "articles": len(result.ids),
            "duplicate_clusters": len(set(result.cluster_of)),
            "stories": len(stories),
            "rejected": len(result.rejects),
            "removed": len(result.ids) - len(set(result.cluster_of)),
            "model": result.model,
            "from_cache": result.from_cache,
            "seconds": round(sum(result.timings.values()), 2),
            "timings": {k: round(v, 2) for k, v in result.timings.items()},
            "by_language": _by_language(result),
            "explained": len(explanations),
            "max_explained": max_explained,
        },
        "config": result.config.to_dict(),
        "thresholds": {
            "duplicate": result.config.duplicate_threshold,
            "story": result.config.story_threshold,
        },
        "articles": articles,
        "stories": story_rows,
        "explanations": explanations,
        "plots": counts,
    }


def _link_row(result: Result, lk: Link, x: int | None) -> list[Any]:
    """[a, b, level, score, role, explanation index or -1, same duplicate, same story]."""
    same_dup = result.cluster_of[lk.a] == result.cluster_of[lk.b]
    same_story = result.story_of[lk.a] == result.story_of[lk.b]
    return [
        lk.a,
        lk.b,
        lk.level,
        _r(lk.score),
        lk.role,
        -1 if x is None else x,
        int(same_dup),
        int(same_story),
    ]


__all__ = ["MAX_EXPLAINED", "build", "explanation_data", "highlights", "plot_counts"]
