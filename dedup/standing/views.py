"""Standing index, views: the index's articles as records (the export) and as a `dedup.Result`.

Takes the directory, its manifest and labels; gives every article (open and closed) with its input
fields and dedup's, stable ids in `records`, canonical-named clusters in `result` (with `explain`
for articles of open stories, from the open state's scores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..result import LazyEvidence, Result, RunEvidence
from ..score import PairScorer
from . import files
from .join import space_of
from .state import Stats, empty_open, load_open


def records(root: Path, man: dict[str, Any], labels: dict[str, Any]) -> list[dict[str, Any]]:
    """Every article of the index (open and closed), in arrival order: its input fields, then
    `lang`, `cluster` and `story` (stable ids), `canonical` / `story_canonical` (whether it is its
    cluster's / story's canonical now), its scores with them and the canonical's reason."""
    out = []
    for seg in man["segments"]:
        for a in files.read_jsonl(root / seg["files"][0]):
            s = a["seq"]
            c, st = labels["cluster"][s], labels["story"][s]
            rec = dict(a["record"])
            rec.update(
                lang=a["lang"],
                cluster=c,
                story=st,
                canonical=labels["canonical"][c] == a["id"],
                story_canonical=labels["story_canonical"][st] == a["id"],
                duplicate_score=round(labels["dscore"][s], 4),
                story_score=round(labels["sscore"][s], 4),
            )
            for name in ("canonical_reason", "story_canonical_reason"):
                rec.pop(name, None)
            if rec["canonical"]:
                rec["canonical_reason"] = labels["reason"].get(a["id"], "")
            if rec["story_canonical"]:
                rec["story_canonical_reason"] = labels["story_reason"].get(a["id"], "")
            out.append(rec)
    return out


def result(root: Path, man: dict[str, Any], labels: dict[str, Any], config: Config) -> Result:
    """Every article as a `dedup.Result` (arrival order): clusters and stories named by their
    current canonical, as `dedup.cluster` names them (`records` has the stable ids). `explain`
    works for articles of open stories, from the index's scores (computed on first use)."""
    recs, ids, langs = [], [], []
    for seg in man["segments"]:
        for a in files.read_jsonl(root / seg["files"][0]):
            recs.append(a["record"])
            ids.append(a["id"])
            langs.append(a["lang"])
    canon_c, canon_s = labels["canonical"], labels["story_canonical"]
    kind = man["kind"] or "text"
    stats = Stats.load(root, man["files"]) if man["kind"] else None
    o = load_open(root, man, labels) if man["kind"] else empty_open(1, 1, kind)

    def compute() -> RunEvidence:
        if stats is None:
            raise ConfigError(f"{root} holds no articles yet")
        space, story = space_of(o, stats, kind)
        return RunEvidence(
            row_ids=tuple(o.ids),
            langs=tuple(o.langs),
            input_rows=tuple(range(o.n)),
            scorer=PairScorer(space, o.pairs, o.evidence, story),
            features=tuple(o.evidence) if o.evidence is not None else None,
            unit_texts=None,
            candidates=tuple(o.candidates),
            model=str((man["model"] or {}).get("name", "")),
        )

    return Result(
        ids=tuple(ids),
        langs=tuple(langs),
        cluster_of=tuple(canon_c[labels["cluster"][k]] for k in range(len(ids))),
        story_of=tuple(canon_s[labels["story"][k]] for k in range(len(ids))),
        cluster_reason={a: labels["reason"].get(a, "") for a in canon_c.values()},
        story_reason={a: labels["story_reason"].get(a, "") for a in canon_s.values()},
        duplicate_score=tuple(float(x) for x in labels["dscore"]),
        story_score=tuple(float(x) for x in labels["sscore"]),
        config=config,
        timings={},
        model=str((man["model"] or {}).get("name", "")),
        pairs=o.pairs,
        row_ids=tuple(o.ids),
        records=tuple(recs),
        evidence=LazyEvidence(compute=compute),
    )
