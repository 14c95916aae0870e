"""Review in the real window: a resolved flag with a correction becomes a regression case in one click, and
Review → Try a model or prompt… opens the replay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot
from sqlite_utils import Database

from copilot.services import Services
from copilot.store import regression as cases_store
from copilot.store.tickets import find_ticket
from copilot.store.util import dumps, now_iso
from copilot.ui.dialogs.replay import ReplayDialog
from copilot.ui.dialogs.review import ReviewDialog
from copilot.ui.main_window import MainWindow
from tests.ui.conftest import demo_window


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> Iterator[MainWindow]:
    yield from demo_window(qtbot, qloop, services)


def test_a_resolved_flag_goes_to_the_regression_set_in_one_click(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    store = w.services.store
    ticket = store.run_sync(find_ticket, store.db, "demo", 5)

    def seed(db: Database) -> None:
        at = now_iso()
        cur = db.execute(
            "INSERT INTO ai_outputs (ticket_id, task, engine, model, prompt_version, inputs_hash, payload, created_at) "
            "VALUES (?, 'draft', 'built-in', 'builtin-rules-1', 'v', 'h', ?, ?)",
            [ticket.id, dumps({"citations": [{"article_id": "lost-package"}]}), at],
        )
        for resolved, correction in (("", ""), (at, 'Say we open an "investigation" with the carrier.')):
            db.execute(
                "INSERT INTO output_flags (output_id, ticket_id, target, target_text, reason, note, correction, "
                "flagged_by, created_at, resolved_at, outcome, resolved_by) VALUES (?, ?, 'draft:sentence:2', "
                "'Check around your home.', 'incorrect', '', ?, 'agent', ?, ?, ?, 'lead')",
                [cur.lastrowid, ticket.id, correction, at, resolved, "prompt fixed" if resolved else ""],
            )

    store.run_sync(seed, store.db)
    dialog = ReviewDialog(w, w.services, w.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=30_000)
    rows = {f.is_resolved: i for i, f in enumerate(dialog.flags)}
    dialog.table.selectRow(rows[False])
    assert not dialog.case_button.isEnabled()  # open, without a correction: not a case yet
    qtbot.keyClick(dialog.case_set, Qt.Key.Key_Return)  # Enter in the set's name resolves nothing
    qtbot.wait(200)
    assert dialog.resolve_button.isEnabled() and not dialog.flags[rows[False]].is_resolved
    dialog.table.selectRow(rows[True])
    assert dialog.case_button.isEnabled()
    dialog.case_set.setCurrentText("week-48")
    dialog.case_button.click()
    qtbot.waitUntil(lambda: dialog.detail.text().startswith("Added ticket #5"), timeout=30_000)
    [case] = store.run_sync(cases_store.latest_cases, store.db, "week-48")
    assert case.expect["must_not_include"] == ["Check around your home."]
    assert case.expect["must_include"] == ["investigation"] and case.expect["articles"] == ["lost-package"]
    dialog.try_button.click()
    qtbot.waitUntil(lambda: dialog.findChild(ReplayDialog) is not None, timeout=30_000)
    replay = dialog.findChild(ReplayDialog)
    qtbot.waitUntil(lambda: replay.sets.findData("week-48") >= 0, timeout=30_000)
    assert replay.sets.findData("demo") >= 0
    assert not w.presenter.shown


def test_the_review_menu_offers_the_replay(qtbot: QtBot, window: MainWindow) -> None:
    [action] = [a for a in window.findChildren(QAction) if a.text() == "&Try a model or prompt…"]
    action.trigger()
    qtbot.waitUntil(lambda: window.findChild(ReplayDialog) is not None, timeout=30_000)


def test_the_replay_offers_a_judge_and_defaults_to_the_configured_one(qtbot: QtBot, window: MainWindow) -> None:
    from copilot.ui.dialogs.replay import NO_JUDGE

    store = window.services.store
    store.run_sync(window.services.settings.set, store.db, "models.cheap", "local/small, local/big")
    store.run_sync(window.services.settings.set, store.db, "models.judge", "local/strict")
    dialog = ReplayDialog(window, window.services, window.runner)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.judge.count() > 1, timeout=30_000)
    assert dialog.judge.currentText() == "local/strict"
    assert [dialog.judge.itemText(i) for i in range(dialog.judge.count())] == [
        NO_JUDGE,
        "local/strict",
        "local/small",
        "local/big",
    ]


def test_the_candidate_shows_an_example_for_what_is_tried(qtbot: QtBot, window: MainWindow) -> None:
    dialog = ReplayDialog(window, window.services, window.runner)
    qtbot.addWidget(dialog)
    line = dialog.candidate.lineEdit()
    assert line.text() == "" and line.placeholderText().startswith("e.g. local/small")
    dialog.kind.setCurrentIndex(dialog.kind.findData("prompt"))
    assert "<data folder>/prompts" in line.placeholderText()
