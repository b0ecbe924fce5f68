"""Standing index, state: what an index holds in memory between the files and the join.

Takes the directory's files (`files`); gives `Stats` (the corpus statistics frozen at creation:
language means of unit and passage vectors, the neutral-text priors, the lexical IDF) and `Open`
(the articles of stories still open: their rows in join order, raw vectors, term counts, evidence,
neighbour lists, scored pairs and labels), and writes them back. Articles of closed stories stay in
the article table and the labels, but are never read into memory again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from .. import canonical as canon
from ..features import Evidence
from ..io import Article
from ..score import lexical as lex
from ..score.pairs import PairScores
from . import files

PAIR_FIELDS = ("cosine", "passage", "coverage", "dates", "duplicate", "story")


@dataclass
class Stats:
    """Corpus statistics the scores use, frozen until `Index.refit`."""

    unit_means: dict[str, np.ndarray]  # language -> mean ("" the corpus mean, a new language's prior)
    passage_means: dict[str, np.ndarray]
    neutral: dict[str, np.ndarray]  # the model's neutral-text mean per language seen
    lexical: lex.LexicalStats | None  # None for an index of document vectors

    def save(self, root: Path, gen: int) -> dict[str, str]:
        arrays = {f"u:{k}": v for k, v in self.unit_means.items()}
        arrays |= {f"p:{k}": v for k, v in self.passage_means.items()}
        arrays |= {f"n:{k}": v for k, v in self.neutral.items()}
        names = {"stats": f"stats-{gen}.npz"}
        if self.lexical is not None:
            arrays["idf"] = self.lexical.idf
            names["vocab"] = f"vocab-{gen}.json"
            vocab = sorted(self.lexical.vocab.items(), key=lambda kv: kv[1])
            files.write_json(
                root / names["vocab"], {"vocab": [list(k) for k, _ in vocab], "docs_of": self.lexical.docs_of}
            )
        files.write_arrays(root / names["stats"], arrays)
        return names

    @classmethod
    def load(cls, root: Path, names: dict[str, str]) -> Stats:
        arr = files.read_arrays(root / names["stats"])
        pick = {p: {k[2:]: v for k, v in arr.items() if k.startswith(p + ":")} for p in "upn"}
        lexical = None
        if "vocab" in names:
            v = files.read_json(root / names["vocab"])
            vocab = {(lang, w): k for k, (lang, w) in enumerate(v["vocab"])}
            lexical = lex.LexicalStats(vocab, arr["idf"], {k: int(c) for k, c in v["docs_of"].items()})
        return cls(pick["u"], pick["p"], pick["n"], lexical)


@dataclass
class Open:
    """The open articles, rows in join order (by sequence number), and what joining reads of them."""

    seq: np.ndarray  # (n,) int64 sequence number of each row (order of arrival)
    ids: list[str]
    langs: list[str]
    times: np.ndarray  # (n,) float64 days (published date, else the day it was added)
    units: np.ndarray  # (m, d) raw unit vectors (document vectors for an index of vectors)
    unit_owner: np.ndarray  # (m,) row of each unit, non-decreasing
    passages: np.ndarray | None  # (n, d) raw passage vectors
    counts: Any  # scipy CSR (n, vocabulary) term counts, or None
    evidence: list[Evidence] | None
    candidates: list[canon.Candidate]
    doc_top: np.ndarray  # (n, k) similarities of each row's k nearest documents
    passage_top: np.ndarray | None
    unit_lists: dict[str, np.ndarray]  # language -> (m, MARGIN_K) nearest similarities
    pairs: PairScores  # rows a < b, sorted
    cluster: list[str]  # stable duplicate cluster id of each row
    story: list[str]  # stable story id of each row

    @property
    def n(self) -> int:
        return len(self.ids)


def empty_pairs() -> PairScores:
    z = np.zeros(0, np.float32)
    return PairScores(np.zeros(0, np.int64), np.zeros(0, np.int64), z, z, z, np.zeros(0, np.int8), z, z)


def evidence_to_json(e: Evidence) -> dict[str, Any]:
    return {
        "names": sorted(e.names),
        "numbers": sorted(e.numbers),
        "date": list(e.date) if e.date is not None else None,
        "lead_names": sorted(e.lead_names),
    }


def evidence_from_json(d: dict[str, Any]) -> Evidence:
    dt = d.get("date")
    return Evidence(
        frozenset(d["names"]),
        frozenset(d["numbers"]),
        (dt[0], int(dt[1]), int(dt[2])) if dt is not None else None,
        frozenset(d.get("lead_names", ())),
    )


def day_of(published: str | None, default: float) -> float:
    """The day (proleptic ordinal) of an ISO date-time's date part, else `default`."""
    if published:
        try:
            return float(date.fromisoformat(str(published)[:10]).toordinal())
        except ValueError:
            pass
    return default


