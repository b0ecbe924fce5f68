"""Language stage, the script screen: texts written in a script the model cannot read.

Such texts embed to nearly the same vector whatever they say (every word is the unknown token), so
two unrelated ones would look like duplicates; the pipeline rejects them with a reason. Takes an
encoder and texts; gives per text a reason or None. An encoder that can tell which letters its
vocabulary lacks has `unknown_letters(texts) -> [(share, letter)]`; `LetterScreen` implements it
over a tokenizer, keeping the vocabulary's letters and earlier verdicts beside the model so that a
re-run needs neither the model nor its tokenizer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: A text whose letters are at least this share unknown to the model's vocabulary cannot be compared.
UNKNOWN_SCRIPT_SHARE = 0.5
SCRIPT_SAMPLE = 2000  # characters of a text inspected for unknown letters
KNOWN_CHARS = "known_chars.txt"  # letters of the default model's vocabulary, one string
_SCREENED = "screened.json"  # verdicts on texts with other letters (text hash -> share, letter)
_SCREENED_MAX = 200_000
_SURROGATES = re.compile("[\ud800-\udfff]")


class LetterScreen:
    """`unknown_letters` for one model: `tokenizer()` loads its tokenizer (a Hugging Face fast
    tokenizer, or anything with `backend_tokenizer`, `unk_token_id` and `get_vocab()`);
    `home()` is where its known letters and verdicts are kept (None: not kept)."""

    def __init__(self, tokenizer: Callable[[], Any], home: Callable[[], Path | None]) -> None:
        self._tokenizer = tokenizer
        self._home = home
        self._known: frozenset[str] | None = None

    def unknown_letters(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """Per text: the share of its letters (of the first 2,000 characters) that the tokenizer maps
        to the unknown token, and one such letter ("" when none)."""
        home = self._home()
        path = home / KNOWN_CHARS if home is not None else None
        if self._known is None and path is not None and path.is_file():
            with contextlib.suppress(OSError, UnicodeError):
                self._known = frozenset(path.read_text(encoding="utf-8"))
        known = self._known
        if known is None or path is None:
            verdicts = self._tokenized(texts)
            if path is not None and self._known is not None:  # for the next run
                _atomic_write(path, "".join(sorted(self._known)))
            return verdicts
        out: list[tuple[float, str]] = [(0.0, "")] * len(texts)
        todo = [k for k, t in enumerate(texts) if _has_other_letters(t, known)]
        if not todo:
            return out
        memo_path = path.with_name(_SCREENED)
        memo: dict[str, list[Any]] = {}
        with contextlib.suppress(OSError, ValueError):
            memo = dict(json.loads(memo_path.read_text(encoding="utf-8")))
        keys = {
            k: hashlib.blake2b(
                texts[k][:SCRIPT_SAMPLE].encode("utf-8", "surrogatepass"), digest_size=12
            ).hexdigest()
            for k in todo
        }
        need = [k for k in todo if keys[k] not in memo]
        if need:
            for k, verdict in zip(need, self._tokenized([texts[k] for k in need]), strict=True):
                memo[keys[k]] = [verdict[0], verdict[1]]
            if len(memo) <= _SCREENED_MAX:
                _atomic_write(memo_path, json.dumps(memo))
        for k in todo:
            share, ch = memo[keys[k]]
            out[k] = (float(share), str(ch))
        return out

    def _tokenized(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        tok = self._tokenizer()
        backend = getattr(tok, "backend_tokenizer", None)
        unk = getattr(tok, "unk_token_id", None)
        out: list[tuple[float, str]] = [(0.0, "")] * len(texts)
        if tok is None or backend is None or unk is None:
            return out  # no fast tokenizer or no unknown token (byte-level): every letter is known
        if self._known is None:
            self._known = frozenset("".join(tok.get_vocab()))
        known = self._known
        todo = [k for k, t in enumerate(texts) if _has_other_letters(t, known)]  # the rest need no tokenizing
        if not todo:
            return out
        samples = [_SURROGATES.sub("\ufffd", texts[k][:SCRIPT_SAMPLE]) for k in todo]
        for k, sample, enc in zip(
            todo, samples, backend.encode_batch(samples, add_special_tokens=False), strict=True
        ):
            letters = sum(1 for ch in sample if ch.isalpha())
            unknown = [
                ch
                for i, (a, b) in zip(enc.ids, enc.offsets, strict=False)
                if i == unk
                for ch in sample[a:b]
                if ch.isalpha()
            ]
            if letters and unknown:
                out[k] = (len(unknown) / letters, unknown[0])
        return out


def _has_other_letters(text: str, known: frozenset[str]) -> bool:
    return any(ch.isalpha() for ch in set(text[:SCRIPT_SAMPLE]) - known)


def _atomic_write(path: Path, text: str) -> None:
    with contextlib.suppress(OSError):
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def script_name(ch: str) -> str:
    """The Unicode script of a letter as its character name spells it ("Ol Chiki", "Cuneiform")."""
    name = unicodedata.name(ch, "")
    for word in (" LETTER", " SYLLABLE", " SIGN", " CHARACTER", " IDEOGRAPH", " HIEROGLYPH", " DIGIT"):
        at = name.find(word)
        if at > 0:
            return name[:at].title()
    return "unknown script"


def unknown_script(
    encoder: Any, texts: Sequence[str], *, threshold: float = UNKNOWN_SCRIPT_SHARE
) -> list[str | None]:
    """Per text: why the encoder cannot compare it (written in a script its vocabulary lacks), or None.

    Encoders without an `unknown_letters(texts)` method know every script.
    """
    fn = getattr(encoder, "unknown_letters", None)
    if fn is None:
        return [None] * len(texts)
    # the model as the user named it (the int8 encoder's name also carries its precision)
    name = getattr(encoder, "model_name", None) or getattr(encoder, "name", type(encoder).__name__)
    out: list[str | None] = []
    for share, ch in fn(texts):
        if ch and share >= threshold:
            out.append(
                f"text is in a script the model {name!r} does not know ({script_name(ch)}, e.g. {ch!r} "
                f"U+{ord(ch):04X}: {share:.0%} of its letters are unknown to the model), so it cannot be "
                "compared with other texts"
            )
        else:
            out.append(None)
    return out
