"""The clean stage's character-level helpers: what a line and a sentence end are.

Takes raw lines; gives them with invisible characters dropped and spaces collapsed, and tells
whether a line ends a sentence. Shared by blocks, titles, text, html and sentences.
"""

from __future__ import annotations

import re

# soft hyphen, zero-width space, word joiner, BOM: dropped from every line
_INVISIBLE = re.compile(r"[\u00ad\u200b\u2060\ufeff]")
_INVISIBLE_CHARS = ("\u00ad", "\u200b", "\u2060", "\ufeff")
_TERMINALS = ".!?…。！？｡؟۔।॥։።"
CLOSERS = "\"'”’“‘«»)]）」』›"
LETTER = re.compile(r"[^\W\d_]")


def normalise_line(line: str) -> str:
    """`line` without invisible characters, its spaces collapsed to one and stripped."""
    if any(c in line for c in _INVISIBLE_CHARS):
        line = _INVISIBLE.sub("", line)
    return " ".join(line.split())  # str.split() knows every Unicode space


def ends_sentence(s: str) -> bool:
    """Whether `s` ends with sentence punctuation (in any script), closing quotes aside."""
    s = s.rstrip(CLOSERS + " ")
    return bool(s) and s[-1] in _TERMINALS


def phrases(text: str) -> frozenset[str]:
    """The "|"-separated phrases of a word list."""
    return frozenset(p.strip() for p in text.split("|") if p.strip())
