"""The clean stage: keep an article's title, lead and body from raw web text, in any language.

Takes a page's raw text (`clean_text`) or HTML (`clean_html`), and its title if known; gives a
`Cleaned`: the title, the paragraphs of the main text (lead first), what was dropped, and the
page language found while cleaning (`Cleaned.lang`). Structural cues first, word lists only as
one weak cue:

1. blocks: the text is cut into blocks, each with a kind from its shape (text, headline-like,
   date/time, caption, widget); exact repeats are duplicates.
2. records: lists of other articles (headline / timestamp / teaser, repeated; bare link lists)
   are furniture, even their full-sentence teasers.
3. language: the page language is read from the text blocks; text that does not fit it is
   furniture at the edges of the main run.
4. text: the main content is the contiguous run of blocks with the largest score sum; a lead cut
   off by furniture is taken back, and the title is picked from the short lines above the run
   (titles). A non-blank input never comes out empty.

`page_titles` chooses the titles of a corpus again without the lines a site repeats on every
page; `split_sentences` cuts the cleaned paragraphs into sentences.
"""

from __future__ import annotations

from .cleaned import Cleaned
from .html import clean_html, strip_tags
from .sentences import split_sentences
from .text import clean_text
from .titles import page_titles, site_titles

__all__ = [
    "Cleaned",
    "clean_html",
    "clean_text",
    "page_titles",
    "site_titles",
    "split_sentences",
    "strip_tags",
]
