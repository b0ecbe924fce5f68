"""Language-independent surface evidence: names, numbers and dates, folded for comparison."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_NUM = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w+")
_SENT = re.compile(r"(?<=[.!?;:。！？])\s+|\n+")
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss"})


def fold(text: str) -> str:
    """Lower-case, strip diacritics and transliterate other scripts to Latin ("Trương" -> "truong",
    "Путин" -> "putin"), so one name compares across languages."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    text = "".join(c for c in text if not unicodedata.combining(c))
    if not text.isascii():
        from anyascii import anyascii

        text = anyascii(text)
    return text.lower()


def _ascii_digits(s: str) -> str:
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in s)


@dataclass(frozen=True)
class Evidence:
    """Names (capitalised words not starting a sentence) and numbers (>= 2 digits) of one text."""

    names: frozenset[str]
    numbers: frozenset[str]
    date: tuple[int | None, int, int] | None = None  # (year or None, month, day) of the event
    lead_names: frozenset[str] = frozenset()  # names of the title and lead: who the report is about


def extract(text: str, date: tuple[int | None, int, int] | None = None, lead: str = "") -> Evidence:
    """Extract folded names and normalised numbers from a text, and the names of its `lead` (the
    title and first sentences); `date` is passed through."""
    names = _names(text)
    numbers: set[str] = set()
    for m in _NUM.findall(text):
        d = _ascii_digits(re.sub(r"[.,]", "", m))
        if len(d) >= 2 and d.strip("0"):
            numbers.add(d.lstrip("0") or "0")
    return Evidence(
        frozenset(names), frozenset(numbers), date, frozenset(_names(lead)) if lead else frozenset()
    )


def _names(text: str) -> set[str]:
    """Folded capitalised words not starting a sentence, and acronyms."""
    names: set[str] = set()
    for sent in _SENT.split(text):
        toks = _WORD.findall(sent)
        for k, w in enumerate(toks):
            if w[0].isdigit():
                continue
            if (
                w.isupper() and len(w) >= 2 and w.isalpha() or k > 0 and w[0].isupper() and len(w) >= 3
            ):  # acronyms: JCP, CPV, ASEAN
                names.add(fold(w))
    return names


# ---- dates ---------------------------------------------------------------------------------
_MONTHS = {
    m: k + 1
    for k, names in enumerate(
        [
            "january jan januar janvier enero januari gennaio janeiro январь января",
            "february feb februar fevrier febrero februari febbraio fevereiro февраль февраля",
            "march mar marz mars marzo maret maart marco март марта",
            "april apr avril abril aprile апрель апреля",
            "may mai mayo mei maggio maio май мая",
            "june jun juni juin junio giugno junho июнь июня",
            "july jul juli juillet julio luglio julho июль июля",
            "august aug august aout agosto agustus augusti август августа",
            "september sep sept septembre septiembre settembre setembro сентябрь сентября",
            "october oct oktober octobre octubre ottobre outubro oktober октябрь октября",
            "november nov novembre noviembre novembro ноябрь ноября",
            "december dec dezember decembre diciembre dicembre dezembro desember декабрь декабря",
        ]
    )
    for m in names.split()
}
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DMY = re.compile(r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?![\d/.-])")
_DM = re.compile(r"(?<![\d/.,:-])(\d{1,2})[/-](\d{1,2})(?!\d|[/.,:-]\d|\s*%)")
_VI = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s+năm\s+(\d{4}))?", re.IGNORECASE)
_CJK = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_NAMED = re.compile(
    r"\b(\d{1,2})\.?\s+([^\W\d_]{3,10})\.?(?:\s+(\d{4}))?|\b([^\W\d_]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?",
    re.UNICODE,
)

Date = tuple[int | None, int, int]  # (year or None, month, day)


def _ok(y: int | None, m: int, d: int) -> Date | None:
    if 1 <= m <= 12 and 1 <= d <= 31 and (y is None or 1900 <= y <= 2100):
        return (y, m, d)
    return None


def find_date(text: str, *, allow_day_month: bool = False, last: bool = False) -> Date | None:
    """The first (or `last`) calendar date written in `text` (ISO, d/m/y, named months,
    Vietnamese, CJK)."""
    found: list[tuple[int, Date]] = []
    for m in _ISO.finditer(text):
        d = _ok(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            found.append((m.start(), d))
    for m in _DMY.finditer(text):
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        d = _ok(y, b, a) if a > 12 or b <= 12 else _ok(y, a, b)
        if d:
            found.append((m.start(), d))
    for m in _VI.finditer(text):
        d = _ok(int(m.group(3)) if m.group(3) else None, int(m.group(2)), int(m.group(1)))
        if d:
            found.append((m.start(), d))
    for m in _CJK.finditer(text):
        d = _ok(int(m.group(1)) if m.group(1) else None, int(m.group(2)), int(m.group(3)))
        if d:
            found.append((m.start(), d))
    for m in _NAMED.finditer(text):
        if m.group(2):
            mon = _MONTHS.get(fold(m.group(2)))
            if mon:
                d = _ok(int(m.group(3)) if m.group(3) else None, mon, int(m.group(1)))
                if d:
                    found.append((m.start(), d))
        elif m.group(4):
            mon = _MONTHS.get(fold(m.group(4)))
            ambiguous = fold(m.group(4)) in {"may", "mai", "mar"} and not m.group(6)
            if mon and m.group(4)[0].isupper() and not ambiguous:
                d = _ok(int(m.group(6)) if m.group(6) else None, mon, int(m.group(5)))
                if d:
                    found.append((m.start(), d))
    if allow_day_month and not found:
        for m in _DM.finditer(text):
            d = _ok(None, int(m.group(2)), int(m.group(1)))
            if d:
                found.append((m.start(), d))
    if not found:
        return None
    return max(found)[1] if last else min(found)[1]


def parse_published(value: str | None) -> Date | None:
    """A `published` field (ISO 8601 date or datetime) as a Date."""
    if not value:
        return None
    m = _ISO.search(value)
    return _ok(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def event_date(published: str | None, header: str, lead: str) -> Date | None:
    """When the story happened: the `published` field, else the page header's date (the one
    closest above the article), else a date in the lead sentence."""
    return parse_published(published) or find_date(header, last=True) or find_date(lead, allow_day_month=True)


def days_apart(a: Date, b: Date) -> int:
    """Days between two dates; without a year on either side, the shortest way round the year."""
    import datetime as dt

    def ordinal(y: int, x: Date) -> int:
        day = min(x[2], 28) if x[1] == 2 else min(x[2], 30 if x[1] in (4, 6, 9, 11) else 31)
        return dt.date(y, x[1], day).toordinal()

    if a[0] is not None and b[0] is not None:
        return abs(ordinal(a[0], a) - ordinal(b[0], b))
    y = a[0] or b[0] or 2001
    diffs = [abs(ordinal(y, a) - ordinal(y + k, b)) for k in (-1, 0, 1)]
    return min(diffs)


def header_text(raw: str, first_paragraph: str, span: int = 300) -> str:
    """The raw text just above an article's first paragraph (where pages print the date)."""
    if not first_paragraph:
        return ""
    pos = raw.find(first_paragraph[:40])
    return raw[max(0, pos - span) : pos] if pos > 0 else ""
