"""The background pass that trains the open workspace's triage folds ahead (`assist/triage_folds.py`): started
once the window has been idle a moment after a workspace opened or its tickets changed in bulk (a sync, an
import), stopped when another workspace opens, the history changes again or the window closes. It says what it is
doing in the status bar only when it takes more than a moment."""

from __future__ import annotations

import asyncio
import logging
import threading

from PySide6.QtCore import QObject, QTimer, Signal

from copilot.assist.triage_folds import FoldsPrepared, prepare_triage_folds
from copilot.services import Services
from copilot.ui.runner import Runner

log = logging.getLogger(__name__)

IDLE_BEFORE_MS = 1500  # the window's work (the first copilot result, indexing) first: the pass waits its turn
TICK_MS = 250
SHOW_AFTER_MS = 1500  # a pass done sooner is never mentioned


class TriageFoldsViewModel(QObject):
    text_changed = Signal(str)  # "Preparing triage 2 of 5…", or "" when there is nothing to say
    finished = Signal(object)  # FoldsPrepared, when a pass ends without being stopped

    def __init__(self, services: Services, runner: Runner) -> None:
        super().__init__()
        self.services = services
        self.runner = runner
        self.workspace = ""
        self._idle_ms = 0
        self._waiting = QTimer(self)
        self._waiting.setInterval(TICK_MS)
        self._waiting.timeout.connect(self._tick)
        self._show = QTimer(self)
        self._show.setSingleShot(True)
        self._show.timeout.connect(self._show_progress)
        self._task: asyncio.Task[None] | None = None
        self._stop: threading.Event | None = None
        self._progress = ""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def waiting(self) -> bool:
        """Scheduled, not started yet."""
        return self._waiting.isActive()

    def schedule(self, workspace: str) -> None:
        """Run a pass for this workspace once the window has been idle IDLE_BEFORE_MS (any pass running stops:
        a fold it had begun stays paused in the model, and the new pass goes on with it)."""
        self.stop()
        self.workspace = workspace
        self._idle_ms = 0
        self._waiting.start()

    def stop(self) -> None:
        self._waiting.stop()
        self._show.stop()
        if self._stop is not None:
            self._stop.set()  # the background thread lets go after its current step, even if the loop stops now
        if self._task is not None:
            self._task.cancel()
        self._task, self._stop = None, None
        self._say("")

    def _tick(self) -> None:
        self._idle_ms = self._idle_ms + TICK_MS if self.runner.idle else 0
        if self._idle_ms >= IDLE_BEFORE_MS:
            self._waiting.stop()
            self._start()

    def _start(self) -> None:
        stop = self._stop = threading.Event()
        self._progress = "Preparing triage…"  # the whole history's classifier first, when it is not ready

        def progress(number: int, total: int) -> None:
            self._progress = f"Preparing triage {number} of {total}…"
            if not self._show.isActive():
                self._say(self._progress)  # already shown: keep it current

        def done(result: FoldsPrepared) -> None:
            if stop is not self._stop:
                return  # stopped meanwhile
            self._task, self._stop = None, None
            self._show.stop()
            self._say("")
            log.info("triage folds for %s: %s", self.workspace, result)
            if not result.stopped:
                self.finished.emit(result)

        def failed(exc: BaseException) -> None:
            # Work ahead only: a ticket that needs its fold trains it as before. The log says why (the runner logs
            # our bugs with their traceback).
            log.warning("triage folds not prepared ahead for %s: %s", self.workspace, exc)
            if stop is self._stop:
                self._task, self._stop = None, None
                self._show.stop()
                self._say("")

        self._show.start(SHOW_AFTER_MS)
        self._task = self.runner.run(
            prepare_triage_folds(self.services, self.workspace, progress, stop), done, "", on_error=failed
        )

    def _show_progress(self) -> None:
        self._say(self._progress)

    def _say(self, text: str) -> None:
        self.text_changed.emit(text)
