"""The orchestrator: read-in records -> clean -> language -> embed -> index/score -> cluster -> canonical.

Inside, an article is an integer row in id order (so any input order gives the same result);
external ids appear only when the Result is built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from . import canonical as canon
from . import clean as clean_mod
from . import cluster as cluster_mod
from . import embed as embed_mod
from . import features, langid
from . import score as score_mod
from .article import Article
from .cache import EmbeddingCache
from .config import Config
from .encoder import Encoder, check_vectors, get_encoder, validated
from .errors import ConfigError, InputError
from .langprior import LanguagePriors
from .result import Result, explain_evidence

MAX_TEXT_CHARS = 200_000  # longer main texts are cut before sentence splitting


class _Timer:
    def __init__(self) -> None:
        self.t: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.t[name] = self.t.get(name, 0.0) + time.perf_counter() - t0


def _as_articles(articles: Iterable[Article | Mapping[str, Any]]) -> list[Article]:
    out: list[Article] = []
    seen: dict[str, int] = {}
    for k, a in enumerate(articles):
        art = a if isinstance(a, Article) else Article.from_mapping(a, where=f"article {k}")
        if art.id in seen:
            raise InputError(
                f"article {k}: duplicate id {art.id!r} (first at article {seen[art.id]}); ids must be unique"
            )
        seen[art.id] = k
        out.append(art)
    return out


def _cache_for(enc: Encoder, config: Config) -> EmbeddingCache | None:
    """The persistent embedding cache for this encoder, unless disabled or not cacheable."""
    if not config.cache or not getattr(enc, "cacheable", True):
        return None
    from .model import dedup_home

    directory = config.cache_dir or str(dedup_home() / "cache")
    key = getattr(enc, "cache_key", None) or getattr(enc, "name", type(enc).__name__)
    return EmbeddingCache(directory, str(key))


def _header(raw: str, c: clean_mod.Cleaned, span: int = 300) -> str:
    """The raw text just above the article's first paragraph (where pages print the date)."""
    if not c.paragraphs:
        return ""
    pos = raw.find(c.paragraphs[0][:40])
    return raw[max(0, pos - span) : pos] if pos > 0 else ""


def _progress(enabled: bool, total: int, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="text", leave=False)


