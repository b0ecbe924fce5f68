"""Language identification with ISO 639-1 codes (py3langid under the hood).

`detect` labels one text; `profile` gives a text's log-likelihood under every language, so that
the clean stage can ask whether a short block may be written in the page's language
(`Profile.fits`); `char_mass` weighs text by script. The py3langid model (about 0.6 s to load) is
loaded once, lazily, behind a lock; classifying does not mutate it, so one instance is shared by
all threads.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["UND", "Profile", "char_mass", "detect", "profile"]

UND = "und"

# py3langid labels -> ISO 639-1. Varieties and macrolanguage members map to the code of their
# macrolanguage (wuu/yue -> zh, ary/arz -> ar, no -> nb since written Norwegian is ~90 % Bokmål);
# historical stages of a language map to the modern one; languages without a 639-1 code (ace,
# pcm, ...) keep their ISO 639-3 code; "zxx" (no linguistic content) becomes "und".
_ALIASES: dict[str, str] = {
    "no": "nb",
    "wuu": "zh",
    "yue": "zh",
    "ary": "ar",
    "arz": "ar",
    "gug": "gn",
    "uzs": "uz",
    "sdh": "ku",
    "ltg": "lv",
    "fuv": "ff",
    "kik": "ki",
    "hbo": "he",
    "grc": "el",
    "zxx": UND,
}

_MAX_CHARS = 1000  # longest text `detect` reads (start and middle): cost is linear, accuracy saturated
_BLOCK_CHARS = 1000  # the same for `profile`

_LETTER = re.compile(r"[^\W\d_]")
# Han, kana and Hangul carry about as much text per character as three Latin letters.
_WIDE = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)

_lock = threading.Lock()
_model: Any = None
_labels: list[str] = []  # normalised code of each model column
_columns: dict[str, np.ndarray] = {}  # normalised code -> its model columns


def _identifier() -> Any:
    """The shared py3langid identifier, loaded on first use (raw scores, all languages)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from py3langid import langid as pl

                cls = pl.LanguageIdentifier
                if hasattr(cls, "from_model_file"):  # py3langid >= 0.4
                    model = cls.from_model_file(pl.MODEL_FILE, norm_probs=False)
                else:  # py3langid 0.2 / 0.3
                    model = cls.from_pickled_model(pl.MODEL_FILE, norm_probs=False)
                labels = [_norm(str(c)) for c in model.nb_classes]
                cols: dict[str, list[int]] = {}
                for i, c in enumerate(labels):
                    cols.setdefault(c, []).append(i)
                _labels[:] = labels
                _columns.update({c: np.asarray(ix) for c, ix in cols.items()})
                _model = model
    return _model


def _raw_scores(sample: str) -> np.ndarray:
    """Log-likelihood of `sample` under each model column (in `_labels` order)."""
    model = _identifier()
    decide = getattr(model, "_decide", None)
    if decide is not None:  # py3langid 0.4: one score per column, no sorting
        return np.asarray(decide(sample), dtype=np.float64)
    out = np.full(len(_labels), -np.inf)
    for code, score in model.rank(sample):
        for i in _columns.get(_norm(str(code)), ()):
            out[i] = max(out[i], float(score))
    return out


def _norm(code: str) -> str:
    code = code.lower()
    return _ALIASES.get(code, code)


def _sample(text: str, limit: int) -> str:
    """At most `limit` characters: the start and the middle of a long text."""
    if len(text) <= limit:
        return text
    half = limit // 2
    mid = len(text) // 2
    return text[:half] + " " + text[mid : mid + half]


def char_mass(text: str) -> int:
    """Length in Latin-equivalent characters: Han, kana and Hangul count three times."""
    return len(text) + 2 * len(_WIDE.findall(text))


def detect(text: str) -> str:
    """ISO 639-1 code of `text` ("und" when blank or without letters)."""
    if not text or not _LETTER.search(text):
        return UND
    code, _ = _identifier().classify(_sample(text.strip(), _MAX_CHARS))
    return _norm(str(code))


@dataclass(frozen=True)
class Profile:
    """The language evidence of one text: its best language (ISO 639-1), its size in bytes and
    its log-likelihood under every language the model knows (`score`)."""

    best: str
    nbytes: int
    raw: np.ndarray | None = field(default=None, repr=False, compare=False)

    def score(self, lang: str) -> float | None:
        """Log-likelihood of the text under `lang` (None if the model does not know `lang`)."""
        cols = _columns.get(lang)
        if self.raw is None or cols is None:
            return None
        return float(self.raw[cols].max())

    def fits(self, lang: str, tolerance: float = 0.6) -> bool:
        """Whether the text may be written in `lang`: its log-likelihood under `lang` is within
        `tolerance` per byte of the best language's. Unlike comparing labels this is robust on
        short texts: names-only headlines and close languages fit, a headline in another language
        does not (the default 0.6 is measured in benchmarks/README.md)."""
        if lang == UND or self.best == UND or self.raw is None:
            return True
        score = self.score(lang)
        if score is None:  # a language the model does not know
            return False
        return (float(self.raw.max()) - score) / max(1, self.nbytes) <= tolerance


_BLANK = Profile(UND, 0)


def profile(text: str, limit: int = _BLOCK_CHARS) -> Profile:
    """The language `Profile` of `text` (of its first `limit` characters and middle, if longer)."""
    if not text or not _LETTER.search(text):
        return _BLANK
    sample = _sample(text.strip(), limit)
    raw = _raw_scores(sample)
    best = _labels[int(raw.argmax())]
    return Profile(best, len(sample.encode("utf-8", "surrogatepass")), raw)
