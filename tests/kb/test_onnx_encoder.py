import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from copilot.kb import encoder as emb
from copilot.kb import onnx_encoder
from copilot.kb.onnx_encoder import OnnxEmbedder
from tests.conftest import REPO

TEXTS = ["Is there free wifi?", "My card was charged twice for one order; I want a refund.", "", "ok"]


def _load(engine: str) -> OnnxEmbedder:
    if emb.model_folder() is None:
        pytest.skip("the local embedding model is not installed (requirements/model.lock)")
    loaded = emb.load_embedder(engine=engine)
    assert isinstance(loaded, OnnxEmbedder), "onnxruntime should run the encoder"
    return loaded


@pytest.fixture(scope="module")
def numpy_vectors() -> np.ndarray:
    if emb.model_folder() is None:
        pytest.skip("the local embedding model is not installed (requirements/model.lock)")
    ref = emb.load_embedder(engine="numpy")
    assert isinstance(ref, emb.Embedder)
    return ref.encode(TEXTS)


def test_fp32_graph_gives_the_numpy_encoders_vectors(numpy_vectors: np.ndarray) -> None:
    model = _load("onnx-fp32")
    assert model.name == emb.MODEL_NAME  # same vectors, so the stored ones stay valid
    cosines = (model.encode(TEXTS) * numpy_vectors).sum(axis=1)
    assert cosines.min() > 0.99999, cosines


def test_int8_is_close_stored_apart_and_independent_of_batching(numpy_vectors: np.ndarray) -> None:
    model = _load("onnx-int8")
    assert model.name == f"{emb.MODEL_NAME}-int8"
    together = model.encode(TEXTS)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert (together * numpy_vectors).sum(axis=1).min() > 0.95
    alone = np.vstack([model.encode([t]) for t in TEXTS])
    assert np.array_equal(together, alone)


def test_a_graph_that_does_not_match_its_hash_is_rebuilt(tmp_path: Path) -> None:
    built = _load("onnx-int8").model_path
    cache = tmp_path / "cache"
    shutil.copytree(built.parent, cache / built.parent.name)
    copy = cache / built.parent.name / built.name
    copy.write_bytes(b"not a model")
    folder = emb.model_folder()
    assert folder is not None
    path = onnx_encoder.onnx_model(folder, "int8", emb.read_safetensors, cache)
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert path == copy and path.read_bytes() != b"not a model"
    assert manifest[path.name] == onnx_encoder.sha256_of(path)
    assert path.stat().st_size > 1_000_000


def test_onnx_failure_falls_back_to_the_numpy_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = emb.model_folder()
    if folder is None:
        pytest.skip("the local embedding model is not installed")

    def broken(*args: object, **kwargs: object) -> OnnxEmbedder:
        raise RuntimeError("no onnxruntime here")

    monkeypatch.setattr(onnx_encoder, "load_onnx_embedder", broken)
    assert isinstance(emb.load_embedder(), emb.Embedder)


def test_engine_setting_falls_back_to_the_default_when_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(emb.ENGINE_ENV, "tensorflow")
    assert emb.encoder_engine() == emb.DEFAULT_ENGINE
    monkeypatch.setenv(emb.ENGINE_ENV, "numpy")
    assert emb.encoder_engine() == "numpy"


@pytest.mark.parametrize(("preset", "expected"), [(None, 1), ("3", 3)])
def test_native_thread_pools_are_capped_before_numpy_loads(preset: str | None, expected: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset  # the user's own setting wins
    code = (
        "import copilot, numpy, threadpoolctl\n"
        "blas = [p for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas']\n"
        "print(blas[0]['num_threads'] if blas else -1)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    reported = int(out.stdout.strip())
    if reported == -1:
        pytest.skip("NumPy reports no BLAS library")
    assert reported == min(expected, os.cpu_count() or expected)
