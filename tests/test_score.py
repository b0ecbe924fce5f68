"""Language centring, margin alignment and the pair scores."""

import numpy as np

from dedup.embed import Units
from dedup.features import Evidence
from dedup.score import (
    _longest_chain,
    align,
    centre_by_language,
    date_relation,
    entity_overlap,
    prepare,
    story_score,
)


def test_centring_removes_language_offset_and_copies():
    rng = np.random.default_rng(1)
    topic = rng.normal(size=(6, 16))
    offset = {"en": rng.normal(size=16) * 3, "vi": rng.normal(size=16) * 3}
    langs = ["en"] * 6 + ["vi"] * 6
    x = np.vstack([topic + offset["en"], topic + offset["vi"]]).astype(np.float32)
    before = x.copy()
    c = centre_by_language(x, langs, shrink=0.0)
    assert np.array_equal(x, before), "input untouched"
    # after centring, a translation (same topic row) is the nearest cross-language neighbour
    sims = c[:6] @ c[6:].T
    assert (sims.argmax(axis=1) == np.arange(6)).all()


def test_neutral_prior_used_when_corpus_is_tiny():
    # one unit per language, prior weight 1000: each language mean is its prior,
    # halfway between the corpus mean g = (1, 0, 0) and the language's neutral mean
    langs = ["en", "vi"]
    x = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, -1.0]], dtype=np.float32)
    neutral = {"en": np.array([0, 0, 1.0]), "vi": np.array([0, 0, -1.0])}
    c = centre_by_language(x, langs, shrink=1000.0, neutral=neutral)
    # en: x - (0.5, 0, 0.5) = (0.5, 0, 0.5); vi: (0.5, 0, -0.5)
    h = 2**-0.5
    assert np.allclose(c, [[h, 0, h], [h, 0, -h]], atol=2e-3)
    # without neutral means the prior is the corpus mean: only the language parts remain
    c0 = centre_by_language(x, langs, shrink=1000.0)
    assert np.allclose(c0, [[0, 0, 1], [0, 0, -1]], atol=2e-3)


def test_neutral_prior_keeps_a_small_corpus_topic():
    # two articles on one topic in two languages, one on another topic: centring on the corpus
    # mean alone takes the shared topic away; the neutral prior keeps the translation pair closest
    rng = np.random.default_rng(0)
    topic, other = rng.normal(size=16), rng.normal(size=16)
    lang = {"en": rng.normal(size=16), "vi": rng.normal(size=16)}
    x = np.stack([topic + lang["en"], topic + lang["vi"], other + lang["en"]]).astype(np.float32)
    langs = ["en", "vi", "en"]
    c = centre_by_language(x, langs, neutral=lang)
    sims = c @ c.T
    assert sims[0, 1] > sims[1, 2] and sims[0, 1] > 0.3


def test_longest_chain_keeps_order():
    pairs = [(0, 0, 1.0), (1, 5, 1.0), (2, 1, 1.0), (3, 2, 1.0), (4, 3, 1.0)]
    chain = _longest_chain(pairs)
    assert [(i, j) for i, j, _ in chain] == [(0, 0), (2, 1), (3, 2), (4, 3)]