def iso_day(day: float) -> str:
    """The ISO date of a day (proleptic ordinal), as `day_of` reads it."""
    return date.fromordinal(int(day)).isoformat()


def load_open(root: Path, man: dict[str, Any], labels: dict[str, Any]) -> Open:
    """Read the open articles (segments with none open are not read)."""
    from scipy.sparse import csr_matrix, vstack

    closed = labels["closed"]
    kind = man["kind"]
    seqs: list[int] = []
    ids: list[str] = []
    langs: list[str] = []
    times: list[float] = []
    ev: list[Evidence] = []
    cands: list[canon.Candidate] = []
    units: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    passages: list[np.ndarray] = []
    counts: list[Any] = []
    for seg in man["segments"]:
        first, size = seg["first_seq"], seg["articles"]
        keep = [s for s in range(first, first + size) if not closed[s]]
        if not keep:
            continue
        table, vec = (root / name for name in seg["files"])
        arr = files.read_arrays(vec)
        local = np.asarray(keep, dtype=np.int64) - first
        row0 = len(seqs)
        seqs.extend(keep)
        ids.extend(arr["ids"][local].tolist())
        langs.extend(arr["langs"][local].tolist())
        times.extend(arr["time"][local].tolist())
        for aid, lang, length, pub, src in zip(
            arr["ids"][local].tolist(),
            arr["langs"][local].tolist(),
            arr["length"][local].tolist(),
            arr["published"][local].tolist(),
            arr["source"][local].tolist(),
            strict=True,
        ):
            cands.append(canon.Candidate(aid, lang, int(length), pub or None, src or None))
        if kind == "text":  # names, numbers and dates: in the article table
            arts = files.read_jsonl(table)
            ev.extend(evidence_from_json(arts[k]["evidence"]) for k in local.tolist())
        uo = arr["unit_owner"] - first  # local article of each unit
        take = np.isin(uo, local)
        new_row = np.full(size, -1, np.int64)
        new_row[local] = row0 + np.arange(local.size)
        units.append(arr["units"][take])
        owner.append(new_row[uo[take]])
        if kind == "text":
            passages.append(arr["passages"][local])
            width = max(int(man.get("vocabulary", 1)), int(arr["c_shape"][1]))
            m = csr_matrix(
                (arr["c_data"], arr["c_indices"], arr["c_indptr"]), shape=(int(arr["c_shape"][0]), width)
            )
            counts.append(m[local])
    n = len(ids)
    st = files.read_arrays(root / man["files"]["state"])
    if st["open_seq"].tolist() != seqs:
        raise files.IndexStateError(f"{root}: the state and the article table disagree; restore a backup")
    d = int(man["dim"])
    vocab = int(man.get("vocabulary", 1))
    o = Open(
        seq=np.asarray(seqs, dtype=np.int64),
        ids=ids,
        langs=langs,
        times=np.asarray(times, dtype=np.float64),
        units=np.vstack(units) if units else np.zeros((0, d), np.float32),
        unit_owner=np.concatenate(owner) if owner else np.zeros(0, np.int64),
        passages=(np.vstack(passages) if passages else np.zeros((0, d), np.float32))
        if kind == "text"
        else None,
        counts=(vstack(counts).tocsr() if counts else csr_matrix((0, max(vocab, 1))))
        if kind == "text"
        else None,
        evidence=ev if kind == "text" else None,
        candidates=cands,
        doc_top=st["doc_top"],
        passage_top=st["passage_top"] if kind == "text" else None,
        unit_lists={k[3:]: v for k, v in st.items() if k.startswith("ul:")},
        pairs=_pairs_from(st, seqs),
        cluster=[labels["cluster"][s] for s in seqs],
        story=[labels["story"][s] for s in seqs],
    )
    assert o.n == n
    return o


