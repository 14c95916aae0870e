"""How `eval triage` counts: an out-of-scope row (`__none__`) is right when the answer is "none of these"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copilot.domain import Triage
from copilot.evaluation.triage import NONE, count, evaluate_triage, half_of

SURE, UNSURE = 0.9, Triage.UNSURE_BELOW / 2


def test_none_rows_are_right_only_when_answered_none_of_these() -> None:
    gold = ["a", "a", "b", NONE, NONE, NONE]
    answers = ["a", "a", "a", "b", "a", ""]
    confidences = [SURE, UNSURE, SURE, UNSURE, SURE, 0.0]
    report = count(gold, answers, confidences)
    # Right: row 0 (sure and right), row 3 (unsure = none of these), row 5 (no intent at all).
    assert report["accuracy"] == round(3 / 6, 4)
    assert report["in_scope_accuracy"] == round(1 / 3, 4)  # row 1 had the intent but was unsure: wrong
    assert report["out_of_scope_recall"] == round(2 / 3, 4)
    assert report["none_precision"] == round(2 / 3, 4)  # rows 1, 3, 5 answered none; 3 and 5 were out of scope
    assert report["top_accuracy"] == round(2 / 3, 4)  # the best intent of rows 0-2, however unsure
    assert report["out_of_scope"] == 3


def test_without_out_of_scope_rows_the_recall_is_absent_not_zero() -> None:
    report = count(["a", "b"], ["a", "b"], [SURE, SURE])
    assert report["accuracy"] == 1.0 and report["out_of_scope_recall"] is None and report["none_precision"] is None


def test_the_halves_are_deterministic_and_about_even() -> None:
    keys = [f"row-{i}" for i in range(400)]
    halves = [half_of(k) for k in keys]
    assert halves == [half_of(k) for k in keys] and set(halves) == {"fit", "held-out"}
    assert 150 < halves.count("fit") < 250


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "text": t, "label": lab}) + "\n" for i, t, lab in rows))
    return path


def test_eval_triage_leaves_none_examples_out_and_scores_halves(tmp_path: Path) -> None:
    examples = _write(
        tmp_path / "ex.jsonl",
        [("e1", "card arrived broken", "card"), ("e2", "my card is damaged", "card"),
         ("e3", "refund my order", "refund"), ("e4", "I want a refund", "refund"),
         ("e5", "what a lovely day", NONE)],
    )  # fmt: skip
    tests = _write(
        tmp_path / "test.jsonl",
        [(f"t{i}", text, label) for i, (text, label) in enumerate(
            [("card broken", "card"), ("refund please", "refund"), ("zebra giraffe", NONE)] * 4)],
    )  # fmt: skip
    report = evaluate_triage(examples, tests, dense=False, method="words").as_dict()
    assert report["examples"] == 4 and report["labels"] == 2 and report["out_of_scope"] == 4
    assert report["out_of_scope_recall"] == 1.0  # no word in common with any example: none of these
    assert report["in_scope_accuracy"] == 1.0 and report["accuracy"] == 1.0
    fit = evaluate_triage(examples, tests, dense=False, method="words", part="fit").as_dict()
    held = evaluate_triage(examples, tests, dense=False, method="words", part="held-out").as_dict()
    assert fit["tests"] + held["tests"] == 12 and fit["part"] == "fit"
    with pytest.raises(ValueError, match="half"):
        evaluate_triage(examples, tests, part="half")
    assert np.isfinite(report["calibration_error"])
