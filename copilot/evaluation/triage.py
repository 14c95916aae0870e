"""Triage quality: accuracy and macro-F1 of the built-in classifier trained on labelled examples."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from copilot.builtin.embedder import load_embedder
from copilot.builtin.triage import NearestExamples
from copilot.evaluation.data import percentile, read_jsonl


@dataclass(frozen=True)
class TriageReport:
    examples: int
    tests: int
    labels: int
    accuracy: float
    macro_f1: float
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


def evaluate_triage(examples_path: Path, test_path: Path, dense: bool = True) -> TriageReport:
    examples = read_jsonl(examples_path, ("id", "text", "label"))
    tests = read_jsonl(test_path, ("id", "text", "label"))
    started = time.perf_counter()
    encoder = load_embedder() if dense else None
    vectors = encoder.encode([str(e["text"]) for e in examples]) if encoder else None
    same_file = examples_path.resolve() == test_path.resolve()
    test_vectors = vectors if same_file else (encoder.encode([str(t["text"]) for t in tests]) if encoder else None)
    model = NearestExamples().fit(((str(e["id"]), str(e["text"]), str(e["label"])) for e in examples), vectors)
    fit_seconds = time.perf_counter() - started
    gold: list[str] = []
    predicted: list[str] = []
    latencies: list[float] = []
    for n, t in enumerate(tests):
        t0 = time.perf_counter()
        # Leave-one-out when the test file is also the examples file.
        vector = test_vectors[n] if test_vectors is not None else None
        pred = model.predict(str(t["text"]), exclude_key=str(t["id"]), vector=vector)
        latencies.append((time.perf_counter() - t0) * 1000)
        gold.append(str(t["label"]))
        predicted.append(pred.label if pred else "")
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    return TriageReport(
        examples=len(examples),
        tests=len(tests),
        labels=len(set(gold)),
        accuracy=round(accuracy, 4),
        macro_f1=round(macro_f1(gold, predicted), 4),
        latency_p50_ms=round(percentile(latencies, 0.5), 2),
        latency_p95_ms=round(percentile(latencies, 0.95), 2),
        fit_seconds=round(fit_seconds, 2),
        model=f"nearest examples, {encoder.name}" if encoder else "nearest examples, TF-IDF",
    )
