"""Sentence vectors from an embedding model behind litellm: a cloud provider's, or a local OpenAI-compatible
server's (Ollama, llama.cpp, vLLM, a team LiteLLM Proxy), for teams that prefer one to the built-in encoder.

It satisfies the same `TextEncoder` protocol as the built-in all-MiniLM-L6-v2, so the knowledge base stores its
vectors under its own name and re-embeds every article once when the team switches. `encode` is a blocking call:
it runs on the compute thread, never on the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from copilot.llm.catalog import ResolvedModel
from copilot.llm.client import Attempt, ModelCallError, _import_litellm, classify, cost_of

Matrix = npt.NDArray[np.float32]


class ProviderEncoder:
    def __init__(
        self,
        model: ResolvedModel,
        key: str,
        timeout_s: float = 30.0,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> None:
        """`on_attempt` hears of every request (the call log: tokens, cost, time, failures)."""
        self.model, self.key, self.timeout_s, self.on_attempt = model, key, timeout_s, on_attempt
        self.name = f"litellm:{model.ref}"

    def encode(self, texts: list[str], batch_size: int = 64) -> Matrix:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        litellm = _import_litellm()
        rows: list[list[float]] = []
        for start in range(0, len(texts), batch_size):
            chunk = [t or " " for t in texts[start : start + batch_size]]
            began = time.perf_counter()
            try:
                response = litellm.embedding(
                    model=self.model.litellm_model,
                    input=chunk,
                    api_base=self.model.api_base or None,
                    api_key=self.key or "no-key",
                    timeout=self.timeout_s,
                )
            except Exception as exc:
                rule = classify(exc)
                provider = self.model.provider.label
                at = f" at {self.model.api_base}" if self.model.api_base else ""
                message = rule.message.format(model=self.model.ref, provider=provider, at=at)
                self._account(rule.kind, message, 0, began)
                raise ModelCallError(
                    f"Embeddings: {message}", "Meaning search waits; keyword search still works."
                ) from exc
            data = sorted(response.data, key=lambda d: _field(d, "index"))
            if len(data) != len(chunk):
                raise ModelCallError(
                    f"Embeddings: {self.model.ref} answered {len(data)} vectors for {len(chunk)} texts."
                )
            rows.extend(list(_field(d, "embedding")) for d in data)
            usage = _field(response, "usage") if _has(response, "usage") else None
            tokens = (
                int(_field(usage, "prompt_tokens") or 0) if usage is not None and _has(usage, "prompt_tokens") else 0
            )
            self._account("ok", "", tokens, began, litellm)
        matrix = np.array(rows, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        unit: Matrix = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _account(self, outcome: str, error: str, tokens: int, began: float, litellm: Any = None) -> None:
        if self.on_attempt is None:
            return
        cost = cost_of(litellm, self.model, tokens, 0) if litellm is not None and tokens else 0.0
        latency = (time.perf_counter() - began) * 1000
        self.on_attempt(Attempt(self.model.ref, outcome, error, tokens, 0, cost, latency, None))


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


def _has(item: Any, name: str) -> bool:
    return (name in item) if isinstance(item, dict) else hasattr(item, name)
