"""Result stage: the frozen, typed result of a run, and its assembly from the scored evidence.

Takes the run's evidence (`RunEvidence`: the scored pairs and what explains them, rows in id order)
and a config; gives a `Result` in input order: both levels, canonical choices and reasons, scores,
timings, the config, every input field of every article, the rejected records, `explain(a, b)` from
the evidence already computed, and `with_thresholds` (re-clustering without the model). Its views:
the output records (all, or the deduplicated corpus: `canonical_records`), pandas and polars
DataFrames (through `io.frames`), and `summary()` (counts, the largest stories, timings).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import canonical as canon
from . import clean as clean_mod
from . import cluster as cluster_mod
from .config import Config, Keep
from .errors import ConfigError, DedupError
from .features import Date, Evidence
from .io import FieldMap, Reject, records_to_pandas, records_to_polars
from .score import PairScorer, PairScores, align
from .timing import Timer

#: The fields dedup adds to every output record (they replace input fields of the same name).
DEDUP_FIELDS = (
    "lang",
    "cluster",
    "story",
    "canonical",
    "story_canonical",
    "duplicate_score",
    "story_score",
    "canonical_reason",
    "story_canonical_reason",
)
TOP_STORIES = 10  # stories that `Result.summary` describes
TITLE_CHARS = 80  # of a text, when an article has no title


@dataclass(frozen=True)
class Explanation:
    """The evidence for one pair of articles and the verdict at each level."""

    a: str
    b: str
    cosine: float
    coverage: float
    passage: float
    duplicate_score: float
    story_score: float
    same_duplicate: bool
    same_story: bool
    aligned: tuple[tuple[str, str, float], ...]
    shared_names: tuple[str, ...]
    shared_numbers: tuple[str, ...]
    dates: str
    thresholds: Mapping[str, float]
    #: the story probability's evidence: (name, value, contribution to the log-odds), the bias first
    story_evidence: tuple[tuple[str, float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "a": self.a,
            "b": self.b,
            "scores": {
                "cosine": round(self.cosine, 4),
                "passage": round(self.passage, 4),
                "coverage": round(self.coverage, 4),
                "duplicate": round(self.duplicate_score, 4),
                "story": round(self.story_score, 4),
            },
            "thresholds": dict(self.thresholds),
            "verdict": {"duplicate": self.same_duplicate, "story": self.same_story},
            "aligned": [{"a": x, "b": y, "margin": round(m, 3)} for x, y, m in self.aligned],
            "shared_names": list(self.shared_names),
            "shared_numbers": list(self.shared_numbers),
            "event_dates": self.dates,
            "story_evidence": [
                {"evidence": name, "value": round(v, 4), "share": round(c, 4)}
                for name, v, c in self.story_evidence
            ],
        }

    def __str__(self) -> str:
        lines = [
            f"{self.a}  ~  {self.b}",
            f"  duplicate: {'YES' if self.same_duplicate else 'no'}  score {self.duplicate_score:.3f}"
            f" (threshold {self.thresholds['duplicate']:.2f})",
            f"  story:     {'YES' if self.same_story else 'no'}  score {self.story_score:.3f}"
            f" (threshold {self.thresholds['story']:.2f})",
            f"  evidence: passage cosine {self.passage:.3f}, document cosine {self.cosine:.3f} (both "
            f"language-centred), sentence coverage {self.coverage:.2f}",
            "  story probability = sigmoid(sum of shares): "
            + ", ".join(f"{name} {v:.2f} -> {c:+.2f}" for name, v, c in self.story_evidence),
            f"  shared names: {', '.join(self.shared_names) or '-'}",
            f"  shared numbers: {', '.join(self.shared_numbers) or '-'}",
            f"  event dates: {self.dates}",
            f"  aligned sentence pairs ({len(self.aligned)}):",
        ]
        for x, y, m in self.aligned:
            lines.append(f"    [{m:.2f}] {_short(x)}")
            lines.append(f"           {_short(y)}")
        return "\n".join(lines)


def _short(s: str, n: int = 110) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


@dataclass(frozen=True)
class RunEvidence:
    """What a run computed that its clusters and explanations come from. Rows are internal: row r is
    the article with the r-th smallest id (`row_ids`)."""

    row_ids: tuple[str, ...]
    langs: tuple[str, ...]  # per row
    input_rows: tuple[int, ...]  # input position -> row
    scorer: PairScorer  # the pair table, the prepared space and on-demand pair scores
    features: tuple[Evidence, ...] | None  # names, numbers, event date per row (None: no texts)
    unit_texts: tuple[str, ...] | None  # texts of the space's units (None: no texts)
    candidates: tuple[canon.Candidate, ...]  # what the canonical policies read, per row
    model: str

    @functools.cached_property
    def row_of(self) -> dict[str, int]:
        """Article id -> row."""
        return {aid: r for r, aid in enumerate(self.row_ids)}


class LazyEvidence:
    """A run's evidence, or how to compute it (a result read back from the cache has none until
    `explain` or `with_thresholds` asks: then the run is computed once)."""

    def __init__(
        self, value: RunEvidence | None = None, compute: Callable[[], RunEvidence] | None = None
    ) -> None:
        if value is None and compute is None:
            raise ValueError("give the evidence or a way to compute it")
        self._value = value
        self._compute = compute

    def get(self) -> RunEvidence:
        """The evidence (computed on the first call when not given)."""
        if self._value is None:
            assert self._compute is not None
            self._value = self._compute()
        return self._value


@dataclass(frozen=True)
class Result:
    """Clusters at both levels for the articles in input order. Build it with `dedup.cluster`."""

    ids: tuple[str, ...]
    langs: tuple[str, ...]
    cluster_of: tuple[str, ...]  # per article: id of its duplicate cluster's canonical
    story_of: tuple[str, ...]  # per article: id of its story cluster's canonical
    cluster_reason: Mapping[str, str]  # canonical id -> why it was chosen
    story_reason: Mapping[str, str]
    duplicate_score: tuple[float, ...]  # per article: score to its cluster canonical (1 for itself)
    story_score: tuple[float, ...]
    config: Config
    timings: Mapping[str, float]
    model: str
    #: scores of the candidate pairs; `pairs.a` and `pairs.b` index `row_ids` (ids in sorted order)
    pairs: PairScores = field(repr=False, compare=False)
    row_ids: tuple[str, ...] = field(repr=False, compare=False)
    #: per article, its input fields as given (passed through to the output untouched)
    records: tuple[Mapping[str, Any], ...] = field(repr=False, compare=False)
    rejects: tuple[Reject, ...] = field(default=(), repr=False, compare=False)  # records not clustered
    evidence: LazyEvidence | None = field(default=None, repr=False, compare=False)
    from_cache: bool = field(default=False, compare=False)
    #: the input's field names (which of `records`' fields are the title and the text)
    field_map: FieldMap = field(default=FieldMap(), repr=False, compare=False)
    #: the Arrow schema of a Parquet or DataFrame input: its columns keep their types in DataFrames
    input_schema: Any = field(default=None, repr=False, compare=False)

    # ---- views -------------------------------------------------------------------------------
    @property
    def clusters(self) -> list[list[str]]:
        """Duplicate clusters as lists of ids (canonical first, then input order)."""
        return _groups(self.ids, self.cluster_of)

    @property
    def stories(self) -> list[list[str]]:
        """Story clusters as lists of ids (canonical first, then input order)."""
        return _groups(self.ids, self.story_of)

    @property
    def canonical(self) -> dict[str, str]:
        """Article id -> id of the canonical article of its duplicate cluster."""
        return dict(zip(self.ids, self.cluster_of, strict=True))

    @property
    def story_canonical(self) -> dict[str, str]:
        """Article id -> id of the canonical article of its story cluster."""
        return dict(zip(self.ids, self.story_of, strict=True))

    @functools.cached_property
    def _position(self) -> dict[str, int]:
        return {aid: k for k, aid in enumerate(self.ids)}

    def to_records(self, *, slim: bool = False) -> list[dict[str, Any]]:
        """One output record per input article, in input order: every input field as given, then
        dedup's fields (`DEDUP_FIELDS`, which replace input fields of the same name); `slim`: only
        `id` and dedup's fields."""
        return self._records(range(len(self.ids)), slim)

    def canonical_records(
        self, keep: Keep | str = Keep.CANONICAL, *, slim: bool = False
    ) -> list[dict[str, Any]]:
        """The deduplicated corpus: the records (as `to_records`, in input order) of the canonical
        article of each duplicate cluster (`keep="canonical"`), of each story (`"story"`), or of
        every article (`"all"`)."""
        return self._records(self._kept(keep), slim)

    def to_pandas(self, *, keep: Keep | str = Keep.ALL, slim: bool = False) -> Any:
        """The records (`canonical_records(keep)`) as a pandas DataFrame, one row per article: the
        input columns (typed as in a DataFrame or Parquet input), then dedup's. Needs pandas
        (`pip install 'dedup[pandas]'`)."""
        return records_to_pandas(self.canonical_records(keep, slim=slim), self.input_schema, own=DEDUP_FIELDS)

    def to_polars(self, *, keep: Keep | str = Keep.ALL, slim: bool = False) -> Any:
        """The records as a polars DataFrame (as `to_pandas`). Needs polars (`dedup[polars]`)."""
        return records_to_polars(self.canonical_records(keep, slim=slim), self.input_schema, own=DEDUP_FIELDS)

    def _kept(self, keep: Keep | str) -> Sequence[int]:
        try:
            kind = Keep(keep)
        except ValueError:
            raise ConfigError(f"unknown keep {keep!r}; choose {', '.join(k.value for k in Keep)}") from None
        if kind is Keep.ALL:
            return range(len(self.ids))
        label = self.cluster_of if kind is Keep.CANONICAL else self.story_of
        return [k for k, aid in enumerate(self.ids) if aid == label[k]]

    def _records(self, positions: Sequence[int], slim: bool) -> list[dict[str, Any]]:
        out = []
        for k in positions:
            aid = self.ids[k]
            c, s = self.cluster_of[k], self.story_of[k]
            given = self.records[k]
            rec: dict[str, Any] = {} if slim else dict(given)
            if "id" not in rec:  # the input's own id value (7 stays 7) when it has one, else the id
                rec["id"] = given["id"] if "id" in given and str(given["id"]) == aid else aid
            rec.update(
                lang=self.langs[k],
                cluster=c,
                story=s,
                canonical=aid == c,
                story_canonical=aid == s,
                duplicate_score=round(self.duplicate_score[k], 4),
                story_score=round(self.story_score[k], 4),
            )
            for name in ("canonical_reason", "story_canonical_reason"):
                rec.pop(name, None)  # an earlier run's reasons do not carry over
            if aid == c:
                rec["canonical_reason"] = self.cluster_reason.get(aid, "")
            if aid == s:
                rec["story_canonical_reason"] = self.story_reason.get(aid, "")
            out.append(rec)
        return out

    def summary(self, top: int = TOP_STORIES) -> dict[str, Any]:
        """Counts, the `top` largest stories of more than one article (largest first, ties in input
        order; each with its canonical's id, all its ids, its duplicate clusters, languages and the
        canonical's title), rejects, where the result came from (computed or the result cache), the
        config and the seconds per stage. JSON-ready."""
        n, clusters = len(self.ids), len(set(self.cluster_of))
        several = sorted((s for s in self.stories if len(s) > 1), key=len, reverse=True)
        return {
            "records": n + len(self.rejects),
            "articles": n,
            "duplicate_clusters": clusters,
            "stories": len(set(self.story_of)),
            "duplicates_removed": n - clusters,
            "multi_article_stories": len(several),
            "largest_stories": [self._story_summary(s) for s in several[: max(top, 0)]],
            "rejected": len(self.rejects),
            "model": self.model,
            "from_cache": self.from_cache,
            "source": "result cache" if self.from_cache else "computed",
            "config": self.config.to_dict(),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }

    def _story_summary(self, story: list[str]) -> dict[str, Any]:
        pos = self._position
        langs = Counter(self.langs[pos[aid]] for aid in story)
        clusters = _groups(tuple(story), tuple(self.cluster_of[pos[aid]] for aid in story))
        return {
            "story": story[0],
            "size": len(story),
            "ids": list(story),
            "duplicate_clusters": sorted(clusters, key=len, reverse=True),
            "languages": dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
            "title": self.title(story[0]),
        }

    def title(self, aid: str) -> str:
        """An article's title as summaries show it: its input title field, else the first words
        (about 80 characters) of its text (for an HTML page: its headline, else its text's)."""
        rec, fm = self.records[self._position[aid]], self.field_map
        title = rec.get(fm.title)
        if isinstance(title, str) and title.strip():
            return _short(title, 2 * TITLE_CHARS)
        text = rec.get(fm.text)
        if not isinstance(text, str):
            return ""
        head = text[: 200 * TITLE_CHARS]
        if head.lstrip().startswith("<"):  # a page: its headline, or its text without the markup
            head, headline = clean_mod.strip_tags(head)
            if headline:
                return _short(headline, 2 * TITLE_CHARS)
        return _short(head, TITLE_CHARS)

    def _evidence(self) -> RunEvidence:
        if self.evidence is None:
            raise DedupError("this result carries no evidence (it was built without a run)")
        return self.evidence.get()

    def with_thresholds(self, duplicate: float | None = None, story: float | None = None) -> Result:
        """The same corpus clustered at other thresholds, from the pair scores already computed
        (fast: for threshold sweeps)."""
        changes = {
            k: v for k, v in (("duplicate_threshold", duplicate), ("story_threshold", story)) if v is not None
        }
        return assemble(
            self._evidence(),
            self.config.with_(**changes),
            self.records,
            self.rejects,
            Timer(),
            field_map=self.field_map,
            input_schema=self.input_schema,
        )

    def explain(self, a: str, b: str) -> Explanation:
        """Why articles `a` and `b` are (or are not) in one cluster at each level."""
        for x in (a, b):
            if x not in self._position:
                raise DedupError(f"unknown article id {x!r} (not in this result)")
        ka, kb = self._position[a], self._position[b]
        ev = self._evidence()
        for x in (a, b):
            if x not in ev.row_of:  # a standing index keeps the evidence of open stories only
                raise DedupError(f"no evidence kept for {x!r}: its story is closed")
        ra, rb = ev.row_of[a], ev.row_of[b]
        p = ev.scorer.pair(ra, rb)
        space, feats = ev.scorer.space, ev.features
        aligned: list[tuple[str, str, float]] = []
        if ev.unit_texts is not None:
            sa, sb = space.units_of(ra), space.units_of(rb)
            for i, j, m in align(space, ra, rb).pairs:
                aligned.append((ev.unit_texts[sa.start + i], ev.unit_texts[sb.start + j], m))
        fa, fb = (feats[ra], feats[rb]) if feats is not None else (None, None)
        return Explanation(
            a=a,
            b=b,
            cosine=float(p.cosine[0]),
            coverage=float(p.coverage[0]),
            passage=float(p.passage[0]),
            duplicate_score=float(p.duplicate[0]),
            story_score=float(p.story[0]),
            same_duplicate=self.cluster_of[ka] == self.cluster_of[kb],
            same_story=self.story_of[ka] == self.story_of[kb],
            aligned=tuple(aligned),
            shared_names=tuple(sorted(fa.names & fb.names)) if fa and fb else (),
            shared_numbers=tuple(sorted(fa.numbers & fb.numbers, key=lambda x: (len(x), x)))
            if fa and fb
            else (),
            dates=_date_text(fa, fb, int(p.dates[0])) if fa and fb else "unknown",
            thresholds={"duplicate": self.config.duplicate_threshold, "story": self.config.story_threshold},
            story_evidence=ev.scorer.story.evidence_of(ra, rb),
        )


