"""Triage off the store thread: the history is encoded on the compute thread, once; a restart reads its vectors."""

from __future__ import annotations

import threading

import numpy as np

from copilot.assist.ticket_assist import assist_builtin, prepare_triage
from copilot.assist.workspace import open_workspace
from copilot.services import Services
from copilot.store.tickets import find_ticket


class ThreadRecordingEncoder:
    name = "fake-words"

    def __init__(self) -> None:
        self.encoded: list[str] = []
        self.threads: set[str] = set()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.encoded.extend(texts)
        self.threads.add(threading.current_thread().name)
        words = ("charge", "refund", "password", "order", "cancel", "delivery", "account", "card")
        vectors = np.array([[float(w in t.lower()) for w in words] + [0.1] for t in texts], dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


async def test_the_history_is_encoded_once_on_the_compute_thread(services: Services) -> None:
    await open_workspace(services, "demo")
    first = ThreadRecordingEncoder()
    services.caches.use_encoder(first)
    await prepare_triage(services, "demo")
    assert first.encoded, "the demo has labelled tickets to learn from"
    assert first.threads == {t for t in first.threads if t.startswith("copilot-compute")}

    # As after a restart: the fitted model is forgotten, the store kept. The history's vectors are read back.
    restarted = ThreadRecordingEncoder()
    services.caches.use_encoder(restarted)
    assert services.caches.triage_model("anything") is None
    await prepare_triage(services, "demo")
    assert restarted.encoded == []

    ticket = await services.store.run(find_ticket, services.store.db, "demo", 3)
    result = await assist_builtin(services, ticket.id)
    assert result.triage.intent
    assert len(restarted.encoded) <= 3  # this ticket's own text (triage and search), not the history
