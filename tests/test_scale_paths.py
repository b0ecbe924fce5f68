"""The paths that make large corpora and re-runs fast: inverted-file search, vectorised scoring
of single-unit pairs, component-wise average linkage, the per-run pair memo and the result cache."""

import heapq

import numpy as np
import pytest

import dedup
from dedup import index as index_mod
from dedup import score as score_mod
from dedup.cluster import ON_DEMAND_MAX, average_linkage
from dedup.encoder import HashEncoder, SentenceTransformerEncoder


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _planted(n=3000, pairs=300, d=64, seed=0):
    rng = np.random.default_rng(seed)
    x = _unit(rng.standard_normal((n, d)))
    x[n - pairs :] = _unit(x[:pairs] + 0.03 * rng.standard_normal((pairs, d)))
    return x


def test_ivf_search_finds_planted_partners_and_itself():
    x = _planted()
    n = x.shape[0]
    sims, ids = index_mod.ivf_search(x, x, 5, n_cells=16, probes=4)
    assert (ids[:, 0] == np.arange(n)).mean() > 0.99  # itself first
    partner = np.r_[np.arange(n - 300, n), np.arange(300)]
    rows = np.r_[np.arange(300), np.arange(n - 300, n)]
    found = (ids[rows] == partner[:, None]).any(axis=1)
    assert found.mean() >= 0.95
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # sorted, best first


def test_knn_past_exact_max_uses_ivf_and_drops_self():
    x = _planted()
    s_exact, i_exact = index_mod.knn(x, 4)
    s_ivf, i_ivf = index_mod.knn(x, 4, exact_max=500)
    assert i_ivf.shape == (x.shape[0], 4)
    assert not (i_ivf == np.arange(x.shape[0])[:, None]).any()
    # the planted partner (the exact nearest neighbour of a planted row) is found
    rows = np.r_[np.arange(300), np.arange(x.shape[0] - 300, x.shape[0])]
    assert (i_ivf[rows, 0] == i_exact[rows, 0]).mean() > 0.95


def test_margin_denominators_split_search_matches_one_search():
    rng = np.random.default_rng(2)
    units = _unit(rng.standard_normal((400, 32)))
    owner = np.repeat(np.arange(100), 4).astype(np.int32)
    lang = (np.arange(100) % 3)[owner]
    got = score_mod.margin_denominators(units, owner, lang, 3)
    for lg in range(3):
        sel = np.flatnonzero(lang == lg)
        knn = index_mod.knn_excluding_groups(
            units, owner, score_mod.MARGIN_K, base=units[sel], base_groups=owner[sel]
        )
        want = np.where(np.isnan(knn), 1.0, np.maximum(knn, score_mod.KNN_FLOOR))
        assert np.allclose(got[lg], want, atol=1e-6)


def test_single_unit_pairs_score_as_their_alignment():
    x = _planted(n=600, pairs=60, d=32)
    langs = ["en", "vi"] * 300
    space = score_mod.space_from_documents(x, langs)
    pairs = score_mod.candidate_pairs(space, 10)
    s = score_mod.score_pairs(space, pairs, None)
    cov = np.array([score_mod.align(space, int(a), int(b)).coverage for a, b in pairs], np.float32)
    cos = np.array([float(space.docs[a] @ space.docs[b]) for a, b in pairs], np.float32)
    assert np.array_equal(s.coverage, cov)
    assert np.allclose(s.cosine, cos, atol=1e-6)
    one = score_mod.space_from_documents(x, ["und"] * 600, neighbours=10)
    assert one.doc_knn is not None  # one search serves the candidates and the denominators
    assert np.array_equal(score_mod.candidate_pairs(one, 10), score_mod.candidate_pairs(one.docs, 10))


