"""The local sentence encoder run by onnxruntime: 4-5x faster than the NumPy encoder on one thread.

The ONNX graph is written once from the installed safetensors weights (`copilot.kb.onnx_graph`) into the
user's cache folder, in a sub-folder named after the weights' SHA-256, with a manifest of the graph files'
SHA-256: a file that does not match is rebuilt, never used. Nothing is downloaded.

Threads are sized on purpose: one intra-op thread that sleeps instead of spinning when idle. On a busy
2-core laptop a second spinning thread made every call slower, never faster.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
Weights = Callable[[Path], dict[str, npt.NDArray[Any]]]  # reads model.safetensors

log = logging.getLogger(__name__)

GRAPH_VERSION = 4  # bump when onnx_graph writes a different graph for the same weights
PRECISIONS = ("int8", "fp32")
CACHE_ENV = "COPILOT_MODEL_CACHE"


def cache_root() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("support-copilot", appauthor=False)) / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def onnx_model(folder: Path, precision: str, read_weights: Weights, cache: Path | None = None) -> Path:
    """The ONNX file for the weights in `folder` at this precision, built (and hashed) on first use."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}")
    source = sha256_of(folder / "model.safetensors")
    where = (cache or cache_root()) / f"{source[:20]}-g{GRAPH_VERSION}"
    manifest_path = where / "manifest.json"
    target = where / f"model-{precision}.onnx"
    manifest: dict[str, str] = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("source_sha256") != source:
            manifest = {}
    if target.exists() and manifest.get(target.name) == sha256_of(target):
        return target
    if target.exists():
        log.warning("%s does not match its recorded hash: rebuilding it", target)
    where.mkdir(parents=True, exist_ok=True)
    fp32 = where / "model-fp32.onnx"
    if precision == "fp32" or not (fp32.exists() and manifest.get(fp32.name) == sha256_of(fp32)):
        from copilot.kb.onnx_graph import build_bert_graph

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        _write_atomically(fp32, build_bert_graph(read_weights(folder / "model.safetensors"), config))
        manifest[fp32.name] = sha256_of(fp32)
    if precision == "int8":
        from copilot.kb.onnx_graph import quantize_int8

        part = target.with_suffix(".part.onnx")
        quantize_int8(fp32, part)
        os.replace(part, target)
        manifest[target.name] = sha256_of(target)
    manifest["source_sha256"] = source
    _write_atomically(manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return target


def session_options(threads: int = 1) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


@dataclass
class OnnxEmbedder:
    """Encode texts to unit vectors with an onnxruntime session; the same contract as `Embedder`."""

    session: Any  # onnxruntime.InferenceSession
    tokenizer: Any  # tokenizers.Tokenizer
    dim: int
    name: str
    precision: str = "fp32"
    model_path: Path = field(default_factory=Path)
    fingerprint: str = ""  # the ONNX file's SHA-256: which graph made these vectors

    def encode(self, texts: list[str], batch_size: int = 32) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # int8: one text per run. Dynamic quantization scales activations over the whole batch, so a text's
        # vector would depend on its batch neighbours; alone, it costs under 10% of the throughput (measured).
        step = 1 if self.precision == "int8" else batch_size
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths together: less padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), step):
            batch = order[start : start + step]
            out[batch] = self._encode_batch([texts[i] for i in batch])
        return out

    def _encode_batch(self, texts: list[str]) -> Vector:
        encodings = self.tokenizer.encode_batch([t or " " for t in texts])
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self.session.run(None, feed)
        result: Vector = np.asarray(vectors, dtype=np.float32)
        return result


# Embedders loaded in this process, by what was asked for, with the files they were made from as they were then.
_loaded: dict[tuple[object, ...], tuple[tuple[tuple[int, int, int], ...], OnnxEmbedder]] = {}
_loading = threading.Lock()


def _stamp(paths: list[Path]) -> tuple[tuple[int, int, int], ...]:
    return tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in (p.stat() for p in paths))


def _files(folder: Path, embedder: OnnxEmbedder) -> list[Path]:
    model = embedder.model_path
    names = ("model.safetensors", "config.json", "tokenizer.json")
    return [*(folder / n for n in names), model, model.parent / "manifest.json"]


def load_onnx_embedder(
    folder: Path,
    precision: str,
    *,
    name: str,
    read_weights: Weights,
    max_tokens: int,
    cache: Path | None = None,
    threads: int = 1,
) -> OnnxEmbedder:
    """Raises ImportError when onnxruntime/onnx are missing, OSError/ValueError when the model cannot be built.

    An embedder this process already loaded is handed out again while its files (weights, tokenizer, graph,
    manifest) are the same ones, unchanged in size and modification time: starting a session costs about half a
    second, most of it hashing the weights and the graph, and the session is safe to share between threads."""
    key = (str(folder.resolve()), precision, name, max_tokens, str((cache or cache_root()).resolve()), threads)
    with _loading:
        held = _loaded.get(key)
        if held is not None:
            stamp, embedder = held
            try:
                if _stamp(_files(folder, embedder)) == stamp:
                    return embedder
            except OSError:
                pass
        embedder = _load_onnx_embedder(folder, precision, name, read_weights, max_tokens, cache, threads)
        _loaded[key] = (_stamp(_files(folder, embedder)), embedder)
        return embedder


def _load_onnx_embedder(
    folder: Path,
    precision: str,
    name: str,
    read_weights: Weights,
    max_tokens: int,
    cache: Path | None,
    threads: int,
) -> OnnxEmbedder:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    path = onnx_model(folder, precision, read_weights, cache)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    session = ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
    # int8 vectors differ slightly from the float ones: stored under their own name, so the two never mix.
    name = name if precision == "fp32" else f"{name}-{precision}"
    manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
    return OnnxEmbedder(session, tokenizer, int(config["hidden_size"]), name, precision, path, manifest[path.name])
