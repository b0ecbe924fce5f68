"""Boilerplate removal: keep an article's title, lead and body from raw web text, in any language.

Method (structural first, word lists only as one weak cue):

1. The text is cut into blocks (non-empty lines; a line that does not end a sentence and is
   followed by a lower-case line is joined to it). Each block gets a kind from its shape:
   ``L`` text (ends a sentence, or long), ``H`` headline-like (short, no terminal punctuation),
   ``T`` a date/time-only line, ``C`` an image caption (Photo:/Foto:/Ảnh:/(... /VNA) markers),
   ``W`` a widget (share/comment/source lines, breadcrumbs, counters, placeholders).
   Exact repeats of an earlier block are duplicates.
2. Lists of records are found: headlines packed closely, each followed by its timestamp, teaser
   and image caption (headline / timestamp / teaser, repeated). When the records carry
   timestamps or datelines, or are plain teaser lists beside a larger article, or a bare link
   list, all their blocks are furniture, even full-sentence teasers.
3. The page language is read from the text blocks (two halves; if they disagree, a vote of up
   to eight blocks weighted by their length); it is returned as `Cleaned.lang`. A text block
   that does not fit the page language (py3langid log-likelihood per byte) is furniture when it
   is at an edge of the main run: foreign runs at the start or end of a page are trimmed off.
4. Each block is scored (text: + its length; headlines, widgets, dates, records, foreign text:
   negative; captions and duplicates: about neutral, so they do not cut the article in two) and
   the main content is the contiguous run of blocks with the largest score sum (the maximum
   sub-array, as in body-text extraction). A lead separated from the body by furniture is taken
   back, captions/widgets/duplicates inside the run are dropped, and a title is picked from the
   short lines just above the run (in the article's language).
5. If nothing looks like text, the longest block is kept: a non-blank input never comes out empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from .langid import UND, Profile, char_mass, detect, profile

__all__ = ["Cleaned", "clean_html", "clean_text", "split_sentences"]


@dataclass(frozen=True)
class Cleaned:
    """The main text of a page: its title, its paragraphs (lead first) and what was dropped."""

    title: str | None
    paragraphs: tuple[str, ...]
    removed: tuple[str, ...] = ()
    lang: str = UND  # language of the main text found while cleaning ("und" if not detected)
    #: headline-like lines above the main text (text, words), top first, the title among them;
    #: `page_titles` chooses again without the lines a site repeats on every page
    title_options: tuple[tuple[str, int], ...] = ()
    header: tuple[str, ...] = ()  # the page's first lines, when above the main text (a site banner)

    @property
    def text(self) -> str:
        """The main text: the paragraphs joined by newlines (the title is not included)."""
        return "\n".join(self.paragraphs)

    @property
    def lead(self) -> str:
        """The first paragraph ("" when there is none)."""
        return self.paragraphs[0] if self.paragraphs else ""


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

_INVISIBLE = re.compile(r"[\u00ad\u200b\u2060\ufeff]")
_INVISIBLE_CHARS = ("\u00ad", "\u200b", "\u2060", "\ufeff")
_TERMINALS = ".!?…。！？｡؟۔।॥։።"
_CLOSERS = "\"'”’“‘«»)]）」』›"
_LETTER = re.compile(r"[^\W\d_]")

# dates and times: 14:24, 10h30, 08/06/2025, 2023-12-27, 27.12.2023, 2023年12月27日, 2023년 12월
_DATE_TIME = re.compile(
    r"(?<!\d)\d{1,4}(?:[:h]\d{2}(?!\d)|[/.\-]\d{1,2}[/.\-]\d{2,4}(?!\d)|\s?[年년]\s?\d{1,2}\s?[月월]"
    r"|\s?[月월]\s?\d{1,2}\s?[日일])|(?<!\d)(?:19|20)\d{2}(?!\d)"
)
# (a date may follow a name without a space: "By John Smith12/03/2024")
_FULL_DATE = re.compile(r"(?<!\d)\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}:\d{2}\b")
_DATE_RESIDUE = re.compile(
    r"\d+|\b(?:GMT|UTC|ICT|CET|CEST|EST|EDT|PST|PDT|BST|AM|PM|am|pm)\b|[^\w\s]|_|[年月日时分년월일시분]"
)
# an image caption: a marker word followed by ':' '/' ',' or 'by', e.g. "(Foto: X/VNA)", "Ảnh: Q.H"
# (matched on case-folded text)
_CAPTION = re.compile(
    r"(?:^|(?<=[\s(\[|–—\-]))(?:photos?|foto|fotos|ảnh|image|images|bild|kuva|фото|"
    r"photograph|pictures?|credit|crédit|圖|图|照片|写真|ภาพ|صورة|gambar)"
    r"\s*(?:[:：/,]|by\b)"
)
_CAPTION_TAIL = re.compile(r"\((?:[^()]*/\s*)?(?:VNA|TTXVN|AFP|AP|Reuters|Getty[^()]*|EPA|Xinhua)\)\s*$")
# a dateline that opens a report: "(GLO)-", "(HG) - ", "HÀ NỘI — ", "WASHINGTON (Reuters) -"
_DATELINE = re.compile(
    r"^\s*(?:\((?P<a>[^()\d]{2,24})\)|(?P<b>[^\W\d_][^\W\d_ .,'’]*(?:[ .,'’]+[^\W\d_]+){0,3})"
    r"(?:\s*\([^()]{2,24}\))?)\s*[-–—]+"
)
_COUNTER = re.compile(r"^[^\W\d_][^\W\d_'-]*(?: [^\W\d_'-]+){0,3}\s*(?:\(\s*\d+\s*\)|\[\s*\d+\s*\]|:\s*\d+)$")
_PLACEHOLDER = {"null", "undefined", "none", "nan", "n/a", "no data", "loading", "loading..."}


def _phrases(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in text.split("|") if p.strip())


# Widget words in several languages: one weak cue among the structural ones. A short line equal
# to one of these (counters and punctuation aside), or containing one of _WIDGET_CONTAINS, is W;
# _RELATED lines also announce a list of other articles or the comments (a strong break).
_RELATED = _phrases(
    """
    comments | leave a comment | leave a reply | write a comment | add a comment | related |
    related articles | related news | related stories | read more | see more | see also |
    more stories | more news | you may also like | recommended | most read | most popular |
    popular | trending | latest news | same category | same author |
    viết bình luận | viết bình luận mới | gửi bình luận | bình luận | ý kiến bạn đọc | xem thêm |
    đọc thêm | đọc nhiều | đọc nhiều nhất | tin liên quan | bài liên quan | tin cùng chuyên mục |
    cùng chuyên mục | có thể bạn quan tâm | tin khác | tin mới | tin đọc nhiều |
    kommentarer | läs mer | läs också | relaterat | relaterade artiklar | mest läst |
    kommentare | mehr zum thema | weiterlesen | das könnte sie auch interessieren |
    ähnliche artikel | commentaires | lire aussi | à lire aussi | lire la suite |
    sur le même sujet | articles similaires | comentarios | leer más | te puede interesar |
    también te puede interesar | noticias relacionadas | lee también | комментарии |
    читайте также | по теме | похожие новости | читать далее | 评论 | 評論 | 相关新闻 | 相关阅读 |
    相關新聞 | 延伸阅读 | 阅读更多 | コメント | 関連記事 | 関連ニュース | ความคิดเห็น |
    ข่าวที่เกี่ยวข้อง | อ่านเพิ่มเติม | تعليقات | اقرأ أيضا | اقرأ أيضاً | أخبار ذات صلة | komentar |
    baca juga | berita terkait | les mer | les også | læs mere | læs også | kommentit | lue lisää |
    lue myös
    """
)
_WIDGETS = _RELATED | _phrases(
    """
    share | share this | share this article | comment | source | sources | tags | tag | print |
    email | e-mail | like | tweet | follow | follow us | subscribe | login | log in | sign in |
    sign up | register | advertisement | ads | sponsored | menu | home | search | back | next |
    previous | top | back to top | video | videos | photo | photos | gallery | copy link | reply |
    report | news | newsletter | download | save | bookmark |
    chia sẻ | nguồn | thẻ | theo dõi | đăng nhập | đăng ký | quảng cáo | trang chủ | tìm kiếm |
    gửi | ý kiến | in bài | dela | kommentar | källa | annons | prenumerera | logga in | följ |
    teilen | quelle | anzeige | werbung | abonnieren | anmelden | drucken | partager |
    commentaire | publicité | s'abonner | se connecter | imprimer | compartir | comentario |
    fuente | publicidad | suscríbete | iniciar sesión | imprimir | поделиться | комментарий |
    источник | реклама | подписаться | войти | 分享 | 来源 | 來源 | 广告 | 打印 | 登录 | シェア |
    出典 | 広告 | ログイン | แชร์ | แหล่งที่มา | โฆษณา | شارك | مشاركة | تعليق | المصدر | إعلان |
    del | kilde | annonse | annonce | jaa | kommentti | lähde | mainos | bagikan | sumber | iklan
    """
)
_WIDGET_CONTAINS = re.compile(  # matched on case-folded text
    r"google news|cookie|all rights reserved|©|copyright|bình luận|chia sẻ|share on|follow us|"
    r"subscribe to|sign up for|責任編輯|责任编辑|编辑[:：]|theo dõi .{0,40} trên"
)
_WIDGET_STRIP = re.compile(r"[\d()\[\]{}<>|:;,.!?·•#*+\-–—_/\\\"'“”‘’«»…]+")

# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------

# scores (in Latin-equivalent characters of text)
_TEXT_OFFSET = 40.0  # a text block scores mass - offset: one-word "sentences" are slightly negative
_LONG_NO_PUNCT = 200  # a block this heavy counts as text even without terminal punctuation
_LONG_NO_PUNCT_THAI = 60  # Thai and Lao write no sentence punctuation: length is the only cue
_THAI_LAO = re.compile(r"[\u0e00-\u0eff]")
_MAX_HEADLINE_WORDS = 40
_HEADER_LINES = 2  # a page's first lines that may be its site's banner
_MAX_TRIMS = 24  # rounds of trimming foreign blocks off the edges of the main run


@dataclass
class _Block:
    text: str
    mass: int
    words: int
    kind: str  # L text, H headline-like, T date/time, C caption, W widget
    related: bool = False  # announces a list of other articles ("Xem thêm", "Related")
    dup: bool = False
    record: bool = False  # part of a list of other articles
    dateline: bool = False
    profile: Profile | None = None  # language profile (computed on demand)


def _normalise_line(line: str) -> str:
    if any(c in line for c in _INVISIBLE_CHARS):
        line = _INVISIBLE.sub("", line)
    return " ".join(line.split())  # str.split() knows every Unicode space


def _ends_sentence(s: str) -> bool:
    s = s.rstrip(_CLOSERS + " ")
    return bool(s) and s[-1] in _TERMINALS


def _split_blocks(text: str) -> list[str]:
    """Non-empty normalised lines; a line that does not end a sentence is joined to a following
    line that starts in lower case (hard-wrapped paragraphs)."""
    for sep in ("\r\n", "\r", "\u2028", "\u2029", "\x85"):
        text = text.replace(sep, "\n")
    out: list[str] = []
    joinable = False
    for raw in text.split("\n"):
        line = _normalise_line(raw)
        if not line:
            joinable = False
            continue
        if joinable and out and line.lstrip("\"'“‘«([")[:1].islower():
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
        joinable = not _ends_sentence(out[-1])
    return out


def _widget_key(s: str) -> str:
    return " ".join(_WIDGET_STRIP.sub(" ", s.casefold()).split())


def _is_date_only(s: str, words: int) -> bool:
    if words > 12 or not _DATE_TIME.search(s):
        return False
    residue = _DATE_RESIDUE.sub(" ", s).split()
    return len(residue) <= 4 and sum(len(w) for w in residue) <= 24


def _is_caption(s: str) -> bool:
    """A caption marker at the start of the block or within its last 100 characters."""
    if len(s) > 600:
        return False
    tail = s[-100:]
    if tail.endswith(")") and _CAPTION_TAIL.search(tail):
        return True
    low = tail.casefold()
    return _CAPTION.search(low) is not None or _CAPTION.match(s[:20].casefold()) is not None


def _breadcrumb_marks(s: str, pipes: bool = True) -> int:
    """Separators of a breadcrumb or widget row; `pipes=False` leaves out "|" (share rows use it)."""
    return sum(s.count(c) for c in (">»›|" if pipes else ">»›")) + s.count(" / ")


def _dateline(s: str) -> bool:
    head = s[:60]
    if "-" not in head and "–" not in head and "—" not in head:
        return False
    m = _DATELINE.match(head)
    if not m:
        return False
    head = m.group("a") or m.group("b") or ""
    return bool(_LETTER.search(head)) and head.upper() == head


def _is_widget(s: str, key: str, words: int) -> bool:
    """Share/comment/source lines, counters ("Comment (0)"), placeholders, breadcrumbs."""
    if words <= 8 and (key in _WIDGETS or key in _PLACEHOLDER or not _LETTER.search(s)):
        return True
    if words <= 10 and (_WIDGET_CONTAINS.search(s.casefold()) or _COUNTER.match(s)):
        return True
    return words <= 12 and _breadcrumb_marks(s) >= 2 and not _ends_sentence(s)


def _is_text_shape(s: str, mass: int, words: int) -> bool:
    """Ends a sentence, or is long (Thai and Lao: length is the only cue), or introduces a list."""
    if _ends_sentence(s) or mass >= _LONG_NO_PUNCT:
        return True
    if mass >= _LONG_NO_PUNCT_THAI and _THAI_LAO.search(s):
        return 2 * len(_THAI_LAO.findall(s)) > len(s)
    return s.rstrip(_CLOSERS + " ").endswith((":", "：")) and words > 6


def _make_block(s: str) -> _Block:
    mass = char_mass(s)
    words = max(len(s.split()), mass // 6)
    key = _widget_key(s) if words <= 10 else ""
    related = key in _RELATED
    if _is_date_only(s, words):
        kind = "T"
    elif _is_widget(s, key, words):
        kind = "W"
    elif _is_caption(s):
        kind = "C"
    elif _is_text_shape(s, mass, words):
        kind = "L"
    else:
        kind = "H"
    if kind == "L" and s.rstrip(_CLOSERS + " ")[-1:] in "?!？！" and words <= 20 and mass < 160:
        kind = "H"  # a question or exclamation headline
    return _Block(s, mass, words, kind, related=related, dateline=_dateline(s))


def _mark_duplicates(blocks: Sequence[_Block]) -> None:
    seen: set[str] = set()
    for b in blocks:
        key = " ".join(b.text.casefold().split())
        if key in seen:
            b.dup = True
        seen.add(key)


# --------------------------------------------------------------------------------------------
# Lists of records (related headlines with timestamps and teasers)
# --------------------------------------------------------------------------------------------


def _mark_records(blocks: Sequence[_Block]) -> None:
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


def _mark_timestamp_runs(blocks: Sequence[_Block], period: int = 3) -> None:
    """Mark lists whose records are held together by a recurring anchor every `period` blocks or
    less: a date/time line (headline, timestamp, teaser) or a teaser opening with a dateline such
    as "(WNN)-" (caption, headline, teaser). The blocks around each anchor are its record whatever
    their punctuation (a headline may end in '.' or '?', so `_mark_records` can miss them)."""
    total_text = sum(b.mass for b in blocks if b.kind == "L" and not b.dup)
    for kind in ("T", "D"):
        if kind == "T":
            anchors = [i for i, b in enumerate(blocks) if b.kind == "T" and not b.dup]
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


# --------------------------------------------------------------------------------------------
# Scoring and selection
# --------------------------------------------------------------------------------------------


def _score(b: _Block) -> float:
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


def _profile(b: _Block) -> Profile:
    """The block's language profile, from its first 160 characters (cached)."""
    if b.profile is None:
        b.profile = profile(b.text, 160)
    return b.profile


