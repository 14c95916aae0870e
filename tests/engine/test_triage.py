"""Triage learnt from labelled history: the linear classifier, its calibrated confidence, and when it steps aside."""

from __future__ import annotations

import numpy as np

from copilot.engine.triage import MIN_LINEAR_EXAMPLES, LinearIntents, fit_intents
from copilot.evaluation.triage import calibration_error


def _clusters(per_label: int, labels: int, spread: float, noise_seed: int = 2) -> tuple[np.ndarray, list[str]]:
    """Unit vectors around one fixed centre per label; `spread` sets how much the labels overlap."""
    centres = np.random.default_rng(1).normal(size=(labels, 32))
    noise = np.random.default_rng(noise_seed).normal(size=(labels * per_label, 32))
    vectors = np.array([centres[i // per_label] + spread * noise[i] for i in range(len(noise))], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, [f"intent_{i}" for i in range(labels) for _ in range(per_label)]


def test_the_linear_classifier_learns_any_label_set_and_its_confidence_means_something() -> None:
    train, train_labels = _clusters(60, 6, spread=1.4, noise_seed=2)
    test, test_labels = _clusters(60, 6, spread=1.4, noise_seed=3)
    model = LinearIntents().fit(train, train_labels)
    probs = model.probabilities(test)
    predicted = [model.labels[i] for i in probs.argmax(axis=1)]
    correct = [p == g for p, g in zip(predicted, test_labels, strict=True)]
    accuracy = sum(correct) / len(correct)
    assert 0.6 < accuracy < 1.0  # overlapping labels: good, not perfect, so confidence has something to say
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert calibration_error([float(p) for p in probs.max(axis=1)], correct) < 0.1
    assert model.temperature != 1.0  # fitted on the held-out fifth, not left at its default


def test_few_examples_or_no_vectors_leave_it_to_the_nearest_examples() -> None:
    vectors, labels = _clusters(5, 3, spread=0.3)
    examples = [(str(i), f"text {i}", label) for i, label in enumerate(labels)]
    assert len(examples) < MIN_LINEAR_EXAMPLES and fit_intents(examples, vectors).method == "neighbours"
    many, many_labels = _clusters(20, 3, spread=0.3)
    big = [(str(i), f"text {i}", label) for i, label in enumerate(many_labels)]
    assert fit_intents(big, None).method == "neighbours"
    model = fit_intents(big, many)
    assert model.method == "linear"
    pred = model.predict("text 0", exclude_key="0", vector=many[0])
    assert pred is not None and pred.label == "intent_0" and 0.0 < pred.confidence <= 1.0
    assert all(key != "0" for key, _label, _sim in pred.neighbours)  # the evidence never quotes the ticket itself
    assert [label for label, _p in pred.ranking] == sorted(
        (label for label, _p in pred.ranking), key=lambda lab: -dict(pred.ranking)[lab]
    )


def test_calibration_error_is_zero_for_honest_confidence() -> None:
    assert calibration_error([0.8] * 10, [True] * 8 + [False] * 2) < 1e-9
    assert abs(calibration_error([0.9] * 10, [True] * 5 + [False] * 5) - 0.4) < 1e-9