def assemble(
    ev: RunEvidence,
    config: Config,
    records: tuple[Mapping[str, Any], ...],
    rejects: tuple[Reject, ...],
    timer: Timer,
    *,
    field_map: FieldMap = FieldMap(),  # noqa: B008 - frozen, so a shared default is safe
    input_schema: Any = None,
) -> Result:
    """Cluster the scored evidence at `config`'s thresholds, choose canonicals, and give the Result
    in input order."""
    scorer = ev.scorer
    with timer.stage("cluster"):
        levels = cluster_mod.cluster_levels(scorer, config.duplicate_threshold, config.story_threshold)
    with timer.stage("canonical"):
        t = scorer.table
        centrality = canon.centrality(scorer.n, t.a, t.b, t.story)
        dup = canon.assign(
            levels.duplicate, ev.candidates, config, centrality, lambda p: scorer.scores(p, "duplicate")
        )
        sto = canon.assign(
            levels.story, ev.candidates, config, centrality, lambda p: scorer.scores(p, "story")
        )
    ids, rows = ev.row_ids, ev.input_rows
    return Result(
        ids=tuple(ids[r] for r in rows),
        langs=tuple(ev.langs[r] for r in rows),
        cluster_of=tuple(ids[dup.of_row[r]] for r in rows),
        story_of=tuple(ids[sto.of_row[r]] for r in rows),
        cluster_reason={ids[r]: why for r, why in dup.reasons.items()},
        story_reason={ids[r]: why for r, why in sto.reasons.items()},
        duplicate_score=tuple(dup.score[r] for r in rows),
        story_score=tuple(sto.score[r] for r in rows),
        config=config,
        timings=dict(timer.seconds),
        model=ev.model,
        pairs=t,
        row_ids=ids,
        records=records,
        rejects=rejects,
        evidence=LazyEvidence(ev),
        field_map=field_map,
        input_schema=input_schema,
    )


def _groups(ids: tuple[str, ...], label: tuple[str, ...]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for aid, lab in zip(ids, label, strict=True):
        groups.setdefault(lab, []).append(aid)
    return [[lab] + [m for m in members if m != lab] for lab, members in groups.items()]


def _date_text(ea: Evidence, eb: Evidence, rel: int) -> str:
    def fmt(d: Date | None) -> str:
        if d is None:
            return "?"
        y, m, day = d
        return f"{y:04d}-{m:02d}-{day:02d}" if y else f"--{m:02d}-{day:02d}"

    verdict = {1: "agree", -1: "conflict", 0: "no verdict"}[rel]
    return f"{fmt(ea.date)} vs {fmt(eb.date)}: {verdict}"


__all__ = ["DEDUP_FIELDS", "TOP_STORIES", "Explanation", "LazyEvidence", "Result", "RunEvidence", "assemble"]
