"""Score stage, language centring: take each language's offset out of multilingual vectors.

Raw cosine between multilingual embeddings prefers same-language neighbours. Takes vectors and a
language per row; gives them centred on their language's mean and renormalised. A language's mean
is shrunk towards a prior when the language has few rows (a five-article corpus must not be centred
on noise): halfway between the corpus mean and the language's mean on neutral text
(`dedup.langprior`), since on a small corpus the corpus mean is mostly the corpus's own topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

LANG_SHRINK = 64.0  # pseudo-count of prior rows mixed into every language mean
#: Weight of the neutral-text mean in a language's prior (the rest is the corpus mean): 0 centres a
#: small corpus on its own topic, 1 keeps its shared register (benchmarks/README.md, "centring").
NEUTRAL_WEIGHT = 0.5
_BLOCK = 1 << 16  # rows normalised at once (bounds the temporaries)


def centre_by_language(
    vectors: np.ndarray,
    langs: Sequence[str],
    shrink: float = LANG_SHRINK,
    neutral: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Subtract each language's (shrunk) mean and renormalise; returns a new array."""
    return centre_inplace(np.array(vectors, dtype=np.float32, copy=True), langs, shrink, neutral)


def centre_inplace(
    x: np.ndarray,
    langs: Sequence[str],
    shrink: float = LANG_SHRINK,
    neutral: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """`centre_by_language` on a float32 array that the caller gives up (modified and returned):
    no copies of the whole array, so a million document vectors fit in memory."""
    if x.shape[0] == 0:
        return x
    return centre_with(x, langs, language_means(x, langs, shrink, neutral))


def language_means(
    x: np.ndarray,
    langs: Sequence[str],
    shrink: float = LANG_SHRINK,
    neutral: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The (shrunk) mean of each language of `x`, keyed by language; "" holds the corpus mean, the
    prior of a language the corpus does not have (`prior_mean`). Frozen by a standing index."""
    lang_arr = np.asarray(langs)
    g = x.mean(axis=0)
    out = {"": g.astype(np.float32)}
    for lang in sorted(set(lang_arr.tolist())):
        mask = lang_arr == lang
        cnt = float(mask.sum())
        prior = prior_mean(g, lang, neutral)
        if cnt == x.shape[0]:  # one language: same values, without the masked copy
            out[lang] = (x.sum(axis=0) + shrink * prior) / (cnt + shrink)
        else:
            out[lang] = (x[mask].sum(axis=0) + shrink * prior) / (cnt + shrink)
    return out


def prior_mean(g: np.ndarray, lang: str, neutral: Mapping[str, np.ndarray] | None) -> np.ndarray:
    """A language's prior mean: halfway between the corpus mean `g` and its neutral-text mean."""
    if neutral is not None and lang in neutral:
        return (1.0 - NEUTRAL_WEIGHT) * g + NEUTRAL_WEIGHT * np.asarray(neutral[lang], dtype=np.float32)
    return g


def centre_with(x: np.ndarray, langs: Sequence[str], means: Mapping[str, np.ndarray]) -> np.ndarray:
    """Subtract each row's language mean from `means` (modified in place) and renormalise."""
    lang_arr = np.asarray(langs)
    present = sorted(set(lang_arr.tolist()))
    for lang in present:
        if len(present) == 1:
            x -= means[lang]
        else:
            x[lang_arr == lang] -= means[lang]
    for start in range(0, x.shape[0], _BLOCK):
        blk = x[start : start + _BLOCK]
        norms = np.linalg.norm(blk, axis=1, keepdims=True)
        blk /= np.where(norms > 1e-12, norms, 1.0)
    return x
