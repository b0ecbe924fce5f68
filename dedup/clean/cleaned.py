"""The clean stage's result: `Cleaned`, the title, paragraphs and language of one page.

Made by `clean_text` / `clean_html` (dedup.clean.text, dedup.clean.html); read by the pipeline and
by `page_titles` (dedup.clean.titles), which chooses titles again over a whole corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..langid import UND


@dataclass(frozen=True)
class Cleaned:
    """The main text of a page: its title, its paragraphs (lead first) and what was dropped."""

    title: str | None
    paragraphs: tuple[str, ...]
    removed: tuple[str, ...] = ()
    #: language of the main text (ISO 639-1, "und" if none): the page language the cleaning read
    #: from the text blocks, or the kept text's `langid.detect` when it had none to read
    lang: str = UND
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