def _reference_linkage(n, a, b, scores, threshold, init=None, score_fn=None):
    """The single-heap average linkage over the whole graph (before components)."""
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    if init is not None:
        for r in range(n):
            ra, rb = find(r), find(int(init[r]))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    members = {}
    for r in range(n):
        members.setdefault(find(r), []).append(r)
    adj = {c: {} for c in members}
    for x, y, s in zip(a.tolist(), b.tolist(), scores.tolist(), strict=True):
        cx, cy = find(x), find(y)
        if cx == cy:
            continue
        e = adj[cx].setdefault(cy, [0.0, 0])
        e[0] += s
        e[1] += 1
        adj[cy][cx] = e
    heap = []

    def push(cx, cy):
        e = adj[cx][cy]
        size = len(members[cx]) * len(members[cy])
        upper = (e[0] + (size - e[1])) / size if score_fn is not None else e[0] / size
        if upper >= threshold:
            heapq.heappush(heap, (-upper, min(cx, cy), max(cx, cy)))

    for cx in sorted(adj):
        for cy in sorted(adj[cx]):
            if cx < cy:
                push(cx, cy)
    while heap:
        neg, cx, cy = heapq.heappop(heap)
        if cx not in adj or cy not in adj or cy not in adj[cx]:
            continue
        e = adj[cx][cy]
        size = len(members[cx]) * len(members[cy])
        if score_fn is not None and e[1] < size:
            if size <= ON_DEMAND_MAX:
                pairs = np.array(sorted({(x, y) for x in members[cx] for y in members[cy]}), dtype=np.int64)
                e[0], e[1] = float(np.sum(score_fn(pairs))), size
            else:
                e[1] = size
        avg = e[0] / size
        if avg < threshold:
            continue
        if avg < -neg - 1e-12:
            heapq.heappush(heap, (-avg, cx, cy))
            continue
        members[cx].extend(members.pop(cy))
        nb_y = adj.pop(cy)
        del adj[cx][cy]
        for cz, ez in nb_y.items():
            if cz == cx:
                continue
            del adj[cz][cy]
            if cz in adj[cx]:
                adj[cx][cz][0] += ez[0]
                adj[cx][cz][1] += ez[1]
            else:
                adj[cx][cz] = [ez[0], ez[1]]
                adj[cz][cx] = adj[cx][cz]
        for cz in sorted(adj[cx]):
            push(cx, cz)
    labels = np.empty(n, dtype=np.int64)
    for rows in members.values():
        labels[rows] = min(rows)
    return labels


def _random_graph(seed: int, n_max: int, decimals: int | None):
    """Planted groups with noisy scores (rounded to `decimals`, when given): the full score matrix,
    a threshold, and candidate pairs holding every pair at or above it plus 30% of the rest."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, n_max))
    g = rng.integers(0, max(1, n // 3), n)
    s = np.where(g[:, None] == g[None, :], rng.uniform(0.3, 1.0, (n, n)), rng.uniform(0, 0.6, (n, n)))
    s = np.triu(s, 1) + np.triu(s, 1).T
    if decimals is not None:
        s = np.round(s, decimals)
    t = float(rng.choice([0.4, 0.5, 0.6]))
    iu = np.triu_indices(n, 1)
    keep = (s[iu] >= t) | (rng.random(len(iu[0])) < 0.3)
    return n, s, t, iu[0][keep], iu[1][keep]


@pytest.mark.parametrize("seed", range(40))
def test_component_linkage_equals_whole_graph_linkage(seed):
    # equal whenever every pair scoring at or above the threshold is a candidate pair
    n, s, t, a, b = _random_graph(seed, 50, 3)

    def fn(p):
        return s[p[:, 0], p[:, 1]]

    for kw in ({}, {"score_fn": fn}):
        want = _reference_linkage(n, a, b, s[a, b], t, **kw)
        assert average_linkage(n, a, b, s[a, b], t, **kw).tolist() == want.tolist()
        init = _reference_linkage(n, a, b, s[a, b], min(0.95, t + 0.2))
        want = _reference_linkage(n, a, b, s[a, b], t, init=init, **kw)
        assert average_linkage(n, a, b, s[a, b], t, init=init, **kw).tolist() == want.tolist()


def _brute_top_k_linkage(s: np.ndarray, threshold: float, top_k: int) -> np.ndarray:
    """Top-k linkage the slow way: every cluster pair's exact value over the full score matrix."""
    n = s.shape[0]
    clusters = [[r] for r in range(n)]
    while True:
        best, pick = -1.0, None
        for x in range(len(clusters)):
            for y in range(x + 1, len(clusters)):
                cross = np.sort(s[np.ix_(clusters[x], clusters[y])].ravel())[::-1]
                v = float(cross[:top_k].mean())
                if v > best:
                    best, pick = v, (x, y)
        if pick is None or best < threshold:
            break
        x, y = pick
        clusters[x] = clusters[x] + clusters.pop(y)
    labels = np.empty(n, dtype=np.int64)
    for rows in clusters:
        labels[rows] = min(rows)
    return labels


