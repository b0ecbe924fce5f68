#!/usr/bin/env python
"""Quality benchmark: precision/recall of dedup and three baselines on labelled multilingual sets.

    python benchmarks/quality.py                      # every set, both variants, every system
    python benchmarks/quality.py --sets ntrex-3,seeds --variants page --show-errors 5

Each set is run as given ('clean': the articles as the set has them) and as 'page' (every article
wrapped in web furniture by benchmarks/pages.py); the seeds are real pages already and run once,
as variant 'real'. The systems see only `id`, `title` (when the variant has one) and `text`, plus
`lang` with --with-lang; gold labels never reach them. For every set, variant, system and level the
harness reports pairwise precision/recall/F1, B-cubed F1, recall per language pair and the
hard-negative merge rate, at the system's default threshold and at its best threshold on a grid,
writes benchmarks/results/quality.json and one PNG per set and variant (precision and recall
against the threshold). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402
from machine_info import cores, cpu_ram  # noqa: E402
from pages import is_wide_script, make_pages  # noqa: E402

from dedup.evaluate import (  # noqa: E402
    bcubed_prf,
    merge_rate,
    pair_recall_by_lang,
    pairwise_prf,
)

DATA = HERE / "data"
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
#: dedup.Config fields set for the dedup system (`--dedup-set KEY=VALUE`; default: the shipped defaults)
DEDUP_SETTINGS: dict[str, Any] = {}

Labels = dict[str, Hashable]  # article id -> cluster label
LevelLabels = dict[str, Labels]  # level ("duplicate" / "story") -> labels
LEVELS = ("duplicate", "story")

# --------------------------------------------------------------------------- sets


@dataclass(frozen=True)
class SetSpec:
    name: str
    directory: str
    file: str
    gold: dict[str, str]  # level -> gold field
    real_pages: bool = False  # the texts are real web pages already (the seeds)
    about: str = ""
    page_corpus: str = ""  # pages are built over this (super)set, so subsets share their pages


SETS: dict[str, SetSpec] = {
    s.name: s
    for s in (
        SetSpec("ntrex-3", "ntrex128-dev", "articles_en_vi_sv.jsonl",
                {"duplicate": "story", "story": "event"},
                about="NTREX-128 dev: 64 news articles x en/vi/sv",
                page_corpus="articles_15lang.jsonl"),
        SetSpec("ntrex-15", "ntrex128-dev", "articles_15lang.jsonl",
                {"duplicate": "story", "story": "event"},
                about="NTREX-128 dev: 64 news articles x 15 languages",
                page_corpus="articles_15lang.jsonl"),
        SetSpec("flores-3", "flores200-devtest", "articles_en_vi_sv.jsonl",
                {"duplicate": "story"},
                about="FLORES-200 devtest: 281 short documents x en/vi/sv",
                page_corpus="articles_6lang.jsonl"),
        SetSpec("flores-6", "flores200-devtest", "articles_6lang.jsonl",
                {"duplicate": "story"},
                about="FLORES-200 devtest: 281 short documents x en/vi/sv/de/fr/es",
                page_corpus="articles_6lang.jsonl"),
        SetSpec("seeds", "seeds", "articles.jsonl",
                {"duplicate": "story", "story": "event"}, real_pages=True,
                about="the five real seed pages (en/vi/sv)"),
    )
}


@dataclass
class LoadedSet:
    spec: SetSpec
    variant: str
    records: list[dict[str, Any]]  # with gold: never handed to a system
    gold: dict[str, Labels]  # level -> id -> gold label
    langs: dict[str, str]
    doc_of_id: dict[str, str]  # article -> document (gold `story`)
    hard_negatives: list[tuple[str, str]]
    same_event: list[tuple[str, str]]
    display: dict[str, str]  # id -> short title for error listings

    @property
    def key(self) -> str:
        return f"{self.spec.name}/{self.variant}"

    def inputs(self, with_lang: bool) -> list[dict[str, Any]]:
        """What a system may see: id, title (if any), text, and lang only when asked."""
        out = []
        for r in self.records:
            x: dict[str, Any] = {"id": r["id"], "text": r["text"]}
            if r.get("title"):
                x["title"] = r["title"]
            if with_lang:
                x["lang"] = r["lang"]
            out.append(x)
        return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_pairs(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    hard: list[tuple[str, str]] = []
    same: list[tuple[str, str]] = []
    if not path.exists():
        return hard, same
    with path.open(encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        ia, ib, ir = header.index("story_a"), header.index("story_b"), header.index("relation")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) <= ir:
                continue
            if cols[ir].startswith("hard_negative"):
                hard.append((cols[ia], cols[ib]))
            elif cols[ir].startswith("same_event"):
                same.append((cols[ia], cols[ib]))
    return hard, same


def load_set(spec: SetSpec, variant: str, seed: int) -> LoadedSet:
    d = DATA / spec.directory
    records = read_jsonl(d / spec.file)
    display = {}  # for error listings only: the article's own title or first words, never the page
    for r in records:
        t = (r.get("title") or "").strip() or " ".join(r["text"].split())[:90]
        display[r["id"]] = t if len(t) <= 70 else t[:69] + "…"
    if variant == "page":
        # Pages are built over the whole corpus of the source (all its languages), so the page of
        # an article is the same in the 3-language set and in the full set.
        corpus = read_jsonl(d / spec.page_corpus) if spec.page_corpus else records
        pages = {p["id"]: p for p in make_pages(corpus, seed=seed)}
        records = [pages[r["id"]] for r in records]
    hard, same = read_pairs(d / "pairs.tsv")
    gold = {lvl: {r["id"]: r[fld] for r in records} for lvl, fld in spec.gold.items()}
    return LoadedSet(
        spec=spec, variant=variant, records=records, gold=gold,
        langs={r["id"]: r["lang"] for r in records},
        doc_of_id={r["id"]: r["story"] for r in records},
        hard_negatives=hard, same_event=same, display=display,
    )


# --------------------------------------------------------------------------- union-find


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        p = self.parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            if ri < rj:
                self.parent[rj] = ri
            else:
                self.parent[ri] = rj

    def labels(self, ids: Sequence[str]) -> Labels:
        return {ids[i]: ids[self.find(i)] for i in range(len(ids))}


def sweep_pairs(ids: Sequence[str], i: np.ndarray, j: np.ndarray, score: np.ndarray,
                thresholds: Sequence[float]) -> dict[float, Labels]:
    """Connected components of the pairs with score >= t, for every t, in one descending pass."""
    order = np.argsort(-score, kind="stable")
    i, j, score = i[order], j[order], score[order]
    uf = UnionFind(len(ids))
    out: dict[float, Labels] = {}
    k = 0
    for t in sorted(thresholds, reverse=True):
        while k < len(score) and score[k] >= t:
            uf.union(int(i[k]), int(j[k]))
            k += 1
        out[t] = uf.labels(ids)
    return out


# --------------------------------------------------------------------------- encoder + cache


def embed_text(r: dict[str, Any]) -> str:
    title = (r.get("title") or "").strip()
    return "passage: " + (f"{title}\n{r['text']}" if title else r["text"])


class Embedder:
    """The sentence-transformers model of dedup, with embeddings cached in memory and on disk.

    Vectors are kept per text (sha256 of model fingerprint + text), so a set that shares texts
    with an earlier one (ntrex-3 inside ntrex-15) embeds only what is new. On disk every embedded
    text list is one benchmarks/.cache/emb_<sha256(model + texts)>.npy (unit vectors) with a
    .keys.npy beside it (the per-text digests); all of them are read back at start.
    """

    def __init__(self, model_arg: str | None, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self.model: Any = None
        self.error: str | None = None
        self.name = model_arg or "dedup default model"
        self.path: Path | None = None
        self._memo: dict[bytes, np.ndarray] = {}
        try:
            if model_arg:
                self.path = Path(model_arg)
            else:
                from dedup.config import DEFAULT_MODEL
                from dedup.model import ensure_default_model

                self.path = Path(ensure_default_model())
                self.name = f"{DEFAULT_MODEL} (intfloat/multilingual-e5-small, dedup default)"
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(max(1, os.cpu_count() or 1))
            self.model = SentenceTransformer(str(self.path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - any failure only disables the embedding systems
            self.error = f"{type(exc).__name__}: {exc}"
        self.fingerprint = self._fingerprint()
        self._load_disk_cache()

    def _fingerprint(self) -> str:
        h = hashlib.sha256(self.name.encode())
        if self.path and self.path.exists():
            marker = self.path / ".dedup-complete"
            if marker.exists():  # dedup's build marker names the source weights and their sha256
                info = json.loads(marker.read_text(encoding="utf-8"))
                h.update(json.dumps({k: info.get(k) for k in ("model", "weights_sha256", "files")},
                                    sort_keys=True).encode())
            else:
                for f in sorted(self.path.rglob("*")):
                    if f.is_file():
                        st = f.stat()
                        h.update(f"{f.relative_to(self.path)}:{st.st_size}:{int(st.st_mtime)}"
                                 .encode())
        return h.hexdigest()[:16]

    def _digest(self, text: str) -> bytes:
        return hashlib.sha256(self.fingerprint.encode() + b"\x00" + text.encode("utf-8")).digest()

    def _load_disk_cache(self) -> None:
        if not self.ok or not CACHE.exists():
            return
        for keys_path in CACHE.glob("emb_*.keys.npy"):
            vec_path = keys_path.with_name(keys_path.name.replace(".keys.npy", ".npy"))
            try:
                keys, vecs = np.load(keys_path), np.load(vec_path)
            except (OSError, ValueError):
                continue
            if len(keys) != len(vecs):
                continue
            for k, v in zip(keys, vecs, strict=True):
                self._memo[k.tobytes()] = v

    @property
    def ok(self) -> bool:
        return self.model is not None

    def embed(self, texts: Sequence[str], label: str = "") -> np.ndarray:
        """Unit vectors for texts (rows in order); only texts never embedded before are encoded."""
        digests = [self._digest(t) for t in texts]
        todo: dict[bytes, str] = {}
        for d, t in zip(digests, texts, strict=True):
            if d not in self._memo and d not in todo:
                todo[d] = t
        if todo:
            t0 = time.time()
            print(f"  embedding {len(todo)} new texts of {label} ({len(texts) - len(todo)} "
                  f"cached; batch {self.batch_size}) ...", file=sys.stderr, flush=True)
            arr = self.model.encode(
                list(todo.values()), batch_size=self.batch_size, show_progress_bar=True,
                normalize_embeddings=True, convert_to_numpy=True,
            ).astype(np.float32)
            for d, v in zip(todo, arr, strict=True):
                self._memo[d] = v
            print(f"  embedded in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
        out = np.stack([self._memo[d] for d in digests]).astype(np.float32)
        if todo:
            key = hashlib.sha256(b"".join(digests)).hexdigest()[:32]
            CACHE.mkdir(parents=True, exist_ok=True)
            np.save(CACHE / f"emb_{key}.npy", out)
            keys = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(len(digests), 32)
            np.save(CACHE / f"emb_{key}.keys.npy", keys)
        return out


# --------------------------------------------------------------------------- systems


class System:
    """A clustering system under test. run() returns labels per level; one-level systems give
    the same labels for both levels."""

    name = "?"
    threshold_name = "threshold"
    default_threshold: float | None = None
    grid: tuple[float, ...] = ()

    def unavailable(self) -> str | None:
        return None

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        raise NotImplementedError

    def sweep(self, records: list[dict[str, Any]], thresholds: Sequence[float]
              ) -> list[tuple[float, LevelLabels]]:
        return [(t, self.run(records, t)) for t in thresholds]

    def describe(self) -> dict[str, Any]:
        return {"threshold": self.threshold_name, "default": self.default_threshold,
                "grid": list(self.grid)}


def _both(labels: Labels) -> LevelLabels:
    return {lvl: labels for lvl in LEVELS}


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
        import re

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
        return _both(uf.labels(ids))


class EmbeddingSystem(System):
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.current_label = ""

    def unavailable(self) -> str | None:
        if not self.embedder.ok:
            return f"no sentence-transformers model ({self.embedder.error})"
        return None

    def vectors(self, records: list[dict[str, Any]]) -> np.ndarray:
        return self.embedder.embed([embed_text(r) for r in records], self.current_label)


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
        return [(t, _both(labels[t])) for t in thresholds]

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        t = self.default_threshold if threshold is None else threshold
        assert t is not None
        return self.sweep(records, [t])[0][1]


class SemHashSystem(EmbeddingSystem):
    """semhash self_deduplicate(threshold) with the same sentence-transformers model as encoder
    (SemHash.from_embeddings with the cached vectors of that model; identical to from_records with
    that model); each removed record joins the cluster of the kept record it duplicates. The index
    is vicinity's exact BASIC backend: semhash's default USEARCH (HNSW) index is approximate and
    not deterministic (pairwise F1 moved by up to 0.03 between two runs on flores-3)."""

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
        sh = SemHash.from_embeddings(x, docs, model=self.embedder.model, columns=["text"],
                                     ann_backend=Backend.BASIC)
        ids = [r["id"] for r in records]
        pos = {rid: i for i, rid in enumerate(ids)}
        out = []
        for t in thresholds:
            res = sh.self_deduplicate(threshold=t)
            uf = UnionFind(len(ids))
            for dup in res.filtered:
                uf.union(pos[dup.record["id"]], pos[dup.duplicate_of["id"]])
            out.append((t, _both(uf.labels(ids))))
        return out

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        t = self.default_threshold if threshold is None else threshold
        assert t is not None
        return self.sweep(records, [t])[0][1]


class DedupSystem(System):
    """dedup itself: dedup.cluster(records, config=dedup.Config(...)).to_records()."""

    name = "dedup"
    threshold_name = "duplicate_threshold"

    def __init__(self) -> None:
        self.last_result: Any = None
        self._why: str | None = None
        self.config_echo: dict[str, Any] | None = None
        try:
            import dedup

            if not (hasattr(dedup, "cluster") and hasattr(dedup, "Config")):
                self._why = "dedup.cluster / dedup.Config are not importable yet"
            else:
                cfg = dedup.Config(**DEDUP_SETTINGS)
                self.default_threshold = float(cfg.duplicate_threshold)
                self.grid = tuple(round(0.2 + 0.05 * k, 2) for k in range(13))
                to_dict = getattr(cfg, "to_dict", None)
                self.config_echo = to_dict() if callable(to_dict) else None
        except Exception as exc:  # noqa: BLE001
            self._why = f"cannot import dedup ({type(exc).__name__}: {exc})"

    def unavailable(self) -> str | None:
        return self._why

    def run(self, records: list[dict[str, Any]], threshold: float | None) -> LevelLabels:
        import dedup

        base = dedup.Config(**DEDUP_SETTINGS)
        if threshold is None:
            cfg = base
        else:
            cfg = base.with_(duplicate_threshold=threshold,
                               story_threshold=min(threshold, base.story_threshold))
        result = dedup.cluster([dict(r) for r in records], config=cfg)
        self.last_result = result
        rows = result.to_records()
        return {"duplicate": {r["id"]: r["cluster"] for r in rows},
                "story": {r["id"]: r["story"] for r in rows}}

    def sweep(self, records: list[dict[str, Any]], thresholds: Sequence[float]
              ) -> list[tuple[float, LevelLabels]]:
        """Embed and score once, then re-cluster per threshold (`Result.with_thresholds`)."""
        default = self.run(records, None)  # also keeps last_result for --show-errors
        result = self.last_result
        story_default = float(result.config.story_threshold)
        points = [(float(self.default_threshold or 0.0), default)]
        for t in thresholds:
            if abs(t - (self.default_threshold or -1)) < 1e-9:
                continue
            r = result.with_thresholds(duplicate=float(t), story=min(float(t), story_default))
            points.append((float(t), {"duplicate": dict(zip(r.ids, r.cluster_of, strict=True)),
                                      "story": dict(zip(r.ids, r.story_of, strict=True))}))
        return sorted(points, key=lambda p: p[0])


# --------------------------------------------------------------------------- metrics


def score_level(labels: Labels, ls: LoadedSet, level: str, full: bool) -> dict[str, Any]:
    gold = ls.gold[level]
    ids = list(gold)
    pred = [labels[i] for i in ids]
    g = [gold[i] for i in ids]
    pw = pairwise_prf(pred, g)
    hn_rate, hn_merged, hn_total = merge_rate(labels, ls.doc_of_id, ls.hard_negatives)
    out: dict[str, Any] = {
        "precision": pw.precision, "recall": pw.recall, "f1": pw.f1,
        "bcubed_f1": bcubed_prf(pred, g).f1,
        "hard_negative_merge_rate": hn_rate,
        "n_clusters": len(set(pred)),
    }
    if full:
        b3 = bcubed_prf(pred, g)
        out["bcubed"] = b3.as_dict()
        out["recall_by_lang"] = pair_recall_by_lang(pred, g, [ls.langs[i] for i in ids])
        out["hard_negative"] = {"merged": hn_merged, "total": hn_total, "rate": hn_rate}
        if ls.same_event:
            r, m, t = merge_rate(labels, ls.doc_of_id, ls.same_event)
            out["same_event_cross_outlet"] = {"merged": m, "total": t, "rate": r}
    return out


def complete(labels: Labels, ids: Sequence[str], system: str) -> Labels:
    """Every id needs a label: a missing one becomes its own singleton (and is reported)."""
    missing = [i for i in ids if i not in labels]
    if missing:
        print(f"  ! {system} returned no label for {len(missing)} ids (e.g. {missing[0]}); "
              "counted as singletons", file=sys.stderr)
        labels = dict(labels)
        for i in missing:
            labels[i] = ("__missing__", i)
    return labels


# --------------------------------------------------------------------------- errors


def show_errors(ls: LoadedSet, system: str, levels: LevelLabels, n: int,
                vectors: np.ndarray | None, result: Any) -> None:
    ids = [r["id"] for r in ls.records]
    pos = {rid: i for i, rid in enumerate(ids)}

    def cos(a: str, b: str) -> float | None:
        if vectors is None:
            return None
        return float(vectors[pos[a]] @ vectors[pos[b]])

    def best_pair(xs: list[str], ys: list[str]) -> tuple[str, str, float | None]:
        if vectors is None:
            return xs[0], ys[0], None
        sims = vectors[[pos[x] for x in xs]] @ vectors[[pos[y] for y in ys]].T
        a, b = np.unravel_index(int(np.argmax(sims)), sims.shape)
        return xs[int(a)], ys[int(b)], float(sims[a, b])

    def explain(a: str, b: str) -> str | None:
        fn = getattr(result, "explain", None) if result is not None else None
        if fn is None:
            return None
        try:
            return str(fn(a, b))
        except Exception as exc:  # noqa: BLE001
            return f"(explain failed: {exc})"

    def line(i: str) -> str:
        return f"{i} [{ls.langs[i]}] {ls.display[i]!r}"

    for level, gold in ls.gold.items():
        pred = levels[level]
        by_pred: dict[Hashable, dict[Hashable, list[str]]] = defaultdict(lambda: defaultdict(list))
        by_gold: dict[Hashable, dict[Hashable, list[str]]] = defaultdict(lambda: defaultdict(list))
        for i in ids:
            by_pred[pred[i]][gold[i]].append(i)
            by_gold[gold[i]][pred[i]].append(i)
        merges = []
        for pc, groups in by_pred.items():
            keys = sorted(groups, key=str)
            for x in range(len(keys)):
                for y in range(x + 1, len(keys)):
                    ga, gb = groups[keys[x]], groups[keys[y]]
                    a, b, s = best_pair(ga, gb)
                    merges.append((len(ga) * len(gb), s or 0.0, pc, keys[x], keys[y], a, b, s))
        misses = []
        for gc, parts in by_gold.items():
            keys = sorted(parts, key=str)
            for x in range(len(keys)):
                for y in range(x + 1, len(keys)):
                    pa, pb = parts[keys[x]], parts[keys[y]]
                    a, b, s = best_pair(pa, pb)
                    misses.append((len(pa) * len(pb), s or 0.0, gc, keys[x], keys[y], a, b, s))
        merges.sort(key=lambda m: (-m[0], -m[1]))
        misses.sort(key=lambda m: (-m[0], -m[1]))
        head = f"== {system} on {ls.key}, {level} level (gold `{ls.spec.gold[level]}`)"
        print(f"\n{head}: {len(merges)} falsely merged gold-group pairs, "
              f"{len(misses)} split gold groups (pairs of parts)")
        print(f"-- worst {min(n, len(merges))} false merges (most article pairs first)")
        for k, (cnt, _, pc, gx, gy, a, b, s) in enumerate(merges[:n], 1):
            sim = f", cosine {s:.3f}" if s is not None else ""
            print(f"{k:2d}. {cnt} article pairs: gold {gx} + gold {gy} in predicted {pc}{sim}")
            print(f"      {line(a)}\n      {line(b)}")
            ex = explain(a, b)
            if ex:
                print("      explain: " + ex.replace("\n", "\n        "))
        print(f"-- worst {min(n, len(misses))} misses (most article pairs first)")
        for k, (cnt, _, gc, px, py, a, b, s) in enumerate(misses[:n], 1):
            sim = f", best cosine {s:.3f}" if s is not None else ""
            print(f"{k:2d}. {cnt} article pairs of gold {gc} split between predicted {px} "
                  f"and {py}{sim}")
            print(f"      {line(a)}\n      {line(b)}")
            ex = explain(a, b)
            if ex:
                print("      explain: " + ex.replace("\n", "\n        "))


# --------------------------------------------------------------------------- environment


def git_commit() -> dict[str, Any]:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return {"commit": "uncommitted", "dirty": True}
        st = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                            text=True, timeout=10)
        return {"commit": head.stdout.strip(), "dirty": bool(st.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "uncommitted", "dirty": True}


def machine() -> dict[str, Any]:
    cpu, _, ram_gib = cpu_ram()
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu": cpu,
            "cores": cores(), "ram_gib": ram_gib}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("numpy", "faiss-cpu", "torch", "sentence-transformers", "datasketch", "semhash",
                "dedup"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# --------------------------------------------------------------------------- plots

COLOURS = {"dedup": "tab:red", "minhash": "tab:green", "cosine": "tab:blue",
           "semhash": "tab:purple"}


def plot_run(run: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = list(run["levels"])
    fig, axes = plt.subplots(len(levels), 2, figsize=(12, 4.2 * len(levels)), squeeze=False)
    for row, level in enumerate(levels):
        ax, ax_pr = axes[row]
        for name, sysres in run["systems"].items():
            if level not in sysres.get("levels", {}):
                continue
            res = sysres["levels"][level]
            curve = res["curve"]
            ts = [c["threshold"] for c in curve]
            p = [c["precision"] for c in curve]
            r = [c["recall"] for c in curve]
            col = COLOURS.get(name, "black")
            d = res["default"]
            if len(curve) > 1:
                ax.plot(ts, p, "-", color=col, label=f"{name} precision")
                ax.plot(ts, r, "--", color=col, label=f"{name} recall")
                ax_pr.plot(r, p, "-", color=col, label=f"{name} ({sysres['threshold']})")
            mark = "*" if name == "dedup" else "o"
            size = 14 if name == "dedup" else 7
            dt = d["threshold"]
            ax.plot([dt], [d["precision"]], mark, color=col, ms=size,
                    label=f"{name} default ({dt:g})" if len(curve) > 1 else f"{name} precision")
            ax.plot([dt], [d["recall"]], mark, color=col, ms=size, mfc="none",
                    label=None if len(curve) > 1 else f"{name} recall")
            ax_pr.plot([d["recall"]], [d["precision"]], mark, color=col, ms=size,
                       label=f"{name} default" if len(curve) <= 1 else None)
        gold = run["levels"][level]
        ax.set_title(f"{run['set']} / {run['variant']}: {level} level (gold `{gold}`)")
        ax.set_xlabel("threshold (MinHash: Jaccard; embeddings: cosine)")
        ax.set_ylabel("pairwise precision (solid) / recall (dashed)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2, loc="best")
        ax_pr.set_title("precision against recall over each system's threshold grid")
        ax_pr.set_xlabel("pairwise recall")
        ax_pr.set_ylabel("pairwise precision")
        ax_pr.set_xlim(-0.02, 1.02)
        ax_pr.set_ylim(-0.02, 1.02)
        ax_pr.grid(alpha=0.3)
        ax_pr.legend(fontsize=7, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main


@dataclass
class Options:
    sets: list[str]
    variants: list[str]
    systems: list[str]
    with_lang: bool = False
    show_errors: int = 0
    errors_for: list[str] = field(default_factory=lambda: ["dedup"])
    out: Path = RESULTS / "quality.json"
    plots: bool = True
    seed: int = 0
    model: str | None = None
    batch_size: int = 32


def parse_args(argv: list[str] | None) -> Options:
    ap = argparse.ArgumentParser(
        prog="benchmarks/quality.py",
        description="Precision/recall of dedup and baselines on the labelled sets.")
    ap.add_argument("--sets", default="ntrex-3,ntrex-15,flores-3,flores-6,seeds",
                    help=f"comma-separated, from {', '.join(SETS)}")
    ap.add_argument("--variants", default="clean,page",
                    help="clean (articles as given) and/or page (wrapped in web furniture); "
                         "the seeds always run once as 'real'")
    ap.add_argument("--systems", default="dedup,minhash,cosine,semhash")
    ap.add_argument("--with-lang", action="store_true", help="give the systems `lang` too")
    ap.add_argument("--show-errors", type=int, default=0, metavar="N",
                    help="print the N worst false merges and misses per level")
    ap.add_argument("--errors-for", default="dedup",
                    help="systems whose errors --show-errors prints (default dedup)")
    ap.add_argument("--out", type=Path, default=RESULTS / "quality.json")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--seed", type=int, default=0, help="seed of the page generator")
    ap.add_argument("--model", default=None,
                    help="local sentence-transformers model for the embedding baselines "
                         "(default: dedup's default model via dedup.model.ensure_default_model)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--dedup-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a dedup.Config field for the dedup system (JSON value or plain string), "
                         "e.g. --dedup-set max_units=8; repeatable; default: the shipped defaults")
    ap.add_argument("--report", metavar="JSON",
                    help="(alone) print the results of a quality.json as a markdown table")
    a = ap.parse_args(argv)

    def split(s: str) -> list[str]:
        return [x.strip() for x in s.split(",") if x.strip()]

    for item in a.dedup_set:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--dedup-set wants KEY=VALUE, got {item!r}")
        try:
            DEDUP_SETTINGS[key.strip()] = json.loads(value)
        except ValueError:
            DEDUP_SETTINGS[key.strip()] = value

    opts = Options(sets=split(a.sets), variants=split(a.variants), systems=split(a.systems),
                   with_lang=a.with_lang, show_errors=a.show_errors,
                   errors_for=split(a.errors_for), out=a.out, plots=not a.no_plots,
                   seed=a.seed, model=a.model, batch_size=a.batch_size)
    for s in opts.sets:
        if s not in SETS:
            ap.error(f"unknown set {s!r}; choose from {', '.join(SETS)}")
    for v in opts.variants:
        if v not in ("clean", "page"):
            ap.error(f"unknown variant {v!r}; choose clean or page")
    for s in opts.systems:
        if s not in ("dedup", "minhash", "cosine", "semhash"):
            ap.error(f"unknown system {s!r}; choose dedup, minhash, cosine or semhash")
    return opts


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.3f}"


def print_table(run: dict[str, Any]) -> None:
    print(f"\n### {run['set']} / {run['variant']}  ({run['n_articles']} articles, "
          f"{', '.join(run['languages'])}; {run['hard_negative_pairs']} hard-negative doc pairs)")
    print(f"{'system':8} {'level':9} {'point':7} {'thr':>5} {'P':>5} {'R':>5} {'F1':>5} "
          f"{'B3-F1':>5} {'HNmrg':>5} {'#clus':>5}  recall en-vi en-sv sv-vi  worst-pair")
    for name, sysres in run["systems"].items():
        if "skipped" in sysres:
            print(f"{name:8} skipped: {sysres['skipped']}")
            continue
        for level, res in sysres["levels"].items():
            for point in ("default", "best"):
                d = res[point]
                rl = d["recall_by_lang"]
                cross = {k: v for k, v in rl.items() if k.split("-")[0] != k.split("-")[1]}
                worst = min(cross.items(), key=lambda kv: kv[1]) if cross else None
                w = f"{worst[0]} {worst[1]:.2f}" if worst else ""
                print(f"{name:8} {level:9} {point:7} {d['threshold']:5.2f} {fmt(d['precision'])} "
                      f"{fmt(d['recall'])} {fmt(d['f1'])} {fmt(d['bcubed_f1'])} "
                      f"{fmt(d['hard_negative_merge_rate'])} {d['n_clusters']:5d}        "
                      f"{fmt(rl.get('en-vi'))} {fmt(rl.get('en-sv'))} {fmt(rl.get('sv-vi'))}  {w}")


def markdown_report(report: dict[str, Any]) -> str:
    """The results of a quality.json as two markdown tables: every system at its default
    threshold, then at its best threshold of the grid (highest pairwise F1 per level).
    Cells: pairwise precision / recall / F1, then the hard-negative merge rate."""
    names: list[str] = ["dedup"]  # shown as "pending" until a run includes it
    for run in report["runs"]:
        for name in run["systems"]:
            if name not in names:
                names.append(name)
    out = []
    for point in ("default", "best"):
        what = ("default threshold" if point == "default"
                else "best threshold of the grid (highest pairwise F1), shown as @t")
        out.append(f"**At the {what}.** Cell: P / R / **F1** · hard-negative merge rate\n")
        head = ["set / variant", "level", *names]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for run in report["runs"]:
            for level in run["levels"]:
                cells = [f"{run['set']} / {run['variant']}", level]
                for name in names:
                    sysres = run["systems"].get(name)
                    if sysres is None or "skipped" in sysres:
                        cells.append("pending" if name == "dedup" else "skipped")
                        continue
                    d = sysres["levels"][level][point]
                    at = f"@{d['threshold']:.2f} " if point == "best" else ""
                    cells.append(f"{at}{d['precision']:.2f} / {d['recall']:.2f} / "
                                 f"**{d['f1']:.2f}** · {d['hard_negative_merge_rate']:.2f}")
                out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--report"]:
        path = Path(argv[1]) if len(argv) > 1 else RESULTS / "quality.json"
        print(markdown_report(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    opts = parse_args(argv)
    t_start = time.time()
    need_emb = any(s in opts.systems for s in ("cosine", "semhash"))
    embedder: Embedder | None = None
    if need_emb:
        embedder = Embedder(opts.model, opts.batch_size)
        if not embedder.ok:
            print(f"! embedding baselines skipped: {embedder.error}\n"
                  "  (they need dedup.model.ensure_default_model() or --model PATH of a local "
                  "sentence-transformers model)", file=sys.stderr)
    systems: list[System] = []
    for name in opts.systems:
        if name == "dedup":
            systems.append(DedupSystem())
        elif name == "minhash":
            systems.append(MinHashSystem())
        elif name == "cosine":
            assert embedder is not None
            systems.append(CosineSystem(embedder))
        elif name == "semhash":
            assert embedder is not None
            systems.append(SemHashSystem(embedder))

    jobs: list[tuple[SetSpec, str]] = []
    for s in opts.sets:
        spec = SETS[s]
        if spec.real_pages:
            jobs.append((spec, "real"))
        else:
            jobs += [(spec, v) for v in opts.variants]

    runs = []
    for spec, variant in jobs:
        t_set = time.time()
        ls = load_set(spec, "clean" if variant == "real" else variant, opts.seed)
        ls.variant = variant
        inputs = ls.inputs(opts.with_lang)
        ids = [r["id"] for r in inputs]
        print(f"\n[{ls.key}] {len(ids)} articles", file=sys.stderr, flush=True)
        run: dict[str, Any] = {
            "set": spec.name, "variant": variant, "about": spec.about,
            "file": f"benchmarks/data/{spec.directory}/{spec.file}",
            "n_articles": len(ids), "languages": sorted(set(ls.langs.values())),
            "levels": dict(spec.gold),
            "n_gold_clusters": {lvl: len(set(g.values())) for lvl, g in ls.gold.items()},
            "hard_negative_pairs": len(ls.hard_negatives),
            "mean_chars": round(sum(len(r["text"]) for r in inputs) / max(1, len(inputs))),
            "systems": {},
        }
        for system in systems:
            why = system.unavailable()
            if why:
                run["systems"][system.name] = {"skipped": why}
                print(f"  {system.name}: skipped ({why})", file=sys.stderr)
                continue
            if isinstance(system, EmbeddingSystem):
                system.current_label = ls.key
            t0 = time.time()
            grid = sorted(set(system.grid) | {system.default_threshold or 0.0})
            try:
                points = system.sweep(inputs, grid)
            except Exception as exc:  # noqa: BLE001 - one failing system must not stop the run
                import traceback

                traceback.print_exc()
                run["systems"][system.name] = {"skipped": f"failed: {type(exc).__name__}: {exc}"}
                continue
            elapsed = time.time() - t0
            sysres: dict[str, Any] = {**system.describe(), "time_s": round(elapsed, 2),
                                      "levels": {}}
            default_labels: LevelLabels | None = None
            for level in spec.gold:
                curve = []
                for t, levels in points:
                    labels = complete(levels[level], ids, system.name)
                    m = score_level(labels, ls, level, full=False)
                    curve.append({"threshold": t, **m})
                d_t = system.default_threshold
                d_idx = min(range(len(points)), key=lambda k: abs(points[k][0] - (d_t or 0)))
                b_idx = max(range(len(curve)), key=lambda k: (curve[k]["f1"], -k))
                level_res: dict[str, Any] = {}
                for point, idx in (("default", d_idx), ("best", b_idx)):
                    t, levels = points[idx]
                    labels = complete(levels[level], ids, system.name)
                    level_res[point] = {"threshold": t, **score_level(labels, ls, level, True)}
                level_res["curve"] = curve
                sysres["levels"][level] = level_res
                default_labels = points[d_idx][1]
            run["systems"][system.name] = sysres
            print(f"  {system.name}: {len(points)} thresholds in {elapsed:.1f}s", file=sys.stderr,
                  flush=True)
            if opts.show_errors and system.name in opts.errors_for and default_labels:
                vecs = None
                if embedder is not None and embedder.ok:
                    vecs = embedder.embed([embed_text(r) for r in inputs], ls.key)
                result = getattr(system, "last_result", None)
                full = {lvl: complete(default_labels[lvl], ids, system.name) for lvl in spec.gold}
                show_errors(ls, system.name, full, opts.show_errors, vecs, result)
        run["time_s"] = round(time.time() - t_set, 1)
        print_table(run)
        if opts.plots:
            png = opts.out.parent / f"quality_{spec.name}_{variant}.png"
            plot_run(run, png)
            run["plot"] = str(png.relative_to(ROOT)) if png.is_relative_to(ROOT) else str(png)
        runs.append(run)

    dedup_sys = next((s for s in systems if isinstance(s, DedupSystem)), None)
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["python benchmarks/quality.py", *argv]),
        **git_commit(),
        "machine": machine(),
        "versions": versions(),
        "model": ({"name": embedder.name, "path": str(embedder.path), "ok": embedder.ok,
                   "error": embedder.error, "text": '"passage: " + title + "\\n" + text',
                   "batch_size": opts.batch_size} if embedder else None),
        "config": {
            "sets": opts.sets, "variants": opts.variants, "systems": opts.systems,
            "with_lang": opts.with_lang, "page_seed": opts.seed,
            "system_settings": {s.name: {**s.describe(), "doc": (type(s).__doc__ or "").strip()}
                                for s in systems},
            "dedup_config": dedup_sys.config_echo if dedup_sys else None,
            "best_point": "threshold of the grid with the highest pairwise F1, per level",
            "hard_negatives": "pairs.tsv rows whose relation starts with hard_negative; all "
                              "article combinations of the two documents (gold `story`)",
        },
        "runs": runs,
        "total_time_s": round(time.time() - t_start, 1),
    }
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {opts.out} in {report['total_time_s']:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
