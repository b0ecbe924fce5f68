"""Standing index, record: one join's outcome written as the index's next generation.

Takes the `Joined` rows, the frozen statistics, the labels of every article so far and the new
records; gives the `Changes` of the batch (added, canonical, merge, split and closed events) and
writes the new article segment, statistics, open state and labels before the manifest that names
them (`files`: the index moves from one generation to the next in one `os.replace`). Stories left
without new members for `Config.story_idle_days` are closed here: their articles leave the open state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..io import Reject
from ..timing import Timer
from . import files
from .join import Joined, subset
from .state import Open, Stats, evidence_to_json, iso_day, save_state


@dataclass(frozen=True)
class Changes:
    """What one `Index.add` did. `events` are JSON-ready dicts, one per line of CHANGES.jsonl:
    "added" (an article, its cluster and story, and whether either is new), "canonical" (a cluster or
    story whose canonical changed; its id stays), "merge" (old clusters or stories joined, with the
    new articles among them and the strongest pair between the parts), "split" (articles of an old
    cluster or story that now belong elsewhere: the batch moved the margins their duplicate scores are
    judged against, or drew them into a better cluster; with the ids they now have and the strongest
    pair between each part and the one that kept the id), "closed" (a story left without new members
    for `Config.story_idle_days`)."""

    added: tuple[str, ...]
    rejects: tuple[Reject, ...]
    events: tuple[dict[str, Any], ...]
    timings: Mapping[str, float]

    def count(self, event: str) -> int:
        return sum(1 for e in self.events if e["event"] == event)


def write_generation(
    root: Path,
    manifest: Mapping[str, Any],
    config: Config,
    stats: Stats,
    j: Joined,
    n_old: int,
    labels: dict[str, Any],
    records: list[dict[str, Any]],
    rejects: tuple[Reject, ...],
    timer: Timer,
    refit: bool,
) -> tuple[Changes, dict[str, Any]]:
    """Update the labels, list the events, close idle stories and commit the next generation; gives
    the changes and the new manifest."""
    man = dict(manifest)
    gen = int(man["generation"]) + 1
    o = j.open
    n = o.n
    kind = "vectors" if o.evidence is None else "text"
    lab: dict[str, Any] = {k: (list(v) if isinstance(v, list) else dict(v)) for k, v in labels.items()}
    old_canon, old_scanon = dict(lab["canonical"]), dict(lab["story_canonical"])
    for r in range(n_old, n):
        lab["ids"].append(o.ids[r])
        for name, v in (("cluster", ""), ("story", ""), ("dscore", 1.0), ("sscore", 1.0), ("closed", False)):
            lab[name].append(v)
    for m in j.merges:
        table = lab["canonical"] if m.level == "duplicate" else lab["story_canonical"]
        for e in m.merged:
            table.pop(e, None)
    events: list[dict[str, Any]] = []
    for r in range(n):
        s = int(o.seq[r])
        lab["cluster"][s], lab["story"][s] = o.cluster[r], o.story[r]
    for level, score_key, reason_key in (
        ("duplicate", "dscore", "reason"),
        ("story", "sscore", "story_reason"),
    ):
        lv = j.duplicate if level == "duplicate" else j.story
        for r in lv.rows.tolist():
            lab[score_key][int(o.seq[r])] = float(lv.score[r])
            lab[reason_key].pop(o.ids[r], None)
    for level, lv, table, key, old in (
        ("duplicate", j.duplicate, lab["canonical"], "reason", old_canon),
        ("story", j.story, lab["story_canonical"], "story_reason", old_scanon),
    ):
        ids_of = o.cluster if level == "duplicate" else o.story
        for r in sorted(set(lv.canonical.values())):
            cid, aid = ids_of[r], o.ids[r]
            if cid in old and old[cid] != aid:
                events.append(
                    {"event": "canonical", "level": level, "id": cid, "canonical": aid, "was": old[cid]}
                )
            table[cid] = aid
            lab[key][aid] = lv.reason.get(r, "")
    for r in range(n_old, n):
        events.insert(
            r - n_old,
            {
                "event": "added",
                "id": o.ids[r],
                "cluster": o.cluster[r],
                "story": o.story[r],
                "new_cluster": o.cluster[r] not in old_canon,
                "new_story": o.story[r] not in old_scanon,
            },
        )
    for m in j.merges:
        events.append(
            {
                "event": "merge",
                "level": m.level,
                "into": m.into,
                "merged": list(m.merged),
                "bridges": list(m.bridges),
                "evidence": [{"a": a, "b": b, "score": s} for a, b, s in m.evidence],
            }
        )
    for sp in j.splits:
        events.append(
            {
                "event": "split",
                "level": sp.level,
                "id": sp.id,
                "into": list(sp.into),
                "moved": list(sp.moved),
                "evidence": [{"a": a, "b": b, "score": s} for a, b, s in sp.evidence],
            }
        )
    # close the stories left without new members for story_idle_days
    seen = ([float(man["now"])] if man["now"] is not None else []) + ([float(o.times.max())] if n else [])
    now = max(seen) if seen else None
    last: dict[str, float] = {}
    for r in range(n):
        last[o.story[r]] = max(last.get(o.story[r], -np.inf), float(o.times[r]))
    idle = config.story_idle_days
    closing = {sid for sid, t in last.items() if now is not None and now - t > idle}
    for sid in sorted(closing):
        events.append({"event": "closed", "story": sid, "last": iso_day(last[sid])})
    keep = np.array([r for r in range(n) if o.story[r] not in closing], dtype=np.int64)
    for r in range(n):
        if o.story[r] in closing:
            lab["closed"][int(o.seq[r])] = True
    kept = subset(o, keep) if keep.size < n else o
    # files of the next generation, then the manifest
    segments = list(man["segments"])
    if n > n_old:
        segments.append(_write_segment(root, gen, o, n_old, records, kind))
    names = stats.save(root, gen)
    names["state"] = save_state(root, gen, kept)
    names["labels"] = f"labels-{gen}.json"
    files.write_json(root / names["labels"], lab)
    man.update(
        generation=gen,
        kind=kind,
        dim=int(o.units.shape[1]),
        now=now,
        segments=segments,
        files=names,
        articles=len(lab["ids"]),
        open_articles=int(kept.n),
        vocabulary=len(stats.lexical.vocab) if stats.lexical is not None else 1,
        updated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    if refit or manifest["kind"] is None:  # the statistics were fitted on these rows
        man["fitted_on"] = n
    if refit:
        man["refitted"] = man["updated"]
    files.commit(root, man)
    return Changes(tuple(o.ids[n_old:]), rejects, tuple(events), dict(timer.seconds)), man


def _write_segment(
    root: Any, gen: int, o: Open, n_old: int, records: list[dict[str, Any]], kind: str
) -> dict[str, Any]:
    """The new articles' table and vectors (never rewritten)."""
    n = o.n
    table_name, vec_name = f"articles-{gen}.jsonl", f"vectors-{gen}.npz"
    rows = []
    n_units = np.bincount(o.unit_owner, minlength=n)
    for r in range(n_old, n):
        c = o.candidates[r]
        rows.append(
            {
                "seq": int(o.seq[r]),
                "id": o.ids[r],
                "lang": o.langs[r],
                "time": float(o.times[r]),
                "length": c.length,
                "published": c.published,
                "source": c.source,
                "n_units": int(n_units[r]),
                "evidence": evidence_to_json(o.evidence[r]) if o.evidence is not None else None,
                "record": records[r - n_old],
            }
        )
    files.write_jsonl(root / table_name, rows)
    m_old = int(np.searchsorted(o.unit_owner, n_old))
    new = range(n_old, n)
    arrays: dict[str, np.ndarray] = {
        "units": o.units[m_old:],
        "unit_owner": o.seq[o.unit_owner[m_old:]],
        # what joining reads of each article, so that opening an index parses no JSON for it
        "ids": np.array(o.ids[n_old:], dtype=str),
        "langs": np.array(o.langs[n_old:], dtype=str),
        "time": o.times[n_old:],
        "length": np.array([o.candidates[r].length for r in new], dtype=np.int64),
        "published": np.array([o.candidates[r].published or "" for r in new], dtype=str),
        "source": np.array([o.candidates[r].source or "" for r in new], dtype=str),
    }
    if kind == "text":
        assert o.passages is not None and o.counts is not None
        arrays["passages"] = o.passages[n_old:]
        c = o.counts[n_old:].tocsr()
        arrays |= {
            "c_data": c.data,
            "c_indices": c.indices,
            "c_indptr": c.indptr,
            "c_shape": np.array(c.shape),
        }
    files.write_arrays(root / vec_name, arrays)
    return {
        "gen": gen,
        "first_seq": int(o.seq[n_old]),
        "articles": n - n_old,
        "files": [table_name, vec_name],
    }
