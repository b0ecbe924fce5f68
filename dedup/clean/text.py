"""The clean stage, step 4: raw text -> `Cleaned` (title, lead and body of the article).

Takes the page text (and its title if known); cuts it into blocks (dedup.clean.blocks), marks
lists of other articles (records), reads the page language (language), scores each block (text:
+ its length; headlines, widgets, dates, records, foreign text: negative; captions and duplicates:
about neutral, so they do not cut the article in two) and keeps the contiguous run of blocks with
the largest score sum (the maximum sub-array, as in body-text extraction). Foreign runs at the
edges of that run are trimmed off, a lead separated from the body by furniture is taken back,
captions/widgets/duplicates inside the run are dropped, and a title is picked from the short
lines just above it (titles). If nothing looks like text, the longest block is kept: a non-blank
input never comes out empty. `Cleaned.lang` is the page language, or the kept text's language
(`langid.detect`) when the page had no text block to read it from or a fallback block was kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..langid import UND, detect
from .blocks import Block, make_block, mark_duplicates, split_blocks
from .cleaned import Cleaned
from .language import is_foreign, page_language
from .lines import ends_sentence, normalise_line
from .records import mark_records, mark_timestamp_runs
from .titles import choose_title, title_key, title_options

# scores are in Latin-equivalent characters of text (`langid.char_mass`)
_TEXT_OFFSET = 40.0  # a text block scores mass - offset: one-word "sentences" are slightly negative
_HEADER_LINES = 2  # a page's first lines that may be its site's banner
_MAX_TRIMS = 24  # rounds of trimming foreign blocks off the edges of the main run
_LANG_CHARS = 5000  # the kept text's language is read from its start, as the pipeline used to read it


def _score(b: Block) -> float:
    """What the block adds to the main run: text its mass, furniture a penalty."""
    if b.record:
        return -(b.mass + 30.0)
    if b.related:
        return -400.0
    if b.dup or b.kind == "C":
        return -5.0
    if b.kind == "W":
        return -30.0
    if b.kind == "T":
        return -20.0
    if b.kind == "H":
        return -(15.0 + 0.3 * b.mass)
    return b.mass - _TEXT_OFFSET


def _max_segment(scores: Sequence[float]) -> tuple[int, int] | None:
    """Bounds (inclusive) of the contiguous run with the largest positive sum (Kadane)."""
    best, best_span = 0.0, None
    cur, cur_start = 0.0, 0
    for i, s in enumerate(scores):
        if cur <= 0:
            cur, cur_start = s, i
        else:
            cur += s
        if cur > best:
            best, best_span = cur, (cur_start, i)
    return best_span


def _is_text(b: Block, lang: str) -> bool:
    """A text block of the article: not a record, duplicate, list announcement or foreign."""
    return b.kind == "L" and not (b.record or b.dup or b.related or is_foreign(b, lang))


def clean_text(text: str, title: str | None = None) -> Cleaned:
    """Split `text` into main text (title, lead, body) and boilerplate; see the module doc."""
    parts = split_blocks(text or "")
    given = normalise_line(title) if title else None
    given = given or None
    if not parts:
        rest = " ".join((text or "").split())  # only invisible characters: keep them as they are
        return Cleaned(given, (rest,) if rest else (), ())
    if len(parts) == 1:
        return Cleaned(given, (parts[0],), (), detect(parts[0][:_LANG_CHARS]))

    blocks = [make_block(s) for s in parts]
    mark_duplicates(blocks)
    mark_records(blocks)
    mark_timestamp_runs(blocks)

    lang, from_text = page_language(blocks)
    fallback = False  # the main text is one block chosen by its size, not a run of text

    # best run of blocks; text in another language at its edges is furniture: penalise, rerun
    scores = [_score(b) for b in blocks]
    span = _max_segment(scores)
    checked: set[int] = set()
    for _ in range(_MAX_TRIMS):
        if span is None or lang == UND:
            break
        edges = [i for i in dict.fromkeys(span) if i not in checked]
        checked.update(edges)
        foreign = [i for i in edges if is_foreign(blocks[i], lang)]
        if not foreign:
            break
        for i in foreign:
            scores[i] = -0.5 * blocks[i].mass
        span = _max_segment(scores)
    if span is None:
        candidates = [i for i, b in enumerate(blocks) if b.kind == "L" and not b.record] or list(
            range(len(blocks))
        )
        best = max(candidates, key=lambda i: blocks[i].mass)
        span = (best, best)
        fallback = True
    start, end = span

    # take back a lead cut off from the body by furniture (up to the title or another headline)
    extended = start
    i = start - 1
    while i >= 0 and i >= extended - 6:
        b = blocks[i]
        if b.record or (b.kind == "H" and b.words >= 3 and not b.dup):
            break
        if _is_text(b, lang) and b.mass >= 60:
            extended = i
        i -= 1

    keep: list[int] = []
    for i in range(extended, end + 1):
        b = blocks[i]
        if b.record or b.dup or b.related or b.kind in "CTW":
            continue
        if i < start and not _is_text(b, lang):
            continue
        keep.append(i)
    if not keep:
        keep = [max(range(len(blocks)), key=lambda i: blocks[i].mass)]
        fallback = True

    title_idx: int | None = None
    options: list[int] = []
    if given:
        gkey = title_key(given)
        keep_wo = [i for i in keep if title_key(blocks[i].text) != gkey]
        keep = keep_wo or keep
        out_title: str | None = given
    else:
        options = title_options(blocks, keep[0], lang)
        pick = choose_title([blocks[i].words for i in options])
        title_idx = options[pick] if pick is not None else None
        if title_idx is None and len(keep) >= 2:
            # no title above: a long unpunctuated first block, shorter than the next, is one
            first = blocks[keep[0]]
            if (
                not ends_sentence(first.text)
                and first.mass <= 300
                and blocks[keep[1]].mass >= first.mass
                and not any(b.kind == "L" and not b.record for b in blocks[: keep[0]])
            ):
                title_idx = keep.pop(0)
        out_title = blocks[title_idx].text if title_idx is not None else None

    kept = set(keep)
    removed = tuple(b.text for i, b in enumerate(blocks) if i not in kept and i != title_idx)
    paragraphs = tuple(blocks[i].text for i in keep)
    # the language reported is the page language when it was read from the text blocks and the
    # main text is a run of them; otherwise (a page of lists only, a fallback block) the language
    # of the text kept: the page's heaviest blocks may be another language's list
    if fallback or not from_text or lang == UND:
        lang = detect("\n".join(paragraphs)[:_LANG_CHARS])
    return Cleaned(
        out_title,
        paragraphs,
        removed,
        lang,
        tuple((blocks[i].text, blocks[i].words) for i in options) if title_idx in options else (),
        tuple(blocks[i].text for i in range(min(_HEADER_LINES, keep[0])) if i != title_idx),
    )
