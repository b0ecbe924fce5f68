"""The score stage (`dedup.score`): language centring, the margin space, alignment and the pair
scores (`score_pairs`, event dates). The story probability has its own tests (test_story.py)."""

import numpy as np
from conftest import planted_vectors, unit_rows

from dedup import index as index_mod
from dedup import score as score_mod
from dedup.embed import Units
from dedup.features import Evidence
from dedup.score import (
    align,
    centre_by_language,
    date_relation,
    prepare,
)
from dedup.score import space as space_mod
from dedup.score.align import _longest_chain


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
    return Units(v, np.asarray(owner, dtype=np.int32), tuple(map(str, owner)))


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


def test_date_relation():
    a = Evidence(frozenset({"palu", "sulawesi"}), frozenset({"832"}), (2018, 9, 29))
    b = Evidence(frozenset({"palu", "jakarta"}), frozenset({"832", "75"}), (None, 9, 30))
    c = Evidence(frozenset({"palu"}), frozenset(), (2018, 3, 1))
    assert date_relation(a, b) == 1
    assert date_relation(a, c) == -1
    assert date_relation(a, Evidence(frozenset(), frozenset())) == 0


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


def test_unrelated_document_vectors_are_never_duplicates(monkeypatch):
    """Precomputed vectors where nothing is near (random 384-d vectors: a vector's nearest neighbour
    sits at centred cosine ~0.2): the ratio margin alone passes the least unrelated neighbour (about
    1,000 such pairs per 10k vectors in benchmarks/scale.py). Under DOC_MIN_COS a pair of document
    vectors is no duplicate; planted near-copies still are."""
    import importlib

    import dedup

    align_mod = importlib.import_module("dedup.score.align")
    rng = np.random.default_rng(3)
    n, d, planted = 4000, 384, 20
    x = unit_rows(rng.standard_normal((n, d)))
    sigma = np.sqrt((1 / 0.9**2 - 1) / d)  # cosine ~0.9 between the copies
    x[n - planted :] = unit_rows(x[:planted] + sigma * rng.standard_normal((planted, d)))
    ids = [f"{k:04d}" for k in range(n)]
    want = sorted([ids[k], ids[n - planted + k]] for k in range(planted))
    config = dedup.Config(cache=False)

    def merged(res: dedup.Result) -> list[list[str]]:
        return sorted(sorted(c) for c in res.clusters if len(c) > 1)

    assert merged(dedup.cluster_embeddings(x, ids=ids, config=config)) == want
    monkeypatch.setattr(align_mod, "DOC_MIN_COS", align_mod.ALIGN_MIN_COS)  # the sentence floor
    loose = merged(dedup.cluster_embeddings(x, ids=ids, config=config))
    assert len(loose) > planted  # random pairs merged: the failure the floor removes


def test_margin_denominators_split_search_matches_one_search():
    rng = np.random.default_rng(2)
    units = unit_rows(rng.standard_normal((400, 32)))
    owner = np.repeat(np.arange(100), 4).astype(np.int32)
    lang = (np.arange(100) % 3)[owner]
    got = space_mod.margin_denominators(units, owner, lang, 3)
    for lg in range(3):
        sel = np.flatnonzero(lang == lg)
        knn = index_mod.knn_excluding_groups(
            units, owner, space_mod.MARGIN_K, base=units[sel], base_groups=owner[sel]
        )
        want = np.where(np.isnan(knn), 1.0, np.maximum(knn, space_mod.KNN_FLOOR))
        assert np.allclose(got[lg], want, atol=1e-6)


def test_single_unit_pairs_score_as_their_alignment():
    x = planted_vectors(n=600, pairs=60, d=32)
    langs = ["en", "vi"] * 300
    space = score_mod.space_from_documents(x, langs)
    pairs = index_mod.candidate_pairs(space.docs, 10, knn_done=space.doc_knn)
    s = score_mod.score_pairs(space, pairs, None)
    cov = np.array([score_mod.align(space, int(a), int(b)).coverage for a, b in pairs], np.float32)
    cos = np.array([float(space.docs[a] @ space.docs[b]) for a, b in pairs], np.float32)
    assert np.array_equal(s.coverage, cov)
    assert np.allclose(s.cosine, cos, atol=1e-6)
    one = score_mod.space_from_documents(x, ["und"] * 600, neighbours=10)
    assert one.doc_knn is not None  # one search serves the candidates and the denominators
    assert np.array_equal(
        index_mod.candidate_pairs(one.docs, 10, knn_done=one.doc_knn), index_mod.candidate_pairs(one.docs, 10)
    )


def test_pair_scorer_reads_candidates_and_scores_the_rest_once():
    """`PairScorer` answers any pair, symmetric: candidate pairs from the table, others scored on
    demand (and kept), with the scores `score_pairs` gives them."""
    x = planted_vectors(n=200, pairs=20, d=32, seed=3)
    space = score_mod.space_from_documents(x, ["en", "vi"] * 100)
    cands = index_mod.candidate_pairs(space.docs, 3, knn_done=space.doc_knn)
    scorer = score_mod.PairScorer(space, score_mod.score_pairs(space, cands, None), None)
    all_pairs = np.array([(a, b) for a in range(0, 200, 7) for b in range(a + 1, 200, 11)], np.int64)
    want = score_mod.score_pairs(space, all_pairs, None)
    for level in ("duplicate", "story"):
        got = scorer.scores(all_pairs, level)
        assert np.allclose(got, getattr(want, level), atol=1e-6), level
        assert np.array_equal(scorer.scores(all_pairs[:, ::-1], level), got)  # symmetric
    a, b = (int(v) for v in cands[0])
    one = scorer.pair(b, a)
    assert (int(one.a[0]), int(one.b[0])) == (a, b) and len(one) == 1
    memo = len(scorer._memo)
    scorer.scores(all_pairs, "duplicate")
    assert len(scorer._memo) == memo  # each pair scored once