@pytest.mark.parametrize("seed", range(20))
def test_top_k_linkage_equals_brute_force(seed):
    # the component split, the strong-pair gate and the lazy heap change nothing, whenever every
    # pair scoring at or above the threshold is a candidate pair and the rest is scored on demand
    # (unrounded scores: no ties, whose order the two may break differently)
    n, s, t, a, b = _random_graph(100 + seed, 30, None)

    def fn(p):
        return s[p[:, 0], p[:, 1]]

    for k in (1, 2, 3):
        got = average_linkage(n, a, b, s[a, b], t, score_fn=fn, top_k=k)
        assert got.tolist() == _brute_top_k_linkage(s, t, k).tolist()


class _FakeST(SentenceTransformerEncoder):
    """A sentence-transformers encoder (for the result cache) that embeds with the HashEncoder."""

    def __init__(self):
        super().__init__("fake-st-for-tests")
        self._hash = HashEncoder(32)
        self.calls = 0

    @property
    def dim(self):
        return 32

    def encode(self, texts):
        self.calls += 1
        return self._hash.encode(texts)


ARTS = [
    {
        "id": "a",
        "title": "Budget passed",
        "text": "The council approved the budget on Monday. Taxes rise by 2 percent.",
    },
    {
        "id": "b",
        "title": "Budget passed",
        "text": "The council approved the budget on Monday. Taxes rise by 2 percent.",
    },
    {"id": "c", "text": "A storm hit the coast of Norway. Power was cut to 40,000 homes."},
]


def test_result_cache_serves_an_unchanged_rerun(tmp_path):
    cfg = dedup.Config(cache_dir=str(tmp_path), cache_priors=False)
    enc = _FakeST()
    r1 = dedup.cluster(ARTS, cfg, encoder=enc)
    assert "embed" in r1.timings
    calls = enc.calls
    r2 = dedup.cluster(ARTS, cfg, encoder=enc)
    assert "result_cache" in r2.timings and "embed" not in r2.timings
    assert enc.calls == calls, "nothing embedded or scored again"
    assert r2.to_records() == r1.to_records()
    assert np.array_equal(r2.pairs.duplicate, r1.pairs.duplicate)
    assert r2.explain("a", "b").to_dict() == r1.explain("a", "b").to_dict()  # computed on demand
    assert r2.with_thresholds(duplicate=0.9, story=0.9).clusters == r1.with_thresholds(0.9, 0.9).clusters
    changed = [*ARTS[:2], {**ARTS[2], "text": ARTS[2]["text"] + " Repairs take a week."}]
    r3 = dedup.cluster(changed, cfg, encoder=enc)
    assert "embed" in r3.timings  # another corpus: computed
    r4 = dedup.cluster(ARTS, cfg.with_(cache=False), encoder=enc)
    assert "embed" in r4.timings


