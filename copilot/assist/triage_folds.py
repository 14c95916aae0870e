"""Train a workspace's triage folds ahead, in the background, so opening any labelled ticket finds the classifier
that leaves it out ready (trained on first need it took ~9 s at 10,000 labelled tickets).

The pass runs after a workspace opens or its history changes: the whole history's classifier as an assist would
prepare it (`prepare_triage`: read back, or trained once), then each missing fold on the low-priority background
thread, one at a time, each saved as soon as it is trained (one short write on the store thread). It stops within
one training step when cancelled or told to stop; a fold it was training is left paused in the model, and a ticket
that needs that fold meanwhile goes on with it instead of starting again (`IntentModel.train_fold`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from copilot.assist.ticket_assist import FOLD, is_current_triage, prepare_triage
from copilot.engine.triage import IntentModel
from copilot.services import Services
from copilot.store.triage_models import add_triage_models
from copilot.threads import return_freed_memory

Progress = Callable[[int, int], None]  # (this fold's number, folds to train in this pass), on the event loop


@dataclass(frozen=True)
class FoldsPrepared:
    missing: int  # folds without a classifier when the pass began
    trained: int  # of them, trained by this pass (a ticket opened meanwhile may have finished one itself)
    complete: bool  # every fold is ready now
    stopped: bool = False  # stopped early: told to, or the workspace's history changed meanwhile


async def prepare_triage_folds(
    services: Services, workspace: str, progress: Progress | None = None, stop: threading.Event | None = None
) -> FoldsPrepared:
    """The workspace's missing triage classifiers, trained and saved. `stop` (set from any thread, or by
    cancelling this coroutine) ends the pass after the current training step."""
    stop = stop or threading.Event()
    try:
        model = await prepare_triage(services, workspace)
        missing = model.missing_folds()
        trained = 0
        for number, fold in enumerate(missing, 1):
            if stop.is_set() or not await services.store.run(
                is_current_triage, services.store.db, workspace, services.caches, model
            ):
                return FoldsPrepared(len(missing), trained, not model.missing_folds(), stopped=True)
            if progress is not None:
                progress(number, len(missing))
            done, parts = await services.run_background(_train_fold, model, fold, stop.is_set)
            trained += done
            if parts and model.fitted_on:
                await services.store.run(add_triage_models, services.store.db, workspace, model.fitted_on, parts)
        return FoldsPrepared(len(missing), trained, not model.missing_folds(), stopped=stop.is_set())
    except asyncio.CancelledError:
        stop.set()  # the background thread lets go after its current step
        raise


def _train_fold(model: IntentModel, fold: int, stop: Callable[[], bool]) -> tuple[bool, dict[str, bytes]]:
    """Background thread: train the fold (unless another thread needs it first: that one finishes it), and hand
    out, serialised for saving, every fold trained since the last hand-out (`compute_builtin` saves those it
    takes with its result)."""
    done = model.train_fold(fold, stop)
    parts = {f"{FOLD}{number}": classifier.to_bytes() for number, classifier in model.take_new_folds().items()}
    return_freed_memory()  # what the training read is garbage now (tens of MB at 10,000 tickets)
    return done and fold in {int(part[len(FOLD) :]) for part in parts}, parts
