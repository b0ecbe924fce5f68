"""The clean stage, step 3: the page language, and which blocks do not fit it.

Takes the `Block`s of a page; gives its language (ISO 639-1, "und" if none; returned as
`Cleaned.lang`) and tells whether a block may be written in it (py3langid log-likelihood per
byte, `langid.Profile.fits`), so that foreign text at the edges of the main run can be trimmed.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..langid import UND, Profile, profile
from .blocks import Block


def _profile(b: Block) -> Profile:
    """The block's language profile, from its first 160 characters (cached)."""
    if b.profile is None:
        b.profile = profile(b.text, 160)
    return b.profile


def fits(b: Block, lang: str) -> bool:
    """May the block be in the page language?"""
    return _profile(b).fits(lang)


def page_language(blocks: Sequence[Block], votes: int = 8) -> tuple[str, bool]:
    """The page language, and whether it was read from text blocks. The text blocks (not records
    or duplicates; the heaviest other blocks only if there is no text) are read in two halves;
    when both halves agree, that is the language, otherwise up to `votes` blocks spread over the
    page vote, each weighing its mass."""
    voters = [b for b in blocks if b.kind == "L" and not (b.record or b.dup)]
    from_text = bool(voters)
    if not voters:
        voters = sorted((b for b in blocks if not b.dup), key=lambda b: -b.mass)[:votes]
    if len(voters) >= 2:
        half = len(voters) // 2
        first = profile("\n".join(b.text[:150] for b in voters[:half][:4]), 600).best
        second = profile("\n".join(b.text[:150] for b in voters[half:][:4]), 600).best
        if first == second:
            return first, from_text
    if len(voters) > votes:
        step = (len(voters) - 1) / (votes - 1)
        voters = [voters[round(k * step)] for k in range(votes)]
    mass: dict[str, int] = {}
    for b in voters:
        best = _profile(b).best
        if best != UND:
            mass[best] = mass.get(best, 0) + b.mass
    return (max(sorted(mass), key=lambda c: mass[c]) if mass else UND), from_text


def is_foreign(b: Block, lang: str) -> bool:
    """True when a text block is surely not in the page language `lang`."""
    return lang != UND and b.kind == "L" and not fits(b, lang)
