"""Standing index, stable ids: the id of every cluster (or story) after a join, and its merges and splits.

Takes the join's labels (a row per open article, the smallest row of its cluster), the rows that were
linked again, the old ids of the known rows and the canonical of each new cluster; gives the id of
every row and the merges and splits to report. An old id stays with the cluster that holds its
oldest article (rows are in order of arrival); when that cluster holds several old ids the oldest one
stays and the others end (a merge); the articles of an old id that went elsewhere form a split. A
cluster that holds no old id takes its canonical's id, or the first of its articles' ids that no
other cluster has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Merge:
    """Old clusters (or stories) joined into one."""

    level: str  # "duplicate" or "story"
    into: str  # the id that stays
    merged: tuple[str, ...]  # the ids that end
    bridges: tuple[str, ...]  # the new articles in the joined cluster
    evidence: tuple[tuple[str, str, float], ...]  # the strongest pair between each merged part and the rest


@dataclass(frozen=True)
class Split:
    """Articles of an old cluster (or story) that now belong elsewhere: new pairs changed the margins
    their scores are judged against, or new articles drew them into a better cluster."""

    level: str
    id: str  # the old id (it stays with the cluster of its oldest article, unless that one merged)
    into: tuple[str, ...]  # the ids the other articles now have
    moved: tuple[str, ...]  # those articles
    evidence: tuple[tuple[str, str, float], ...]  # the strongest pair between each part and the kept one


@dataclass(frozen=True)
class Ids:
    """Every row's id after a join, and what changed."""

    of_row: list[str]
    merged: list[tuple[str, list[str], list[int]]]  # (id kept, ids ended, rows of the joined cluster)
    split: list[tuple[str, int, list[int]]]  # (old id, its oldest row, its rows now apart from that one)


def assign(
    labels: np.ndarray,
    rows: np.ndarray,
    canon_of: dict[int, int],
    old_ids: Sequence[str],
    known: int,
    row_ids: Sequence[str],
) -> Ids:
    """Ids of every row: rows outside `rows` (sorted) keep theirs; `canon_of` maps a row of `rows` to
    its cluster's canonical row; rows 0..known-1 have the ids `old_ids`."""
    n = len(labels)
    out = list(old_ids[:known]) + [""] * (n - known)
    relinked = np.zeros(n, bool)
    relinked[rows] = True
    taken = {old_ids[r] for r in np.flatnonzero(~relinked[:known]).tolist()}
    groups: dict[int, list[int]] = {}
    first: dict[str, int] = {}  # each old id's oldest row among `rows`
    for r in rows.tolist():
        groups.setdefault(int(labels[r]), []).append(r)
        if r < known:
            first.setdefault(old_ids[r], r)
    owned: dict[int, list[str]] = {}
    for i, r in sorted(first.items(), key=lambda kv: kv[1]):
        owned.setdefault(int(labels[r]), []).append(i)
    taken |= set(first)  # ids that end are not given again
    merged: list[tuple[str, list[str], list[int]]] = []
    for lab, group in sorted(groups.items(), key=lambda kv: kv[1][0]):
        mine = owned.get(lab)
        if mine:
            cid = mine[0]
            if len(mine) > 1:
                merged.append((cid, mine[1:], group))
        else:
            cid = _free([row_ids[canon_of[group[0]]]] + [row_ids[r] for r in group], taken)
            taken.add(cid)
        for r in group:
            out[r] = cid
    away: dict[str, list[int]] = {}  # each old id's rows not in the cluster of its oldest row
    for r in rows.tolist():
        if r < known and labels[r] != labels[first[old_ids[r]]]:
            away.setdefault(old_ids[r], []).append(r)
    split = [(i, first[i], rs) for i, rs in sorted(away.items(), key=lambda kv: first[kv[0]])]
    return Ids(out, merged, split)


def _free(choices: list[str], taken: set[str]) -> str:
    """The first of `choices` not taken, else the first with the smallest free suffix."""
    for c in choices:
        if c not in taken:
            return c
    k = 2
    while f"{choices[0]}~{k}" in taken:
        k += 1
    return f"{choices[0]}~{k}"


Scores = Callable[[np.ndarray, str], np.ndarray]  # (p, 2) rows, level -> (p,) scores
#: Pairs between two parts scored to find their strongest; larger parts are compared on their
#: candidate pairs (the nearest neighbours, where the strongest pair is).
EVIDENCE_PAIRS = 4096


def strongest(
    scores: Scores,
    level: str,
    part: list[int],
    rest: list[int],
    ids: Sequence[str],
    candidates: tuple[np.ndarray, np.ndarray],
) -> tuple[str, str, float]:
    """The strongest pair between two groups of rows: (id, id, score). Every pair when there are at
    most EVIDENCE_PAIRS, else the `candidates` (a, b) between them (the first rows' when none)."""
    if len(part) * len(rest) <= EVIDENCE_PAIRS:
        p = np.array([[x, y] for x in part for y in rest], dtype=np.int64)
    else:
        a, b = candidates
        n = int(max(a.max(initial=0), b.max(initial=0), *part, *rest)) + 1
        in_p, in_r = np.zeros(n, bool), np.zeros(n, bool)
        in_p[part], in_r[rest] = True, True
        ab = (in_p[a] & in_r[b]) | (in_r[a] & in_p[b])
        if ab.any():
            p = np.stack([np.where(in_p[a[ab]], a[ab], b[ab]), np.where(in_p[a[ab]], b[ab], a[ab])], axis=1)
        else:
            p = np.array([[x, y] for x in part[:64] for y in rest[:64]], dtype=np.int64)
    s = scores(p, level)
    j = int(np.argmax(s))
    return ids[int(p[j, 0])], ids[int(p[j, 1])], round(float(s[j]), 4)


def merges(
    level: str,
    found: Ids,
    old_ids: Sequence[str],
    known: int,
    ids: Sequence[str],
    scores: Scores,
    candidates: tuple[np.ndarray, np.ndarray],
) -> list[Merge]:
    """The merges of `found`, each with the new articles in the joined cluster and, for each ended
    id, its strongest pair with the rest of it."""
    out = []
    for into, ended, rows in found.merged:
        ev = []
        for e in ended:
            part = [r for r in rows if r < known and old_ids[r] == e]
            mine = set(part)
            rest = [r for r in rows if r not in mine]
            if part and rest:
                ev.append(strongest(scores, level, part, rest, ids, candidates))
        bridges = tuple(ids[r] for r in rows if r >= known)
        out.append(Merge(level, into, tuple(ended), bridges, tuple(ev)))
    return out


def splits(
    level: str,
    found: Ids,
    labels: np.ndarray,
    ids: Sequence[str],
    scores: Scores,
    candidates: tuple[np.ndarray, np.ndarray],
) -> list[Split]:
    """The splits of `found`, each with the strongest pair between every part that left and the
    part that kept the id (below the threshold, or they would be one cluster)."""
    out = []
    of_row = found.of_row
    for old, r0, away in found.split:
        kept = np.flatnonzero(labels == labels[r0]).tolist()
        parts: dict[str, list[int]] = {}
        for r in away:
            parts.setdefault(of_row[r], []).append(r)
        ev = tuple(strongest(scores, level, rows, kept, ids, candidates) for rows in parts.values())
        out.append(Split(level, old, tuple(parts), tuple(ids[r] for r in away), ev))
    return out
