"""The inbox at 66 and at 10,000 tickets: time from asking for the rows to the table painted, and the same for
each filter and search the agent types. Prints; never fails on a slow machine.

Run alone: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest tests/perf/test_inbox_scale.py -q -s
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from copilot.assist.workspace import open_workspace
from copilot.domain.inbox import InboxFilter
from copilot.evaluation.data import percentile
from copilot.services import Services
from copilot.store import tickets as ticket_store
from copilot.ui.runner import ErrorPresenter, Runner
from copilot.ui.viewmodels.inbox import FIRST_PAGE, InboxViewModel
from copilot.ui.viewmodels.ticket_session import TicketSession
from copilot.ui.widgets.inbox import InboxPane
from tests.perf.test_scale import TARGET, copy_of_store, grow
from tests.perf.test_under_load import cpu_burners
from tests.ui.conftest import _session_loop, qloop  # noqa: F401  (the UI tests' qasync loop)

pytestmark = pytest.mark.perf

FILTERS = (
    InboxFilter(query="refund"),
    InboxFilter(query="print"),
    InboxFilter(query="zzzz-no-such-word"),
    InboxFilter(status="open"),
    InboxFilter(urgent_only=True),
    InboxFilter(query="order", status="open"),
    InboxFilter(),  # clearing the search: every ticket again
)


def wait(app: QCoreApplication) -> None:
    """Sleep until the next event, as the app's event loop does: a busy loop would hold the GIL and slow the
    store's thread (and the figures) down."""
    app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


class Inbox:
    """The inbox pane and its view-model, wired as the main window wires them."""

    def __init__(self, services: Services, loop: qasync.QEventLoop) -> None:
        self.services = services
        self.runner = Runner(ErrorPresenter(None), loop)
        self.session = TicketSession(services, self.runner, lambda: "", lambda: "friendly")
        self.session.workspace = "demo"
        self.vm = InboxViewModel(services, self.runner, self.session)
        self.pane = InboxPane()
        self.pane.resize(420, 900)
        self.pane.show()
        self.shown = 0
        self.vm.rows_changed.connect(self._rows)
        self.pane.rows_wanted.connect(self.vm.fetch_rows)
        self.vm.rows_fetched.connect(self.pane.add_rows)
        self.pane.ids_wanted.connect(self.vm.fetch_ids)
        self.vm.ids_fetched.connect(self.pane.extend_ids)
        self.vm.set_workspace("demo")

    def _rows(self, *args: object) -> None:
        self.pane.set_rows(*args)  # type: ignore[arg-type]
        self.shown += 1

    def painted_ms(self, start: Callable[[], object], done: Callable[[], bool] | None = None) -> float:
        """Milliseconds from `start()` to the new rows painted (and every row on screen filled); by default the
        listing is done when the view-model has delivered new rows."""
        before = self.shown
        finished = done or (lambda: self.shown != before)
        app = QApplication.instance()
        assert app is not None
        t0 = time.perf_counter()
        start()
        while not finished() or not self.runner.idle:
            wait(app)
        self.pane.table.viewport().repaint()
        app.processEvents()  # rows the paint found missing are asked for now
        if not self.runner.idle:
            while not self.runner.idle:
                wait(app)
            self.pane.table.viewport().repaint()
        return (time.perf_counter() - t0) * 1000

    def to_the_end_ms(self) -> float:
        """Scroll from the top to the last ticket (End on the keyboard): the ids past the head, then the rows."""
        self.painted_ms(lambda: self.vm.set_filter(InboxFilter()))
        model = self.pane.model

        def all_there() -> bool:
            if model.rowCount() < model.total:
                return False
            self.pane.table.scrollToBottom()
            return True

        ms = self.painted_ms(self.pane.table.scrollToBottom, all_there)
        last = model.row_at(model.rowCount() - 1)
        assert last is not None and last.ticket_id == model.ids[-1]
        self.pane.table.scrollToTop()
        return ms


def head_sql_ms(inbox: Inbox, filt: InboxFilter) -> float:
    """The store's part of a refresh or filter alone (its SQL, timed on the store thread): what the inbox's index
    is for, and steadier than the paint on a shared machine."""

    def timed() -> float:
        t0 = time.perf_counter()
        ticket_store.inbox_head(inbox.services.store.db, "demo", filt, FIRST_PAGE)
        return (time.perf_counter() - t0) * 1000

    return inbox.services.store.run_sync(timed)


def figures(inbox: Inbox) -> dict[str, float]:
    inbox.pane.table.scrollToTop()
    paints = [inbox.painted_ms(lambda: inbox.vm.refresh()) for _ in range(6)]
    filters: list[float] = []
    for _ in range(2):
        for f in FILTERS:
            filters.append(inbox.painted_ms(lambda f=f: inbox.vm.set_filter(f)))
    end = [inbox.to_the_end_ms() for _ in range(2)]
    sql = [head_sql_ms(inbox, f) for _ in range(3) for f in FILTERS]
    return {
        "tickets": inbox.pane.model.total,
        "paint_p50_ms": round(percentile(paints, 0.5), 1),
        "paint_max_ms": round(max(paints), 1),
        "filter_p50_ms": round(percentile(filters, 0.5), 1),
        "filter_p95_ms": round(percentile(filters, 0.95), 1),
        "filter_max_ms": round(max(filters), 1),
        "scroll_to_last_ticket_p50_ms": round(percentile(end, 0.5), 1),
        "head_sql_p50_ms": round(percentile(sql, 0.5), 2),
        "head_sql_max_ms": round(max(sql), 2),
    }


@pytest.fixture
def grown(services: Services, tmp_path: Path) -> Iterator[Services]:
    """A copy of the demo's store (in `services`, 66 tickets) grown to TARGET tickets with their badges, made in the
    set-up: under xdist a perf test holds the machine alone only while it measures (its call), and inserting
    10,000 tickets is not what it measures. Requested before `qloop`, which registers the Qt loop as running."""
    asyncio.run(open_workspace(services, "demo"))
    large = copy_of_store(services, tmp_path / "grown")
    large.store.run_sync(grow, large.store.db, TARGET)
    asyncio.run(open_workspace(large, "demo"))
    yield large
    large.close()


def opened(services: Services, loop: qasync.QEventLoop, qtbot: QtBot) -> Inbox:
    inbox = Inbox(services, loop)
    inbox.runner.run(open_workspace(services, "demo"))
    qtbot.waitUntil(lambda: inbox.runner.idle, timeout=60_000)
    qtbot.addWidget(inbox.pane)
    return inbox


def test_inbox_paint_and_filter_at_66_and_10000(
    services: Services,
    grown: Services,
    qtbot: QtBot,
    qloop: qasync.QEventLoop,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox = opened(services, qloop, qtbot)
    small = figures(inbox)
    with cpu_burners(2):
        small_loaded = figures(inbox)
    inbox = opened(grown, qloop, qtbot)
    large = figures(inbox)
    with cpu_burners(2):
        large_loaded = figures(inbox)
    with capsys.disabled():
        for name, quiet, loaded in (("66", small, small_loaded), (f"{TARGET:,}", large, large_loaded)):
            print(f"\nPERF inbox at {name} tickets, quiet: " + json.dumps(quiet))
            print(f"PERF inbox at {name} tickets, 2 CPU burners: " + json.dumps(loaded))
        print(
            "PERF inbox paint 10k / 66: quiet "
            f"{large['paint_p50_ms'] / small['paint_p50_ms']:.2f}, loaded "
            f"{large_loaded['paint_p50_ms'] / small_loaded['paint_p50_ms']:.2f}"
        )
    assert large["tickets"] == TARGET
