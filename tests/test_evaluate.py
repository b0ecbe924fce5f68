"""Tests of dedup.evaluate: hand-computed examples, edge cases, and agreement with brute force."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.evaluate import (
    PRF,
    bcubed_prf,
    lang_pair_key,
    merge_rate,
    pair_recall_by_lang,
    pairwise_prf,
)

# ---------------------------------------------------------------- brute-force references (O(n^2))


def brute_pairwise(pred, gold):
    tp = pp = gp = 0
    for i, j in itertools.combinations(range(len(pred)), 2):
        sp, sg = pred[i] == pred[j], gold[i] == gold[j]
        pp += sp
        gp += sg
        tp += sp and sg
    p = tp / pp if pp else 1.0
    r = tp / gp if gp else 1.0
    return p, r


def brute_bcubed(pred, gold):
    n = len(pred)
    if n == 0:
        return 1.0, 1.0
    ps, rs = [], []
    for i in range(n):
        same_p = {j for j in range(n) if pred[j] == pred[i]}
        same_g = {j for j in range(n) if gold[j] == gold[i]}
        both = len(same_p & same_g)
        ps.append(both / len(same_p))
        rs.append(both / len(same_g))
    return sum(ps) / n, sum(rs) / n


def brute_lang_recall(pred, gold, langs):
    tot: Counter = Counter()
    hit: Counter = Counter()
    for i, j in itertools.combinations(range(len(pred)), 2):
        if gold[i] == gold[j]:
            key = lang_pair_key(langs[i], langs[j])
            tot[key] += 1
            hit[key] += pred[i] == pred[j]
    return {k: hit[k] / tot[k] for k in tot}


def f1(p, r):
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


# ---------------------------------------------------------------- hand-computed examples


def test_pairwise_hand_example():
    # pred clusters {0,1} {2,3,4}; gold clusters {0,1,2} {3,4}
    # predicted pairs: C(2,2)+C(3,2) = 1+3 = 4;  gold pairs: C(3,2)+C(2,2) = 3+1 = 4
    # true pairs: (0,1) and (3,4) -> TP = 2  =>  P = 2/4, R = 2/4, F1 = 0.5
    res = pairwise_prf([0, 0, 1, 1, 1], [0, 0, 0, 1, 1])
    assert res == PRF(0.5, 0.5, 0.5)


def test_pairwise_hand_example_unequal():
    # pred: one cluster of 4 -> 6 predicted pairs; gold {0,1} {2,3} -> 2 gold pairs, both predicted
    # P = 2/6 = 1/3, R = 2/2 = 1, F1 = 2*(1/3)*1/(4/3) = 0.5
    res = pairwise_prf(["a"] * 4, [0, 0, 1, 1])
    assert res.precision == pytest.approx(1 / 3)
    assert res.recall == 1.0
    assert res.f1 == pytest.approx(0.5)


def test_bcubed_hand_example():
    # pred {0,1} {2,3,4}; gold {0,1,2} {3,4}; per item |pred & gold| / |pred|, / |gold|:
    #   item 0: pred {0,1}, gold {0,1,2}, both {0,1}: P 2/2, R 2/3
    #   item 1: same as item 0:                    P 1,   R 2/3
    #   item 2: pred {2,3,4}, gold {0,1,2}, both {2}: P 1/3, R 1/3
    #   item 3: pred {2,3,4}, gold {3,4}, both {3,4}: P 2/3, R 2/2
    #   item 4: same as item 3:                    P 2/3, R 1
    # P = (1 + 1 + 1/3 + 2/3 + 2/3) / 5 = 11/15; R = (2/3 + 2/3 + 1/3 + 1 + 1) / 5 = 11/15
    res = bcubed_prf([0, 0, 1, 1, 1], [0, 0, 0, 1, 1])
    assert res.precision == pytest.approx(11 / 15)
    assert res.recall == pytest.approx(11 / 15)
    assert res.f1 == pytest.approx(11 / 15)


def test_bcubed_hand_example_one_merge():
    # gold {0,1} {2}; pred everything together.
    #   items 0, 1: pred {0,1,2}, gold {0,1}: P 2/3, R 1
    #   item 2:     pred {0,1,2}, gold {2}:   P 1/3, R 1
    # P = (2/3 + 2/3 + 1/3) / 3 = 5/9, R = 1, F1 = 2*(5/9)/(14/9) = 10/14
    res = bcubed_prf([7, 7, 7], ["x", "x", "y"])
    assert res.precision == pytest.approx(5 / 9)
    assert res.recall == 1.0
    assert res.f1 == pytest.approx(10 / 14)


def test_lang_recall_hand_example():
    # gold story A = {0 en, 1 vi, 2 sv}, story B = {3 en, 4 vi, 5 en}
    # pred: {0,1} {2} {3,4,5}
    # gold pairs: en-vi: (0,1) (3,4) (5,4) = 3, en-sv: (0,2) = 1, sv-vi: (1,2) = 1, en-en: (3,5) = 1
    # found:      en-vi: all 3,                  en-sv: 0,            sv-vi: 0,           en-en: 1
    langs = ["en", "vi", "sv", "en", "vi", "en"]
    res = pair_recall_by_lang([0, 0, 1, 2, 2, 2], ["A", "A", "A", "B", "B", "B"], langs)
    assert res == {"en-en": 1.0, "en-sv": 0.0, "en-vi": 1.0, "sv-vi": 0.0}


def test_lang_recall_partial():
    # gold one story of 2 en + 2 vi: en-vi pairs = 4, en-en = 1, vi-vi = 1
    # pred {en0, vi0} {en1} {vi1}: en-vi found 1 of 4; en-en 0 of 1; vi-vi 0 of 1
    res = pair_recall_by_lang(
        {"e0": 1, "v0": 1, "e1": 2, "v1": 3},
        {"e0": "s", "v0": "s", "e1": "s", "v1": "s"},
        {"e0": "en", "v0": "vi", "e1": "en", "v1": "vi"},
    )
    assert res == {"en-en": 0.0, "en-vi": 0.25, "vi-vi": 0.0}


def test_lang_pair_key_sorted():
    assert lang_pair_key("vi", "en") == "en-vi"
    assert lang_pair_key("sv", "sv") == "sv-sv"


def test_merge_rate_hand_example():
    # doc A has articles a_en, a_vi; doc B has b_en, b_vi, b_sv; doc C has c_en
    # pred: {a_en, b_en} {a_vi} {b_vi, b_sv} {c_en}
    # pair (A, B): 2 x 3 = 6 combinations, merged: (a_en, b_en) = 1
    # pair (A, C): 2 x 1 = 2 combinations, merged: 0
    # pair (B, Z): Z is unknown: nothing counted  =>  rate 1/8
    doc = {"a_en": "A", "a_vi": "A", "b_en": "B", "b_vi": "B", "b_sv": "B", "c_en": "C"}
    pred = {"a_en": 1, "b_en": 1, "a_vi": 2, "b_vi": 3, "b_sv": 3, "c_en": 4}
    rate, merged, total = merge_rate(pred, doc, [("A", "B"), ("A", "C"), ("B", "Z")])
    assert (merged, total) == (1, 8)
    assert rate == pytest.approx(1 / 8)


def test_merge_rate_all_merged_and_empty():
    doc = {"a1": "A", "a2": "A", "b1": "B"}
    assert merge_rate({"a1": 0, "a2": 0, "b1": 0}, doc, [("A", "B")]) == (1.0, 2, 2)
    assert merge_rate({"a1": 0, "a2": 0, "b1": 0}, doc, []) == (0.0, 0, 0)


def test_merge_rate_missing_prediction():
    with pytest.raises(ValueError, match="no predicted cluster"):
        merge_rate({"a1": 0}, {"a1": "A", "b1": "B"}, [("A", "B")])


# ---------------------------------------------------------------- edge cases


def test_all_singletons():
    # no predicted pairs -> precision 1; gold has pairs -> recall 0; F1 0
    assert pairwise_prf([0, 1, 2, 3], [0, 0, 1, 1]) == PRF(1.0, 0.0, 0.0)
    # B-cubed: every item has P = 1 and R = 1/2
    b = bcubed_prf([0, 1, 2, 3], [0, 0, 1, 1])
    assert (b.precision, b.recall) == (1.0, 0.5)
    assert b.f1 == pytest.approx(2 / 3)


def test_gold_all_singletons():
    # no gold pairs -> recall 1; predicted pairs all wrong -> precision 0
    assert pairwise_prf([0, 0, 0], [0, 1, 2]) == PRF(0.0, 1.0, 0.0)
    assert pairwise_prf([0, 1, 2], [0, 1, 2]) == PRF(1.0, 1.0, 1.0)
    assert pair_recall_by_lang([0, 0, 0], [0, 1, 2], ["en", "vi", "sv"]) == {}


def test_one_big_cluster():
    assert pairwise_prf([0] * 5, [1] * 5) == PRF(1.0, 1.0, 1.0)
    assert bcubed_prf([0] * 5, [1] * 5) == PRF(1.0, 1.0, 1.0)
    # pred one cluster, gold {0,1,2} {3,4}: 10 predicted pairs, 4 gold pairs all found
    r = pairwise_prf([0] * 5, [0, 0, 0, 1, 1])
    assert (r.precision, r.recall) == (0.4, 1.0)


def test_empty_input():
    assert pairwise_prf([], []) == PRF(1.0, 1.0, 1.0)
    assert bcubed_prf([], []) == PRF(1.0, 1.0, 1.0)
    assert pair_recall_by_lang([], [], []) == {}
    assert merge_rate({}, {}, [("A", "B")]) == (0.0, 0, 0)


def test_single_item():
    assert pairwise_prf(["x"], ["y"]) == PRF(1.0, 1.0, 1.0)
    assert bcubed_prf(["x"], ["y"]) == PRF(1.0, 1.0, 1.0)


def test_label_values_do_not_matter():
    # renaming the labels (even to ones shared between pred and gold) changes nothing
    a = pairwise_prf([0, 0, 1, 1, 1], [0, 0, 0, 1, 1])
    b = pairwise_prf(["q", "q", None, None, None], [(1,), (1,), (1,), "z", "z"])
    assert a == b


def test_mappings_are_aligned_by_id():
    pred = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 1}
    gold = {"e": 1, "d": 1, "c": 0, "b": 0, "a": 0}  # other key order
    assert pairwise_prf(pred, gold) == PRF(0.5, 0.5, 0.5)
    assert bcubed_prf(pred, gold).f1 == pytest.approx(11 / 15)


def test_mismatched_inputs_raise():
    with pytest.raises(ValueError):
        pairwise_prf([0, 1], [0])
    with pytest.raises(ValueError):
        pairwise_prf({"a": 0}, {"b": 0})
    with pytest.raises(TypeError):
        pairwise_prf({"a": 0}, [0])


def test_prf_f1_zero_when_both_zero():
    assert PRF.from_pr(0.0, 0.0).f1 == 0.0
    assert PRF.from_pr(1.0, 0.5).f1 == pytest.approx(2 / 3)


# ---------------------------------------------------------------- property tests vs brute force

labelings = st.integers(min_value=0, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.sampled_from(["en", "vi", "sv"]), min_size=n, max_size=n),
    )
)


@settings(max_examples=300, deadline=None)
@given(labelings)
def test_pairwise_matches_brute_force(data):
    pred, gold, _ = data
    res = pairwise_prf(pred, gold)
    p, r = brute_pairwise(pred, gold)
    assert res.precision == pytest.approx(p)
    assert res.recall == pytest.approx(r)
    assert res.f1 == pytest.approx(f1(p, r))


@settings(max_examples=300, deadline=None)
@given(labelings)
def test_bcubed_matches_brute_force(data):
    pred, gold, _ = data
    res = bcubed_prf(pred, gold)
    p, r = brute_bcubed(pred, gold)
    assert res.precision == pytest.approx(p)
    assert res.recall == pytest.approx(r)
    assert res.f1 == pytest.approx(f1(p, r))
    assert 0.0 <= res.precision <= 1.0 + 1e-12 and 0.0 <= res.recall <= 1.0 + 1e-12


@settings(max_examples=300, deadline=None)
@given(labelings)
def test_lang_recall_matches_brute_force(data):
    pred, gold, langs = data
    res = pair_recall_by_lang(pred, gold, langs)
    ref = brute_lang_recall(pred, gold, langs)
    assert res.keys() == ref.keys()
    for k in ref:
        assert res[k] == pytest.approx(ref[k])


@settings(max_examples=200, deadline=None)
@given(labelings)
def test_lang_recall_weighted_mean_is_pairwise_recall(data):
    pred, gold, langs = data
    per_lang = pair_recall_by_lang(pred, gold, langs)
    totals = Counter(
        lang_pair_key(langs[i], langs[j])
        for i, j in itertools.combinations(range(len(gold)), 2)
        if gold[i] == gold[j]
    )
    n_gold = sum(totals.values())
    if n_gold:
        mean = sum(per_lang[k] * totals[k] for k in totals) / n_gold
        assert mean == pytest.approx(pairwise_prf(pred, gold).recall)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4)), max_size=30),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=10),
)
def test_merge_rate_matches_brute_force(items, doc_pairs):
    # items: (document, predicted cluster) per article
    doc_of_id = {f"i{k}": f"d{d}" for k, (d, _) in enumerate(items)}
    pred = {f"i{k}": c for k, (_, c) in enumerate(items)}
    pairs = [(f"d{a}", f"d{b}") for a, b in doc_pairs if a != b]
    merged = total = 0
    for da, db in pairs:
        for x, y in itertools.product(doc_of_id, doc_of_id):
            if doc_of_id[x] == da and doc_of_id[y] == db:
                total += 1
                merged += pred[x] == pred[y]
    rate, m, t = merge_rate(pred, doc_of_id, pairs)
    assert (m, t) == (merged, total)
    assert math.isclose(rate, merged / total if total else 0.0)


def test_large_input_is_linear():
    # 50,000 items: an O(n^2) implementation would need 1.25e9 pair checks; counts take a moment
    import random

    rng = random.Random(0)
    n = 50_000
    gold = [rng.randrange(5_000) for _ in range(n)]
    pred = [g if rng.random() < 0.9 else rng.randrange(5_000) for g in gold]
    langs = [rng.choice(["en", "vi", "sv"]) for _ in range(n)]
    res = pairwise_prf(pred, gold)
    assert 0.0 < res.precision <= 1.0 and 0.0 < res.recall <= 1.0
    assert 0.0 < bcubed_prf(pred, gold).f1 <= 1.0
    assert set(pair_recall_by_lang(pred, gold, langs)) <= {
        "en-en",
        "en-sv",
        "en-vi",
        "sv-sv",
        "sv-vi",
        "vi-vi",
    }
