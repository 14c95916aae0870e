import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from copilot.kb import encoder as emb


def test_safetensors_reader(tmp_path: Path) -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([7, 8], dtype=np.int64)
    header = {
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
        "__metadata__": {"format": "pt"},
    }
    raw = json.dumps(header).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + a.tobytes() + b.tobytes())
    tensors = emb.read_safetensors(path)
    assert np.array_equal(tensors["a"], a)
    assert np.array_equal(tensors["b"], b)


def test_erf_matches_the_standard_library() -> None:
    xs = np.linspace(-4, 4, 81, dtype=np.float32)
    assert max(abs(float(v) - math.erf(float(x))) for x, v in zip(xs, emb._erf(xs), strict=True)) < 2e-6


def test_missing_or_broken_model_means_keyword_search_only(tmp_path: Path) -> None:
    assert emb.load_embedder(tmp_path) is None  # an empty folder: no model
    (tmp_path / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    (tmp_path / "config.json").write_text("{}")
    assert emb.load_embedder(tmp_path) is None


@pytest.fixture(scope="module")
def model() -> emb.Embedder:
    loaded = emb.load_embedder()
    if loaded is None:
        pytest.skip("the local embedding model is not installed (requirements/model.lock)")
    return loaded


def test_meaning_not_words(model: emb.Embedder) -> None:
    v = model.encode(["Is there free wifi?", "Is the internet connection stable?", "Are pets allowed?", ""])
    assert v.shape == (4, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.15  # wifi ~ internet, not pets


def test_batching_does_not_change_results(model: emb.Embedder) -> None:
    texts = ["short", "a somewhat longer sentence about refunds and delivery times", "mid length text"]
    together = model.encode(texts)
    alone = np.vstack([model.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
