"""Score stage, story model weights: written by `benchmarks/fit_story.py` (do not edit by
hand).

Logistic weights over `dedup.score.story.FEATURES`, fitted on candidate, same-story
and hard-negative pairs of the dev sets (ECB+, KTLAB, NTREX-3, NTREX drawn to 2 of 15 and 1 of
en/vi/sv languages), each set weighing the same. Fit report:
benchmarks/results/story_fit.json.
"""

TEXT_MODEL = {
    "bias": -7.6386,
    "passage_same": 10.2605,
    "passage_cross": 22.0788,
    "lexical": 1.0648,
    "names": 2.778,
    "lead_names": 0.9447,
    "lead_names_cross": -0.0341,
    "numbers": 2.2812,
    "date_apart": -4.0,
}
VECTOR_MODEL = {
    "bias": -7.3386,
    "passage_same": 13.9895,
    "passage_cross": 23.4492,
}
