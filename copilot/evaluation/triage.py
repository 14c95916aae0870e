"""Triage quality: accuracy and macro-F1 of the built-in classifier trained on labelled examples.

A test row labelled `__none__` (out of scope: none of the team's intents fits) is right when the answer is "none
of these", which is what the app shows as "unsure" (confidence below Triage.UNSURE_BELOW); any other row is right
only when the intent is its label and the answer is not "unsure". `__none__` rows in an examples file are not an
intent: they are left out of the training."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from copilot.domain import Triage
from copilot.engine.triage import day_one_examples, fit_intents
from copilot.evaluation.data import percentile, read_jsonl
from copilot.evaluation.vector_cache import with_vector_cache
from copilot.kb.encoder import load_embedder


@dataclass(frozen=True)
class TriageReport:
    examples: int
    tests: int
    labels: int
    out_of_scope: int  # test rows labelled __none__
    accuracy: float  # all rows; an out-of-scope row is right when the answer is "none of these"
    in_scope_accuracy: float | None  # rows with an intent: the intent, and not "unsure"
    out_of_scope_recall: float | None  # out-of-scope rows answered "none of these" (None when there are none)
    none_precision: float | None  # "none of these" answers that were out of scope (None when it never answers so)
    top_accuracy: float | None  # rows with an intent whose best-ranked intent is right, however unsure
    macro_f1: float  # over the labels, "none of these" counting as the label __none__
    calibration_error: float  # expected calibration error of the confidence (0 = perfectly calibrated)
    latency_p50_ms: float
    latency_p95_ms: float
    fit_seconds: float
    model: str
    part: str = "all"  # all, fit or held-out: which half of the test rows (by a hash of their id)
    intent_names: bool = False  # whether each intent's name counted as one more example

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    labels = set(gold)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    scores = []
    for label in labels:
        precision = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        recall = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


NONE = "__none__"  # the label of an out-of-scope row
METHODS = ("auto", "linear", "neighbours", "words")
PARTS = ("all", "fit", "held-out")


def half_of(key: str) -> str:
    """A test row's half, by a hash of its id: "fit" (where any constant may be chosen) or "held-out" (never
    looked at while choosing one). Deterministic, and independent of the file's order."""
    return "fit" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "held-out"


def _share(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def count(gold: list[str], answers: list[str], confidences: list[float]) -> dict[str, Any]:
    """The figures for (gold label, best intent, confidence) per row. The answer is "none of these" when the
    confidence is below Triage.UNSURE_BELOW (or there is no intent at all)."""
    said = [a if a and c >= Triage.UNSURE_BELOW else NONE for a, c in zip(answers, confidences, strict=True)]
    right = [g == s for g, s in zip(gold, said, strict=True)]
    inside = [r for g, r in zip(gold, right, strict=True) if g != NONE]
    outside = [r for g, r in zip(gold, right, strict=True) if g == NONE]
    said_none = [g == NONE for g, s in zip(gold, said, strict=True) if s == NONE]
    # The confidence is the chance that the intent shown is right: an out-of-scope row's intent never is.
    intent_right = [bool(a) and g == a for g, a in zip(gold, answers, strict=True)]
    return {
        "out_of_scope": len(outside),
        "accuracy": _share(right) or 0.0,
        "in_scope_accuracy": _share(inside),
        "out_of_scope_recall": _share(outside),
        "none_precision": _share(said_none),
        "top_accuracy": _share([r for g, r in zip(gold, intent_right, strict=True) if g != NONE]),
        "macro_f1": round(macro_f1(gold, said), 4),
        "calibration_error": round(calibration_error(confidences, intent_right), 4),
    }


def calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error: how far "confidence 0.8" is from being right 8 times in 10, averaged over
    ten confidence bins weighted by how many predictions fall in each."""
    total = len(confidences)
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidences) if low < c <= high or (b == 0 and c == 0.0)]
        if members:
            mean_conf = sum(confidences[i] for i in members) / len(members)
            accuracy = sum(correct[i] for i in members) / len(members)
            error += len(members) / total * abs(accuracy - mean_conf)
    return error


def evaluate_triage(
    examples_path: Path,
    test_path: Path,
    dense: bool = True,
    method: str = "auto",
    part: str = "all",
    intent_names: bool = False,
) -> TriageReport:
    """Train on the examples, score on the test file. When both are the same file, every test item is
    predicted by a model that never saw it (the way the app judges a ticket that is itself in the history):
    leave-one-out for the nearest examples, 5-fold for the linear classifier.
    method: auto (linear when the local encoder is installed), linear, neighbours, or words; part: score all test
    rows, or only one half of them (`half_of`); intent_names: each intent's name counts as one more example, as
    the app adds it on day one (with the articles that name an intent, which these files do not have)."""
    if method not in METHODS or part not in PARTS:
        raise ValueError(method if part in PARTS else part)
    examples = [e for e in read_jsonl(examples_path, ("id", "text", "label")) if e["label"] != NONE]
    tests = read_jsonl(test_path, ("id", "text", "label"))
    if part != "all":
        tests = [t for t in tests if half_of(str(t["id"])) == part]
    started = time.perf_counter()
    items = [(str(e["id"]), str(e["text"]), str(e["label"])) for e in examples]
    if intent_names:
        items += day_one_examples([label for _k, _t, label in items])
    encoder = with_vector_cache(load_embedder()) if dense and method != "words" else None
    vectors = encoder.encode([text for _k, text, _l in items]) if encoder else None
    test_vectors = encoder.encode([str(t["text"]) for t in tests]) if encoder else None
    linear = method in ("auto", "linear")
    model = fit_intents(items, vectors, linear=linear)
    fit_seconds = time.perf_counter() - started
    gold: list[str] = []
    answers: list[str] = []
    confidences: list[float] = []
    latencies: list[float] = []
    for n, t in enumerate(tests):
        t0 = time.perf_counter()
        vector = test_vectors[n] if test_vectors is not None else None
        pred = model.predict(str(t["text"]), exclude_key=str(t["id"]), vector=vector)
        latencies.append((time.perf_counter() - t0) * 1000)
        gold.append(str(t["label"]))
        answers.append(pred.label if pred else "")
        confidences.append(pred.confidence if pred else 0.0)
    kind = "linear classifier" if model.linear is not None else "nearest examples"
    return TriageReport(
        examples=len(examples),
        tests=len(tests),
        labels=len(set(gold) - {NONE}),
        **count(gold, answers, confidences),
        latency_p50_ms=round(percentile(latencies, 0.5), 2),
        latency_p95_ms=round(percentile(latencies, 0.95), 2),
        fit_seconds=round(fit_seconds, 2),
        model=f"{kind}, {encoder.name}" if encoder else "nearest examples, TF-IDF",
        part=part,
        intent_names=intent_names,
    )
