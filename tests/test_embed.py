"""The embed stage's texts (`dedup.embed`): the units (title and lead sentences) and the passage of
each article."""

from dedup.embed import make_passages, make_units


def test_passage_is_title_and_lead():
    sents = [f"Sentence {k}." for k in range(12)]
    got = make_passages(["A title ", None, ""], [sents, sents[:2], ["  ", "Only one."]], n_sentences=3)
    assert got[0] == "A title\nSentence 0.\nSentence 1.\nSentence 2."
    assert got[1] == "Sentence 0.\nSentence 1."
    assert got[2] == "Only one."


def test_units_are_the_title_and_the_first_sentences():
    sents = [f"Sentence {k}." for k in range(12)]
    texts, owner = make_units(["A title ", None, "  "], [sents, [" ", "Only one."], sents[:2]], max_units=3)
    assert texts == [
        "A title",
        "Sentence 0.",
        "Sentence 1.",  # the title counts as one of the 3 units
        "Only one.",  # blank sentences are skipped
        "Sentence 0.",
        "Sentence 1.",
    ]
    assert owner == [0, 0, 0, 1, 2, 2]
