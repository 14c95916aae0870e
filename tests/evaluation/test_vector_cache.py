from pathlib import Path

import numpy as np
import pytest

from copilot.evaluation.vector_cache import ENV, CachingEncoder, with_vector_cache


class LengthEncoder:
    name = "fake/len"
    fingerprint = "abc123"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_sets_are_encoded_once_across_runs_and_single_queries_stay_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, str(tmp_path / "vectors"))
    inner = LengthEncoder()
    first = with_vector_cache(inner)
    assert isinstance(first, CachingEncoder)
    texts = ["a", "bbb", "a", "cc"]
    assert first.encode(texts).tolist() == [[1, 1], [3, 1], [1, 1], [2, 1]]
    assert len(inner.calls) == 1 and sorted(inner.calls[0]) == ["a", "bbb", "cc"]  # each distinct text once

    again = with_vector_cache(LengthEncoder())  # a later run, same encoder fingerprint
    assert isinstance(again, CachingEncoder)
    assert again.encode(["cc", "dddd"]).tolist() == [[2, 1], [4, 1]]
    assert isinstance(again.inner, LengthEncoder) and again.inner.calls == [["dddd"]]
    again.encode(["cc"])
    assert again.inner.calls[-1] == ["cc"]  # a single query is always encoded live

    other = LengthEncoder()
    other.fingerprint = "another-graph"
    changed = with_vector_cache(other)
    assert isinstance(changed, CachingEncoder) and changed.path != first.path


def test_no_folder_or_no_fingerprint_means_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    inner = LengthEncoder()
    assert with_vector_cache(inner) is inner
    monkeypatch.setenv(ENV, str(tmp_path))
    inner.fingerprint = ""
    assert with_vector_cache(inner) is inner
    assert with_vector_cache(None) is None
