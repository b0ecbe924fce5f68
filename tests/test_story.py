"""The story probability (`dedup.score.story`), its lexical and name evidence (`dedup.score.lexical`)
and the story linkage over duplicate clusters: hand-computed values, corpus-size independence of the
lexical and name evidence, and explain's shares."""

import math

import numpy as np
import pytest

import dedup
from dedup.cluster import story_linkage
from dedup.features import Evidence, extract, fold
from dedup.score import lexical as lex
from dedup.score import story as story_mod
from dedup.score.story import FEATURES, StoryScorer
from dedup.score.story_model import TEXT_MODEL, VECTOR_MODEL


def test_shipped_models_weigh_exactly_the_features():
    assert set(TEXT_MODEL) == {"bias", *FEATURES}
    assert set(VECTOR_MODEL) <= {"bias", *FEATURES} and "bias" in VECTOR_MODEL
    assert TEXT_MODEL["date_apart"] < 0  # dates far apart only ever count against a pair


def test_prior_document_probability_and_rarity():
    assert lex.doc_prob("the", "en") > 0.99  # in nearly every English article
    assert lex.doc_prob("zqxjkvw", "en") < 1e-4  # never seen: the unseen floor
    assert lex.doc_prob("anything", "xx") == lex.FLAT_PRIOR  # no word list: one flat prior
    assert lex.rarity("zqxjkvw") == pytest.approx(1.0)
    assert lex.rarity("monday") < lex.rarity("kazuo") < 1.0 + 1e-9
    assert lex.rarity("bush") < 0.6  # a common English word says little as a name


def test_fold_transliterates_other_scripts():
    assert fold("Trương") == "truong"
    assert fold("Путин") == "putin"
    assert {"putin"} <= extract("Встреча. Президент Путин заявил").names


def test_tfidf_rows_by_hand():
    from collections import Counter

    stats = lex.LexicalStats(
        {("en", "a"): 0, ("en", "b"): 1, ("en", "c"): 2}, np.array([1.0, 2.0, 3.0]), {"en": 2}
    )
    m = lex.rows(stats, [Counter({("en", "a"): 2, ("en", "c"): 1}), Counter()])
    # sublinear tf: 1 + ln 2 and 1; times IDF 1 and 3; then unit length. An empty article stays empty.
    a, c = 1.0 + math.log(2.0), 3.0
    norm = math.hypot(a, c)
    assert m.shape == (2, 3) and m[1].nnz == 0
    assert m[0].toarray().ravel().tolist() == pytest.approx([a / norm, 0.0, c / norm], rel=1e-6)


def _lexical(texts, langs):
    return lex.build([None] * len(texts), texts, langs)


def test_lexical_similarity_within_a_language_only():
    texts = ["Shii Kazuo visits Hanoi", "Shii Kazuo visits Hanoi", "Shii Kazuo besöker Hanoi"]
    lx = _lexical(texts, ["en", "en", "sv"])
    got = lx.similarity(np.array([0, 0]), np.array([1, 2]))
    assert got[0] == pytest.approx(1.0, abs=1e-6)
    assert got[1] == 0.0  # different languages never compare lexically


def test_lexical_idf_is_shrunk_to_the_prior_so_a_shared_word_keeps_weight():
    # "earthquake" is in every article of a three-article corpus: the prior still weighs it
    texts = ["earthquake hits Palu", "earthquake in Lombok", "earthquake toll rises"]
    lx = _lexical(texts, ["en"] * 3)
    assert lx.similarity(np.array([0]), np.array([1]))[0] > 0.1


def test_lexical_similarity_does_not_drift_with_corpus_size():
    pair = ["Lindsay Lohan checks into Betty Ford rehab center", "Lohan enters Betty Ford center for rehab"]
    rng = np.random.default_rng(0)
    vocab = [
        "government",
        "minister",
        "football",
        "match",
        "election",
        "market",
        "storm",
        "police",
        "court",
        "school",
    ]
    others = [" ".join(rng.choice(vocab, 12)) for _ in range(3000)]
    alone = _lexical(pair, ["en"] * 2).similarity(np.array([0]), np.array([1]))[0]
    inside = _lexical(pair + others, ["en"] * (2 + len(others))).similarity(np.array([0]), np.array([1]))[0]
    assert abs(alone - inside) < 0.02


def _scorer(passages, lang, evidence, texts=None):
    langs = ["en" if x == 0 else "vi" for x in lang]
    lx = _lexical(texts, langs) if texts is not None else None
    return StoryScorer(np.asarray(passages, np.float32), np.asarray(lang), lx, evidence)