def _fits(b: _Block, lang: str) -> bool:
    """May the block be in the page language?"""
    return _profile(b).fits(lang)


def _page_language(blocks: Sequence[_Block], votes: int = 8) -> str:
    """The page language. The text blocks (not records or duplicates; other blocks only if no
    text) are read in two halves; when both halves agree, that is the language, otherwise up to
    `votes` blocks spread over the page vote, each weighing its mass."""
    voters = [b for b in blocks if b.kind == "L" and not (b.record or b.dup)]
    if not voters:
        voters = sorted((b for b in blocks if not b.dup), key=lambda b: -b.mass)[:votes]
    if len(voters) >= 2:
        half = len(voters) // 2
        first = profile("\n".join(b.text[:150] for b in voters[:half][:4]), 600).best
        second = profile("\n".join(b.text[:150] for b in voters[half:][:4]), 600).best
        if first == second:
            return first
    if len(voters) > votes:
        step = (len(voters) - 1) / (votes - 1)
        voters = [voters[round(k * step)] for k in range(votes)]
    mass: dict[str, int] = {}
    for b in voters:
        best = _profile(b).best
        if best != UND:
            mass[best] = mass.get(best, 0) + b.mass
    return max(sorted(mass), key=lambda c: mass[c]) if mass else UND