def _units(vectors, owner):
    v = np.asarray(vectors, dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return Units(v, np.asarray(owner, dtype=np.int32), np.zeros(len(owner), bool), tuple(map(str, owner)))


def test_alignment_covers_translations_not_shuffles():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(8, 32))
    noise = lambda: rng.normal(size=(8, 32)) * 0.2  # noqa: E731
    a, b = base + noise(), base + noise()  # b translates a, in order
    c = base[::-1] + noise()  # same sentences, order reversed: not a rewrite of a
    d = rng.normal(size=(8, 32))  # unrelated
    background = rng.normal(size=(80, 32))  # ten more articles, five per language
    owner = [0] * 8 + [1] * 8 + [2] * 8 + [3] * 8 + [4 + k // 8 for k in range(80)]
    units = _units(np.vstack([a, b, c, d, background]), owner)
    space = prepare(units, ["en", "vi", "vi", "en"] + ["en", "vi"] * 5, 14)
    assert align(space, 0, 1).coverage > 0.8
    assert align(space, 0, 2).coverage < 0.4
    assert align(space, 0, 3).coverage < 0.3


def test_entity_overlap_and_dates():
    a = Evidence(frozenset({"palu", "sulawesi"}), frozenset({"832"}), (2018, 9, 29))
    b = Evidence(frozenset({"palu", "jakarta"}), frozenset({"832", "75"}), (None, 9, 30))
    c = Evidence(frozenset({"palu"}), frozenset(), (2018, 3, 1))
    assert entity_overlap(a, b) == 2 / 3
    assert date_relation(a, b) == 1
    assert date_relation(a, c) == -1
    kw = {"cosine": 0.5, "coverage": 0.0, "passage": 0.5}
    assert story_score(**kw, dates=-1) < story_score(**kw, dates=0) <= story_score(**kw, dates=1)
    # the passage cosine is the story evidence; a duplicate pair scores at least its duplicate score
    assert story_score(0.9, 0.0, 0.2) == 0.2
    assert story_score(0.9, 1.0, 0.2) >= 0.9


def test_many_near_copies_all_join_one_duplicate_cluster():
    """Ten lightly edited copies of one report: every copy's nearest neighbours are other copies,
    so their ratio margins sit near 1; the near-copy cosine still covers them (before it, about
    half the copy pairs were dropped)."""
    import dedup

    rng = np.random.default_rng(5)
    d, n_other, n_copies = 64, 300, 10
    x = rng.standard_normal((n_other + n_copies, d)).astype(np.float32)
    centre = x[0].copy()
    x[n_other:] = centre + 0.12 * rng.standard_normal((n_copies, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    copies = x[n_other:] @ x[n_other:].T
    assert copies[np.triu_indices(n_copies, 1)].min() > 0.9  # near-copies, not identical
    ids = [f"{k:03d}" for k in range(n_other + n_copies)]
    res = dedup.cluster_embeddings(x, ids=ids)
    got = {res.canonical[i] for i in ids[n_other:]}
    assert len(got) == 1
    assert res.canonical[ids[0]] in got  # the report they copy is one of them


def test_cluster_evidence_compares_clusters_in_their_shared_languages():
    """Hand-computed: cluster X = {0 (en), 1 (vi)}, Y = {2 (en), 3 (vi)}, Z = {4 (sv)}."""
    from dedup.score import ClusterEvidence

    e = np.eye(4, dtype=np.float32)
    v = np.stack(
        [
            e[0],  # X en
            e[1],  # X vi
            (e[0] * 0.6 + e[2] * 0.8),  # Y en: cos 0.6 with X en
            (e[1] * 0.8 + e[3] * 0.6),  # Y vi: cos 0.8 with X vi
            (e[0] * 0.5 + e[3] * np.sqrt(0.75)),  # Z sv
        ]
    ).astype(np.float32)
    labels = np.array([0, 0, 2, 2, 4])
    lang = np.array([0, 2, 0, 2, 1])  # en=0, sv=1, vi=2
    ev = ClusterEvidence(labels, v, lang)
    assert ev.roots.tolist() == [0, 2, 4] and ev.of_row.tolist() == [0, 0, 1, 1, 2]
    # X ~ Y share en and vi: the mean of the same-language pairs (0.6 + 0.8) / 2, not of all four
    # pairs (the cross-language ones, 0-3 and 1-2, are 0.0 and 0.0 here)
    got = ev.scores(np.array([0, 0, 1]), np.array([1, 2, 2]))
    assert np.isclose(got[0], 0.7)
    # X ~ Z share no language: the mean over all pairs, (0.5 + 0) / 2
    assert np.isclose(got[1], 0.25)
    # Y ~ Z: ((0.6*0.5) + (0.6*sqrt(.75))) / 2
    assert np.isclose(got[2], (0.3 + 0.6 * np.sqrt(0.75)) / 2)
    # conflicting event dates move a pair down
    evid = [Evidence(frozenset(), frozenset(), d) for d in [(2018, 9, 29), None, (2018, 3, 1), None, None]]
    dated = ClusterEvidence(labels, v, lang, evid).scores(np.array([0]), np.array([1]))
    assert np.isclose(dated[0], 0.7 - 0.25)


def test_cluster_evidence_averages_members_of_one_language():
    """Two English members of one cluster: the same-language mean covers both pairs."""
    from dedup.score import ClusterEvidence

    v = np.array([[1, 0], [0.8, 0.6], [0.6, 0.8]], dtype=np.float32)
    ev = ClusterEvidence(np.array([0, 0, 2]), v, np.array([0, 0, 0]))
    want = (v[0] @ v[2] + v[1] @ v[2]) / 2
    assert np.isclose(ev.scores(np.array([0]), np.array([1]))[0], want)


def test_passage_is_title_and_lead():
    from dedup.embed import make_passages

    sents = [f"Sentence {k}." for k in range(12)]
    got = make_passages(["A title ", None, ""], [sents, sents[:2], ["  ", "Only one."]], n_sentences=3)
    assert got[0] == "A title\nSentence 0.\nSentence 1.\nSentence 2."
    assert got[1] == "Sentence 0.\nSentence 1."
    assert got[2] == "Only one."
