"""Encoding off the store thread: the history is encoded on the compute thread, once; a restart reads its
vectors; a ticket's own texts are encoded ahead of the built-in pass."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

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


async def test_the_built_in_pass_reads_and_writes_on_the_store_thread_and_computes_off_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot.kb import retrieve

    threads: dict[str, str] = {}

    def recorded(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            threads[name] = threading.current_thread().name
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(retrieve, "gather", recorded("gather", retrieve.gather))
    monkeypatch.setattr(retrieve, "features_of", recorded("features", retrieve.features_of))
    monkeypatch.setattr(retrieve, "rank", recorded("rank", retrieve.rank))
    # Choosing the texts to encode detects their language (a model loaded on first use: 0.4 s): never on the
    # thread that runs the event loop (the GUI's).
    monkeypatch.setattr(retrieve, "query_texts", recorded("texts", retrieve.query_texts))
    await open_workspace(services, "demo")
    ticket = await services.store.run(find_ticket, services.store.db, "demo", 3)
    result = await assist_builtin(services, ticket.id)
    assert result.suggestions and result.output_ids
    assert threads["gather"].startswith("copilot-db")  # reads
    assert threads["features"].startswith("copilot-compute") and threads["rank"].startswith("copilot-compute")
    assert threads["texts"].startswith("copilot-compute")


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
    restarted.threads.clear()
    result = await assist_builtin(services, ticket.id)
    assert result.triage.intent
    # This ticket's own texts (latest message, subject, whole thread, triage text), not the history, and all of
    # them encoded ahead on the compute thread: the store's writer thread never waits on the encoder.
    assert len(restarted.encoded) <= 4
    assert restarted.threads and all(t.startswith("copilot-compute") for t in restarted.threads)


async def test_indexing_reports_progress_and_resumes(services: Services) -> None:
    from copilot.assist.indexing import refresh_vectors
    from copilot.kb.vectors import stale_articles

    await open_workspace(services, "demo")
    encoder = ThreadRecordingEncoder()
    services.caches.use_encoder(encoder)
    progress: list[tuple[int, int]] = []
    total = await refresh_vectors(services, "demo", batch=10, on_progress=lambda done, n: progress.append((done, n)))
    assert total > 10 and progress[-1] == (total, total)
    assert [d for d, _n in progress] == sorted(d for d, _n in progress) and progress[0] == (10, total)
    assert encoder.threads == {t for t in encoder.threads if t.startswith("copilot-compute")}
    left = await services.store.run(stale_articles, services.store.db, encoder.name, "demo")
    assert left == [] and await refresh_vectors(services, "demo") == 0  # nothing is embedded twice


async def test_an_interrupted_indexing_resumes_where_it_stopped(services: Services) -> None:
    from copilot.assist.indexing import refresh_vectors

    await open_workspace(services, "demo")
    services.caches.use_encoder(ThreadRecordingEncoder())

    def quit_after_first_batch(done: int, total: int) -> None:
        raise KeyboardInterrupt  # the app closed mid-way

    with pytest.raises(KeyboardInterrupt):
        await refresh_vectors(services, "demo", batch=10, on_progress=quit_after_first_batch)
    resumed = ThreadRecordingEncoder()
    services.caches.use_encoder(resumed)
    left = await refresh_vectors(services, "demo", batch=10)
    assert left > 0 and len(resumed.encoded) == 2 * left  # whole article and body, only for those not done