def _foreign(b: _Block, lang: str) -> bool:
    """True when a text block is surely not in the page language `lang`."""
    return lang != UND and b.kind == "L" and not _fits(b, lang)


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


def _is_text(b: _Block, lang: str) -> bool:
    return b.kind == "L" and not (b.record or b.dup or b.related or _foreign(b, lang))


def _title_key(s: str) -> str:
    return " ".join(_WIDGET_STRIP.sub(" ", s.casefold()).split())


def _title_options(blocks: Sequence[_Block], start: int, lang: str) -> list[int]:
    """Indices of the headline-like short lines just above the main text, top first."""
    found: list[int] = []
    run_h = 0
    for i in range(start - 1, max(-1, start - 7), -1):
        b = blocks[i]
        if b.kind == "L":
            if i + 1 < len(blocks) and _dateline_below(blocks[i + 1]) and _one_short_sentence(b):
                found.append(i)  # a headline that ends with a full stop, above its date line
            break
        if _breadcrumb_marks(b.text, pipes=False) >= 2:
            break  # a breadcrumb (Home > World > Asia, Hem / Politik): above it is the site's header
        if b.kind != "H" or b.dup or not (2 <= b.words <= _MAX_HEADLINE_WORDS):
            continue
        if b.words <= 10 and _FULL_DATE.search(b.text):  # a byline or dateline, not a title
            continue
        if b.record:
            run_h += 1
            if run_h > 1:
                break
        if _breadcrumb_marks(b.text) >= 2:  # share widgets (Share | Tweet | Email)
            continue
        if not _fits(b, lang):
            continue
        found.append(i)
    return found[::-1]


