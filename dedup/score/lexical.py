"""Score stage, lexical evidence: TF-IDF of title and text within a language, and rare names.

Takes each article's title and cleaned text with its language; gives `Lexical`, one normalised
TF-IDF row per article (scipy CSR), whose dot products are the lexical similarity of same-language
pairs, and `rarity`, the weight of a name by how rare it is as a word.

The inverse document frequency of a word is the corpus's, shrunk towards a prior: the word's
document probability in general text of its language (wordfreq), as if `PRIOR_DOCS` such documents
had been seen beside the corpus. Five articles thus weigh words as a large corpus would, and a word
that a corpus repeats (the topic of a burst of reports: "rehab", "earthquake") loses weight only
when the corpus is large enough to say so. Languages wordfreq does not know use one flat prior.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Pseudo-documents of general text mixed into every word's document frequency: a corpus of a few
#: thousand articles moves a pair's lexical similarity by < 0.02 (tests/test_story.py).
PRIOR_DOCS = 20_000.0
DOC_TOKENS = 400.0  # tokens of a typical article: turns a word frequency into a document probability
UNSEEN_FREQ = 2e-8  # frequency of a word general text never showed (names, rare forms)
FLAT_PRIOR = 1e-3  # document probability of every word in a language without a word list
#: Latin-script languages a folded name is looked up in (a name that is a common word in one of them
#: says little: "Bush", "Van", "Mai").
NAME_LANGS = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "tr", "id", "vi")
TITLE_REPEAT = 2  # the title counts this many times: it names the occasion
_WORD = re.compile(r"[^\W\d_]{2,}")


@functools.lru_cache(maxsize=64)
def _freqs(lang: str) -> dict[str, float] | None:
    """wordfreq's word frequencies of a language, or None when it has no list for it."""
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    base = lang.split("-")[0].lower()
    if base not in wordfreq.available_languages():
        return None
    return dict(wordfreq.get_frequency_dict(base))


def doc_prob(word: str, lang: str) -> float:
    """Prior probability that an article of `lang` contains `word` (lower-cased)."""
    table = _freqs(lang)
    if table is None:
        return FLAT_PRIOR
    f = table.get(word, UNSEEN_FREQ)
    return -math.expm1(-f * DOC_TOKENS)


def rarity(word: str) -> float:
    """Information of a folded (ASCII) name as a word: -log of its largest document probability in
    the `NAME_LANGS`, in [0, 1] (1: never seen in general text). The same in any corpus."""
    p = max(doc_prob(word, lang) for lang in NAME_LANGS)
    return min(1.0, -math.log(max(p, 1e-12)) / -math.log(-math.expm1(-UNSEEN_FREQ * DOC_TOKENS)))


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters only, two or more)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Lexical:
    """Normalised TF-IDF rows (CSR, one per article) and each article's language index."""

    matrix: Any  # scipy.sparse.csr_matrix (n, vocabulary)
    lang: np.ndarray  # (n,) language index: rows of different languages never compare

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(p,) cosine of rows a[i], b[i]; 0 across languages."""
        a = np.asarray(a, dtype=np.int64).reshape(-1)
        b = np.asarray(b, dtype=np.int64).reshape(-1)
        if a.size == 0:
            return np.zeros(0, dtype=np.float32)
        m = self.matrix
        out = np.asarray(m[a].multiply(m[b]).sum(axis=1)).reshape(-1)
        out[self.lang[a] != self.lang[b]] = 0.0
        return np.clip(out, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class LexicalStats:
    """A corpus's word statistics: each (language, word) column's inverse document frequency and
    the articles seen per language. Frozen by a standing index; a word it has not seen gets the
    IDF of a word no article had (its general-text prior alone)."""

    vocab: dict[tuple[str, str], int]  # (language, word) -> column
    idf: np.ndarray  # (columns,) float64
    docs_of: dict[str, int]  # articles per language

    def extended(self, counts: Sequence[Counter[tuple[str, str]]]) -> LexicalStats:
        """These statistics with a column (and its IDF) for every word of `counts` not seen yet."""
        vocab = dict(self.vocab)
        new: list[tuple[str, str]] = []
        for c in counts:
            for key in c:
                if key not in vocab:
                    vocab[key] = len(vocab)
                    new.append(key)
        if not new:
            return self
        extra = np.array(
            [
                math.log((self.docs_of.get(lang, 0) + PRIOR_DOCS) / (PRIOR_DOCS * doc_prob(w, lang)))
                for lang, w in new
            ],
            dtype=np.float64,
        )
        return LexicalStats(vocab, np.concatenate([self.idf, extra]), self.docs_of)


def term_counts(
    titles: Sequence[str | None], texts: Sequence[str], langs: Sequence[str]
) -> list[Counter[tuple[str, str]]]:
    """Each article's (language, word) counts; the title counts TITLE_REPEAT times."""
    out: list[Counter[tuple[str, str]]] = []
    for title, text, lang in zip(titles, texts, langs, strict=True):
        toks = words(text) + words(title or "") * TITLE_REPEAT
        out.append(Counter((lang, w) for w in toks))
    return out