def cluster(
    articles: Iterable[Article | Mapping[str, Any]],
    config: Config | None = None,
    *,
    encoder: Encoder | None = None,
    _result_cache: bool = True,
) -> Result:
    """Cluster articles (dicts with `id` and `text`, or `Article`s) at both levels.

    `encoder` overrides `config.model` (any object with `name`, `dim` and `encode(texts)`).
    With the cache on and a sentence-transformers model (the default included), a re-run on an
    unchanged corpus with the same settings and code reads the previous result back.
    """
    config = config or Config()
    timer = _Timer()
    with timer.stage("read"):
        arts = _as_articles(articles)
    built = encoder
    key = None
    if _result_cache and config.cache:
        with timer.stage("result_cache"):
            if built is None:
                built = get_encoder(
                    config.model,
                    device=config.device,
                    batch_size=config.batch_size,
                    progress=config.progress,
                    precision=config.precision,
                )
            key = _result_key(arts, config, built)
            hit = _load_result(key, config, arts, built, timer) if key is not None else None
        if hit is not None:
            return dataclasses.replace(hit, timings=dict(timer.t))
    order = sorted(range(len(arts)), key=lambda k: arts[k].id)
    rows = [arts[k] for k in order]
    n = len(rows)
    with timer.stage("clean"):
        cleaned = [
            clean_mod.clean_html(a.text, a.title) if a.html else clean_mod.clean_text(a.text, a.title)
            for a in rows
        ]
    with timer.stage("language"):
        langs = [
            a.lang or langid.detect(c.text[:5000] or a.text[:5000])
            for a, c in zip(rows, cleaned, strict=True)
        ]
    with timer.stage("split"):
        untitled = [k for k, a in enumerate(rows) if not a.title]
        found = dict(zip(untitled, clean_mod.page_titles([cleaned[k] for k in untitled]), strict=True))
        titles = [a.title or found[k] for k, a in enumerate(rows)]
        sentences = [
            [s for p in c.paragraphs for s in clean_mod.split_sentences(p)] if c.paragraphs else []
            for c in cleaned
        ]
        sentences = [
            ss if ss else [c.text[:MAX_TEXT_CHARS] or a.text[:MAX_TEXT_CHARS]]
            for ss, c, a in zip(sentences, cleaned, rows, strict=True)
        ]
        texts, owner, is_title = embed_mod.make_units(titles, sentences, max_units=config.max_units)
        passages = embed_mod.make_passages(titles, sentences)
    enc = validated(  # every encode() checked: shape, declared dimension, finite values
        built
        if built is not None
        else get_encoder(
            config.model,
            device=config.device,
            batch_size=config.batch_size,
            progress=config.progress,
            precision=config.precision,
        )
    )
    with timer.stage("embed"):
        bar = _progress(config.progress, len(set(texts) | set(passages)), "embedding")
        cache = _cache_for(enc, config)
        both = embed_mod.embed_units(
            enc,
            texts + passages,
            owner + list(range(n)),
            is_title + [False] * n,
            on_batch=(bar.update if bar is not None else None),
            cache=cache,
        )
        m = len(texts)
        units = embed_mod.Units(both.vectors[:m], both.owner[:m], both.is_title[:m], both.texts[:m])
        passage_vectors = both.vectors[m:]
        if cache is not None:
            cache.close()
        if bar is not None:
            bar.close()
    with timer.stage("priors"):
        priors = LanguagePriors(enc, cache=config.cache_priors)
        neutral = priors.means(langs)
    lengths = [len(c.text) for c in cleaned]
    evidence = [
        features.extract(
            (t or "") + "\n" + c.text,
            features.event_date(a.published, _header(a.text, c), c.lead[:400]),
        )
        for a, t, c in zip(rows, titles, cleaned, strict=True)
    ]
    res = _finish(
        ids=[a.id for a in rows],
        langs=langs,
        space_fn=lambda: score_mod.prepare(units, langs, n, neutral=neutral, passages=passage_vectors),
        unit_texts=units.texts,
        evidence=evidence,
        cands=[
            canon.Candidate(a.id, lang, ln, a.published, a.source)
            for a, lang, ln in zip(rows, langs, lengths, strict=True)
        ],
        config=config,
        timer=timer,
        model=getattr(enc, "name", type(enc).__name__),
        input_order=order,
    )
    if key is not None:
        _save_result(key, config, res)
    return res


# ---- the result cache: a re-run on an unchanged corpus ------------------------------------------

_RESULT_FORMAT = 1
_RESULTS_KEPT = 32  # result files kept in the cache (the most recently written)
_CODE: list[str] = []


