"""The clean stage's sentence splitter: the paragraphs of `Cleaned` -> sentences, any language.

Takes text (the main text's paragraphs); gives its sentences in order, for the embedding units.
"""

from __future__ import annotations

import re

from .lines import LETTER, normalise_line, phrases

_SENT_END = re.compile(
    r"(?P<w>[.!?…؟۔।॥։።]+(?:[\"'”’“‘»)\]]|\s»)*)\s+"  # terminal, closers, then a space
    r"|(?P<c>[。！？｡]+[\"'”’」』）)\]]*)\s*"  # CJK: no space needed
)
_THAI_GAP = re.compile(r"(?<=[\u0e00-\u0e7f])\s+(?=[\u0e00-\u0e7f])")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_ABBREV = phrases(
    """
    mr | mrs | ms | dr | prof | st | jr | sr | vs | etc | inc | ltd | co | corp | gen | gov |
    sen | rep | lt | col | capt | sgt | cmdr | adm | rev | hon | no | nos | vol | fig |
    approx | dept | est | jan | feb | mar | apr | jun | jul | aug | sep | sept | oct | nov |
    dec | mt | ft | pp | cf | al | ca | nr | bzw | hr | fr | frau | hrn | mme | mlle | sra |
    srta | dra | tp | tx | ts | ths | pgs | gs | bs | ks | kts | p | q | tt | г | гг | т | ул |
    им | д | с | тыс | млн | млрд | руб | kl | tel | str | abs | art | bd | jh | jhd | mio |
    mrd | tsd
    """
)
_MIN_SENTENCE_LETTERS = 3  # a shorter fragment (a list number, a stray mark) joins the next one
_WIDE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_THAI_MIN = 25  # Thai pieces between spaces shorter than this are phrases, not sentences


def _no_split_after(text: str, end: int) -> bool:
    """True when the '.' ending at `end` belongs to an abbreviation or an initial."""
    j = end - 1
    while j >= 0 and text[j] == ".":
        j -= 1
    k = j
    while k >= 0 and not text[k].isspace() and text[k] not in "([\"'“‘«":
        k -= 1
    token = text[k + 1 : j + 1]
    if not token:
        return False
    if "." in token:  # U.S., e.g, bl.a, t.ex
        return all(len(p) <= 3 for p in token.split(".")) and any(c.isalpha() for c in token)
    if len(token) == 1 and token.isalpha():  # an initial: J. Smith
        return True
    return token.casefold() in _ABBREV


def _split_line(line: str) -> list[str]:
    out: list[str] = []
    pos = 0
    for m in _SENT_END.finditer(line):
        if m.end() >= len(line):
            break
        if m.group("w"):
            punct = m.group("w").rstrip("\"'”’“‘») ]")
            nxt = line[m.end()]
            if nxt.islower():
                continue
            if punct == "." and _no_split_after(line, m.start("w") + 1):
                continue
            cut = m.end("w")
        else:
            cut = m.end("c")
        out.append(line[pos:cut].strip())
        pos = m.end()
    out.append(line[pos:].strip())
    if _THAI.search(line):
        thai: list[str] = []
        for s in out:
            pieces = _THAI_GAP.split(s)
            acc = ""
            for p in pieces:
                acc = f"{acc} {p}" if acc else p
                if len(acc) >= _THAI_MIN:
                    thai.append(acc)
                    acc = ""
            if acc:
                if thai and len(acc) < _THAI_MIN:
                    thai[-1] = f"{thai[-1]} {acc}"
                else:
                    thai.append(acc)
        out = thai
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, in order: ends at . ! ? … (followed by a space and not by a lower-case
    letter, not after an abbreviation, initial or inside a number), at CJK 。！？ (no space
    needed), at Arabic ؟ and ۔, at Devanagari । ॥, at line breaks, and between Thai sentences at
    spaces (Thai pieces shorter than 25 characters are joined). Fragments with fewer than three
    letters (list numbers, stray marks) are joined to the next sentence."""
    result: list[str] = []
    carry = ""
    for raw in text.splitlines():
        line = normalise_line(raw)
        if not line:
            continue
        for s in _split_line(line):
            if not s:
                continue
            if carry:
                s = f"{carry} {s}"
                carry = ""
            if len(LETTER.findall(s)) < _MIN_SENTENCE_LETTERS and not _WIDE_CHAR.search(s):
                carry = s
                continue
            result.append(s)
    if carry:
        if result:
            result[-1] = f"{result[-1]} {carry}"
        else:
            result.append(carry)
    return result