def _pairs_from(st: dict[str, np.ndarray], seqs: list[int]) -> PairScores:
    if not seqs:
        return empty_pairs()
    seq = np.asarray(seqs, dtype=np.int64)
    a = np.searchsorted(seq, st["pair_a"])
    b = np.searchsorted(seq, st["pair_b"])
    return PairScores(a, b, *(st[f"pair_{f}"] for f in PAIR_FIELDS))


def save_state(root: Path, gen: int, o: Open) -> str:
    """Write the open rows' neighbour lists and pairs; returns the file name."""
    name = f"state-{gen}.npz"
    arrays: dict[str, np.ndarray] = {"open_seq": o.seq, "doc_top": o.doc_top}
    if o.passage_top is not None:
        arrays["passage_top"] = o.passage_top
    for lang, v in o.unit_lists.items():
        arrays[f"ul:{lang}"] = v
    arrays["pair_a"] = o.seq[o.pairs.a]
    arrays["pair_b"] = o.seq[o.pairs.b]
    for f in PAIR_FIELDS:
        arrays[f"pair_{f}"] = getattr(o.pairs, f)
    files.write_arrays(root / name, arrays)
    return name


def empty_open(d: int, k: int, kind: str) -> Open:
    """No articles yet."""
    from scipy.sparse import csr_matrix

    return Open(
        seq=np.zeros(0, np.int64),
        ids=[],
        langs=[],
        times=np.zeros(0),
        units=np.zeros((0, d), np.float32),
        unit_owner=np.zeros(0, np.int64),
        passages=np.zeros((0, d), np.float32) if kind == "text" else None,
        counts=csr_matrix((0, 1)) if kind == "text" else None,
        evidence=[] if kind == "text" else None,
        candidates=[],
        doc_top=np.zeros((0, k), np.float32),
        passage_top=np.zeros((0, k), np.float32) if kind == "text" else None,
        unit_lists={},
        pairs=empty_pairs(),
        cluster=[],
        story=[],
    )


def new_rows(
    o: Open, first_seq: int, arts: list[Article], prep: Any, counts: Any, stats: Stats, day: float
) -> Open:
    n0 = o.n
    assert stats.lexical is not None
    owner = np.asarray(prep.units.owner, dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    return replace(
        empty_open(prep.passages.shape[1], 0, "text"),
        seq=np.arange(first_seq, first_seq + len(arts), dtype=np.int64),
        ids=[a.id for a in arts],
        langs=list(prep.langs),
        times=np.array([day_of(a.published, day) for a in arts]),
        units=np.asarray(prep.units.vectors, dtype=np.float32)[order],
        unit_owner=n0 + owner[order],
        passages=np.asarray(prep.passages, dtype=np.float32),
        counts=lex.count_matrix(stats.lexical, counts),
        evidence=list(prep.evidence),
        candidates=list(prep.candidates),
    )


def concat(o: Open, new: Open) -> Open:
    from scipy.sparse import csr_matrix, vstack

    def cat(x: Any, y: Any) -> Any:
        if x is None or y is None:
            return None
        return np.concatenate([x, y])

    counts = None
    if o.counts is not None and new.counts is not None:
        width = max(o.counts.shape[1], new.counts.shape[1])
        a = csr_matrix((o.counts.data, o.counts.indices, o.counts.indptr), shape=(o.counts.shape[0], width))
        b = csr_matrix(
            (new.counts.data, new.counts.indices, new.counts.indptr), shape=(new.counts.shape[0], width)
        )
        counts = vstack([a, b]).tocsr()
    return replace(
        o,
        seq=cat(o.seq, new.seq),
        ids=o.ids + new.ids,
        langs=o.langs + new.langs,
        times=cat(o.times, new.times),
        units=np.vstack([o.units, new.units]),
        unit_owner=cat(o.unit_owner, new.unit_owner),
        passages=None
        if o.passages is None or new.passages is None
        else np.vstack([o.passages, new.passages]),
        counts=counts,
        evidence=None if o.evidence is None or new.evidence is None else o.evidence + new.evidence,
        candidates=o.candidates + new.candidates,
        cluster=o.cluster + [""] * new.n,
        story=o.story + [""] * new.n,
    )


__all__ = ["Open", "Stats", "day_of", "empty_open", "iso_day", "load_open", "save_state"]
