"""Triage learnt from labelled history: the linear classifier, its calibrated confidence, and when it steps aside."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

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


def test_the_open_set_rule_answers_none_of_these_for_a_message_like_no_example() -> None:
    from copilot.domain import Triage
    from copilot.engine.triage import NEAR_HIGH, NEAR_LOW, closeness

    assert closeness(NEAR_LOW) == 0.0 and closeness(NEAR_HIGH) == 1.0 and closeness(0.99) == 1.0
    assert closeness((NEAR_LOW + NEAR_HIGH) / 2) == 0.5
    vectors, labels = _clusters(20, 3, spread=0.3)
    examples = [(str(i), f"text {i}", label) for i, label in enumerate(labels)]
    model = fit_intents(examples, vectors)
    inside = model.predict("like intent 0", vector=vectors[0])
    assert inside is not None and inside.label == "intent_0" and inside.confidence >= Triage.UNSURE_BELOW
    # Nearly orthogonal to every example, tilted towards intent_0: the classifier is sure of intent_0 (it only
    # ever chooses among the intents it knows), the rule says none of these.
    orthogonal = np.linalg.svd(vectors, full_matrices=True)[2][-1]
    towards = vectors[:20].mean(axis=0) - vectors.mean(axis=0)
    towards -= (towards @ orthogonal) * orthogonal
    stranger = (np.cos(0.2) * orthogonal + np.sin(0.2) * towards / np.linalg.norm(towards)).astype(np.float32)
    assert float(np.max(vectors @ stranger)) < NEAR_LOW
    assert model.linear is not None and float(model.linear.probabilities(stranger[None, :])[0].max()) > 0.9
    outside = model.predict("about something else", vector=stranger)
    assert outside is not None and outside.confidence < Triage.UNSURE_BELOW
    assert all(share <= outside.confidence for _label, share in outside.ranking)  # no alternative looks surer
    # The same rule with the nearest examples alone (too little history for the classifier).
    few = fit_intents(examples[:12], vectors[:12])
    assert few.method == "neighbours"
    alone = few.predict("about something else", vector=stranger)
    assert alone is not None and alone.confidence < Triage.UNSURE_BELOW


def test_the_open_set_rule_scales_to_how_alike_the_teams_examples_are() -> None:
    from copilot.engine.triage import NEAR_HIGH, NEAR_LOW, TYPICAL_CHAT, closeness, typical_similarity

    # Chat-like examples keep the fixed thresholds; examples half as alike (whole tickets) halve them, so a ticket
    # as close to its nearest example as tickets usually are is not called "none of these".
    assert closeness(NEAR_LOW, typical=0.95) == 0.0 and closeness(NEAR_HIGH, typical=0.95) == 1.0
    half = TYPICAL_CHAT / 2
    assert closeness(NEAR_LOW) == 0.0 and closeness(NEAR_LOW, typical=half) > 0.9
    assert closeness(NEAR_HIGH / 2, typical=half) == 1.0 and closeness(NEAR_LOW / 2, typical=half) == 0.0
    tight, labels = _clusters(20, 3, spread=0.1)
    loose, _ = _clusters(20, 3, spread=0.8)
    every = np.ones(len(labels), dtype=bool)
    assert typical_similarity(tight, every) > typical_similarity(loose, every)
    # Day-one examples (not labelled tickets) are left out of the measure; with too few it is the chat scale.
    assert typical_similarity(tight, np.array([True, True] + [False] * (len(labels) - 2))) == TYPICAL_CHAT
    model = fit_intents([(str(i), f"text {i}", label) for i, label in enumerate(labels)], loose)
    assert model.nearest.typical == typical_similarity(loose, every)


def test_day_one_examples_come_from_intent_names_and_the_articles_that_name_them() -> None:
    from copilot.engine.triage import day_one_examples, intent_phrase, is_day_one

    assert intent_phrase("CHECK_PINCODE") == "check pincode"
    assert intent_phrase("AskAboutCashDeposits") == "ask about cash deposits"
    assert intent_phrase("app_bug") == "app bug"
    articles = [
        ("refund-timing", "When will I see my refund?", "We issue the refund within 2 days.", ("refunds", "billing")),
        ("invoice", "Download an invoice", "Open Orders.", ("billing",)),
        ("crash", "The app crashes", "Update it.", ("app", "bug")),
        ("change-order", "Change or cancel an order", "Before it ships.", ("orders",)),
        ("bulbs", "Bulb colours", "Gen 1 and 2 differ.", ("bulb",)),
    ]
    out = day_one_examples(["billing", "refund", "app_bug", "order_change", "billing"], articles)
    keys = {key: label for key, _text, label in out}
    assert all(is_day_one(key) for key in keys)
    assert {k: v for k, v in keys.items() if k.startswith("intent:")} == {
        "intent:billing": "billing",
        "intent:refund": "refund",
        "intent:app_bug": "app_bug",
        "intent:order_change": "order_change",
    }
    # The refund article names billing too, but refund is the more specific intent (fewer articles name it).
    assert keys["article:refund-timing:refund"] == "refund" and "article:refund-timing:billing" not in keys
    assert keys["article:invoice:billing"] == "billing" and keys["article:crash:app_bug"] == "app_bug"
    assert keys["article:change-order:order_change"] == "order_change"
    assert not any(k.startswith("article:bulbs") for k in keys)  # names no intent
    text = next(t for k, t, _l in out if k == "article:invoice:billing")
    assert text.startswith("Download an invoice\nOpen Orders.")


def test_day_one_examples_are_never_held_out_to_fit_the_temperature() -> None:
    vectors, labels = _clusters(20, 3, spread=1.0)
    plain = LinearIntents().fit(vectors, labels)
    # Rows marked `always` are trained on but never judged; with none marked, the fit is what it always was.
    assert LinearIntents().fit(vectors, labels, always=[False] * len(labels)).temperature == plain.temperature
    marked = LinearIntents().fit(vectors, labels, always=[i % 2 == 0 for i in range(len(labels))])
    assert marked.temperature > 0 and marked.labels == plain.labels


def test_the_fold_leaving_a_ticket_out_can_be_trained_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """assist trains it on the compute thread; predicting afterwards (on the store thread) trains nothing."""
    many, labels = _clusters(20, 3, spread=0.3)
    examples = [(str(i), f"text {i}", label) for i, label in enumerate(labels)]
    model = fit_intents(examples, many)
    ahead = model.predict("text 7", exclude_key="7", vector=many[7])
    fresh = fit_intents(examples, many)
    fresh.prepare_for("7")

    def no_training(*_args: object, **_kwargs: object) -> Iterator[None]:
        raise AssertionError("the fold was trained again")

    monkeypatch.setattr(LinearIntents, "fitting", no_training)  # what `fit` and a fold's training both run
    assert fresh.predict("text 7", exclude_key="7", vector=many[7]) == ahead  # the same classifier's answer
    with pytest.raises(AssertionError):
        fresh.predict("text 8", exclude_key="8", vector=many[8])  # another fold: this one would be trained now


def test_the_classifier_is_mixed_with_the_neighbours_vote_and_the_mix_stays_calibrated() -> None:
    from copilot.engine.triage import neighbour_shares

    train, labels = _clusters(40, 4, spread=1.0)
    targets = np.array([int(label.split("_")[1]) for label in labels], dtype=np.int64)
    rows, among = np.arange(0, len(labels), 2), np.arange(1, len(labels), 2)
    shares = neighbour_shares(train, targets, 4, rows, among)
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert float((shares.argmax(axis=1) == targets[rows]).mean()) > 0.8  # the nearest examples mostly agree
    model = LinearIntents().fit(train, labels)
    assert 0.25 <= model.mix_power <= 4.0
    probs = model.probabilities(train[:5])
    mixed = model.mix(probs, shares[:5])
    assert np.allclose(mixed.sum(axis=1), 1.0)
    # With no neighbours' opinion the order is the classifier's own.
    assert (model.mix(probs, np.zeros_like(probs)).argmax(axis=1) == probs.argmax(axis=1)).all()
    # Held out, the mixed confidence is honest: its calibration error on new examples stays small.
    test, test_labels = _clusters(40, 4, spread=1.0, noise_seed=5)
    test_shares = neighbour_shares(
        np.vstack([train, test]), np.concatenate([targets, targets]), 4,
        np.arange(len(train), len(train) + len(test)), np.arange(len(train)),
    )  # fmt: skip
    mixed = model.mix(model.probabilities(test), test_shares)
    right = [model.labels[int(i)] == label for i, label in zip(mixed.argmax(axis=1), test_labels, strict=True)]
    assert calibration_error([float(x) for x in mixed.max(axis=1)], right) < 0.15


def test_the_suggested_article_is_evidence_for_the_intent_it_names() -> None:
    from copilot.engine.triage import ARTICLE_SHARE, Prediction, article_intents, with_article

    keys = ["12", "intent:refund", "article:refund-policy:refund", "article:faq:billing", "article:faq:refund"]
    assert article_intents(keys) == {"refund-policy": "refund"}  # "faq" names two: it says nothing
    unsure = Prediction("shipping", 0.3, (("shipping", 0.3), ("refund", 0.2)), ())
    sure_article = with_article(unsure, "refund", 0.9)
    assert sure_article.label == "refund"
    assert sure_article.confidence == round(0.2 * (1 - ARTICLE_SHARE * 0.9) + ARTICLE_SHARE * 0.9, 3)
    assert sum(share for _label, share in sure_article.ranking) <= 1.0  # the rest is still "none of these"
    # A weak article moves little: the classifier's answer stays.
    assert with_article(Prediction("shipping", 0.8, (("shipping", 0.8),), ()), "refund", 0.2).label == "shipping"


def test_a_saved_classifier_gives_identical_probabilities() -> None:
    train, labels = _clusters(30, 4, spread=1.0)  # enough to fit the temperature and the mix on a held-out fifth
    model = LinearIntents().fit(train, labels, always=[i % 7 == 0 for i in range(len(labels))])
    assert model.temperature != 1.0 and model.mix_power != 1.0
    again = LinearIntents.from_bytes(model.to_bytes())
    test, _ = _clusters(30, 4, spread=1.0, noise_seed=9)
    shares = np.random.default_rng(3).dirichlet(np.ones(4), size=len(test)).astype(np.float32)
    assert again.labels == model.labels and again.temperature == model.temperature
    assert np.array_equal(again.probabilities(test), model.probabilities(test))
    assert np.array_equal(again.mix(again.probabilities(test), shares), model.mix(model.probabilities(test), shares))
    small = LinearIntents().fit(train[:40], labels[:40])  # too few to fit the temperature: the defaults are kept
    assert np.array_equal(
        LinearIntents.from_bytes(small.to_bytes()).mix(small.probabilities(test), shares[:, :2]),
        small.mix(small.probabilities(test), shares[:, :2]),
    )


def test_a_model_rebuilt_from_saved_classifiers_predicts_the_same_without_training(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from copilot.engine.triage import LinearIntents as Linear
    from copilot.engine.triage import TrainedIntents

    many, labels = _clusters(20, 3, spread=0.6)
    examples = [(str(i), f"text {i}", label) for i, label in enumerate(labels)]
    model = fit_intents(examples, many, fitted_on="key-1")
    assert model.take_new_folds() == {}  # nothing trained beyond the whole history's classifier yet
    judged = model.predict("text 7", exclude_key="7", vector=many[7])  # trains the fold leaving 7 out
    folds = model.take_new_folds()
    assert list(folds) == [7 % 5] and model.take_new_folds() == {}  # each fold is handed out once
    assert model.linear is not None and model.fitted_on == "key-1"
    saved = TrainedIntents(
        Linear.from_bytes(model.linear.to_bytes()), {f: Linear.from_bytes(m.to_bytes()) for f, m in folds.items()}
    )

    def no_training(*_args: object, **_kwargs: object) -> Iterator[None]:
        raise AssertionError("trained again")

    with monkeypatch.context() as m:
        m.setattr(LinearIntents, "fitting", no_training)
        restored = fit_intents(examples, many, trained=saved)
        assert restored.predict("text 7", exclude_key="7", vector=many[7]) == judged
        assert restored.predict("new", vector=many[3]) == model.predict("new", vector=many[3])
    assert restored.take_new_folds() == {}  # read back, not trained: nothing new to save
    # Classifiers that do not suit these examples (other labels) are trained again, not used.
    other = [(key, text, "intent_9" if key == "0" else label) for key, text, label in examples]
    refitted = fit_intents(other, many, trained=saved)
    assert refitted.linear is not saved.linear and refitted.linear is not None and "intent_9" in refitted.linear.labels
    refitted.predict("text 7", exclude_key="7", vector=many[7])
    assert list(refitted.take_new_folds()) == [7 % 5]


def test_a_damaged_or_older_saved_classifier_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.engine import triage

    train, labels = _clusters(20, 3, spread=0.6)
    blob = LinearIntents().fit(train, labels).to_bytes()
    flipped = blob[:200] + bytes([blob[200] ^ 0xFF]) + blob[201:]
    for damaged in (b"", b"not numpy", blob[: len(blob) // 2], flipped):
        with pytest.raises(ValueError, match="not a saved classifier"):
            LinearIntents.from_bytes(damaged)
    assert LinearIntents.from_bytes(blob).labels == sorted(set(labels))
    monkeypatch.setattr(triage, "LINEAR_FORMAT", "linear-intents-next")  # saved by an older version
    with pytest.raises(ValueError, match="of format linear-intents-1, not linear-intents-next"):
        LinearIntents.from_bytes(blob)


def test_the_training_key_changes_with_any_example_and_the_encoder() -> None:
    from copilot.engine.triage import training_key

    examples = [("1", "card lost", "lost_card"), ("2", "refund please", "refund")]
    key = training_key(examples, "enc-a")
    assert training_key(list(examples), "enc-a") == key
    assert training_key(examples, "enc-b") != key
    assert training_key([examples[0], ("2", "refund please", "billing")], "enc-a") != key
    assert training_key([examples[0], ("2", "refund please!", "refund")], "enc-a") != key
    assert training_key([examples[0], ("3", "refund please", "refund")], "enc-a") != key
    assert training_key(examples[::-1], "enc-a") != key  # the order decides the folds and the held-out fifth


def test_folds_trained_ahead_on_another_thread_are_the_same_and_a_fold_in_flight_is_finished_not_restarted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    many, labels = _clusters(30, 3, spread=0.6)  # 90 examples: the temperature and the mix are fitted too
    examples = [(str(i), f"text {i}", label) for i, label in enumerate(labels)]
    on_need = fit_intents(examples, many)
    expected = {i: on_need.predict(f"text {i}", exclude_key=str(i), vector=many[i]) for i in range(5)}
    ahead = fit_intents(examples, many)
    assert ahead.missing_folds() == [0, 1, 2, 3, 4]
    assert ahead.train_fold(0) and ahead.missing_folds() == [1, 2, 3, 4]
    assert ahead.train_fold(1, stop=lambda: True) is False  # let go after one step: paused, not trained
    assert ahead.missing_folds() == [1, 2, 3, 4]

    started: list[LinearIntents] = []
    fitting = LinearIntents.fitting

    def counted(self: LinearIntents, *args: Any, **kwargs: Any) -> Iterator[None]:
        started.append(self)
        return fitting(self, *args, **kwargs)

    monkeypatch.setattr(LinearIntents, "fitting", counted)
    # Fold 2 in the background, slowed down, while the thread that predicts needs it: it goes on from where the
    # background got to (the background lets go), and nobody starts fold 2 again.
    in_flight, gave_up = threading.Event(), threading.Event()

    def slow_stop() -> bool:
        in_flight.set()
        threading.Event().wait(0.002)
        return False

    def background() -> None:
        if not ahead.train_fold(2, stop=slow_stop):
            gave_up.set()

    worker = threading.Thread(target=background)
    worker.start()
    assert in_flight.wait(10)
    assert ahead.predict("text 2", exclude_key="2", vector=many[2]) == expected[2]
    worker.join(10)
    assert gave_up.is_set() and len(started) == 1  # one training of fold 2, handed over half-way
    # The paused fold 1 is finished by the thread that needs it (no new training either).
    assert ahead.predict("text 1", exclude_key="1", vector=many[1]) == expected[1]
    assert len(started) == 1
    assert ahead.predict("text 0", exclude_key="0", vector=many[0]) == expected[0]
    assert sorted(ahead.take_new_folds()) == [0, 1, 2] and ahead.missing_folds() == [3, 4]
    for fold in (3, 4):
        assert ahead.train_fold(fold)
    assert [ahead.predict(f"text {i}", exclude_key=str(i), vector=many[i]) for i in range(5)] == list(expected.values())
    assert ahead.missing_folds() == [] and len(started) == 3
