"""The Ray engine past the driver's size: candidate search and pair scoring in blocks on the
workers, stitched on the driver into one pair table that the cluster stage reads as usual.

Takes the prepared articles (`dedup.prepared.Prepared`, rows in id order), the corpus's lexical rows
and the run's config; gives the prepared `Space`, the scored candidate pairs (`PairScores`) and the
`StoryScorer` of the whole corpus, as the local index and score stages do. The corpus statistics are
computed once, here: vectors are centred on the whole corpus's language means (with the neutral
priors) and the TF-IDF rows use its IDF, so an article's vectors and a pair's story evidence are the
same in every block. Each block (`blocks.blocks_of`) is a Ray task: margin denominators, nearest
neighbours and pair scores over its own articles. The driver keeps the first block's scores of a
pair found in several, and each unit's margin denominators from its article's first block (for the
pairs the linkage scores on demand). docs/scale.md says where exactness is lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from .. import index as index_mod
from ..config import Config
from ..features import Evidence
from ..prepared import Prepared
from ..score import PairScores, prepare, score_pairs
from ..score.lexical import Lexical
from ..score.space import Space, margin_denominators
from ..score.story import StoryScorer
from ..timing import Timer
from . import blocks as blocks_mod
from .session import connect

_COLUMNS = ("cosine", "passage", "coverage", "dates", "duplicate", "story")


def _score_block(
    rows: np.ndarray,
    units: np.ndarray,
    starts: np.ndarray,
    docs: np.ndarray,
    passages: np.ndarray | None,
    doc_lang: np.ndarray,
    n_langs: int,
    lexical: Lexical,
    evidence: Sequence[Evidence],
    neighbours: int,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """One block, on a worker: its candidate pairs (corpus rows) and their scores, and its units'
    margin denominators (one row per language of the corpus)."""
    n = int(rows.size)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(starts))
    knn = margin_denominators(units, owner, doc_lang[owner], n_langs)
    space = Space(
        units=units, owner=owner, starts=starts, docs=docs, unit_knn=knn, doc_lang=doc_lang, passages=passages
    )
    pairs = index_mod.candidate_pairs(docs, neighbours, passages=passages)
    story = StoryScorer(space.story_docs, doc_lang, lexical, evidence)
    t = score_pairs(space, pairs, evidence, story)
    return np.stack([rows[t.a], rows[t.b]], axis=1), {c: getattr(t, c) for c in _COLUMNS}, knn


def score_on_blocks(
    prep: Prepared, published: Sequence[str | None], lexical: Lexical, config: Config, timer: Timer
) -> tuple[Space, PairScores, StoryScorer, int]:
    """The index and score stages of the corpus in blocks on the Ray cluster, stitched here; the
    last item is the number of blocks."""
    n = len(prep.langs)
    with timer.stage("index"):
        space = prepare(
            prep.units, prep.langs, n, neutral=prep.neutral, passages=prep.passages, margins=False
        )
        parts = blocks_mod.blocks_of(
            [blocks_mod.day_of(p) for p in published], space.story_docs, blocks_mod.BLOCK_MAX_ARTICLES
        )
    n_langs = int(space.unit_knn.shape[0])
    with timer.stage("score"):
        ray = connect(config)
        task = ray.remote(num_cpus=1)(_score_block)
        pending = []
        unit_rows = []
        for rows in parts:
            counts = space.starts[rows + 1] - space.starts[rows]
            at = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            u = np.arange(at[-1], dtype=np.int64) + np.repeat(space.starts[rows] - at[:-1], counts)
            unit_rows.append(u)
            pending.append(
                task.remote(
                    rows,
                    space.units[u],
                    at,
                    space.docs[rows],
                    None if space.passages is None else space.passages[rows],
                    space.doc_lang[rows],
                    n_langs,
                    Lexical(lexical.matrix[rows], lexical.lang[rows]),
                    [prep.evidence[r] for r in rows.tolist()],
                    config.neighbours,
                )
            )
        done = ray.get(pending)
        table, unit_knn = _stitch(n, done, unit_rows, space.unit_knn.shape)
    space = dataclasses.replace(space, unit_knn=unit_knn)
    story = StoryScorer(space.story_docs, space.doc_lang, lexical, prep.evidence)
    return space, table, story, len(parts)


def _stitch(
    n: int,
    done: Sequence[tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]],
    unit_rows: Sequence[np.ndarray],
    knn_shape: tuple[int, ...],
) -> tuple[PairScores, np.ndarray]:
    """The blocks' pairs as one table sorted by (a, b), a pair found in several blocks with the first
    one's scores; every unit's margin denominators from the first block that holds its article."""
    pairs = np.concatenate([d[0] for d in done]) if done else np.zeros((0, 2), np.int64)
    key = pairs[:, 0].astype(np.int64) * n + pairs[:, 1] if len(pairs) else np.zeros(0, np.int64)
    _, first = np.unique(key, return_index=True)  # sorted keys; the first block's occurrence
    cols = {c: np.concatenate([d[1][c] for d in done])[first] for c in _COLUMNS} if done else {}
    empty = np.zeros(0, np.float32)
    table = PairScores(
        a=pairs[first, 0].astype(np.int64),
        b=pairs[first, 1].astype(np.int64),
        cosine=cols.get("cosine", empty),
        passage=cols.get("passage", empty),
        coverage=cols.get("coverage", empty),
        dates=cols.get("dates", np.zeros(0, np.int8)),
        duplicate=cols.get("duplicate", empty),
        story=cols.get("story", empty),
    )
    unit_knn = np.ones(knn_shape, dtype=np.float32)
    for (_, _, knn), u in zip(reversed(done), reversed(unit_rows), strict=True):  # the first block last
        unit_knn[:, u] = knn
    return table, unit_knn


__all__ = ["score_on_blocks"]