def test_config_precision_and_max_units():
    assert dedup.Config().precision in ("int8", "fp32")
    with pytest.raises(dedup.ConfigError):
        dedup.Config(precision="fp16")
    with pytest.raises(dedup.ConfigError):
        dedup.Config(max_units=0)
    enc = HashEncoder(16)
    arts = [
        {"id": str(i), "text": " ".join(f"Sentence number {i} {k} is here." for k in range(10))}
        for i in range(3)
    ]
    full = dedup.cluster(arts, dedup.Config(cache=False), encoder=enc)
    few = dedup.cluster(arts, dedup.Config(cache=False, max_units=2), encoder=enc)
    assert len(few.explain("0", "1").aligned) <= 2 <= len(full.explain("0", "1").aligned)


@pytest.mark.slow
def test_int8_model_keeps_the_fp32_embeddings():
    from dedup.encoder import Int8OnnxEncoder, get_encoder

    texts = [
        "The council approved the budget on Monday.",
        "Hội đồng đã thông qua ngân sách vào thứ Hai.",
        "Rådet godkände budgeten på måndagen.",
        "A storm hit the coast of Norway and power was cut to 40,000 homes.",
    ]
    q = get_encoder("e5-small", precision="int8")
    assert isinstance(q, Int8OnnxEncoder) and q.name == "e5-small:int8" and q.dim == 384
    f = get_encoder("e5-small", precision="fp32")
    vq, vf = q.encode(texts), f.encode(texts)
    assert np.allclose(np.linalg.norm(vq, axis=1), 1.0, atol=1e-4)
    assert (vq * vf).sum(axis=1).min() >= 0.995  # per-token activations: 0.998 at worst on NTREX units
    assert q.unknown_letters(["plain text", "ᱚᱞ ᱪᱤᱠᱤ ᱚᱞ"])[0] == (0.0, "")
    assert q.unknown_letters(["ᱚᱞ ᱪᱤᱠᱤ ᱚᱞ"])[0][0] > 0.5


@pytest.mark.slow
def test_int8_vector_of_a_text_does_not_depend_on_its_batch():
    """Activations are quantised per token, so a text embeds the same alone, beside others and in
    any order (with one scale per batch tensor, cosine between the two fell to 0.992)."""
    from dedup.encoder import get_encoder

    texts = [
        "Ngân hàng Nhà nước giữ nguyên lãi suất điều hành trong quý III.",
        "Short.",
        " ".join(["The storm cut power to 40,000 homes along the coast of western Norway."] * 12),
        "Regeringen presenterade budgeten för 2024 på tisdagen och fick kritik från oppositionen.",
        "東京で開かれた会議には30カ国の代表が参加した。",
    ]
    q = get_encoder("e5-small", precision="int8")
    together = q.encode(texts)
    alone = np.vstack([q.encode([t]) for t in texts])
    reversed_ = q.encode(texts[::-1])[::-1]
    assert (together * alone).sum(axis=1).min() >= 0.99999
    assert (together * reversed_).sum(axis=1).min() >= 0.99999


def test_exact_search_only_while_it_costs_seconds():
    use = index_mod._use_exact
    assert use(16_000, 1_100, index_mod.EXACT_MAX)  # the quality sets: exact
    assert use(30_000, 30_000, index_mod.EXACT_MAX)
    assert not use(157_000, 10_500, index_mod.EXACT_MAX)  # 10k articles' sentences vs one language
    assert not use(100_000, 100_000, index_mod.EXACT_MAX)
    assert use(1_000_000, index_mod.EXACT_ALWAYS, index_mod.EXACT_MAX)  # a tiny base
    assert not use(3_000, 3_000, 500)  # an explicit limit still forces the inverted file


def test_token_batches_bound_texts_and_padded_tokens():
    from dedup.encoder import _token_batches

    lengths = np.array([600, 300, 300, 120, 40, 40, 40, 30, 20, 10])  # sorted longest first
    batches = _token_batches(lengths, batch_size=4, max_tokens=600)
    assert np.concatenate(batches).tolist() == list(range(10))  # every text once, in order
    for b in batches:
        assert len(b) <= 4
        assert len(b) == 1 or len(b) * lengths[b].max() <= 600  # a longer text goes alone
    assert [len(b) for b in batches] == [1, 2, 4, 3]