def fit(counts: Sequence[Counter[tuple[str, str]]], langs: Sequence[str]) -> LexicalStats:
    """The statistics of a corpus (shrunk IDF per language; columns in order of first appearance)."""
    vocab: dict[tuple[str, str], int] = {}
    for c in counts:
        for key in c:
            vocab.setdefault(key, len(vocab))
    df = np.zeros(len(vocab), dtype=np.float64)
    for c in counts:
        df[[vocab[key] for key in c]] += 1
    docs_of = Counter(langs)
    prior = np.empty(len(vocab), dtype=np.float64)
    n_lang = np.empty(len(vocab), dtype=np.float64)
    for (lang, w), k in vocab.items():
        prior[k] = doc_prob(w, lang)
        n_lang[k] = docs_of[lang]
    idf = np.log((n_lang + PRIOR_DOCS) / (df + PRIOR_DOCS * prior))
    return LexicalStats(vocab, idf, dict(docs_of))


def count_matrix(stats: LexicalStats, counts: Sequence[Counter[tuple[str, str]]]) -> Any:
    """Articles' term counts as a scipy CSR over the columns of `stats` (every word must have one:
    `LexicalStats.extended`), columns sorted within each row."""
    from scipy.sparse import csr_matrix

    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for c in counts:
        cols = sorted((stats.vocab[key], v) for key, v in c.items())
        indices.extend(k for k, _ in cols)
        data.extend(v for _, v in cols)
        indptr.append(len(indices))
    return csr_matrix(
        (np.asarray(data, np.float32), np.asarray(indices, np.int64), np.asarray(indptr)),
        shape=(len(counts), max(len(stats.vocab), 1)),
    )


def weigh(counts: Any, idf: np.ndarray) -> Any:
    """Normalised TF-IDF rows (float32 CSR, sublinear term frequency) of a CSR of term counts."""
    from scipy.sparse import csr_matrix

    m = counts.tocsr()
    vals = (1.0 + np.log(m.data.astype(np.float64))) * idf[m.indices]
    lengths = np.diff(m.indptr)
    norms = np.sqrt(np.bincount(np.repeat(np.arange(m.shape[0]), lengths), vals * vals, m.shape[0]))
    per = np.repeat(norms, lengths)
    vals = np.where(per > 0, vals / np.where(per > 0, per, 1.0), vals)
    return csr_matrix((vals.astype(np.float32), m.indices, m.indptr), shape=m.shape)


def rows(stats: LexicalStats, counts: Sequence[Counter[tuple[str, str]]]) -> Any:
    """Normalised TF-IDF rows of articles' counts (`weigh` of their `count_matrix`)."""
    return weigh(count_matrix(stats, counts), stats.idf)


def build(titles: Sequence[str | None], texts: Sequence[str], langs: Sequence[str]) -> Lexical:
    """TF-IDF rows of articles (sublinear term frequency, shrunk IDF per language)."""
    counts = term_counts(titles, texts, langs)
    matrix = rows(fit(counts, langs), counts)
    index = {name: k for k, name in enumerate(sorted(set(langs)))}
    return Lexical(matrix, np.array([index[x] for x in langs], dtype=np.int64))
