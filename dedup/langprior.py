"""Language means of an encoder, measured on neutral text, used as priors for language centring.

Multilingual embeddings carry a per-language component. On a large corpus each language's mean
estimates it; on five articles that mean is mostly the articles' own topic. So each language's
offset is also measured once per model on topic-free text: pseudo-sentences drawn from the
language's function words (the stoplists that jusText ships for about 100 languages); the
language's prior mean is halfway between the corpus mean and that neutral mean (see
`dedup.score.centring.NEUTRAL_WEIGHT`). Means are cached as JSON per model in the dedup home directory;
languages without a stoplist get none (their centring falls back to the corpus mean).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .encoders import Encoder, cache_key_of, check_vectors
from .model import dedup_home

N_SENTENCES = 48
WORDS_PER_SENTENCE = 12
FORMAT = 1

# ISO 639-1 -> jusText stoplist name
STOPLISTS = {
    "af": "Afrikaans", "sq": "Albanian", "ar": "Arabic", "an": "Aragonese", "hy": "Armenian",
    "ast": "Asturian", "az": "Azerbaijani", "eu": "Basque", "be": "Belarusian", "bn": "Bengali",
    "bs": "Bosnian", "br": "Breton", "bg": "Bulgarian", "ca": "Catalan", "ceb": "Cebuano",
    "cv": "Chuvash", "hr": "Croatian", "cs": "Czech", "da": "Danish", "nl": "Dutch", "en": "English",
    "eo": "Esperanto", "et": "Estonian", "fi": "Finnish", "fr": "French", "gl": "Galician",
    "ka": "Georgian", "de": "German", "el": "Greek", "gu": "Gujarati", "ht": "Haitian",
    "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "is": "Icelandic", "io": "Ido", "ig": "Igbo",
    "id": "Indonesian", "ga": "Irish", "it": "Italian", "jv": "Javanese", "kn": "Kannada",
    "kk": "Kazakh", "ko": "Korean", "ku": "Kurdish", "ky": "Kyrgyz", "la": "Latin", "lv": "Latvian",
    "lt": "Lithuanian", "lb": "Luxembourgish", "mk": "Macedonian", "ms": "Malay",
    "ml": "Malayalam", "mt": "Maltese", "mr": "Marathi", "ne": "Nepali", "nb": "Norwegian_Bokmal",
    "nn": "Norwegian_Nynorsk", "oc": "Occitan", "fa": "Persian", "pl": "Polish", "pt": "Portuguese",
    "qu": "Quechua", "ro": "Romanian", "ru": "Russian", "sr": "Serbian", "sk": "Slovak",
    "sl": "Slovenian", "es": "Spanish", "su": "Sundanese", "sw": "Swahili", "sv": "Swedish",
    "tl": "Tagalog", "ta": "Tamil", "te": "Telugu", "tr": "Turkish", "tk": "Turkmen",
    "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "vo": "Volapuk",
    "wa": "Walloon", "cy": "Welsh", "fy": "West_Frisian", "yo": "Yoruba",
}  # fmt: skip


def pseudo_sentences(lang: str, n: int = N_SENTENCES, k: int = WORDS_PER_SENTENCE) -> list[str]:
    """Deterministic topic-free pseudo-sentences of a language's function words ([] if unknown)."""
    name = STOPLISTS.get(lang)
    if name is None:
        return []
    import justext

    words = sorted(justext.get_stoplist(name))
    if len(words) < k:
        return []
    rng = random.Random(f"{lang}-{FORMAT}")
    return [" ".join(rng.sample(words, k)) for _ in range(n)]


def _cache_path(cache_key: str) -> Path:
    key = hashlib.sha256(cache_key.encode("utf-8")).hexdigest()[:16]
    return dedup_home() / "priors" / f"{key}.json"


class LanguagePriors:
    """Lazily measured neutral-text language means for one encoder, kept on disk (`cache`) under the
    encoder's `cache_key`; an encoder without one is measured afresh every run."""

    def __init__(self, encoder: Encoder, *, cache: bool = True) -> None:
        self.encoder = encoder
        self._means: dict[str, np.ndarray] = {}
        key = cache_key_of(encoder)
        self._path = _cache_path(key) if cache and key is not None else None
        if self._path is not None and self._path.exists():
            try:
                data = json.loads(self._path.read_text("utf-8"))
                if data.get("format") == FORMAT and data.get("model") == encoder.name:
                    means = {k: np.asarray(v, dtype=np.float32) for k, v in data["means"].items()}
                    if len({v.shape for v in means.values()}) <= 1:
                        self._means = means
            except (OSError, ValueError, KeyError):
                self._means = {}

    def _measure(self, langs: Iterable[str]) -> None:
        todo = [lang for lang in sorted(set(langs)) if lang not in self._means and lang in STOPLISTS]
        if not todo:
            return
        texts: list[str] = []
        spans: list[tuple[str, int, int]] = []
        for lang in todo:
            ps = pseudo_sentences(lang)
            spans.append((lang, len(texts), len(texts) + len(ps)))
            texts.extend(ps)
        vec = check_vectors(self.encoder.encode(texts), len(texts), what=f"encoder {self.encoder.name!r}")
        vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
        if self._means and next(iter(self._means.values())).shape[0] != vec.shape[1]:
            self._means = {}  # a cache of another dimension (another model under this name)
            self._measure(langs)
            return
        for lang, a, b in spans:
            # rounded as stored, so a cold and a warm cache give the same scores
            self._means[lang] = np.round(vec[a:b].mean(axis=0), 6).astype(np.float32)
        self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(f".{os.getpid()}.tmp")
            payload = {
                "format": FORMAT,
                "model": self.encoder.name,
                "means": {k: [round(float(x), 6) for x in v] for k, v in sorted(self._means.items())},
            }
            tmp.write_text(json.dumps(payload), "utf-8")
            os.replace(tmp, self._path)
        except OSError:
            pass  # a cache we cannot write is only slower next time

    def means(self, langs: Iterable[str]) -> dict[str, np.ndarray]:
        """Mean unit vector on neutral text of those of `langs` that have a stoplist."""
        langs = list(langs)
        dim = getattr(self.encoder, "dim", None)
        if self._means and isinstance(dim, int) and next(iter(self._means.values())).shape[0] != dim:
            self._means = {}  # cached for another model of the same name
        self._measure(langs)
        return {lang: self._means[lang] for lang in set(langs) if lang in self._means}