def _dateline_below(b: _Block) -> bool:
    """A date line, or a short byline with a date."""
    return b.kind == "T" or (b.words <= 10 and _FULL_DATE.search(b.text) is not None)


def _one_short_sentence(b: _Block) -> bool:
    """A line of at most 20 words that ends a sentence and holds no other sentence end."""
    body = b.text.rstrip(_CLOSERS + " ")[:-1]
    return 2 <= b.words <= 20 and b.mass < 160 and not re.search(r"[.!?。！？]\s", body)


def _choose_title(words: Sequence[int]) -> int | None:
    """Position of the title among options of `words` words (top first): the longest, or the
    topmost one nearly as long."""
    if not words:
        return None
    longest = max(words)
    return min(k for k, w in enumerate(words) if w >= 0.6 * longest)


def clean_text(text: str, title: str | None = None) -> Cleaned:
    """Split `text` into main text (title, lead, body) and boilerplate; see the module doc."""
    parts = _split_blocks(text or "")
    given = _normalise_line(title) if title else None
    given = given or None
    if not parts:
        rest = " ".join((text or "").split())  # only invisible characters: keep them as they are
        return Cleaned(given, (rest,) if rest else (), ())
    if len(parts) == 1:
        return Cleaned(given, (parts[0],), (), detect(parts[0]))

    blocks = [_make_block(s) for s in parts]
    _mark_duplicates(blocks)
    _mark_records(blocks)
    _mark_timestamp_runs(blocks)

    lang = _page_language(blocks)

    # best run of blocks; text in another language at its edges is furniture: penalise, rerun
    scores = [_score(b) for b in blocks]
    span = _max_segment(scores)
    checked: set[int] = set()
    for _ in range(_MAX_TRIMS):
        if span is None or lang == UND:
            break
        edges = [i for i in dict.fromkeys(span) if i not in checked]
        checked.update(edges)
        foreign = [i for i in edges if _foreign(blocks[i], lang)]
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

    title_idx: int | None = None
    options: list[int] = []
    if given:
        gkey = _title_key(given)
        keep_wo = [i for i in keep if _title_key(blocks[i].text) != gkey]
        keep = keep_wo or keep
        out_title: str | None = given
    else:
        options = _title_options(blocks, keep[0], lang)
        pick = _choose_title([blocks[i].words for i in options])
        title_idx = options[pick] if pick is not None else None
        if title_idx is None and len(keep) >= 2:
            # no title above: a long unpunctuated first block, shorter than the next, is one
            first = blocks[keep[0]]
            if (
                not _ends_sentence(first.text)
                and first.mass <= 300
                and blocks[keep[1]].mass >= first.mass
                and not any(b.kind == "L" and not b.record for b in blocks[: keep[0]])
            ):
                title_idx = keep.pop(0)
        out_title = blocks[title_idx].text if title_idx is not None else None

    kept = set(keep)
    removed = tuple(b.text for i, b in enumerate(blocks) if i not in kept and i != title_idx)
    return Cleaned(
        out_title,
        tuple(blocks[i].text for i in keep),
        removed,
        lang,
        tuple((blocks[i].text, blocks[i].words) for i in options) if title_idx in options else (),
        tuple(blocks[i].text for i in range(min(_HEADER_LINES, keep[0])) if i != title_idx),
    )


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_BLOCK_TAGS = _phrases(
    """
    p | div | br | li | ul | ol | h1 | h2 | h3 | h4 | h5 | h6 | tr | td | th | section | article |
    header | footer | blockquote | pre | figcaption | figure | table | dd | dt | dl | main |
    aside | nav | hr | title | form
    """
)
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "object"}


