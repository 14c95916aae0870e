"""One qasync loop for the whole session (a per-test loop's stop() would quit the QApplication).

qasync's `already_running=True` registers the loop as asyncio's running loop. That is right during a UI test
and wrong outside one (a later CLI test's `asyncio.run()` would refuse to start), so each UI test registers
it on entry and clears it on exit.

Waits are generous (15-60 s): they end as soon as the condition holds, and the suite runs on two xdist workers
on a busy 2-core machine, where the first copilot result can take over 10 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
import qasync
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from copilot.services import Services

if TYPE_CHECKING:
    from copilot.ui.main_window import MainWindow


@pytest.fixture(scope="session")
def _session_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    # Blocking helpers (DNS lookups for httpx, litellm) run on plain Python threads: qasync's default executor
    # uses QThreads, and a QThread still alive when the interpreter exits aborts the process.
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-loop-executor")
    loop.set_default_executor(executor)
    asyncio.events._set_running_loop(None)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    qapp.processEvents()
    executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def qloop(_session_loop: qasync.QEventLoop) -> Iterator[qasync.QEventLoop]:
    asyncio.set_event_loop(_session_loop)
    asyncio.events._set_running_loop(_session_loop)
    try:
        yield _session_loop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


def demo_window(qtbot: QtBot, loop: qasync.QEventLoop, services: Services) -> Iterator[MainWindow]:
    """The main window on the demo workspace, shown and filled; for each test file's `window` fixture."""
    from copilot.ui.main_window import MainWindow

    w = MainWindow(services, "demo", loop)
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: w.inbox.model.rowCount() >= 60, timeout=30_000)
    runner = w.runner
    yield w
    # pytest-qt has already closed (and scheduled the deletion of) the window; let its work finish
    # before the services fixture closes the store underneath it.
    qtbot.waitUntil(lambda: runner.idle, timeout=30_000)


def open_ticket(qtbot: QtBot, w: MainWindow, number: int) -> None:
    """Select demo ticket `number` and wait for its copilot result (no error shown) and for the window to be idle."""
    from copilot.store.tickets import find_ticket

    ticket = w.services.store.run_sync(find_ticket, w.services.store.db, "demo", number)
    assert w.inbox.select_ticket(ticket.id)
    qtbot.waitUntil(
        lambda: (w.result is not None and w.result.ticket.number == number) or bool(w.presenter.shown), timeout=30_000
    )
    assert not w.presenter.shown, [e.user_text() for e in w.presenter.shown]
    qtbot.waitUntil(lambda: w.runner.idle, timeout=30_000)
