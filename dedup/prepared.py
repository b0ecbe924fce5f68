"""Clean, language, split, embed and surface evidence of articles: what scoring reads of each one.

Takes articles in row order, a config and an encoder; gives `Prepared`: per row the language, title,
cleaned text, names/numbers/event date (`dedup.features`) and what the canonical policies read, the
embedded units and passages, and the model's neutral-text mean of every language present. Both the
one-shot pipeline and the standing index (`dedup.standing`) prepare articles here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import canonical as canon
from . import clean as clean_mod
from . import embed as embed_mod
from . import features
from .cache import for_encoder
from .config import Config
from .embed import Units
from .features import Evidence
from .io import Article
from .langprior import LanguagePriors
from .timing import Timer, progress

LEAD_SENTENCES = 2  # sentences after the title whose names say who a report is about


@dataclass(frozen=True)
class Prepared:
    """Per-article results of the stages before the index, rows in the order given."""

    langs: list[str]
    titles: list[str | None]
    texts: list[str]  # cleaned main text
    units: Units  # embedded title and lead sentences (unit k belongs to row units.owner[k])
    passages: np.ndarray  # (n, d) one vector per article: title and lead as one text
    neutral: dict[str, np.ndarray]  # the model's mean vector on neutral text, per language present
    evidence: list[Evidence]
    candidates: tuple[canon.Candidate, ...]


def clean_article(a: Article) -> clean_mod.Cleaned:
    """The clean stage of one article (its page language found on the way)."""
    return clean_mod.clean_html(a.text, a.title) if a.html else clean_mod.clean_text(a.text, a.title)


#: Maps a function over articles, results in order: the Ray engine's runs on its workers
MapArticles = Callable[[Callable[[Article], Any], Sequence[Article]], list[Any]]


def prepare_articles(
    rows: Sequence[Article],
    config: Config,
    enc: Any,
    timer: Timer,
    *,
    map_articles: MapArticles | None = None,
    encode_parts: embed_mod.EncodeParts = embed_mod.encode_in_turn,
) -> Prepared:
    """Clean, detect the language of, split, embed and extract the evidence of `rows`.

    `map_articles` and `encode_parts` run the cleaning and the encoder's batches elsewhere (the Ray
    engine, `dedup.distributed`); by default both run here, one after the other."""
    n = len(rows)
    with timer.stage("clean"):
        if map_articles is None:
            cleaned = [clean_article(a) for a in progress(rows, n, "cleaning", config.progress)]
        else:
            cleaned = map_articles(clean_article, rows)
    with timer.stage("language"):
        langs = [a.lang or c.lang for a, c in zip(rows, cleaned, strict=True)]  # the page's, from cleaning
    with timer.stage("split"):
        titles = embed_mod.titles_of([a.title for a in rows], cleaned)
        sentences = [embed_mod.sentences_of(c, a.text) for a, c in zip(rows, cleaned, strict=True)]
        texts, owner = embed_mod.make_units(titles, sentences, max_units=config.max_units)
        passages = embed_mod.make_passages(titles, sentences)
    with timer.stage("embed"):
        cache = for_encoder(enc, config.cache_dir) if config.cache else None
        try:
            units, passage_vectors = embed_mod.embed_all(
                enc, texts, owner, passages, cache, config.progress, encode_parts=encode_parts
            )
        finally:
            if cache is not None:
                cache.close()
    with timer.stage("priors"):
        neutral = LanguagePriors(enc, cache=config.cache_priors).means(langs)
    with timer.stage("features"):
        evidence = [
            features.extract(
                (t or "") + "\n" + c.text,
                features.event_date(
                    a.published,
                    features.header_text(a.text, c.paragraphs[0] if c.paragraphs else ""),
                    c.lead[:400],
                ),
                lead="\n".join([t or "", *s[:LEAD_SENTENCES]]),
            )
            for a, t, c, s in progress(
                zip(rows, titles, cleaned, sentences, strict=True), n, "names and dates", config.progress
            )
        ]
    return Prepared(
        langs=langs,
        titles=titles,
        texts=[c.text for c in cleaned],
        units=units,
        passages=passage_vectors,
        neutral=neutral,
        evidence=evidence,
        candidates=tuple(
            canon.Candidate(a.id, lang, len(c.text), a.published, a.source)
            for a, lang, c in zip(rows, langs, cleaned, strict=True)
        ),
    )
