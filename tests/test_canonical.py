"""Canonical policies."""

from dedup.canonical import Candidate, choose
from dedup.config import CanonicalPolicy, Config

C = [
    Candidate("a", "en", 100, "2020-01-02", "wire"),
    Candidate("b", "vi", 300, "2020-01-01", "paper"),
    Candidate("c", "sv", 300, "2020-01-03", "blog"),
]


def test_longest_then_earliest_then_id():
    row, why = choose([0, 1, 2], C, Config())
    assert C[row].id == "b"  # 300 chars, earlier than c
    assert "longest" in why


def test_prefer_lang_comes_first():
    row, why = choose([0, 1, 2], C, Config(prefer_lang=("en",)))
    assert C[row].id == "a"
    assert "preferred language en" in why


def test_earliest_and_source_policies():
    assert C[choose([0, 1, 2], C, Config(canonical_policy=CanonicalPolicy.EARLIEST))[0]].id == "b"
    cfg = Config(canonical_policy="source", source_priority=("blog", "wire"))
    assert C[choose([0, 1, 2], C, cfg)[0]].id == "c"


def test_single_member():
    assert choose([2], C, Config()) == (2, "only member")
