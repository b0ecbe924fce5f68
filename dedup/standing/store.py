"""Standing index: a directory of clustered articles that new articles join (`dedup.Index`).

Takes records (or precomputed document vectors) batch by batch; gives `Changes` per batch (where each
new article went, canonicals that changed, clusters or stories merged or split, stories closed) and,
at any time, every article with its stable cluster and story ids (`records`, `result`). Reads and
writes only its directory (`files`); prepares articles with the one-shot pipeline's stages
(`dedup.prepared`) and joins them in `join`. The corpus statistics the scores use are fitted on the
first articles and frozen until `refit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..encoders import cache_key_of, check_vectors, get_encoder, validated
from ..errors import ConfigError, InputError
from ..io import Article, FieldMap, ReadResult, Reject, validate_records
from ..io import frames as frames_mod
from ..langprior import LanguagePriors
from ..pipeline import article_fields, screen_articles
from ..prepared import prepare_articles
from ..result import Result
from ..score import lexical as lex
from ..score.centring import language_means, prior_mean
from ..timing import Timer
from . import files, views
from .join import join
from .record import Changes, write_generation
from .state import Open, Stats, concat, day_of, empty_open, iso_day, load_open, new_rows


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("dedup")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def _today() -> float:
    return float(datetime.now(timezone.utc).date().toordinal())


class Index:
    """A standing index in a directory. `Index.create(dir, config)`, `Index.open(dir)`, then `add`."""

    def __init__(self, root: Path, manifest: dict[str, Any], encoder: Any = None) -> None:
        self.root = root
        self.manifest = manifest
        self.config = Config(**_config_args(manifest["config"]))
        self._encoder = encoder

    # ---- lifecycle ------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, config: Config | None = None, *, encoder: Any = None) -> Index:
        """A new, empty index in `path` (a directory that does not exist or is empty)."""
        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise ConfigError(
                f"{root} exists and is not an empty directory; give a new directory for the index"
            )
        root.mkdir(parents=True, exist_ok=True)
        config = config or Config()
        man = {
            "format": files.FORMAT,
            "dedup_version": _version(),
            "model": None,
            "kind": None,
            "dim": None,
            "config": config.to_dict(),
            "generation": 0,
            "now": None,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "segments": [],
            "files": {},
            "articles": 0,
            "open_articles": 0,
        }
        with files.locked(root):
            files.commit(root, man)
        return cls(root, man, encoder)

    @classmethod
    def open(cls, path: str | Path, *, encoder: Any = None) -> Index:
        """The index in `path`."""
        root = Path(path)
        return cls(root, files.read_manifest(root), encoder)

    # ---- adding ---------------------------------------------------------------------------------
    def add(
        self,
        records: Iterable[Article | Mapping[str, Any]] | ReadResult | Any,
        *,
        fields: FieldMap | Mapping[str, str] | None = None,
        today: str | None = None,
    ) -> Changes:
        """Embed and join new articles (records as `dedup.cluster` takes them). An id already in the
        index is rejected. `today` (ISO date) dates articles without `published`; default: today."""
        timer = Timer()
        fm = frames_mod.as_field_map(fields)
        day = _day_of_today(today)  # before any work: a bad date fails in a second
        with files.locked(self.root):
            self.manifest = files.read_manifest(self.root)
            self._kind("text")
            with timer.stage("read"):
                rr = (
                    records
                    if isinstance(records, ReadResult)
                    else (
                        frames_mod.read_frame(records, fields=fm)
                        if frames_mod.is_frame(records)
                        else validate_records(records, fields=fm)
                    )
                )
                enc = self._enc()
            with timer.stage("screen"):
                arts, rejects = screen_articles(enc, rr, self.config)
            labels = self._labels()  # read once: the known ids and the state both need it
            arts, more = self._known(arts, rr, set(labels["ids"]))
            rejects = tuple(sorted(rejects + more, key=lambda r: (r.source, r.line)))
            arts = sorted(arts, key=lambda a: a.id)
            if not arts:
                return Changes((), rejects, (), dict(timer.seconds))
            prep = prepare_articles(arts, self.config, enc, timer)
            with timer.stage("load"):
                stats, o = self._load(prep.units.vectors.shape[1], labels)
            with timer.stage("prepare"):
                counts = lex.term_counts(prep.titles, prep.texts, prep.langs)
                if stats is None:
                    stats = self._fit(
                        prep.units.vectors,
                        [prep.langs[r] for r in prep.units.owner.tolist()],
                        prep.passages,
                        prep.langs,
                        prep.neutral,
                        counts,
                    )
                stats = self._extend(stats, prep.langs, prep.neutral, counts)
                new = new_rows(o, self.manifest["articles"], arts, prep, counts, stats, day)
            kept = [dict(a.fields or article_fields(a)) for a in arts]
            return self._write(stats, concat(o, new), o.n, labels, kept, rejects, timer)

    def add_embeddings(
        self,
        embeddings: np.ndarray,
        ids: Sequence[str],
        *,
        langs: Sequence[str] | None = None,
        published: Sequence[str | None] | None = None,
        today: str | None = None,
    ) -> Changes:
        """Join precomputed document vectors (one row per article); an index holds either these or
        articles, not both."""
        timer = Timer()
        with files.locked(self.root):
            self.manifest = files.read_manifest(self.root)
            self._kind("vectors")
            vec = check_vectors(embeddings, len(ids), what="embeddings")
            ids_l = [str(i) for i in ids]
            langs_l = list(langs) if langs is not None else ["und"] * len(ids_l)
            pub = list(published) if published is not None else [None] * len(ids_l)
            if len(langs_l) != len(ids_l) or len(pub) != len(ids_l):
                raise ConfigError(f"{len(langs_l)} langs and {len(pub)} dates for {len(ids_l)} embeddings")
            if len(set(ids_l)) != len(ids_l):
                raise InputError("ids must be unique within a batch")
            labels = self._labels()
            known = set(labels["ids"])
            clash = [i for i in ids_l if i in known]
            if clash:
                raise InputError(
                    f"id {clash[0]!r} is already in the index ({len(clash)} such ids); give new ids"
                )
            order = sorted(range(len(ids_l)), key=lambda k: ids_l[k])
            day = _day_of_today(today)
            with timer.stage("load"):
                stats, o = self._load(vec.shape[1], labels)
            if stats is None:
                stats = self._fit(vec, langs_l, None, langs_l, {}, None)
            stats = self._extend(stats, langs_l, {}, None)
            n0 = o.n
            from .. import canonical as canon

            new = replace(
                empty_open(vec.shape[1], self.config.neighbours, "vectors"),
                seq=np.arange(
                    self.manifest["articles"], self.manifest["articles"] + len(order), dtype=np.int64
                ),
                ids=[ids_l[k] for k in order],
                langs=[langs_l[k] for k in order],
                times=np.array([day_of(pub[k], day) for k in order]),
                units=vec[order],
                unit_owner=np.arange(n0, n0 + len(order), dtype=np.int64),
                candidates=[canon.Candidate(ids_l[k], langs_l[k], 0, pub[k], None) for k in order],
            )
            records = [{"id": ids_l[k], **({"published": pub[k]} if pub[k] else {})} for k in order]
            return self._write(stats, concat(o, new), o.n, labels, records, (), timer)

    def refit(self) -> None:
        """Fit the corpus statistics again on the open articles, score their pairs again with them and
        link both levels again (clusters may merge or split); ids stay as `add` keeps them."""
        with files.locked(self.root):
            self.manifest = files.read_manifest(self.root)
            if not self.manifest["kind"]:
                return
            labels = self._labels()
            stats, o = self._load(int(self.manifest["dim"]), labels)
            assert stats is not None
            langs_u = [o.langs[r] for r in o.unit_owner.tolist()]
            counts = None
            if o.counts is not None and stats.lexical is not None:
                inv = {k: key for key, k in stats.lexical.vocab.items()}
                from collections import Counter

                counts = []
                for r in range(o.n):
                    row = o.counts[r]
                    counts.append(
                        Counter({inv[int(c)]: int(v) for c, v in zip(row.indices, row.data, strict=True)})
                    )
            fitted = self._fit(o.units, langs_u, o.passages, o.langs, stats.neutral, counts)
            if counts is not None and fitted.lexical is not None:
                o = replace(o, counts=lex.count_matrix(fitted.lexical, counts))
            o = replace(
                o,
                unit_lists={},
                doc_top=o.doc_top[:0],
                passage_top=None if o.passage_top is None else o.passage_top[:0],
            )
            self._write(fitted, o, o.n, labels, [], (), Timer(), refit=True)

    # ---- reading --------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """Every article of the index (open and closed), in arrival order: its input fields, then
        `lang`, `cluster` and `story` (stable ids), `canonical` / `story_canonical` (whether it is its
        cluster's / story's canonical now), its scores with them and the canonical's reason."""
        self.manifest = files.read_manifest(self.root)
        return views.records(self.root, self.manifest, self._labels())

    def result(self) -> Result:
        """Every article as a `dedup.Result` (arrival order): clusters and stories named by their
        current canonical, as `dedup.cluster` names them (`records` has the stable ids). `explain`
        works for articles of open stories, from the index's scores (computed on first use)."""
        self.manifest = files.read_manifest(self.root)
        return views.result(self.root, self.manifest, self._labels(), self.config)

    def info(self) -> dict[str, Any]:
        """What the index holds: counts, model, config, generation, size on disk, and how many articles
        its statistics were fitted on (refit when the open articles are several times that)."""
        man = files.read_manifest(self.root)
        labels = self._labels() if man["kind"] else None
        size = sum(p.stat().st_size for p in self.root.iterdir() if p.is_file())
        out = {
            "path": str(self.root),
            "format": man["format"],
            "dedup_version": man["dedup_version"],
            "model": man["model"],
            "kind": man["kind"],
            "generation": man["generation"],
            "articles": man["articles"],
            "open_articles": man["open_articles"],
            "now": iso_day(man["now"]) if man["now"] else None,
            # articles the frozen statistics were fitted on (the first batch, or the last refit)
            "statistics_fitted_on": man.get("fitted_on"),
            "bytes": size,
            "config": man["config"],
        }
        if labels is not None:
            out["duplicate_clusters"] = len(set(labels["cluster"]))
            out["stories"] = len(set(labels["story"]))
            out["open_stories"] = len(
                {s for s, c in zip(labels["story"], labels["closed"], strict=True) if not c}
            )
        return out

    # ---- internals ------------------------------------------------------------------------------
    def _enc(self) -> Any:
        if self._encoder is None:
            c = self.config
            self._encoder = get_encoder(
                c.model, device=c.device, batch_size=c.batch_size, progress=c.progress, precision=c.precision
            )
        enc = validated(self._encoder)
        key = cache_key_of(enc) or str(getattr(enc, "name", type(enc).__name__))
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        model = self.manifest["model"]
        if model is not None and model["hash"] != digest:
            raise ConfigError(
                f"{self.root} was built with model {model['name']!r} ({model['hash']}); this encoder is "
                f"{getattr(enc, 'name', '?')!r} ({digest}): use the same model, or create a new index"
            )
        self.manifest["model"] = {"name": str(getattr(enc, "name", type(enc).__name__)), "hash": digest}
        return enc

    def _kind(self, kind: str) -> None:
        have = self.manifest["kind"]
        if have is not None and have != kind:
            what = {"text": "articles", "vectors": "document vectors"}
            raise ConfigError(
                f"{self.root} holds {what[have]}; it cannot take {what[kind]}: create another index"
            )

    def _labels(self) -> dict[str, Any]:
        name = self.manifest["files"].get("labels")
        if name is None:
            return {
                "ids": [],
                "cluster": [],
                "story": [],
                "dscore": [],
                "sscore": [],
                "closed": [],
                "canonical": {},
                "story_canonical": {},
                "reason": {},
                "story_reason": {},
            }
        return dict(files.read_json(self.root / name))

    def _known(
        self, arts: list[Article], rr: ReadResult, known: set[str]
    ) -> tuple[list[Article], tuple[Reject, ...]]:
        keep, out = [], []
        pos = {
            a.id: rr.positions[k] if k < len(rr.positions) else ("records", k + 1)
            for k, a in enumerate(rr.articles)
        }
        for a in arts:
            if a.id in known:
                src, line = pos.get(a.id, ("records", 0))
                out.append(
                    Reject(
                        line=line,
                        id=a.id,
                        reason="id already in the index (give it a new id to add it)",
                        source=src,
                    )
                )
            else:
                keep.append(a)
        return keep, tuple(out)

    def _load(self, dim: int, labels: dict[str, Any]) -> tuple[Stats | None, Open]:
        man = self.manifest
        if man["kind"] is None:
            return None, empty_open(dim, self.config.neighbours, "text")
        if int(man["dim"]) != dim:
            raise ConfigError(f"{self.root} holds {man['dim']}-dimensional vectors, these have {dim}")
        stats = Stats.load(self.root, man["files"])
        return stats, load_open(self.root, man, labels)

    def _fit(
        self,
        units: np.ndarray,
        unit_langs: Sequence[str],
        passages: np.ndarray | None,
        langs: Sequence[str],
        neutral: Mapping[str, np.ndarray],
        counts: Any,
    ) -> Stats:
        um = language_means(np.asarray(units, dtype=np.float32), unit_langs, neutral=neutral)
        pm = (
            language_means(np.asarray(passages, dtype=np.float32), langs, neutral=neutral)
            if passages is not None
            else {}
        )
        lexical = lex.fit(counts, langs) if counts is not None else None
        return Stats(um, pm, dict(neutral), lexical)

    def _extend(
        self, stats: Stats, langs: Sequence[str], neutral: Mapping[str, np.ndarray], counts: Any
    ) -> Stats:
        """`stats` with a prior mean for every language it has not seen, and a column per new word."""
        missing = sorted(set(langs) - set(stats.unit_means))
        if missing and not neutral and self.manifest["kind"] == "text":
            neutral = LanguagePriors(self._enc(), cache=self.config.cache_priors).means(missing)
        um, pm, nu = dict(stats.unit_means), dict(stats.passage_means), dict(stats.neutral)
        for lang in missing:
            if lang in neutral:
                nu[lang] = np.asarray(neutral[lang], dtype=np.float32)
            um[lang] = prior_mean(um[""], lang, nu).astype(np.float32)
            if pm:
                pm[lang] = prior_mean(pm[""], lang, nu).astype(np.float32)
        lexical = (
            stats.lexical.extended(counts)
            if stats.lexical is not None and counts is not None
            else stats.lexical
        )
        return Stats(um, pm, nu, lexical)

    def _write(
        self,
        stats: Stats,
        o: Open,
        n_old: int,
        labels: dict[str, Any],
        records: list[dict[str, Any]],
        rejects: tuple[Reject, ...],
        timer: Timer,
        *,
        refit: bool = False,
    ) -> Changes:
        kind = self.manifest["kind"] or ("vectors" if o.evidence is None else "text")
        with timer.stage("join"):  # a refit searches, scores and links every row again, keeping ids
            j = join(o, 0 if refit else n_old, stats, self.config, kind, n_known=n_old)
        with timer.stage("write"):
            ch, self.manifest = write_generation(
                self.root,
                self.manifest,
                self.config,
                stats,
                j,
                n_old,
                labels,
                records,
                rejects,
                timer,
                refit,
            )
            return ch


def _day_of_today(today: str | None) -> float:
    """The day that dates undated articles: `today` (ISO date) or the current UTC date."""
    if today is None:
        return _today()
    day = day_of(today, float("nan"))
    if day != day:  # NaN: not an ISO date
        raise ConfigError(f"today must be an ISO date such as 2026-12-02, got {today!r}")
    return day


def _config_args(d: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(d)
    for name in ("prefer_lang", "source_priority"):
        out[name] = tuple(out.get(name, ()))
    return out


__all__ = ["Changes", "Index"]
