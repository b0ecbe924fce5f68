"""Score stage, story model weights: written by `benchmarks/fit_story.py` (do not edit by
hand).

Logistic weights over `dedup.score.story.FEATURES`, fitted on candidate, same-story
and hard-negative pairs of the dev sets (ECB+, KTLAB, NTREX drawn to 2 of 15 and 1 of en/vi/sv
languages), each set weighing the same. Fit report: benchmarks/results/story_fit.json.
"""

TEXT_MODEL = {
    "bias": -7.4741,
    "passage_same": 10.0585,
    "passage_cross": 21.4648,
    "lexical": 1.0956,
    "names": 2.8459,
    "lead_names": 0.7758,
    "lead_names_cross": 0.1127,
    "numbers": 2.2636,
    "date_apart": -4.0,
}
VECTOR_MODEL = {"bias": -7.1871, "passage_same": 13.7715, "passage_cross": 22.9224}
