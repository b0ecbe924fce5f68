"""Quality benchmark, the baselines: MinHash LSH, TF-IDF, raw cosine and semhash, and the embedder.

Takes the inputs of a set (id, title, text, maybe lang) and a threshold grid; gives one-level
cluster labels per threshold (the same clustering is scored at both levels). TF-IDF is word
unigrams with sublinear tf and the corpus's own idf, clustered by average linkage on the cosine
(exact, scipy, for every threshold from one dendrogram). The embedding
baselines (cosine, semhash) embed `title + "\\n" + text` with dedup's own encoder
(`get_encoder(model, precision=...)`: the default model e5-small as dedup runs it, int8 ONNX
unless `--precision fp32`; the encoder adds the E5 `passage: ` prompt) through dedup's persistent
embedding cache (`dedup.cache.EmbeddingCache` under the directory dedup's pipeline uses, keyed by
the encoder's `cache_key`), so they embed exactly what dedup's encoder gives for those texts and
a text embedded once, by either, is never embedded again.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pages import is_wide_script
from quality_systems import LevelLabels, System, UnionFind, both_levels, sweep_pairs

try:
    from dedup.encoders import get_encoder
except ImportError:  # before the move of dedup/encoder.py to the package dedup/encoders/
    from dedup.encoder import get_encoder  # type: ignore[no-redef,unused-ignore]

#: what the embedding baselines embed of an article, as the JSON reports it
EMBED_TEXT = '"passage: " + title + "\\n" + text'


def embed_text(r: dict[str, Any]) -> str:
    """The text of an article for the embedding baselines (the encoder adds the E5 prompt)."""
    title = (r.get("title") or "").strip()
    return f"{title}\n{r['text']}" if title else r["text"]


def cache_directory(cache_dir: str | None) -> Path:
    """The embedding cache directory of dedup's pipeline: `cache_dir`, or `$DEDUP_HOME/cache`."""
    if cache_dir:
        return Path(cache_dir)
    from dedup.model import dedup_home

    return Path(dedup_home()) / "cache"


