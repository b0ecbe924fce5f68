"""Stable ids of a standing index (`dedup.standing.ids`): merges, splits and new clusters, by hand."""

from __future__ import annotations

import numpy as np

from dedup.standing import ids

NONE = (np.zeros(0, np.int64), np.zeros(0, np.int64))  # no candidate pairs


def _scores(p: np.ndarray, level: str) -> np.ndarray:
    return (p[:, 0] + p[:, 1]).astype(np.float32) / 10.0  # any pair score: larger rows, larger score


def test_ids_stay_merge_split_and_new_clusters_take_their_canonical() -> None:
    row_ids = ["a", "b", "c", "d", "e", "f"]
    old = ["a", "a", "c", "c"]  # rows 0-3 known: clusters {a, b} (id a) and {c, d} (id c); e, f new
    # linked again: {0, 2} (a and c merge), {1} (b leaves a), {3, 4} (d leaves c with new e), {5}
    labels = np.array([0, 1, 0, 3, 3, 5])
    canon = {0: 0, 1: 1, 2: 0, 3: 4, 4: 4, 5: 5}
    got = ids.assign(labels, np.arange(6), canon, old, 4, row_ids)
    # {0, 2} holds the oldest rows of a and c: a (older) stays, c ends; {1} and {3, 4} hold no oldest
    # row: they take their canonical's id (b, e); {5} is new: f
    assert got.of_row == ["a", "b", "a", "e", "e", "f"]
    assert got.merged == [("a", ["c"], [0, 2])]
    assert got.split == [("a", 0, [1]), ("c", 2, [3])]
    sp = ids.splits("duplicate", got, labels, row_ids, _scores, NONE)
    assert [(s.id, s.into, s.moved) for s in sp] == [("a", ("b",), ("b",)), ("c", ("e",), ("d",))]
    assert sp[1].evidence == (("d", "c", 0.5),)  # the strongest pair between d's part and c's: (3, 2)
    mg = ids.merges("duplicate", got, old, 4, row_ids, _scores, NONE)
    assert [(m.into, m.merged, m.bridges) for m in mg] == [("a", ("c",), ())]


def test_an_id_in_use_is_not_given_again() -> None:
    # cluster x = {0, 1} splits; the part without x's oldest row is named by its canonical (1: "y"),
    # but "y" names the untouched cluster of row 2: a suffixed id
    got = ids.assign(np.array([0, 1, 2]), np.array([0, 1]), {0: 0, 1: 1}, ["x", "x", "y"], 3, ["x", "y", "z"])
    assert got.of_row == ["x", "y~2", "y"]
    # the canonical's id is taken (the part that kept "a" holds it): the first free member id
    got = ids.assign(
        np.array([1, 1, 0]), np.arange(3), {0: 0, 1: 0, 2: 0}, ["a", "a", "a"], 3, ["a", "b", "c"]
    )
    assert got.of_row == ["a", "a", "c"]


def test_rows_not_linked_again_keep_their_ids() -> None:
    got = ids.assign(np.array([0, 1, 1]), np.array([1, 2]), {1: 2, 2: 2}, ["x", "y"], 2, ["p", "q", "r"])
    assert got.of_row == ["x", "y", "y"] and got.merged == [] and got.split == []


def test_the_strongest_pair_of_large_parts_comes_from_the_candidates() -> None:
    part, rest = list(range(0, 100)), list(range(100, 200))  # 10,000 pairs: more than EVIDENCE_PAIRS
    names = [f"r{i}" for i in range(200)]
    cand = (np.array([3, 150, 7]), np.array([120, 99, 8]))  # (7, 8) lies inside one part
    # scored: (3, 120) 12.3 and (99, 150) 24.9 (a part row first): the latter
    assert ids.strongest(_scores, "story", part, rest, names, cand) == ("r99", "r150", 24.9)
    small = ids.strongest(_scores, "story", [0, 1], [2, 3], names, NONE)  # every pair: (1, 3)
    assert small == ("r1", "r3", 0.4)
