"""Clustering quality metrics: pairwise and B-cubed precision/recall/F1, recall per language pair,
and the merge rate of given document pairs (hard negatives).

Clusterings are label sequences (one label per item, in one shared order) or mappings id -> label.
Every metric runs in O(n) (plus the number of distinct clusters and language pairs) through
contingency counts; nothing enumerates the O(n^2) item pairs.

Conventions: with no positive pair in gold, recall is 1.0; with no predicted pair, precision is 1.0;
F1 is 0.0 when precision + recall is 0. B-cubed over an empty input is (1, 1, 1).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PRF",
    "bcubed_prf",
    "lang_pair_key",
    "merge_rate",
    "pair_recall_by_lang",
    "pairwise_prf",
]

Labels = Sequence[Hashable] | Mapping[Any, Hashable]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and their harmonic mean."""

    precision: float
    recall: float
    f1: float

    @classmethod
    def from_pr(cls, precision: float, recall: float) -> PRF:
        """Build from precision and recall; F1 is 0 when both are 0."""
        total = precision + recall
        f1 = 0.0 if total <= 0 else 2.0 * precision * recall / total
        return cls(float(precision), float(recall), float(f1))

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _align(*labelings: Labels) -> list[list[Hashable]]:
    """Turn label sequences or id -> label mappings into plain lists in one common order.

    Mappings are aligned on the keys of the first one (all must have the same key set); sequences
    must all have the same length. Mixing a mapping with a sequence is an error.
    """
    mappings = [isinstance(x, Mapping) for x in labelings]
    if any(mappings):
        if not all(mappings):
            raise TypeError("give every labeling as a mapping id -> label, or all as sequences")
        first = labelings[0]
        assert isinstance(first, Mapping)
        keys = list(first.keys())
        keyset = set(keys)
        out: list[list[Hashable]] = []
        for lab in labelings:
            assert isinstance(lab, Mapping)
            if set(lab.keys()) != keyset:
                missing = sorted(map(str, keyset - set(lab.keys())))[:5]
                extra = sorted(map(str, set(lab.keys()) - keyset))[:5]
                raise ValueError(f"labelings cover different ids (missing {missing}, extra {extra})")
            out.append([lab[k] for k in keys])
        return out
    seqs = [list(x) for x in labelings]
    n = len(seqs[0])
    for s in seqs[1:]:
        if len(s) != n:
            raise ValueError(f"labelings have different lengths ({n} and {len(s)})")
    return seqs


def _counts(pred: list[Hashable], gold: list[Hashable]) -> tuple[Counter, Counter, Counter]:
    """Sizes of predicted clusters, gold clusters and their intersections (contingency table)."""
    return Counter(pred), Counter(gold), Counter(zip(pred, gold, strict=True))


def pairwise_prf(pred: Labels, gold: Labels) -> PRF:
    """Precision/recall/F1 over all unordered item pairs; a pair is positive when both items share
    a cluster. TP = sum_ij C(n_ij, 2); predicted pairs = sum_i C(a_i, 2); gold = sum_j C(b_j, 2).
    """
    p, g = _align(pred, gold)
    a, b, nij = _counts(p, g)
    tp = sum(_pairs(c) for c in nij.values())
    pred_pairs = sum(_pairs(c) for c in a.values())
    gold_pairs = sum(_pairs(c) for c in b.values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / gold_pairs if gold_pairs else 1.0
    return PRF.from_pr(precision, recall)


def bcubed_prf(pred: Labels, gold: Labels) -> PRF:
    """B-cubed precision/recall/F1 (Bagga & Baldwin 1998), each item counting itself.

    Item precision = |pred(x) & gold(x)| / |pred(x)|, item recall = |pred(x) & gold(x)| / |gold(x)|,
    both averaged over items. Grouped by contingency cell, so O(n).
    """
    p, g = _align(pred, gold)
    n = len(p)
    if n == 0:
        return PRF(1.0, 1.0, 1.0)
    a, b, nij = _counts(p, g)
    # sum over items of n_ij / a_i  ==  sum over cells of n_ij * n_ij / a_i
    precision = sum(c * c / a[pi] for (pi, _), c in nij.items()) / n
    recall = sum(c * c / b[gj] for (_, gj), c in nij.items()) / n
    return PRF.from_pr(precision, recall)


def lang_pair_key(l1: str, l2: str) -> str:
    """'en-vi' for (vi, en): the codes sorted and joined with '-'; same language gives 'en-en'."""
    x, y = sorted((str(l1), str(l2)))
    return f"{x}-{y}"


def _lang_pair_counts(groups: Mapping[Hashable, Counter]) -> Counter:
    """Number of item pairs per language pair inside each group, summed over the groups."""
    out: Counter = Counter()
    for per_lang in groups.values():
        items = sorted(per_lang.items(), key=lambda kv: str(kv[0]))
        for i, (li, ci) in enumerate(items):
            if ci > 1:
                out[lang_pair_key(li, li)] += _pairs(ci)
            for lj, cj in items[i + 1 :]:
                out[lang_pair_key(li, lj)] += ci * cj
    return out


def pair_recall_by_lang(pred: Labels, gold: Labels, langs: Labels) -> dict[str, float]:
    """Recall of gold pairs per language pair ('en-vi', sorted codes; same language 'en-en').

    Only language pairs with at least one gold pair appear. Counts languages per gold cluster and
    per (pred, gold) cell, so the cost is O(n) plus the number of languages squared per cluster.
    """
    p, g, lg = _align(pred, gold, langs)
    gold_groups: defaultdict[Hashable, Counter] = defaultdict(Counter)
    cell_groups: defaultdict[Hashable, Counter] = defaultdict(Counter)
    for pi, gj, lang in zip(p, g, lg, strict=True):
        gold_groups[gj][lang] += 1
        cell_groups[(pi, gj)][lang] += 1
    gold_pairs = _lang_pair_counts(gold_groups)
    tp = _lang_pair_counts(cell_groups)
    return {key: tp[key] / total for key, total in sorted(gold_pairs.items()) if total > 0}


def merge_rate(
    pred_by_id: Mapping[str, Hashable],
    doc_of_id: Mapping[str, str],
    pairs: Iterable[tuple[str, str]],
) -> tuple[float, int, int]:
    """Share of the given document pairs that end up in one predicted cluster.

    A document is a set of articles (e.g. its translations): `doc_of_id` maps article id ->
    document. Each pair (A, B) of distinct documents counts all |A| x |B| article combinations; a
    combination is merged when both articles share a predicted cluster. Returns
    (merged / total, merged, total); the rate is 0.0 when there is nothing to count. Every article
    of `doc_of_id` needs a prediction; documents absent from `doc_of_id` count nothing.
    """
    per_doc: defaultdict[str, Counter] = defaultdict(Counter)
    for aid, doc in doc_of_id.items():
        if aid not in pred_by_id:
            raise ValueError(f"no predicted cluster for article {aid!r}")
        per_doc[doc][pred_by_id[aid]] += 1
    merged = 0
    total = 0
    for da, db in pairs:
        ca = per_doc.get(da)
        cb = per_doc.get(db)
        if not ca or not cb:
            continue
        total += sum(ca.values()) * sum(cb.values())
        small, large = (ca, cb) if len(ca) <= len(cb) else (cb, ca)
        merged += sum(c * large.get(k, 0) for k, c in small.items())
    return (merged / total if total else 0.0), merged, total
