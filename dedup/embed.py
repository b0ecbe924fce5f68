"""Embed stage: every article becomes a few units (its title and lead sentences) and one passage,
each distinct text embedded once.

Takes cleaned articles and an encoder; gives `Units` (one vector per unit occurrence, with its
article row and text) and one passage vector per article. Identical texts (syndicated copies,
repeated captions) are embedded a single time; with an embedding cache, texts embedded by an
earlier run are read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .cache import EmbeddingCache
from .clean import Cleaned, page_titles, split_sentences
from .encoders import Encoder, check_vectors

MAX_UNIT_CHARS = 600  # a unit longer than this is cut (the model truncates at 512 tokens anyway)
MAX_TEXT_CHARS = 200_000  # of a text with no sentence found, the start taken as its one sentence


@dataclass(frozen=True)
class Units:
    """Units of all articles. Row k of `vectors` belongs to article `owner[k]`."""

    vectors: np.ndarray  # (m, d) float32, L2-normalised, one row per unit occurrence
    owner: np.ndarray  # (m,) int32 article row
    texts: tuple[str, ...]  # (m,) the unit texts


def titles_of(given: Sequence[str | None], cleaned: Sequence[Cleaned]) -> list[str | None]:
    """Each article's title: the given one, else the page's headline found by the clean stage."""
    untitled = [k for k, t in enumerate(given) if not t]
    found = dict(zip(untitled, page_titles([cleaned[k] for k in untitled]), strict=True))
    return [t or found[k] for k, t in enumerate(given)]


def sentences_of(c: Cleaned, raw: str) -> list[str]:
    """The sentences of a cleaned article; a text with none is one sentence (its start)."""
    found = [s for p in c.paragraphs for s in split_sentences(p)] if c.paragraphs else []
    return found or [c.text[:MAX_TEXT_CHARS] or raw[:MAX_TEXT_CHARS]]


def make_units(
    titles: Sequence[str | None], sentences: Sequence[Sequence[str]], max_units: int = 9
) -> tuple[list[str], list[int]]:
    """Flatten titles and sentences into unit texts and their owners (max_units per article)."""
    texts: list[str] = []
    owner: list[int] = []
    for row, (title, sents) in enumerate(zip(titles, sentences, strict=True)):
        taken = 0
        if title and title.strip():
            texts.append(title.strip()[:MAX_UNIT_CHARS])
            owner.append(row)
            taken += 1
        for s in sents:
            if taken >= max_units:
                break
            s = s.strip()
            if not s:
                continue
            texts.append(s[:MAX_UNIT_CHARS])
            owner.append(row)
            taken += 1
    return texts, owner


#: Sentences of the lead that follow the title in an article's passage (its story vector)
PASSAGE_SENTENCES = 8


def make_passages(
    titles: Sequence[str | None], sentences: Sequence[Sequence[str]], n_sentences: int = PASSAGE_SENTENCES
) -> list[str]:
    """One passage per article: its title and first sentences as one text.

    Embedded whole, the passage is read in context by the model: it carries the occasion of the
    report (who, where, what happened) far better than the mean of its sentences' vectors, which
    drifts towards the register and topic the sentences share.
    """
    out: list[str] = []
    for title, sents in zip(titles, sentences, strict=True):
        parts = [title.strip()] if title and title.strip() else []
        parts += [s.strip()[:MAX_UNIT_CHARS] for s in sents if s.strip()][:n_sentences]
        out.append("\n".join(parts))
    return out


#: Encodes parts (lists of texts) and yields each part's vectors, in the parts' order. The local
#: engine calls the encoder on one part after the other; the Ray engine sends the same parts to an
#: actor pool (`dedup.distributed`), so both engines give the encoder the same batches.
EncodeParts = Callable[[Encoder, Sequence[Sequence[str]]], Iterable[np.ndarray]]


def encode_in_turn(encoder: Encoder, parts: Sequence[Sequence[str]]) -> Iterator[np.ndarray]:
    """The local engine's `EncodeParts`: one part after the other, in this process."""
    for part in parts:
        yield encoder.encode(list(part))


def embed_units(
    encoder: Encoder,
    texts: Sequence[str],
    owner: Sequence[int],
    *,
    batch: int = 256,
    on_batch: Callable[[int], None] | None = None,
    cache: EmbeddingCache | None = None,
    encode_parts: EncodeParts = encode_in_turn,
) -> Units:
    """Embed unique unit texts with `encoder` (validated) and expand to one row per occurrence.

    With a `cache`, texts embedded before are read back and only new ones go to the encoder. The
    texts to embed are sorted longest first and cut into parts of `batch`; `encode_parts` encodes
    them (a text's vector depends, in its last bits, on the texts padded with it: the same parts give
    the same vectors whichever engine runs them).
    """
    uniq: dict[str, int] = {}
    index = np.empty(len(texts), dtype=np.int64)
    for k, t in enumerate(texts):
        index[k] = uniq.setdefault(t, len(uniq))
    order = list(uniq)
    cached = cache.get(order) if cache is not None else [None] * len(order)
    dims = {v.shape[0] for v in cached if v is not None}
    dim: int | None = dims.pop() if len(dims) == 1 else None
    if len(dims) > 0:  # inconsistent cache: ignore it
        cached, dim = [None] * len(order), None
    todo = [k for k, v in enumerate(cached) if v is None]
    todo.sort(key=lambda k: -len(order[k]))  # batches of similar lengths: little padding
    if on_batch is not None and len(order) > len(todo):
        on_batch(len(order) - len(todo))
    parts_idx = [todo[start : start + batch] for start in range(0, len(todo), batch)]
    parts = [[order[k] for k in part_idx] for part_idx in parts_idx]
    for part_idx, part, out in zip(parts_idx, parts, encode_parts(encoder, parts), strict=True):
        vec = check_vectors(out, len(part), dim, what=f"encoder {encoder.name!r}")
        dim = vec.shape[1]
        if cache is not None:
            cache.put(part, vec)
        for k, v in zip(part_idx, vec, strict=True):
            cached[k] = v
        if on_batch is not None:
            on_batch(len(part))
    done = [v for v in cached if v is not None]
    uvec = np.vstack(done) if done else np.zeros((0, dim or 1), dtype=np.float32)
    norms = np.linalg.norm(uvec, axis=1, keepdims=True)
    uvec = uvec / np.where(norms > 0, norms, 1.0)
    return Units(
        vectors=np.ascontiguousarray(uvec[index], dtype=np.float32),
        owner=np.asarray(owner, dtype=np.int32),
        texts=tuple(texts),
    )


def embed_all(
    encoder: Encoder,
    units: Sequence[str],
    owner: Sequence[int],
    passages: Sequence[str],
    cache: EmbeddingCache | None,
    progress: bool,
    encode_parts: EncodeParts = encode_in_turn,
) -> tuple[Units, np.ndarray]:
    """Units and passages (one per article row) embedded together: a text that is both is embedded
    once. A progress bar counts distinct texts when `progress`."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(set(units) | set(passages)), desc="embedding", unit="text", leave=False)
    try:
        both = embed_units(
            encoder,
            list(units) + list(passages),
            list(owner) + list(range(len(passages))),
            on_batch=bar.update if bar is not None else None,
            cache=cache,
            encode_parts=encode_parts,
        )
    finally:
        if bar is not None:
            bar.close()
    m = len(units)
    return Units(both.vectors[:m], both.owner[:m], both.texts[:m]), both.vectors[m:]
