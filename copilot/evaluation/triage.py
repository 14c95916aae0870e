"""Triage quality: accuracy and macro-F1 of the built-in classifier trained on labelled examples."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from copilot.engine.triage import fit_intents
from copilot.evaluation.data import percentile, read_jsonl
from copilot.evaluation.vector_cache import with_vector_cache
from copilot.kb.encoder import load_embedder


@dataclass(frozen=True)
class TriageReport:
    examples: int
    tests: int
    labels: int
    accuracy: float
    macro_f1: float
    calibration_error: float  # expected calibration error of the confidence (0 = perfectly calibrated)
    latency_p50_ms: float
    latency_p95_ms: float
    fit_seconds: float
    model: str

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


METHODS = ("auto", "linear", "neighbours", "words")


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


def evaluate_triage(examples_path: Path, test_path: Path, dense: bool = True, method: str = "auto") -> TriageReport:
    """Train on the examples, score on the test file. When both are the same file, every test item is
    predicted by a model that never saw it (the way the app judges a ticket that is itself in the history):
    leave-one-out for the nearest examples, 5-fold for the linear classifier.
    method: auto (linear when the local encoder is installed), linear, neighbours, or words."""
    if method not in METHODS:
        raise ValueError(method)
    examples = read_jsonl(examples_path, ("id", "text", "label"))
    tests = read_jsonl(test_path, ("id", "text", "label"))
    started = time.perf_counter()
    encoder = with_vector_cache(load_embedder()) if dense and method != "words" else None
    vectors = encoder.encode([str(e["text"]) for e in examples]) if encoder else None
    same_file = examples_path.resolve() == test_path.resolve()
    test_vectors = vectors if same_file else (encoder.encode([str(t["text"]) for t in tests]) if encoder else None)
    items = [(str(e["id"]), str(e["text"]), str(e["label"])) for e in examples]
    linear = method in ("auto", "linear")
    model = fit_intents(items, vectors, linear=linear)
    fit_seconds = time.perf_counter() - started
    gold: list[str] = []
    predicted: list[str] = []
    confidences: list[float] = []
    latencies: list[float] = []
    for n, t in enumerate(tests):
        t0 = time.perf_counter()
        vector = test_vectors[n] if test_vectors is not None else None
        pred = model.predict(str(t["text"]), exclude_key=str(t["id"]), vector=vector)
        latencies.append((time.perf_counter() - t0) * 1000)
        gold.append(str(t["label"]))
        predicted.append(pred.label if pred else "")
        confidences.append(pred.confidence if pred else 0.0)
    correct = [g == p for g, p in zip(gold, predicted, strict=True)]
    kind = "linear classifier" if model.linear is not None else "nearest examples"
    return TriageReport(
        examples=len(examples),
        tests=len(tests),
        labels=len(set(gold)),
        accuracy=round(sum(correct) / len(gold), 4),
        macro_f1=round(macro_f1(gold, predicted), 4),
        calibration_error=round(calibration_error(confidences, correct), 4),
        latency_p50_ms=round(percentile(latencies, 0.5), 2),
        latency_p95_ms=round(percentile(latencies, 0.95), 2),
        fit_seconds=round(fit_seconds, 2),
        model=f"{kind}, {encoder.name}" if encoder else "nearest examples, TF-IDF",
    )
