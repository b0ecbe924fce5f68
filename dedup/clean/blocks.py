"""The clean stage, step 1: raw text -> blocks, each with a kind from its shape.

Takes the page text; gives `Block`s: non-empty normalised lines (a line that does not end a
sentence is joined to a following lower-case line), each of kind ``L`` text (ends a sentence, or
long), ``H`` headline-like (short, no terminal punctuation), ``T`` a date/time-only line, ``C`` an
image caption (Photo:/Foto:/Ảnh:/(... /VNA) markers) or ``W`` a widget (share/comment/source
lines, breadcrumbs, counters, placeholders); exact repeats of an earlier block are duplicates.
Word lists are one weak cue among the structural ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..langid import Profile, char_mass
from .lines import CLOSERS, LETTER, ends_sentence, normalise_line, phrases

_LONG_NO_PUNCT = 200  # a block this heavy counts as text even without terminal punctuation
_LONG_NO_PUNCT_THAI = 60  # Thai and Lao write no sentence punctuation: length is the only cue
_THAI_LAO = re.compile(r"[\u0e00-\u0eff]")

# dates and times: 14:24, 10h30, 08/06/2025, 2023-12-27, 27.12.2023, 2023年12月27日, 2023년 12월
_DATE_TIME = re.compile(
    r"(?<!\d)\d{1,4}(?:[:h]\d{2}(?!\d)|[/.\-]\d{1,2}[/.\-]\d{2,4}(?!\d)|\s?[年년]\s?\d{1,2}\s?[月월]"
    r"|\s?[月월]\s?\d{1,2}\s?[日일])|(?<!\d)(?:19|20)\d{2}(?!\d)"
)
# (a date may follow a name without a space: "By John Smith12/03/2024")
FULL_DATE = re.compile(r"(?<!\d)\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}:\d{2}\b")
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


# Widget words in several languages: one weak cue among the structural ones. A short line equal
# to one of these (counters and punctuation aside), or containing one of _WIDGET_CONTAINS, is W;
# _RELATED lines also announce a list of other articles or the comments (a strong break).
_RELATED = phrases(
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
_WIDGETS = _RELATED | phrases(
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
WIDGET_STRIP = re.compile(r"[\d()\[\]{}<>|:;,.!?·•#*+\-–—_/\\\"'“”‘’«»…]+")


@dataclass
class Block:
    """One block of a page: its text, size, kind and what the later steps found about it."""

    text: str
    mass: int  # `langid.char_mass`: Han, kana and Hangul count three times
    words: int
    kind: str  # L text, H headline-like, T date/time, C caption, W widget
    related: bool = False  # announces a list of other articles ("Xem thêm", "Related")
    dup: bool = False
    record: bool = False  # part of a list of other articles
    dateline: bool = False
    profile: Profile | None = None  # language profile (computed on demand)


def split_blocks(text: str) -> list[str]:
    """Non-empty normalised lines; a line that does not end a sentence is joined to a following
    line that starts in lower case (hard-wrapped paragraphs)."""
    for sep in ("\r\n", "\r", "\u2028", "\u2029", "\x85"):
        text = text.replace(sep, "\n")
    out: list[str] = []
    joinable = False
    for raw in text.split("\n"):
        line = normalise_line(raw)
        if not line:
            joinable = False
            continue
        if joinable and out and line.lstrip("\"'“‘«([")[:1].islower():
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
        joinable = not ends_sentence(out[-1])
    return out


def _widget_key(s: str) -> str:
    return " ".join(WIDGET_STRIP.sub(" ", s.casefold()).split())


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


def breadcrumb_marks(s: str, pipes: bool = True) -> int:
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
    return bool(LETTER.search(head)) and head.upper() == head


def _is_widget(s: str, key: str, words: int) -> bool:
    """Share/comment/source lines, counters ("Comment (0)"), placeholders, breadcrumbs."""
    if words <= 8 and (key in _WIDGETS or key in _PLACEHOLDER or not LETTER.search(s)):
        return True
    if words <= 10 and (_WIDGET_CONTAINS.search(s.casefold()) or _COUNTER.match(s)):
        return True
    return words <= 12 and breadcrumb_marks(s) >= 2 and not ends_sentence(s)


def _is_text_shape(s: str, mass: int, words: int) -> bool:
    """Ends a sentence, or is long (Thai and Lao: length is the only cue), or introduces a list."""
    if ends_sentence(s) or mass >= _LONG_NO_PUNCT:
        return True
    if mass >= _LONG_NO_PUNCT_THAI and _THAI_LAO.search(s):
        return 2 * len(_THAI_LAO.findall(s)) > len(s)
    return s.rstrip(CLOSERS + " ").endswith((":", "：")) and words > 6


def make_block(s: str) -> Block:
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
    if kind == "L" and s.rstrip(CLOSERS + " ")[-1:] in "?!？！" and words <= 20 and mass < 160:
        kind = "H"  # a question or exclamation headline
    return Block(s, mass, words, kind, related=related, dateline=_dateline(s))


def mark_duplicates(blocks: Sequence[Block]) -> None:
    seen: set[str] = set()
    for b in blocks:
        key = " ".join(b.text.casefold().split())
        if key in seen:
            b.dup = True
        seen.add(key)
