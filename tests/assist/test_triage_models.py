"""The trained triage classifiers outlive a restart: saved in the store after training (the folds with the
result that needed them), read back on the store thread instead of training again while the examples are the
same; a changed example or a damaged row means training again, never an error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from copilot.assist import ticket_assist
from copilot.assist.ticket_assist import _classifier, assist_builtin, prepare_triage
from copilot.assist.workspace import open_workspace
from copilot.engine.triage import IntentModel, LinearIntents
from copilot.services import Services
from copilot.store.tickets import find_ticket
from tests.assist.test_triage_vectors import ThreadRecordingEncoder


def _saved(services: Services) -> dict[str, tuple[str, bytes]]:
    rows = services.store.db.execute("SELECT part, fit_key, model FROM triage_models WHERE workspace = 'demo'")
    return {str(part): (str(key), bytes(blob)) for part, key, blob in rows}


def _restart(services: Services) -> None:
    """As after a restart: what was fitted in memory is forgotten (the store is kept)."""
    services.caches.use_encoder(ThreadRecordingEncoder())


async def _model(services: Services) -> IntentModel:
    return await services.store.run(_classifier, services.store.db, "demo", services.caches)


def _count_training(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts trainings begun: `fitting` is what `fit` and a fold's training both run."""
    trained: list[int] = []
    fitting = LinearIntents.fitting

    def counted(self: LinearIntents, *args: Any, **kwargs: Any) -> Iterator[None]:
        trained.append(1)
        return fitting(self, *args, **kwargs)

    monkeypatch.setattr(LinearIntents, "fitting", counted)
    return trained


async def _labelled_ticket(services: Services) -> int:
    row = services.store.db.execute(
        "SELECT number FROM tickets WHERE workspace = 'demo' AND intent != '' ORDER BY number LIMIT 1"
    ).fetchone()
    return (await services.store.run(find_ticket, services.store.db, "demo", int(row[0]))).id


async def test_a_restart_reads_the_trained_classifiers_back_and_predicts_the_same(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[str] = set()

    def on_thread(fn: Any) -> Any:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            threads.add(threading.current_thread().name)
            return fn(*args, **kwargs)

        return recorded

    for name in ("saved_triage_models", "save_triage_models", "add_triage_models"):
        monkeypatch.setattr(ticket_assist, name, on_thread(getattr(ticket_assist, name)))
    await open_workspace(services, "demo")
    _restart(services)
    await prepare_triage(services, "demo")
    assert set(_saved(services)) == {"whole"}
    ticket_id = await _labelled_ticket(services)
    first = await assist_builtin(services, ticket_id)  # judged by the fold that leaves it out: trained, saved
    saved = _saved(services)
    assert len(saved) == 2 and any(part.startswith("fold:") for part in saved)
    assert len({key for key, _blob in saved.values()}) == 1
    before = await _model(services)
    assert threads and all(t.startswith("copilot-db") for t in threads)  # the store's reads and writes

    _restart(services)
    trained = _count_training(monkeypatch)
    again = await assist_builtin(services, ticket_id)
    assert trained == []  # neither the whole history's classifier nor the fold was trained again
    assert again.triage == first.triage
    after = await _model(services)
    assert before.linear is not None and after.linear is not None and after is not before
    vectors = np.random.default_rng(5).normal(size=(20, 9)).astype(np.float32)
    assert np.array_equal(after.linear.probabilities(vectors), before.linear.probabilities(vectors))
    assert after.linear.mix_power == before.linear.mix_power and after.linear.labels == before.linear.labels
    assert _saved(services) == saved  # nothing new to save


async def test_a_changed_example_means_training_again(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    await open_workspace(services, "demo")
    _restart(services)
    await prepare_triage(services, "demo")
    (old_key, _blob), *_ = _saved(services).values()
    services.store.db.execute(
        "UPDATE tickets SET intent = 'something_else', updated_at = '2099-01-01T00:00:00+00:00' "
        "WHERE id = (SELECT min(id) FROM tickets WHERE workspace = 'demo' AND intent != '')"
    )
    _restart(services)
    trained = _count_training(monkeypatch)
    await prepare_triage(services, "demo")
    assert trained == [1]
    model = await _model(services)
    assert model.linear is not None and "something_else" in model.linear.labels
    keys = {key for key, _blob in _saved(services).values()}
    assert len(keys) == 1 and old_key not in keys  # the older history's classifiers are gone


async def test_a_damaged_saved_classifier_is_trained_again_without_an_error(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await open_workspace(services, "demo")
    _restart(services)
    ticket_id = await _labelled_ticket(services)
    first = await assist_builtin(services, ticket_id)
    parts = _saved(services)
    assert "whole" in parts and len(parts) == 2
    services.store.db.execute("UPDATE triage_models SET model = x'504b0304deadbeef' WHERE workspace = 'demo'")
    _restart(services)
    trained = _count_training(monkeypatch)
    again = await assist_builtin(services, ticket_id)
    assert len(trained) == 2  # the whole history's classifier and the ticket's fold, both trained again
    assert again.triage == first.triage  # trained again the same way
    repaired = _saved(services)
    assert set(repaired) == set(parts)
    assert all(LinearIntents.from_bytes(blob).labels for _key, blob in repaired.values())  # readable again
