"""The clean stage's title choice: one page's title, and titles chosen again over a corpus.

Takes the `Block`s above a page's main text (`title_options`, `choose_title`, used by
`clean_text`) or the `Cleaned` pages of a corpus (`site_titles`, `page_titles`); gives the
headline, leaving out the lines a site repeats on every page (its name, a tagline).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .blocks import FULL_DATE, WIDGET_STRIP, Block, breadcrumb_marks
from .cleaned import Cleaned
from .language import fits
from .lines import CLOSERS

_MAX_HEADLINE_WORDS = 40  # a longer line above the text is a teaser or a lead, not a headline


def title_key(s: str) -> str:
    """`s` case-folded, without digits and punctuation: a given title matches its line on the page."""
    return " ".join(WIDGET_STRIP.sub(" ", s.casefold()).split())


def title_options(blocks: Sequence[Block], start: int, lang: str) -> list[int]:
    """Indices of the headline-like short lines just above the main text, top first."""
    found: list[int] = []
    run_h = 0
    for i in range(start - 1, max(-1, start - 7), -1):
        b = blocks[i]
        if b.kind == "L":
            if i + 1 < len(blocks) and _dateline_below(blocks[i + 1]) and _one_short_sentence(b):
                found.append(i)  # a headline that ends with a full stop, above its date line
            break
        if breadcrumb_marks(b.text, pipes=False) >= 2:
            break  # a breadcrumb (Home > World > Asia, Hem / Politik): above it is the site's header
        if b.kind != "H" or b.dup or not (2 <= b.words <= _MAX_HEADLINE_WORDS):
            continue
        if b.words <= 10 and FULL_DATE.search(b.text):  # a byline or dateline, not a title
            continue
        if b.record:
            run_h += 1
            if run_h > 1:
                break
        if breadcrumb_marks(b.text) >= 2:  # share widgets (Share | Tweet | Email)
            continue
        if not fits(b, lang):
            continue
        found.append(i)
    return found[::-1]


def _dateline_below(b: Block) -> bool:
    """A date line, or a short byline with a date."""
    return b.kind == "T" or (b.words <= 10 and FULL_DATE.search(b.text) is not None)


def _one_short_sentence(b: Block) -> bool:
    """A line of at most 20 words that ends a sentence and holds no other sentence end."""
    body = b.text.rstrip(CLOSERS + " ")[:-1]
    return 2 <= b.words <= 20 and b.mass < 160 and not re.search(r"[.!?。！？]\s", body)


def choose_title(words: Sequence[int]) -> int | None:
    """Position of the title among options of `words` words (top first): the longest, or the
    topmost one nearly as long."""
    if not words:
        return None
    longest = max(words)
    return min(k for k, w in enumerate(words) if w >= 0.6 * longest)


def site_titles(cleaned: Sequence[Cleaned], min_pages: int = 3) -> frozenset[str]:
    """Titles, headline-like lines and top lines of `min_pages` or more pages whose main texts all
    differ: the header of one site (its name, a tagline), not an article's headline. Syndicated
    copies of one report share their headline and their text, so they keep it."""
    leads: dict[str, set[str]] = {}
    for c in cleaned:
        lead = c.paragraphs[0] if c.paragraphs else ""
        for t in {c.title, *c.header, *(t for t, _ in c.title_options)}:
            if t:
                leads.setdefault(t, set()).add(lead)
    return frozenset(t for t, ls in leads.items() if len(ls) >= min_pages)


def page_titles(cleaned: Sequence[Cleaned], min_pages: int = 3) -> list[str | None]:
    """The title of each page, chosen again without the `site_titles` of the corpus: a site's
    banner above the headline gives way to the headline; a page with nothing else gets None."""
    site = site_titles(cleaned, min_pages)
    out: list[str | None] = []
    for c in cleaned:
        if c.title_options:
            opts = [(t, w) for t, w in c.title_options if t not in site]
            pick = choose_title([w for _, w in opts])
            out.append(opts[pick][0] if pick is not None else None)
        else:
            out.append(c.title if c.title not in site else None)
    return out
