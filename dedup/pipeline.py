"""The pipeline: joins the stages and times them; it holds no stage's logic.

read -> clean -> language (and the script screen) -> embed -> index -> score -> cluster ->
canonical -> result. Two entry points: `cluster` (from articles: records, `Article`s, a
`read_articles` result, or a pandas/polars DataFrame, converted at the edge by `io.frames`) and
`cluster_embeddings` (from precomputed document vectors). Inside, an article is an integer row in
id order (so any input order gives the same result); external ids and input order come back only
when the Result is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from . import canonical as canon
from . import clean as clean_mod
from . import features
from . import index as index_mod
from .cache import results as result_cache
from .config import Config, Engine, OnError
from .encoders import Encoder, check_vectors, get_encoder, unknown_script, validated
from .errors import ConfigError, InputError, NoUsableRecords
from .io import Article, FieldMap, ReadResult, Reject, validate_records, where
from .io import frames as frames_mod
from .prepared import prepare_articles
from .result import LazyEvidence, Result, RunEvidence, assemble
from .score import PairScorer, prepare, score_pairs, space_from_documents
from .score import lexical as lexical_mod
from .score.story import StoryScorer
from .timing import Timer

_SCRIPT_SAMPLE = 4000  # characters of a text the script screen looks at


def cluster(
    articles: Iterable[Article | Mapping[str, Any]] | ReadResult | Any,
    config: Config | None = None,
    *,
    encoder: Encoder | None = None,
    fields: FieldMap | Mapping[str, str] | None = None,
) -> Result:
    """Cluster articles at both levels: dicts with `id` and `text` (and optionally `title`, `lang`,
    `published`, `url`, `source`, any other field), `Article`s, a `read_articles` result, or a pandas
    or polars DataFrame (one article per row; a bad row is rejected with its row number + 1 as line).

    `fields` maps those names to the input's (`FieldMap(text="body")`, or {"text": "body"} as the
    CLI's `--text-field body`); with a `read_articles` result, give the mapping it was read with.

    Records that cannot be used (malformed, duplicate id, a script the model does not know) are set
    aside in `Result.rejects` (`config.on_error="fail"` raises InputError at the first instead).
    `encoder` overrides `config.model` (any object with `name`, `dim` and `encode(texts)`). A re-run on
    an unchanged corpus with the same settings, code and model reads the previous result back.
    """
    config = config or Config()
    timer = Timer()
    fm = frames_mod.as_field_map(fields)
    with timer.stage("read"):  # on_error applies after the screen: the first bad one
        if isinstance(articles, ReadResult):
            rr = articles
        elif frames_mod.is_frame(articles):
            rr = frames_mod.read_frame(articles, fields=fm)
        else:
            rr = validate_records(articles, fields=fm)
        enc = validated(
            encoder
            if encoder is not None
            else get_encoder(
                config.model,
                device=config.device,
                batch_size=config.batch_size,
                progress=config.progress,
                precision=config.precision,
            )
        )
    with timer.stage("screen"):
        arts, rejects = screen_articles(enc, rr, config)
    records = tuple(a.fields or article_fields(a) for a in arts)
    key = result_cache.result_key(arts, config, enc) if config.cache else None
    if key is not None:
        with timer.stage("result_cache"):
            hit = result_cache.load(key, config)
        if hit is not None:

            def compute() -> RunEvidence:
                return _evidence(arts, config, enc, Timer())

            return Result(
                **hit.fields,
                config=config,
                timings=dict(timer.seconds),
                pairs=hit.pairs,
                records=records,
                rejects=rejects,
                evidence=LazyEvidence(compute=compute),
                from_cache=True,
                field_map=fm,
                input_schema=rr.schema,
            )
    ev = _evidence(arts, config, enc, timer)
    res = assemble(ev, config, records, rejects, timer, field_map=fm, input_schema=rr.schema)
    if key is not None:
        result_cache.save(key, config, {f: getattr(res, f) for f in result_cache.FIELDS}, res.pairs)
    return res


def article_fields(a: Article) -> dict[str, Any]:
    """The fields of an Article built directly (not from a record), for the output."""
    out = {"id": a.id, "text": a.text}
    for name in ("title", "lang", "published", "url", "source"):
        v = getattr(a, name)
        if v is not None:
            out[name] = v
    return out


def screen_articles(enc: Any, rr: ReadResult, config: Config) -> tuple[list[Article], tuple[Reject, ...]]:
    """The articles the model can read, and every reject (the reader's and those written in a script
    the model does not know), in input order; with `on_error` fail, an InputError for the first."""
    articles = list(rr.articles)
    samples = [
        clean_mod.strip_tags(a.text[: 100 * _SCRIPT_SAMPLE])[0] if a.html else a.text for a in articles
    ]
    reasons = unknown_script(enc, [s[:_SCRIPT_SAMPLE] for s in samples]) if articles else []
    keep: list[Article] = []
    out = list(rr.rejects)
    for k, (a, why) in enumerate(zip(articles, reasons, strict=True)):
        if why is None:
            keep.append(a)
            continue
        source, line = rr.positions[k] if k < len(rr.positions) else ("records", k + 1)
        out.append(Reject(line=line, id=a.id, reason=why, source=source))
    rejects = tuple(sorted(out, key=lambda r: (r.source, r.line)))
    if rejects and config.on_error is OnError.FAIL:
        first = rejects[0]
        raise InputError(f"{where(first.source, first.line)}: {first.reason}")
    if not keep and rejects:
        first = rejects[0]
        raise NoUsableRecords(
            f"none of the {rr.total} records is usable, all were rejected (the first: "
            f"{where(first.source, first.line)}: {first.reason})",
            rejects,
        )
    return keep, rejects


def _evidence(arts: Sequence[Article], config: Config, enc: Any, timer: Timer) -> RunEvidence:
    """Every stage from cleaning to pair scores, on articles in row (id) order."""
    order = sorted(range(len(arts)), key=lambda k: arts[k].id)
    rows = [arts[k] for k in order]
    n = len(rows)
    if config.engine is Engine.RAY:  # the same stages, their per-article work on a Ray cluster
        from .distributed import prepare_on_ray

        prep = prepare_on_ray(rows, config, enc, timer)
    else:
        prep = prepare_articles(rows, config, enc, timer)
    with timer.stage("features"):
        lexical = lexical_mod.build(prep.titles, prep.texts, prep.langs)
    if config.engine is Engine.RAY and n > config.driver_max_articles:  # in blocks on the workers
        from .distributed import score_on_blocks

        published = [a.published for a in rows]
        space, table, story, _ = score_on_blocks(prep, published, lexical, config, timer)
    else:
        with timer.stage("index"):
            space = prepare(prep.units, prep.langs, n, neutral=prep.neutral, passages=prep.passages)
            pairs = index_mod.candidate_pairs(
                space.docs, config.neighbours, passages=space.passages, knn_done=space.doc_knn
            )
        with timer.stage("score"):
            story = StoryScorer(space.story_docs, space.doc_lang, lexical, prep.evidence)
            table = score_pairs(space, pairs, prep.evidence, story, progress=config.progress)
    inv = [0] * n
    for row, k in enumerate(order):
        inv[k] = row
    return RunEvidence(
        row_ids=tuple(a.id for a in rows),
        langs=tuple(prep.langs),
        input_rows=tuple(inv),
        scorer=PairScorer(space, table, prep.evidence, story),
        features=tuple(prep.evidence),
        unit_texts=prep.units.texts,
        candidates=prep.candidates,
        model=str(getattr(enc, "name", type(enc).__name__)),
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

    Without `texts`, only the (language-centred) vectors are evidence; give `texts` to add event
    dates. `neutral` maps a language to the model's mean vector on neutral text, a prior for
    centring small corpora (`dedup.langprior.LanguagePriors(encoder).means(langs)`). `lengths` feeds
    the canonical policy (default: text lengths, else 0). The caller's array is never modified.
    """
    config = config or Config()
    timer = Timer()
    with timer.stage("read"):
        n_given = len(embeddings) if hasattr(embeddings, "__len__") else -1
        vec = check_vectors(embeddings, n_given, what="embeddings")  # a validated copy
        n = vec.shape[0]
        ids_l = [str(i) for i in (ids if ids is not None else range(n))]
        for name, given in (("ids", ids_l), ("langs", langs), ("texts", texts), ("lengths", lengths)):
            if given is not None and len(given) != n:
                raise ConfigError(f"{len(given)} {name} for {n} embeddings")
        if len(set(ids_l)) != n:
            dup = next(i for i in ids_l if ids_l.count(i) > 1)
            raise InputError(f"ids must be unique: {dup!r} occurs more than once")
        langs_l = list(langs) if langs is not None else ["und"] * n
    order = sorted(range(n), key=lambda k: ids_l[k])
    if order != list(range(n)):
        vec = vec[order]  # rows in id order (the validated copy is freed)
    langs_o = [langs_l[k] for k in order]
    texts_o = [texts[k] for k in order] if texts is not None else None
    lens = [
        (lengths[k] if lengths is not None else (len(texts[k]) if texts is not None else 0)) for k in order
    ]
    evidence = [features.extract(t) for t in texts_o] if texts_o is not None else None
    with timer.stage("index"):
        space = space_from_documents(vec, langs_o, neutral, neighbours=config.neighbours, inplace=True)
        del vec  # centred in place: the space holds it
        pairs = index_mod.candidate_pairs(space.docs, config.neighbours, knn_done=space.doc_knn)
    with timer.stage("score"):
        table = score_pairs(space, pairs, evidence)
    inv = [0] * n
    for row, k in enumerate(order):
        inv[k] = row
    ev = RunEvidence(
        row_ids=tuple(ids_l[k] for k in order),
        langs=tuple(langs_o),
        input_rows=tuple(inv),
        scorer=PairScorer(space, table, evidence),
        features=tuple(evidence) if evidence is not None else None,
        unit_texts=tuple(texts_o) if texts_o is not None else None,
        candidates=tuple(
            canon.Candidate(ids_l[k], langs_l[k], ln, None, None) for k, ln in zip(order, lens, strict=True)
        ),
        model="precomputed",
    )
    records = tuple({"id": i} for i in ids_l)
    return assemble(ev, config, records, (), timer)


__all__ = ["cluster", "cluster_embeddings"]
