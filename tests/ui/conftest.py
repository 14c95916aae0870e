"""One qasync loop for the whole session (a per-test loop's stop() would quit the QApplication).

qasync's `already_running=True` registers the loop as asyncio's running loop. That is right during a UI test
and wrong outside one (a later CLI test's `asyncio.run()` would refuse to start), so each UI test registers
it on entry and clears it on exit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import qasync
from PySide6.QtWidgets import QApplication


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