class Embedder:
    """dedup's encoder for a model at a precision, with vectors in dedup's embedding cache.

    Only texts the cache has never seen for this encoder's `cache_key` go to the encoder; vectors
    are unit rows in the order of the texts.
    """

    #: texts per encode call (and per cache transaction): progress and a cache that keeps what was done
    chunk = 256

    def __init__(self, model_arg: str | None, batch_size: int = 32, precision: str = "int8",
                 cache_dir: str | None = None) -> None:
        self.batch_size = batch_size
        self.precision = str(getattr(precision, "value", precision))
        self.encoder: Any = None
        self.error: str | None = None
        self.name = model_arg or "dedup default model"
        self.path: Path | None = None
        self.cache: Any = None
        self.cache_dir: Path | None = None
        try:
            from dedup.cache import EmbeddingCache
            from dedup.config import DEFAULT_MODEL

            encoder = get_encoder(model_arg or DEFAULT_MODEL, batch_size=batch_size,
                                  precision=self.precision)
            int8 = getattr(encoder, "precision", None) == "int8"
            self.precision = "int8" if int8 else "fp32"  # what runs (another model runs in fp32)
            if model_arg:
                self.path = Path(model_arg)
                self.name = str(getattr(encoder, "name", model_arg))
            else:
                from dedup import model as model_mod

                self.path = Path(model_mod.ensure_int8_model() if int8
                                 else model_mod.ensure_default_model())
                self.name = (f"{encoder.name} (intfloat/multilingual-e5-small, dedup default, "
                             f"{'int8 ONNX' if int8 else 'fp32 sentence-transformers'})")
            _ = encoder.dim  # builds or loads the model now: a failure disables the baselines
            key = getattr(encoder, "cache_key", None) or getattr(encoder, "name", type(encoder).__name__)
            self.cache_dir = cache_directory(cache_dir)
            self.cache = EmbeddingCache(self.cache_dir, str(key))
            self.encoder = encoder
        except Exception as exc:  # noqa: BLE001 - any failure only disables the embedding systems
            self.error = f"{type(exc).__name__}: {exc}"

    @property
    def ok(self) -> bool:
        return self.encoder is not None

    def embed(self, texts: Sequence[str], label: str = "") -> np.ndarray:
        """Unit vectors for texts (rows in order); only texts never embedded before are encoded."""
        uniq = list(dict.fromkeys(texts))
        got = dict(zip(uniq, self.cache.get(uniq), strict=True))
        todo = [t for t in uniq if got[t] is None]
        if todo:
            t0 = time.time()
            print(f"  embedding {len(todo)} new texts of {label} ({len(uniq) - len(todo)} "
                  f"cached; {self.encoder.name}, batch {self.batch_size}) ...",
                  file=sys.stderr, flush=True)
            for start in range(0, len(todo), self.chunk):
                part = todo[start : start + self.chunk]
                vec = np.asarray(self.encoder.encode(part), dtype=np.float32)
                if vec.shape[0] != len(part) or not np.isfinite(vec).all():
                    raise ValueError(f"encoder {self.encoder.name!r} returned {vec.shape} "
                                     f"(or non-finite values) for {len(part)} texts")
                self.cache.put(part, vec)
                got.update(zip(part, vec, strict=True))
                print(f"    {start + len(part)}/{len(todo)}", file=sys.stderr, flush=True)
            print(f"  embedded in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
        out = np.stack([got[t] for t in texts]).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    def describe(self) -> dict[str, Any]:
        """The `model` entry of quality.json."""
        return {"name": self.name, "path": str(self.path), "ok": self.ok, "error": self.error,
                "text": EMBED_TEXT, "batch_size": self.batch_size, "precision": self.precision,
                "cache_dir": str(self.cache_dir)}


class MinHashSystem(System):
    """MinHash LSH (datasketch) over word 3-shingles (character 5-grams for zh/ja/th), 128
    permutations; LSH threshold = the threshold; candidate pairs whose estimated Jaccard reaches the
    threshold are joined (union-find)."""

    name = "minhash"
    threshold_name = "Jaccard (MinHash estimate)"
    default_threshold = 0.5
    grid = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    num_perm = 128

    def __init__(self) -> None:
        self._memo: dict[str, list[Any]] = {}

    @staticmethod
    def shingles(r: dict[str, Any]) -> set[str]:
        title = (r.get("title") or "").strip()
        text = f"{title}\n{r['text']}" if title else r["text"]
        lang = r.get("lang")
        wide = lang in ("zh", "ja", "th") if lang else is_wide_script(text)
        if wide:
            chars = re.sub(r"\s+", "", text.lower())
            return {chars[i : i + 5] for i in range(max(1, len(chars) - 4))}
        toks = re.findall(r"\w+", text.lower())
        if len(toks) < 3:
            return {" ".join(toks)}
        return {" ".join(toks[i : i + 3]) for i in range(len(toks) - 2)}

    def _minhashes(self, records: list[dict[str, Any]]) -> list[Any]:
        from datasketch import MinHash

        key = hashlib.sha256(
            json.dumps([(r["id"], r.get("title"), r["text"], r.get("lang")) for r in records])
            .encode()).hexdigest()
        if key not in self._memo:
            out = []
            for r in records:
                m = MinHash(num_perm=self.num_perm, seed=1)
                m.update_batch([s.encode("utf-8") for s in sorted(self.shingles(r))])
                out.append(m)
            self._memo[key] = out
        return self._memo[key]

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        from datasketch import MinHashLSH

        t = self.default_threshold if threshold is None else threshold
        assert t is not None
        ids = [r["id"] for r in records]
        mh = self._minhashes(records)
        lsh = MinHashLSH(threshold=t, num_perm=self.num_perm)
        for i, m in enumerate(mh):
            lsh.insert(str(i), m)
        uf = UnionFind(len(ids))
        for i, m in enumerate(mh):
            for c in lsh.query(m):
                j = int(c)
                if j > i and m.jaccard(mh[j]) >= t:
                    uf.union(i, j)
        return both_levels(uf.labels(ids))


class TfidfSystem(System):
    """TF-IDF + average linkage: word unigrams (\\w+) of title + text lower-cased, sublinear tf
    (1 + log tf), idf from the corpus itself (log((1 + n) / (1 + df)) + 1), rows L2-normalised, so
    the score of two articles is their TF-IDF cosine; clusters by average linkage (two clusters
    merge while the mean cosine of all their cross pairs reaches the threshold): one exact
    dendrogram (scipy UPGMA) cut at every threshold. Past `exact_max` articles: dedup's sparse
    average linkage (`dedup.cluster.average_linkage`) over the pairs at or above the threshold,
    missing pairs scored on demand. No default threshold of its own: the tables show its best
    threshold of the grid (an oracle)."""

    name = "tfidf"
    threshold_name = "TF-IDF cosine (average linkage)"
    default_threshold = 0.3  # nominal; the reports compare its best threshold
    grid = tuple(round(0.05 + 0.025 * k, 3) for k in range(35))  # 0.05 .. 0.90
    exact_max = 8000  # scipy's condensed distance matrix: 8000 articles = 256 MB

    @staticmethod
    def tokens(r: dict[str, Any]) -> list[str]:
        return re.findall(r"\w+", embed_text(r).lower())

    @classmethod
    def matrix(cls, records: list[dict[str, Any]]) -> Any:
        """(n, vocabulary) CSR matrix of L2-normalised sublinear TF-IDF rows."""
        from scipy.sparse import csr_matrix

        vocab: dict[str, int] = {}
        indptr, cols, tf = [0], [], []
        for r in records:
            counts = Counter(cls.tokens(r))
            for w, c in counts.items():
                cols.append(vocab.setdefault(w, len(vocab)))
                tf.append(1.0 + math.log(c))
            indptr.append(len(cols))
        n = len(records)
        col = np.asarray(cols, dtype=np.int64)
        df = np.bincount(col, minlength=len(vocab)).astype(np.float64)
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        vals = np.asarray(tf, dtype=np.float64) * idf[col]
        x = csr_matrix((vals, col, np.asarray(indptr, dtype=np.int64)), shape=(n, len(vocab)))
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return csr_matrix(x.multiply(1.0 / norms[:, None]))

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        t = self.default_threshold if threshold is None else threshold
        assert t is not None
        return self.sweep(records, [t])[0][1]

    def sweep(self, records: list[dict[str, Any]], thresholds: Sequence[float]
              ) -> list[tuple[float, LevelLabels]]:
        ids = [r["id"] for r in records]
        n = len(ids)
        if n < 2:
            return [(t, both_levels({i: i for i in ids})) for t in thresholds]
        x = self.matrix(records)
        if n <= self.exact_max:
            from scipy.cluster.hierarchy import fcluster, linkage
            from scipy.spatial.distance import squareform

            dist = 1.0 - (x @ x.T).toarray()
            np.clip(dist, 0.0, 2.0, out=dist)
            np.fill_diagonal(dist, 0.0)
            z = linkage(squareform(dist, checks=False), method="average")
            del dist
            out = []
            for t in thresholds:
                lab = fcluster(z, t=1.0 - float(t) + 1e-9, criterion="distance")
                first: dict[int, str] = {}
                out.append((t, both_levels({i: first.setdefault(int(c), i)
                                            for i, c in zip(ids, lab, strict=True)})))
            return out
        return self._sweep_sparse(ids, x, thresholds)

    @staticmethod
    def _sweep_sparse(ids: list[str], x: Any, thresholds: Sequence[float]
                      ) -> list[tuple[float, LevelLabels]]:
        """Large corpora: the pairs at or above the lowest threshold (row blocks of the sparse
        product), then dedup's average linkage per threshold, missing pairs scored on demand."""
        from dedup.cluster import average_linkage

        lo = float(min(thresholds))
        a_parts, b_parts, s_parts = [], [], []
        xt = x.T.tocsc()
        for start in range(0, x.shape[0], 2048):
            block = (x[start : start + 2048] @ xt).tocoo()
            rows = block.row.astype(np.int64) + start
            keep = (block.col > rows) & (block.data >= lo)
            a_parts.append(rows[keep])
            b_parts.append(block.col[keep].astype(np.int64))
            s_parts.append(block.data[keep])
        a, b, s = np.concatenate(a_parts), np.concatenate(b_parts), np.concatenate(s_parts)

        def score_fn(rows: np.ndarray) -> np.ndarray:
            return np.asarray(x[rows[:, 0]].multiply(x[rows[:, 1]]).sum(axis=1)).ravel()

        out = []
        for t in thresholds:
            lab = average_linkage(len(ids), a, b, s, float(t), score_fn=score_fn)
            out.append((t, both_levels({ids[i]: ids[int(c)] for i, c in enumerate(lab)})))
        return out


class EmbeddingSystem(System):
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.current_label = ""

    def unavailable(self) -> str | None:
        if not self.embedder.ok:
            return f"no embedding model ({self.embedder.error})"
        return None

    def vectors(self, records: list[dict[str, Any]]) -> np.ndarray:
        return self.embedder.embed([embed_text(r) for r in records], self.current_label)

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        t = self.default_threshold if threshold is None else threshold
        assert t is not None
        return self.sweep(records, [t])[0][1]


class CosineSystem(EmbeddingSystem):
    """Raw cosine threshold: exact FAISS inner-product range search over the unit embeddings of
    "passage: " + title + text, connected components of the pairs with cosine >= threshold."""

    name = "cosine"
    threshold_name = "cosine"
    default_threshold = 0.9
    grid = tuple(round(0.70 + 0.01 * k, 2) for k in range(30))

    def sweep(self, records: list[dict[str, Any]], thresholds: Sequence[float]
              ) -> list[tuple[float, LevelLabels]]:
        import faiss

        x = np.ascontiguousarray(self.vectors(records), dtype=np.float32)
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        lims, dist, nbr = index.range_search(x, float(min(thresholds)) - 1e-6)
        qi = np.repeat(np.arange(len(records)), np.diff(lims).astype(np.int64))
        keep = nbr > qi
        labels = sweep_pairs([r["id"] for r in records], qi[keep], nbr[keep], dist[keep],
                             thresholds)
        return [(t, both_levels(labels[t])) for t in thresholds]


class SemHashSystem(EmbeddingSystem):
    """semhash self_deduplicate(threshold) with dedup's encoder as its model (SemHash.from_embeddings
    with that encoder's cached vectors; identical to from_records with that encoder); each removed
    record joins the cluster of the kept record it duplicates. The index is vicinity's exact BASIC
    backend: semhash's default USEARCH (HNSW) index is approximate and not deterministic (pairwise
    F1 moved by up to 0.03 between two runs on flores-3)."""

    name = "semhash"
    threshold_name = "cosine"
    default_threshold = 0.9
    grid = CosineSystem.grid

    def sweep(self, records: list[dict[str, Any]], thresholds: Sequence[float]
              ) -> list[tuple[float, LevelLabels]]:
        from semhash import SemHash
        from vicinity import Backend

        x = self.vectors(records)
        docs = [{"id": r["id"], "text": embed_text(r)} for r in records]
        sh = SemHash.from_embeddings(x, docs, model=self.embedder.encoder, columns=["text"],
                                     ann_backend=Backend.BASIC)
        ids = [r["id"] for r in records]
        pos = {rid: i for i, rid in enumerate(ids)}
        out = []
        for t in thresholds:
            res = sh.self_deduplicate(threshold=t)
            uf = UnionFind(len(ids))
            for dup in res.filtered:
                uf.union(pos[dup.record["id"]], pos[dup.duplicate_of["id"]])
            out.append((t, both_levels(uf.labels(ids))))
        return out