class _TextOfHtml(HTMLParser):
    """Visible text of an HTML page, one line per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title: list[str] = []
        self.h1: list[str] = []
        self.in_title = False
        self.in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        elif tag == "h1" and not self.h1:
            self.in_h1 = True
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "h1":
            self.in_h1 = False
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            self.parts.append(data)
            if self.in_h1:
                self.h1.append(data)


def _strip_tags(html: str) -> tuple[str, str | None]:
    parser = _TextOfHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed markup: keep what was read
        pass
    title = _normalise_line("".join(parser.h1)) or _normalise_line("".join(parser.title)) or None
    return "".join(parser.parts), title


def clean_html(html: str, title: str | None = None) -> Cleaned:
    """Main content of an HTML page: trafilatura's extraction (precision-oriented, no comments,
    no tables), then `clean_text`; a plain tag-stripping extraction when trafilatura finds
    nothing. The page's own title is used when `title` is not given."""
    text, page_title = "", None
    try:
        import trafilatura

        options: dict[str, Any] = {
            "favor_precision": True,
            "include_comments": False,
            "include_tables": False,
            "include_images": False,
            "with_metadata": True,
        }
        try:
            doc = trafilatura.bare_extraction(html, **options)
        except TypeError:  # an older trafilatura without some of these options
            doc = trafilatura.bare_extraction(html, include_comments=False)
        if doc is not None:
            get = doc.get if isinstance(doc, dict) else lambda k: getattr(doc, k, None)
            text = get("text") or ""
            page_title = get("title") or None
    except Exception:  # noqa: BLE001 - trafilatura failing on odd markup: fall back below
        text = ""
    if not text.strip():
        text, stripped_title = _strip_tags(html)
        page_title = page_title or stripped_title
    return clean_text(text, title=title or page_title)


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------

_SENT_END = re.compile(
    r"(?P<w>[.!?…؟۔।॥։።]+(?:[\"'”’“‘»)\]]|\s»)*)\s+"  # terminal, closers, then a space
    r"|(?P<c>[。！？｡]+[\"'”’」』）)\]]*)\s*"  # CJK: no space needed
)
_THAI_GAP = re.compile(r"(?<=[\u0e00-\u0e7f])\s+(?=[\u0e00-\u0e7f])")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_ABBREV = _phrases(
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
_MIN_SENTENCE_LETTERS = 3
_WIDE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_THAI_MIN = 25


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
        line = _normalise_line(raw)
        if not line:
            continue
        for s in _split_line(line):
            if not s:
                continue
            if carry:
                s = f"{carry} {s}"
                carry = ""
            if len(_LETTER.findall(s)) < _MIN_SENTENCE_LETTERS and not _WIDE_CHAR.search(s):
                carry = s
                continue
            result.append(s)
    if carry:
        if result:
            result[-1] = f"{result[-1]} {carry}"
        else:
            result.append(carry)
    return result


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
            pick = _choose_title([w for _, w in opts])
            out.append(opts[pick][0] if pick is not None else None)
        else:
            out.append(c.title if c.title not in site else None)
    return out