def test_features_hand_computed():
    e = np.eye(3, dtype=np.float32)
    passages = [e[0], e[0] * 0.6 + e[1] * 0.8, e[0] * 0.8 + e[2] * 0.6]
    ev = [
        Evidence(frozenset({"zqa", "zqb"}), frozenset({"832", "75"}), (2018, 9, 29), frozenset({"zqa"})),
        Evidence(frozenset({"zqa"}), frozenset({"832"}), (2018, 10, 6), frozenset({"zqa"})),
        Evidence(frozenset({"zqb", "zqc"}), frozenset(), None, frozenset({"zqc"})),
    ]
    sc = _scorer(passages, [0, 0, 1], ev, texts=["palu quake", "palu quake toll", "động đất"])
    x = sc.features(np.array([0, 0]), np.array([1, 2]))
    f = {name: k for k, name in enumerate(FEATURES)}
    # 0 ~ 1, same language: cosine 0.6, names {zqa} / min(2, 1) = 1 (unseen names weigh 1 each),
    # lead names: {zqa} in both texts, numbers 1 of min(2, 1), dates 7 days apart
    assert x[0, f["passage_same"]] == pytest.approx(0.6) and x[0, f["passage_cross"]] == 0.0
    assert x[0, f["names"]] == pytest.approx(1.0)
    assert x[0, f["lead_names"]] == pytest.approx(1.0) and x[0, f["lead_names_cross"]] == 0.0
    assert x[0, f["numbers"]] == pytest.approx(1.0)
    assert x[0, f["date_apart"]] == pytest.approx(1 - math.exp(-7 / story_mod.DATE_SCALE_DAYS))
    assert 0.0 < x[0, f["lexical"]] < 1.0
    # 0 ~ 2, cross-language: cosine 0.8, names {zqb} / 2, lead {zqa} not in 2's names -> 0,
    # no numbers on one side, one date unknown, no lexical evidence across languages
    assert x[1, f["passage_cross"]] == pytest.approx(0.8) and x[1, f["passage_same"]] == 0.0
    assert x[1, f["names"]] == pytest.approx(0.5)
    assert x[1, f["lead_names_cross"]] == 0.0
    assert x[1, f["numbers"]] == 0.0 and x[1, f["date_apart"]] == 0.0 and x[1, f["lexical"]] == 0.0


def test_scores_are_the_logistic_of_the_evidence_and_explain_shares_add_up():
    e = np.eye(2, dtype=np.float32)
    ev = [Evidence(frozenset({"zqa"}), frozenset({"12"})), Evidence(frozenset({"zqa"}), frozenset())]
    sc = _scorer([e[0], e[0] * 0.6 + e[1] * 0.8], [0, 1], ev, texts=["a text", "một văn bản"])
    p = float(sc.scores(np.array([0]), np.array([1]))[0])
    shares = sc.evidence_of(0, 1)
    assert shares[0][0] == "bias"
    assert p == pytest.approx(1 / (1 + math.exp(-sum(c for _, _, c in shares))), rel=1e-5)
    # a pair dated weeks apart loses what the date weight says
    far = [Evidence(x.names, x.numbers, d) for x, d in zip(ev, [(2023, 3, 28), (2023, 12, 27)], strict=True)]
    sc_far = _scorer([e[0], e[0] * 0.6 + e[1] * 0.8], [0, 1], far, texts=["a text", "một văn bản"])
    assert float(sc_far.scores(np.array([0]), np.array([1]))[0]) < p


def test_without_texts_the_vector_model_scores():
    e = np.eye(2, dtype=np.float32)
    sc = StoryScorer(np.stack([e[0], e[0]]), np.array([0, 0]), None, None)
    assert sc.model is story_mod.VECTOR_STORY_MODEL
    assert sc.scores(np.array([0]), np.array([1]))[0] > 0.99  # identical passages


def test_story_linkage_compares_clusters_on_their_shared_language():
    # duplicate cluster {0 (en), 1 (vi)} and {2 (vi)}: the vi-vi pair (0.9) decides, not the en-vi
    # pair (0.1); {3 (sv)} shares no language with them: the mean of all its pairs (0.3, 0.2, 0.2)
    lang = np.array([0, 1, 1, 2])
    dup = np.array([0, 0, 2, 3])
    table = {(0, 2): 0.1, (1, 2): 0.9, (0, 3): 0.3, (1, 3): 0.2, (2, 3): 0.2}

    def fn(p):
        return np.array([table[(min(a, b), max(a, b))] for a, b in p.tolist()])

    got = story_linkage(dup, np.array([0, 0]), np.array([2, 3]), 0.5, fn, lang)
    assert got.tolist() == [0, 0, 0, 3]
    got = story_linkage(dup, np.array([0, 0]), np.array([2, 3]), 0.95, fn, lang)
    assert got.tolist() == [0, 0, 2, 3]


def test_explain_shows_the_story_evidence_it_decided_on():
    arts = [
        {"id": "a", "text": "Shii Kazuo held talks in Hanoi on Monday. Both parties agreed to deepen ties."},
        {"id": "b", "text": "Shii Kazuo met leaders in Hanoi on Monday. The parties agreed to deepen ties."},
        {"id": "c", "text": "The football club signed a new striker. The fee was not disclosed."},
    ]
    res = dedup.cluster(arts, dedup.Config(cache=False), encoder=dedup.HashEncoder(dim=64))
    ex = res.explain("a", "b")
    names = [n for n, _, _ in ex.story_evidence]
    assert names == ["bias", *FEATURES]
    logit = sum(c for _, _, c in ex.story_evidence)
    assert ex.story_score == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-4)
    assert "story_evidence" in ex.to_dict() and "lexical" in str(ex)
