"""Review → Weekly review in the real window: the trend charts draw, the table fills, and a worst-of-the-week
row opens its ticket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from copilot.services import Services
from copilot.store.tickets import find_ticket
from copilot.store.util import dumps, now_iso
from copilot.ui.dialogs.weekly_review import WeeklyReviewDialog
from copilot.ui.main_window import MainWindow
from tests.ui.conftest import demo_window


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> Iterator[MainWindow]:
    yield from demo_window(qtbot, qloop, services)


def test_weekly_review_draws_and_opens_the_worst_ticket(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    store = w.services.store
    ticket = store.run_sync(find_ticket, store.db, "demo", 12)

    def seed(db: object) -> None:
        at = now_iso()
        cur = store.db.execute(
            "INSERT INTO ai_outputs (ticket_id, task, engine, model, prompt_version, inputs_hash, payload, created_at) "
            "VALUES (?, 'draft', 'built-in', 'builtin-rules-1', 'v', 'h', ?, ?)",
            [ticket.id, dumps({"citations": [{"article_id": "hub-setup"}]}), at],
        )
        store.db.execute(
            "INSERT INTO sent_replies (ticket_id, visibility, body, ai_draft, output_id, edit_ratio, sent_at) "
            "VALUES (?, 'public', 'x', 'draft', ?, 0.9, ?)",
            [ticket.id, cur.lastrowid, at],
        )

    store.run_sync(seed, store.db)
    dialog = WeeklyReviewDialog(w, w.services, w.runner, "demo")
    qtbot.addWidget(dialog)
    dialog.open_ticket_number.connect(w.select_ticket_number)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.review is not None, timeout=30_000)
    assert dialog.table.rowCount() == 8 and dialog.table.item(0, 2).text() == "1"  # newest week first
    acceptance = dialog.charts[0]
    assert acceptance.title.startswith("Acceptance") and len(acceptance.points()) == 1
    assert acceptance.grab().size().width() > 0
    outdated = dialog.articles.item(0)
    assert outdated.text().startswith("⚠") and outdated.data(Qt.ItemDataRole.UserRole) == "hub-setup"
    row = dialog.worst.item(0)
    assert row.text().startswith("most edited: #12")
    dialog.worst.itemDoubleClicked.emit(row)
    qtbot.waitUntil(lambda: w.result is not None and w.result.ticket.number == 12, timeout=30_000)
