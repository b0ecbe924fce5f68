"""The clean stage for HTML: page markup -> `Cleaned`.

Takes an HTML page (and its title if known); extracts its text with trafilatura (precision-
oriented, no comments, no tables), or with a plain tag-stripping parser when trafilatura finds
nothing, and gives `clean_text` of that text, titled by the page's own title when none is given.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from .cleaned import Cleaned
from .lines import normalise_line, phrases
from .text import clean_text

_BLOCK_TAGS = phrases(
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


def strip_tags(html: str) -> tuple[str, str | None]:
    """A page's text without markup, scripts and styles, and its headline (h1, else <title>)."""
    parser = _TextOfHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed markup: keep what was read
        pass
    title = normalise_line("".join(parser.h1)) or normalise_line("".join(parser.title)) or None
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
        text, stripped_title = strip_tags(html)
        page_title = page_title or stripped_title
    return clean_text(text, title=title or page_title)
