"""The background pass trains every missing triage fold ahead, on the low-priority background thread, and saves
each one: after it, opening any labelled ticket trains nothing. Cancelled (the window closing) it lets go within a
training step, and what it had begun is finished, not restarted, by the ticket that needs it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from copilot.assist.ticket_assist import _classifier, assist_builtin
from copilot.assist.triage_folds import prepare_triage_folds
from copilot.assist.workspace import open_workspace
from copilot.engine.triage import FOLDS, LinearIntents
from copilot.services import Services
from copilot.store.tickets import find_ticket
from tests.assist.test_triage_vectors import ThreadRecordingEncoder


def _saved_parts(services: Services) -> set[str]:
    rows = services.store.db.execute("SELECT part FROM triage_models WHERE workspace = 'demo'")
    return {str(part) for (part,) in rows}


def _restart(services: Services) -> None:
    """As after a restart: what was fitted in memory is forgotten (the store is kept)."""
    services.caches.use_encoder(ThreadRecordingEncoder())


def _trainings(monkeypatch: pytest.MonkeyPatch, step_s: float = 0.0) -> list[str]:
    """The threads trainings begin on (`fitting` is what `fit` and a fold's training both run); each step takes
    at least `step_s`."""
    begun: list[str] = []
    fitting = LinearIntents.fitting

    def counted(self: LinearIntents, *args: Any, **kwargs: Any) -> Iterator[None]:
        begun.append(threading.current_thread().name)
        for step in fitting(self, *args, **kwargs):
            time.sleep(step_s)
            yield step

    monkeypatch.setattr(LinearIntents, "fitting", counted)
    return begun


async def _labelled_in_each_fold(services: Services) -> dict[int, int]:
    """A labelled ticket judged by each fold's classifier (ticket ids by fold)."""
    model = await services.store.run(_classifier, services.store.db, "demo", services.caches)
    numbers = [
        int(r[0])
        for r in services.store.db.execute("SELECT number FROM tickets WHERE workspace = 'demo' AND intent != ''")
    ]
    by_fold: dict[int, int] = {}
    for number in numbers:
        fold = model._fold_of[str(number)]
        if fold not in by_fold:
            by_fold[fold] = (await services.store.run(find_ticket, services.store.db, "demo", number)).id
    assert sorted(by_fold) == list(range(FOLDS))
    return by_fold


async def test_after_the_pass_every_fold_is_saved_and_no_labelled_ticket_trains_anything(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await open_workspace(services, "demo")
    _restart(services)
    shown: list[tuple[int, int]] = []
    begun = _trainings(monkeypatch)
    done = await prepare_triage_folds(services, "demo", lambda n, total: shown.append((n, total)))
    assert done.missing == FOLDS and done.trained == FOLDS and done.complete and not done.stopped
    assert shown == [(n, FOLDS) for n in range(1, FOLDS + 1)]
    assert _saved_parts(services) == {"whole"} | {f"fold:{n}" for n in range(FOLDS)}
    # The whole history's classifier where an assist trains it; the folds on the low-priority thread.
    assert begun[0].startswith("copilot-compute") and len(begun) == 1 + FOLDS
    assert all(name.startswith("copilot-background") for name in begun[1:])
    tickets = await _labelled_in_each_fold(services)

    _restart(services)  # a later start reads everything back
    begun.clear()
    for ticket_id in tickets.values():
        result = await assist_builtin(services, ticket_id)
        assert result.triage.intent
    assert begun == []  # no classifier was trained for any labelled ticket
    again = await prepare_triage_folds(services, "demo")
    assert again.missing == 0 and again.complete and begun == []  # nothing left to do


async def test_cancelling_the_pass_lets_go_within_a_step_and_the_ticket_that_needs_the_fold_finishes_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await open_workspace(services, "demo")
    _restart(services)
    tickets = await _labelled_in_each_fold(services)  # fits the whole history's classifier (no fold yet)
    begun = _trainings(monkeypatch, step_s=0.01)  # a fold's 800-odd steps take 8 s or more now
    stop = threading.Event()
    task = asyncio.create_task(prepare_triage_folds(services, "demo", stop=stop))
    deadline = time.monotonic() + 20
    while not begun and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert begun and begun[0].startswith("copilot-background")
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stop.is_set()
    await services.run_background(lambda: None)  # the background thread is free again: it let go
    assert time.monotonic() - cancelled_at < 2.0
    assert _saved_parts(services) == {"whole"}  # nothing half-trained was saved

    # The ticket judged by the fold that was begun goes on with it instead of training it again.
    paused_fold = next(iter(sorted(tickets)))  # the pass takes the missing folds in order
    await assist_builtin(services, tickets[paused_fold])
    assert len(begun) == 1
    assert _saved_parts(services) == {"whole", f"fold:{paused_fold}"}  # saved with the result that finished it


async def test_a_pass_stops_when_the_history_changes_under_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await open_workspace(services, "demo")
    _restart(services)

    def relabel(number: int, _total: int) -> None:
        if number == 1:
            services.store.run_sync(
                lambda db: db.execute(
                    "UPDATE tickets SET intent = 'something_else', updated_at = '2099-01-01T00:00:00+00:00' "
                    "WHERE id = (SELECT min(id) FROM tickets WHERE workspace = 'demo' AND intent != '')"
                ),
                services.store.db,
            )

    done = await prepare_triage_folds(services, "demo", relabel)
    assert done.stopped and done.trained == 1 and not done.complete
