"""Fitting the ranking: the listwise fit puts the right candidate first, calibration is measured honestly."""

from __future__ import annotations

import numpy as np

from copilot.evaluation import fit_ranking
from copilot.kb.ranking import CONFIDENCE_FEATURES, RANK_FEATURES, Model


def _case(name: str, qid: str, signal: list[float], right: int, rng: np.random.Generator) -> fit_ranking.Case:
    n = len(signal)
    features = {f: rng.normal(0, 0.3, n) for f in RANK_FEATURES}
    features["bm25_plain"] = np.array(signal)
    features["entity"] = np.zeros(n)
    features["coverage"] = np.array(signal)
    right_mask = np.zeros(n)
    right_mask[right] = 1.0
    return fit_ranking.Case(name, qid, [f"a{i}" for i in range(n)], features, right_mask, True)


def test_listwise_fit_learns_which_feature_finds_the_answer() -> None:
    rng = np.random.default_rng(7)
    cases = []
    for q in range(60):
        right = int(rng.integers(0, 5))
        signal = list(rng.uniform(0, 0.6, 5))
        signal[right] = 1.0  # the answer has the best plain bm25; every other feature is noise
        cases.append(_case("set", f"q{q}", signal, right, rng))
    weights = fit_ranking.fit_rank(cases)
    assert weights[RANK_FEATURES.index("bm25_plain")] == max(weights)
    model = Model(weights, fit_ranking.fit_confidence(cases, weights))
    figures = fit_ranking.report(cases, model)
    assert figures["recall_at_1"] == 1.0 and figures["queries"] == 60


def test_calibration_error_and_the_halves() -> None:
    assert fit_ranking.calibration_error([0.9] * 10, [True] * 9 + [False]) == 0.0
    assert fit_ranking.calibration_error([0.9] * 10, [False] * 10) == 0.9
    halves = {fit_ranking.split_of(f"q{i}") for i in range(50)}
    assert halves == {"fit", "held"} and fit_ranking.split_of("q1") == fit_ranking.split_of("q1")


def test_the_first_suggestions_confidence_is_calibrated_on_every_set() -> None:
    rng = np.random.default_rng(3)
    cases = []
    for name, low in (("easy", 0.6), ("hard", 0.1)):  # the first suggestion is right ~80% / ~55% of the time
        for q in range(300):
            sure = float(rng.uniform(low, 1.0))
            signal = [1.0, *rng.uniform(0, 0.5, 4)]
            right = 0 if rng.uniform() < sure else 1
            case = _case(name, f"{name}{q}", signal, right, rng)
            case.features["coverage"][0] = sure  # how sure the first is shows in one confidence feature
            cases.append(case)
    weights = np.zeros(len(RANK_FEATURES))
    weights[RANK_FEATURES.index("bm25_plain")] = 5.0
    model = Model(weights, fit_ranking.fit_confidence(cases, weights))
    for name in ("easy", "hard"):
        part = [c for c in cases if c.set_name == name]
        shown = [float(model.confidences(model.scores(c.features), c.features)[0]) for c in part]
        right = [bool(c.right[0]) for c in part]
        assert abs(np.mean(shown) - np.mean(right)) < 0.05, name
        assert fit_ranking.report(part, model)["calibration_error"] < 0.08, name


def test_the_calibration_floor_is_the_noise_of_an_honest_confidence() -> None:
    spread = [float(x) for x in np.linspace(0.3, 1.0, 144)]
    floor = fit_ranking.calibration_floor(spread)
    assert floor == fit_ranking.calibration_floor(spread)  # repeatable
    # An honest confidence on 144 questions still shows a calibration error of several points; on ten times as
    # many about a third of it (sampling noise shrinks with the square root of the count).
    assert 0.04 < floor < 0.12
    assert fit_ranking.calibration_floor(spread * 10) < 0.45 * floor
    assert fit_ranking.calibration_floor([1.0] * 50) == 0.0  # always right, always sure: no noise
    assert fit_ranking.calibration_floor([]) == 0.0


def test_sharpness_undoes_a_confidence_that_is_too_timid_and_leaves_an_honest_one() -> None:
    rng = np.random.default_rng(11)
    cases = []
    for q in range(800):
        logit = float(rng.normal(0.5, 2.0))
        right = 0 if rng.uniform() < 1 / (1 + np.exp(-logit)) else 1  # the first is right as often as logit says
        case = _case("set", f"q{q}", [1.0, 0.2, 0.1], right, rng)
        case.features["coverage"][0] = logit
        cases.append(case)
    rank = np.zeros(len(RANK_FEATURES))
    rank[RANK_FEATURES.index("bm25_plain")] = 5.0
    honest = np.zeros(len(CONFIDENCE_FEATURES))
    honest[CONFIDENCE_FEATURES.index("coverage")] = 1.0
    assert abs(fit_ranking.fit_sharpness(cases, rank, honest) - 1.0) < 0.15
    # The same model with its weights at half strength: every confidence pulled toward 0.5, a factor ~2 undoes it.
    assert 1.7 < fit_ranking.fit_sharpness(cases, rank, honest / 2) < 2.3