def _code_fingerprint() -> str:
    """Hash of dedup's own source: a result cached by other code is never read back."""
    if not _CODE:
        h = hashlib.sha256()
        for f in sorted(Path(__file__).parent.glob("*.py")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
        _CODE.append(h.hexdigest())
    return _CODE[0]


def _result_key(arts: list[Article], config: Config, encoder: Any) -> str | None:
    """Key of a run: code, model, settings and every article field in input order; None when the
    encoder is not one of dedup's sentence-transformers encoders (a custom encoder's output may
    change under the same name)."""
    from .encoder import CheckedEncoder, SentenceTransformerEncoder

    inner = encoder.inner if isinstance(encoder, CheckedEncoder) else encoder
    if not isinstance(inner, SentenceTransformerEncoder):
        return None
    from . import model as model_mod

    h = hashlib.sha256()
    h.update(_code_fingerprint().encode())
    name = str(getattr(inner, "name", ""))
    h.update(name.encode("utf-8", "surrogatepass"))
    if model_mod.is_default_model(name.split(":")[0]):
        h.update(model_mod.default_model_dir().name.encode())
    else:
        path = Path(name).expanduser()
        if path.is_dir():  # a local model: its files' sizes and times
            for f in sorted(path.rglob("*")):
                if f.is_file():
                    st = f.stat()
                    h.update(f"{f.relative_to(path)}:{st.st_size}:{st.st_mtime_ns}".encode())
    settings = {k: v for k, v in config.to_dict().items() if k not in ("progress", "cache", "cache_dir")}
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for a in arts:
        fields = [a.id, a.text, a.title, a.lang, a.published, a.url, a.source, a.html]
        h.update(json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _result_path(key: str, config: Config) -> Path:
    from .model import dedup_home

    directory = Path(config.cache_dir) if config.cache_dir else dedup_home() / "cache"
    return directory / "results" / f"{key[:40]}.npz"


_PAIR_FIELDS = ("a", "b", "cosine", "passage", "coverage", "dates", "duplicate", "story")
_RESULT_FIELDS = (
    "ids",
    "langs",
    "cluster_of",
    "story_of",
    "cluster_reason",
    "story_reason",
    "duplicate_score",
    "story_score",
    "model",
)


def _save_result(key: str, config: Config, res: Result) -> None:
    """The result as one .npz (pair arrays, and the rest as a JSON string; no pickles)."""
    meta = {"format": _RESULT_FORMAT, "key": key, "row": dict(res._row)}
    meta["fields"] = {f: getattr(res, f) for f in _RESULT_FIELDS}
    arrays = {f"pairs_{f}": np.asarray(getattr(res.pairs, f)) for f in _PAIR_FIELDS}
    path = _result_path(key, config)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
        np.savez(tmp, allow_pickle=False, **arrays)
        os.replace(tmp, path)
        kept = sorted(path.parent.glob("*.npz"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in kept[_RESULTS_KEPT:]:  # the newest results only
            old.unlink()
    except (OSError, ValueError, TypeError):  # a read-only cache directory only costs the next run its speed
        with contextlib.suppress(OSError):
            tmp.unlink()


def _load_result(key: str, config: Config, arts: list[Article], encoder: Any, timer: _Timer) -> Result | None:
    path = _result_path(key, config)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = json.loads(str(z["meta"]))
            if data.get("format") != _RESULT_FORMAT or data.get("key") != key:
                return None
            pairs = score_mod.PairScores(**{f: z[f"pairs_{f}"] for f in _PAIR_FIELDS})
        fields = data["fields"]
        for f in ("ids", "langs", "cluster_of", "story_of", "duplicate_score", "story_score"):
            fields[f] = tuple(fields[f])
        row = data["row"]
    except Exception:  # noqa: BLE001 - missing, partial or foreign file: compute afresh
        return None
    full: list[Result] = []

    def computed() -> Result:  # explain() and with_thresholds() need the embeddings: run once
        if not full:
            full.append(cluster(arts, config, encoder=encoder, _result_cache=False))
        return full[0]

    return Result(
        **fields,
        config=config,
        timings=dict(timer.t),
        pairs=pairs,
        extras={
            "explain_fn": lambda ra, rb: computed().extras["explain_fn"](ra, rb),
            "recluster": lambda c: computed().extras["recluster"](c),
        },
        _row=row,
    )


def cluster_embeddings(
    embeddings: np.ndarray,
    *,
    ids: Sequence[str] | None = None,
    langs: Sequence[str] | None = None,
    lengths: Sequence[int] | None = None,
    texts: Sequence[str] | None = None,
    config: Config | None = None,
    neutral: Mapping[str, np.ndarray] | None = None,
) -> Result:
    """Cluster precomputed document vectors (one row per article), skipping the model.

    Without `texts`, only the (language-centred) vectors are evidence; give `texts` to add shared
    names and numbers. `neutral` maps a language to the model's mean vector on neutral text, a prior
    for centring small corpora (`dedup.langprior.LanguagePriors(encoder).means(langs)`). `lengths` feeds
    the canonical policy (default: text lengths, else 0).
    """
    config = config or Config()
    timer = _Timer()
    with timer.stage("read"):
        vec = check_vectors(
            embeddings, len(embeddings) if hasattr(embeddings, "__len__") else -1, what="embeddings"
        )
        n = vec.shape[0]
        ids_l = [str(i) for i in (ids if ids is not None else range(n))]
        if len(ids_l) != n:
            raise ConfigError(f"{len(ids_l)} ids for {n} embeddings")
        if len(set(ids_l)) != n:
            raise InputError("ids must be unique")
        langs_l = list(langs) if langs is not None else ["und"] * n
        if len(langs_l) != n:
            raise ConfigError(f"{len(langs_l)} langs for {n} embeddings")
        if texts is not None and len(texts) != n:
            raise ConfigError(f"{len(texts)} texts for {n} embeddings")
    order = sorted(range(n), key=lambda k: ids_l[k])
    if order != list(range(n)):
        vec = vec[order]  # rows in id order; the validated copy is freed (a million rows fit)
    vec_o = vec
    del vec
    langs_o = [langs_l[k] for k in order]
    texts_o = [texts[k] for k in order] if texts is not None else None
    lens = [
        (lengths[k] if lengths is not None else (len(texts[k]) if texts is not None else 0)) for k in order
    ]
    evidence = [features.extract(t) for t in texts_o] if texts_o is not None else None
    return _finish(
        ids=[ids_l[k] for k in order],
        langs=langs_o,
        space_fn=lambda: score_mod.space_from_documents(
            vec_o, langs_o, neutral, neighbours=config.neighbours, inplace=True
        ),
        unit_texts=tuple(texts_o) if texts_o is not None else None,
        evidence=evidence,
        cands=[
            canon.Candidate(ids_l[k], langs_l[k], ln, None, None) for k, ln in zip(order, lens, strict=True)
        ],
        config=config,
        timer=timer,
        model="precomputed",
        input_order=order,
    )


def _finish(
    *,
    ids: list[str],
    langs: list[str],
    space_fn: Callable[[], score_mod.Space],
    unit_texts: tuple[str, ...] | None,
    evidence: list[features.Evidence] | None,
    cands: list[canon.Candidate],
    config: Config,
    timer: _Timer,
    model: str,
    input_order: list[int],
) -> Result:
    n = len(ids)

    @functools.cache
    def weights() -> dict[str, float] | None:  # for explain() only: no decision reads names
        return score_mod.entity_weights(evidence) if evidence is not None else None

    with timer.stage("index"):
        space = space_fn()
        pairs = score_mod.candidate_pairs(space, config.neighbours)
    with timer.stage("score"):
        scored = score_mod.score_pairs(space, pairs, evidence)
    del pairs  # the scores carry the pairs

    # Every pair is scored once: on-demand scoring (average linkage over growing clusters asks
    # for the same pairs again and again, and for the canonical scores) first reads the candidate
    # pairs' scores (sorted keys, a vectorised lookup), then a memo of pairs scored on demand.
    # Scores are symmetric, so a pair is keyed as min * n + max.
    cand_keys = scored.a * n + scored.b  # sorted: candidate pairs come sorted by (a, b)
    cand_scores = (scored.duplicate, scored.story)
    memo: dict[int, tuple[float, float]] = {}

    def on_demand(level: str) -> cluster_mod.ScoreFn:
        col = 0 if level == "duplicate" else 1

        def fn(p: np.ndarray) -> np.ndarray:
            p = np.asarray(p, dtype=np.int64).reshape(-1, 2)
            keys = np.minimum(p[:, 0], p[:, 1]) * n + np.maximum(p[:, 0], p[:, 1])
            out = np.empty(len(keys), dtype=np.float32)
            pos = np.minimum(np.searchsorted(cand_keys, keys), max(len(cand_keys) - 1, 0))
            found = cand_keys[pos] == keys if len(cand_keys) else np.zeros(len(keys), bool)
            out[found] = cand_scores[col][pos[found]]
            rest = np.flatnonzero(~found).tolist()
            key_list = keys.tolist()
            miss = [k for k in rest if key_list[k] not in memo]
            if miss:
                s = score_mod.score_pairs(space, p[miss], evidence)
                for k, d, st in zip(miss, s.duplicate.tolist(), s.story.tolist(), strict=True):
                    memo[key_list[k]] = (d, st)
            for k in rest:
                out[k] = memo[key_list[k]][col]
            return out

        return fn

    def assemble(cfg: Config, tm: _Timer) -> Result:
        with tm.stage("cluster"):
            dup = cluster_mod.average_linkage(
                n,
                scored.a,
                scored.b,
                scored.duplicate,
                cfg.duplicate_threshold,
                score_fn=on_demand("duplicate"),
            )
            groups = score_mod.ClusterEvidence(dup, space.story_docs, space.doc_lang, evidence)
            sto = cluster_mod.story_linkage(
                dup, scored.a, scored.b, cfg.story_threshold, groups.scores, groups.of_row, groups.roots
            )
        with tm.stage("canonical"):
            centrality = np.bincount(  # the story scores of each row's pairs, summed in pair order
                np.concatenate([scored.a, scored.b]),
                weights=np.concatenate([scored.story, scored.story]).astype(np.float64),
                minlength=n,
            )
            dup_canon, dup_reason = _canonicals(dup, cands, cfg, centrality)
            sto_canon, sto_reason = _canonicals(sto, cands, cfg, centrality)
            dup_to = _score_to_canonical(dup_canon, on_demand("duplicate"))
            sto_to = _score_to_canonical(sto_canon, on_demand("story"))
        # back to input order
        inv = [0] * n
        for row, k in enumerate(input_order):
            inv[k] = row
        return Result(
            ids=tuple(ids[inv[k]] for k in range(n)),
            langs=tuple(langs[inv[k]] for k in range(n)),
            cluster_of=tuple(ids[dup_canon[inv[k]]] for k in range(n)),
            story_of=tuple(ids[sto_canon[inv[k]]] for k in range(n)),
            cluster_reason={ids[r]: why for r, why in dup_reason.items()},
            story_reason={ids[r]: why for r, why in sto_reason.items()},
            duplicate_score=tuple(dup_to[inv[k]] for k in range(n)),
            story_score=tuple(sto_to[inv[k]] for k in range(n)),
            config=cfg,
            timings=dict(tm.t),
            model=model,
            pairs=scored,
            extras={
                "explain_fn": lambda ra, rb: explain_evidence(space, unit_texts, evidence, weights(), ra, rb),
                "recluster": lambda c: assemble(c, _Timer()),
            },
            _row={ids[r]: r for r in range(n)},
        )

    res = assemble(config, timer)
    return res


def _score_to_canonical(canon_of: list[int], fn: cluster_mod.ScoreFn) -> list[float]:
    """Each row's score with its cluster's canonical (1.0 for the canonical itself)."""
    rows = [r for r, c in enumerate(canon_of) if r != c]
    out = [1.0] * len(canon_of)
    if rows:
        pairs = np.array([[min(r, canon_of[r]), max(r, canon_of[r])] for r in rows], dtype=np.int64)
        for r, v in zip(rows, fn(pairs).tolist(), strict=True):
            out[r] = float(v)
    return out


def _canonicals(
    labels: np.ndarray, cands: list[canon.Candidate], config: Config, centrality: np.ndarray
) -> tuple[list[int], dict[int, str]]:
    groups: dict[int, list[int]] = {}
    for r, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, []).append(r)
    canon_of = [0] * len(labels)
    reasons: dict[int, str] = {}
    for rows in groups.values():
        best, why = canon.choose(rows, cands, config, centrality)
        reasons[best] = why
        for r in rows:
            canon_of[r] = best
    return canon_of, reasons
