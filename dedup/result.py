"""The frozen result of a run: both levels, canonical choices, scores, timings and explanations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import Config
from .errors import DedupError
from .score import PairScores, Space, align


@dataclass(frozen=True)
class Explanation:
    """The evidence for one pair of articles and the verdict at each level."""

    a: str
    b: str
    cosine: float
    coverage: float
    entities: float
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "a": self.a,
            "b": self.b,
            "scores": {
                "cosine": round(self.cosine, 4),
                "passage": round(self.passage, 4),
                "coverage": round(self.coverage, 4),
                "entities": round(self.entities, 4),
                "duplicate": round(self.duplicate_score, 4),
                "story": round(self.story_score, 4),
            },
            "thresholds": dict(self.thresholds),
            "verdict": {"duplicate": self.same_duplicate, "story": self.same_story},
            "aligned": [{"a": x, "b": y, "margin": round(m, 3)} for x, y, m in self.aligned],
            "shared_names": list(self.shared_names),
            "shared_numbers": list(self.shared_numbers),
            "event_dates": self.dates,
        }

    def __str__(self) -> str:
        lines = [
            f"{self.a}  ~  {self.b}",
            f"  duplicate: {'YES' if self.same_duplicate else 'no'}  score {self.duplicate_score:.3f}"
            f" (threshold {self.thresholds['duplicate']:.2f})",
            f"  story:     {'YES' if self.same_story else 'no'}  score {self.story_score:.3f}"
            f" (threshold {self.thresholds['story']:.2f})",
            f"  evidence: passage cosine {self.passage:.3f}, document cosine {self.cosine:.3f} (both "
            f"language-centred), sentence coverage {self.coverage:.2f}, shared names/numbers "
            f"{self.entities:.2f}",
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
class Result:
    """Clusters at both levels for articles in input order. Build it with `dedup.cluster`."""

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
    pairs: PairScores = field(repr=False, compare=False)
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _row: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

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

    def to_records(self) -> list[dict[str, Any]]:
        """One output record per input article, in input order (the fields of SPEC.md and more)."""
        out = []
        for k, aid in enumerate(self.ids):
            c, s = self.cluster_of[k], self.story_of[k]
            rec: dict[str, Any] = {
                "id": aid,
                "lang": self.langs[k],
                "cluster": c,
                "story": s,
                "canonical": aid == c,
                "story_canonical": aid == s,
                "duplicate_score": round(self.duplicate_score[k], 4),
                "story_score": round(self.story_score[k], 4),
            }
            if aid == c:
                rec["canonical_reason"] = self.cluster_reason.get(aid, "")
            if aid == s:
                rec["story_canonical_reason"] = self.story_reason.get(aid, "")
            out.append(rec)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts, config echo and stage timings."""
        return {
            "articles": len(self.ids),
            "duplicate_clusters": len(set(self.cluster_of)),
            "stories": len(set(self.story_of)),
            "model": self.model,
            "config": self.config.to_dict(),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }

    def with_thresholds(self, duplicate: float | None = None, story: float | None = None) -> Result:
        """The same corpus clustered at other thresholds, reusing the embeddings and pair scores
        (fast: for threshold sweeps)."""
        fn = self.extras.get("recluster")
        if fn is None:
            raise DedupError("this result cannot be re-clustered")
        changes = {}
        if duplicate is not None:
            changes["duplicate_threshold"] = duplicate
        if story is not None:
            changes["story_threshold"] = story
        result: Result = fn(self.config.with_(**changes))
        return result

    def explain(self, a: str, b: str) -> Explanation:
        """Why articles `a` and `b` are (or are not) in one cluster at each level."""
        for x in (a, b):
            if x not in self._row:
                raise DedupError(f"unknown article id {x!r} (not in this result)")
        ra, rb = self._row[a], self._row[b]
        fn = self.extras.get("explain_fn")
        if fn is None:
            raise DedupError("this result carries no evidence for explain()")
        ev = fn(ra, rb)
        return Explanation(
            a=a,
            b=b,
            same_duplicate=self.cluster_of[ra] == self.cluster_of[rb],
            same_story=self.story_of[ra] == self.story_of[rb],
            thresholds={
                "duplicate": self.config.duplicate_threshold,
                "story": self.config.story_threshold,
            },
            **ev,
        )


def _groups(ids: tuple[str, ...], label: tuple[str, ...]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for aid, lab in zip(ids, label, strict=True):
        groups.setdefault(lab, []).append(aid)
    out = []
    for lab, members in groups.items():
        out.append([lab] + [m for m in members if m != lab])
    return out


def _date_text(evidence: Any, ra: int, rb: int, rel: int) -> str:
    if evidence is None:
        return "unknown"

    def fmt(d: Any) -> str:
        if d is None:
            return "?"
        y, m, day = d
        return f"{y:04d}-{m:02d}-{day:02d}" if y else f"--{m:02d}-{day:02d}"

    verdict = {1: "agree", -1: "conflict", 0: "no verdict"}[rel]
    return f"{fmt(evidence[ra].date)} vs {fmt(evidence[rb].date)}: {verdict}"


def explain_evidence(
    space: Space, unit_texts: tuple[str, ...] | None, evidence: Any, weights: Any, ra: int, rb: int
) -> dict[str, Any]:
    """Evidence dict for Explanation from the prepared space (rows are internal)."""
    from .score import date_relation, duplicate_score, entity_overlap, story_score

    cos = float(space.docs[ra] @ space.docs[rb])
    pas = float(space.story_docs[ra] @ space.story_docs[rb])
    al = align(space, ra, rb)
    ent = entity_overlap(evidence[ra], evidence[rb], weights) if evidence is not None else 0.0
    dates = date_relation(evidence[ra], evidence[rb]) if evidence is not None else 0
    aligned: list[tuple[str, str, float]] = []
    if unit_texts is not None:
        sa, sb = space.units_of(ra), space.units_of(rb)
        for i, j, m in al.pairs:
            aligned.append((unit_texts[sa.start + i], unit_texts[sb.start + j], m))
    names = tuple(sorted(evidence[ra].names & evidence[rb].names)) if evidence is not None else ()
    nums = (
        tuple(sorted(evidence[ra].numbers & evidence[rb].numbers, key=lambda x: (len(x), x)))
        if evidence is not None
        else ()
    )
    return {
        "cosine": cos,
        "coverage": al.coverage,
        "entities": ent,
        "duplicate_score": float(duplicate_score(al.coverage, cos)),
        "story_score": float(story_score(cos, al.coverage, pas, dates)),
        "passage": pas,
        "dates": _date_text(evidence, ra, rb, dates),
        "aligned": tuple(aligned),
        "shared_names": names,
        "shared_numbers": nums,
    }


__all__ = ["Explanation", "Result", "np"]
