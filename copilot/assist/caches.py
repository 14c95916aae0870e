"""What the built-in engine keeps in memory between tickets: the sentence encoder, one workspace's triage model
and dense index, and the knowledge base's word counts.

Owner: filled on the compute and store threads, swapped from the event loop (a provider's encoder); every
access holds one lock, and each slot remembers the key it was built for, so a stale value is never served.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from copilot.engine.triage import IntentModel
from copilot.kb.retrieve import TermCounts
from copilot.kb.vectors import DenseIndex, TextEncoder

V = TypeVar("V")


class _Slot(Generic[V]):
    """One value and the key it was built for; a new key replaces it (one workspace at a time is plenty)."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._value: V | None = None

    def get(self, key: str, build: Callable[[], V]) -> V:
        if self._key != key or self._value is None:
            self._value, self._key = build(), key
        return self._value

    def peek(self, key: str) -> V | None:
        return self._value if self._key == key else None

    def keep(self, key: str, value: V) -> None:
        self._key, self._value = key, value

    def clear(self) -> None:
        self._key, self._value = None, None


class EngineCaches:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._encoder: TextEncoder | None = None
        self._encoder_loaded = False
        self._triage: _Slot[IntentModel] = _Slot()
        self._dense: _Slot[DenseIndex] = _Slot()
        self.term_counts = TermCounts()

    def encoder(self, load_builtin: Callable[[], TextEncoder | None]) -> TextEncoder | None:
        """The encoder in use: a provider's when one was set, else the built-in one (loaded once)."""
        with self._lock:
            if not self._encoder_loaded:
                self._encoder, self._encoder_loaded = load_builtin(), True
            return self._encoder

    def current_encoder(self) -> TextEncoder | None:
        """The encoder if one is loaded, without loading anything."""
        with self._lock:
            return self._encoder

    def use_encoder(self, encoder: TextEncoder | None) -> None:
        """Switch encoders (None: back to the built-in one, loaded on next use); the vectors built with the old
        one are forgotten."""
        with self._lock:
            self._encoder, self._encoder_loaded = encoder, encoder is not None
            self._triage.clear()
            self._dense.clear()

    def triage_model(self, key: str) -> IntentModel | None:
        with self._lock:
            return self._triage.peek(key)

    def keep_triage_model(self, key: str, model: IntentModel) -> None:
        with self._lock:
            self._triage.keep(key, model)

    def dense_index(self, key: str, build: Callable[[], DenseIndex]) -> DenseIndex:
        with self._lock:
            return self._dense.get(key, build)
