"""The GUI's runner: work cancelled before it started (the window closing) leaves no coroutine unawaited."""

from __future__ import annotations

import gc

import qasync
from pytestqt.qtbot import QtBot

from copilot.ui.runner import ErrorPresenter, Runner


def test_work_cancelled_before_it_starts_is_closed_not_left_to_warn(qloop: qasync.QEventLoop, qtbot: QtBot) -> None:
    runner = Runner(ErrorPresenter(None), qloop)
    started: list[bool] = []

    async def work() -> None:
        started.append(True)

    coro = work()
    task = runner.run(coro)
    task.cancel()  # before the loop ever ran it
    qtbot.waitUntil(lambda: task.done(), timeout=5_000)
    qtbot.waitUntil(lambda: runner.idle, timeout=5_000)
    assert not started and coro.cr_frame is None  # closed: collecting it warns of nothing
    del coro
    gc.collect()  # filterwarnings=error: a "never awaited" warning here would fail the test


def test_work_that_runs_hands_its_result_over(qloop: qasync.QEventLoop, qtbot: QtBot) -> None:
    runner = Runner(ErrorPresenter(None), qloop)
    got: list[int] = []

    async def work() -> int:
        return 7

    runner.run(work(), got.append)
    qtbot.waitUntil(lambda: got == [7], timeout=5_000)
