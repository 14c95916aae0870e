"""Run use cases from the GUI: progress in the status bar, results to a callback, failures to one presenter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from copilot.errors import CopilotError, as_copilot_error

T = TypeVar("T")
log = logging.getLogger(__name__)


class ErrorPresenter:
    """The one place errors reach the user: a plain message, what to do next, never a traceback."""

    def __init__(self, parent: QWidget | None) -> None:
        self.parent = parent
        self.shown: list[CopilotError] = []  # kept for tests and the status line

    def present(self, exc: BaseException) -> None:
        error = as_copilot_error(exc)
        if error.is_bug:
            log.error("unexpected error", exc_info=exc)
        self.shown.append(error)
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Critical if error.is_bug else QMessageBox.Icon.Warning)
        box.setWindowTitle("Support Copilot")
        box.setText(error.message)
        box.setInformativeText(error.hint)
        box.setObjectName("errorBox")
        box.open()


class Runner(QObject):
    """Schedules coroutines on the qasync loop; `busy_changed` drives the progress indicator."""

    busy_changed = Signal(str)  # the label of the work in progress, or "" when idle

    def __init__(self, presenter: ErrorPresenter, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.presenter = presenter
        self.loop = loop  # the qasync loop: explicit, so nothing else's "current loop" can capture our tasks
        self._labels: dict[int, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        on_done: Callable[[T], None] | None = None,
        label: str = "",
        on_error: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Task[None]:
        async def wrapper() -> None:
            key = id(asyncio.current_task())
            self._labels[key] = label
            self._announce()
            try:
                result = await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if on_error is None:
                    self.presenter.present(exc)
                else:  # the caller shows it its own way (a status line, a label in a dialog)
                    if as_copilot_error(exc).is_bug:
                        log.error("unexpected error", exc_info=exc)
                    on_error(exc)
            else:
                if on_done is not None:
                    try:
                        on_done(result)
                    except RuntimeError as exc:
                        # The view that asked was closed while the work ran: its result has nowhere to go.
                        if "already deleted" not in str(exc):
                            self.presenter.present(exc)
                    except Exception as exc:
                        self.presenter.present(exc)
            finally:
                self._labels.pop(key, None)
                self._announce()

        task = self.loop.create_task(wrapper())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # A task cancelled before its first step (the window closing) never awaits `coro`: close it, or Python
        # warns "coroutine ... was never awaited" whenever it is collected. Closing a finished one does nothing.
        task.add_done_callback(lambda _task: coro.close())
        return task

    def _announce(self) -> None:
        labels = [label for label in self._labels.values() if label]
        # Work still pending when the app shuts down is closed after the runner is gone: nobody to tell.
        with contextlib.suppress(RuntimeError):
            self.busy_changed.emit(labels[-1] if labels else "")

    @property
    def idle(self) -> bool:
        return not self._tasks
