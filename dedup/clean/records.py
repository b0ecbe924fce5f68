"""The clean stage, step 2: mark the lists of other articles among the blocks.

Takes the `Block`s of a page (kinds and duplicates set); sets `record` on the blocks of related-
headline lists: headlines packed closely, each followed by its timestamp, teaser and caption
(headline / timestamp / teaser, repeated), and bare link lists. When the records carry timestamps
or datelines, or are plain teaser lists beside a larger article, all their blocks are furniture,
even full-sentence teasers.
"""

from __future__ import annotations

from collections.abc import Sequence

from .blocks import Block


def mark_records(blocks: Sequence[Block]) -> None:
    """Mark lists of other articles: headlines packed closely, each with its timestamp, teaser
    and caption (headline / timestamp / teaser, repeated), and bare link lists."""
    n = len(blocks)
    anchors = [i for i, b in enumerate(blocks) if b.kind == "H" and not b.dup]
    groups: list[list[int]] = []
    for i in anchors:
        if groups:
            prev = groups[-1][-1]
            gap = blocks[prev + 1 : i]
            if len(gap) <= 3 and sum(b.kind == "L" for b in gap) <= 2 and not any(b.related for b in gap):
                groups[-1].append(i)
                continue
        groups.append([i])
    total_text = sum(b.mass for b in blocks if b.kind == "L" and not b.dup)
    for g in groups:
        if len(g) < 2:
            continue
        start, end = g[0], g[-1]
        # the last record: its timestamp / caption / teaser after the last headline
        j, texts = end + 1, 0
        while j < n and j <= end + 3 and blocks[j].kind in "TCLW" and not blocks[j].related:
            if blocks[j].kind == "L":
                # one teaser at most; a text block followed by more text starts an article
                if texts or (j + 1 < n and blocks[j + 1].kind == "L" and not blocks[j + 1].dup):
                    break
                texts += 1
            end = j
            j += 1
        # the first record's caption (or caption-like sentence) just before its headline
        if start > 0 and blocks[start - 1].kind in "CT":
            start -= 1
        span = blocks[start : end + 1]
        heads = [blocks[i] for i in g]
        teasers = [b for b in span if b.kind == "L"]
        teaser_mass = sum(b.mass for b in teasers)
        outside = total_text - teaser_mass
        n_time = sum(b.kind == "T" for b in span)
        n_dateline = sum(b.dateline for b in teasers)
        # each headline followed by one teaser at most before the next headline (captions aside)
        at_most_one = all(
            sum(b.kind == "L" for b in blocks[a + 1 : c]) <= 1
            for a, c in zip(g, g[1:] + [end + 1], strict=True)
        )
        long_heads = sum(h.words for h in heads) / len(heads) >= 6
        if not teasers:
            is_list = len(g) >= 4
        elif n_time >= 2 or n_dateline >= 2:
            is_list = outside >= 100
        else:
            is_list = (
                len(g) >= 3
                and len(teasers) >= 2
                and at_most_one
                and long_heads
                and all(b.mass <= 450 for b in teasers)
                and outside >= teaser_mass
            )
        if is_list:
            for b in span:
                b.record = True


def mark_timestamp_runs(blocks: Sequence[Block], period: int = 3) -> None:
    """Mark lists whose records are held together by a recurring anchor every `period` blocks or
    less: a date/time line (headline, timestamp, teaser) or a teaser opening with a dateline such
    as "(WNN)-" (caption, headline, teaser). The blocks around each anchor are its record whatever
    their punctuation (a headline may end in '.' or '?', so `mark_records` can miss them)."""
    total_text = sum(b.mass for b in blocks if b.kind == "L" and not b.dup)
    for kind in ("T", "D"):
        if kind == "T":  # adjacent date lines are one anchor: an article's "published / updated"
            dated = [i for i, b in enumerate(blocks) if b.kind == "T" and not b.dup]
            anchors = [i for k, i in enumerate(dated) if k == 0 or dated[k - 1] != i - 1]
        else:
            anchors = [i for i, b in enumerate(blocks) if b.kind == "L" and b.dateline and not b.dup]
        runs: list[list[int]] = []
        for i in anchors:
            if runs and i - runs[-1][-1] <= period:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            if len(run) < 2:
                continue
            if kind == "T":
                start = max(0, run[0] - 1)
                end = (
                    run[-1] + 1 if run[-1] + 1 < len(blocks) and blocks[run[-1] + 1].kind in "LH" else run[-1]
                )
            else:
                start = run[0]
                for j in (run[0] - 1, run[0] - 2):  # its headline and caption
                    if (
                        j >= 0
                        and blocks[j].kind in "CHL"
                        and blocks[j].mass <= 200
                        and not blocks[j].dateline
                    ):
                        start = j
                    else:
                        break
                end = run[-1]
            span = blocks[start : end + 1]
            inside = sum(b.mass for b in span if b.kind == "L" and not b.dup)
            if total_text - inside < 100:
                continue  # that would be the whole page: keep it for the fallback
            for b in span:
                b.record = True
