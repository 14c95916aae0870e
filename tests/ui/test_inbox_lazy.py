"""The inbox at a few hundred tickets: the first rows at once, the rest as the agent scrolls or moves with the
keyboard, the selection kept across a refresh."""

from __future__ import annotations

import pytest
import qasync
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from copilot.services import Services
from copilot.store import tickets as ticket_store
from copilot.ui.viewmodels.inbox import FIRST_PAGE
from tests.perf.test_inbox_scale import Inbox
from tests.perf.test_scale import grow

TICKETS = 400


@pytest.fixture
def inbox(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> Inbox:
    from copilot.assist.workspace import open_workspace

    box = Inbox(services, qloop)
    qtbot.addWidget(box.pane)
    box.runner.run(open_workspace(services, "demo"))
    qtbot.waitUntil(lambda: box.runner.idle, timeout=30_000)
    services.store.run_sync(grow, services.store.db, TICKETS)
    box.painted_ms(box.vm.refresh)
    return box


def test_the_first_rows_come_first_and_the_rest_on_scrolling(qtbot: QtBot, inbox: Inbox, services: Services) -> None:
    model, table = inbox.pane.model, inbox.pane.table
    assert model.rowCount() == FIRST_PAGE and model.total == TICKETS
    assert inbox.pane.count.text() == f"{TICKETS} tickets"
    every = services.store.run_sync(ticket_store.list_inbox, services.store.db, "demo")
    assert model.loaded_rows() == every[:FIRST_PAGE]  # same rows, same order as the whole listing

    table.scrollToBottom()  # past the head: the ids of all arrive
    qtbot.waitUntil(lambda: model.rowCount() == TICKETS, timeout=15_000)
    assert model.ids == [r.ticket_id for r in every]
    assert model.row_at(300) is None  # not read until it is shown
    table.scrollTo(model.index(300, 2))
    table.viewport().repaint()
    qtbot.waitUntil(lambda: model.row_at(300) is not None, timeout=15_000)
    assert model.row_at(300) == every[300]
    assert model.data(model.index(300, 1)) == str(every[300].number)


def test_keyboard_moves_through_every_ticket(qtbot: QtBot, inbox: Inbox) -> None:
    model, table = inbox.pane.model, inbox.pane.table
    chosen: list[int] = []
    inbox.pane.ticket_selected.connect(chosen.append)
    inbox.pane.select_first()
    table.setFocus()
    assert chosen == [model.ids[0]]
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert chosen[-1] == model.ids[1]
    qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)  # the last row fetched so far;
    # scrolling to it fetches the rest
    qtbot.waitUntil(lambda: model.rowCount() == TICKETS, timeout=15_000)
    qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert chosen[-1] == model.ids[-1] and table.currentIndex().row() == TICKETS - 1
    qtbot.keyClick(table, Qt.Key.Key_Up)
    assert chosen[-1] == model.ids[-2]
    qtbot.waitUntil(lambda: model.row_at(TICKETS - 2) is not None, timeout=15_000)  # painted rows get read


def test_a_refresh_keeps_the_open_ticket_selected_and_the_place(qtbot: QtBot, inbox: Inbox) -> None:
    model, table = inbox.pane.model, inbox.pane.table
    table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == TICKETS, timeout=15_000)
    inbox.pane.select_row(350)
    ticket = model.ids[350]
    inbox.session.current_ticket = ticket
    scrolled = table.verticalScrollBar().value()
    inbox.painted_ms(inbox.vm.refresh)  # e.g. a sync changed a ticket: the head again, then the rest
    qtbot.waitUntil(lambda: model.rowCount() == TICKETS, timeout=15_000)
    assert table.selectionModel().isRowSelected(model.row_of(ticket) or 0, QModelIndex())
    assert model.ids[350] == ticket and table.verticalScrollBar().value() == scrolled
    assert inbox.pane.select_ticket(model.ids[-1])
