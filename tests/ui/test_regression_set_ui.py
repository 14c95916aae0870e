"""Review → Regression set…: the demo set's cases listed with where they came from; a case's expectations
edited, saved as its next version (Ctrl+S), deleted from the list (Delete) and brought back (Ctrl+Z)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

from copilot.services import Services
from copilot.store import regression as cases_store
from copilot.ui.dialogs.regression_set import CITE, NO_ARTICLE, RegressionSetDialog
from copilot.ui.main_window import MainWindow
from tests.ui.conftest import demo_window


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> Iterator[MainWindow]:
    yield from demo_window(qtbot, qloop, services)


def _newest(window: MainWindow, number: int) -> cases_store.RegressionCase:
    store = window.services.store
    return store.run_sync(cases_store.case_versions, store.db, "demo", number)[-1]


def test_edit_delete_and_undo_a_case_from_the_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    [action] = [a for a in window.findChildren(QAction) if a.text() == "Regression &set…"]
    action.trigger()
    qtbot.waitUntil(lambda: window.findChild(RegressionSetDialog) is not None, timeout=10_000)
    dialog = window.findChild(RegressionSetDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 66, timeout=10_000)
    row = [c.number for c in dialog.cases].index(2)
    assert (
        dialog.table.item(row, 2).text()
        == 'cite invoice; says "Download invoice"; intent billing; also flags, sentiment'
    )
    assert dialog.table.item(row, 3).text() == "demo gold"
    dialog.table.selectRow(row)
    assert dialog.decision.currentData() == CITE and dialog.articles.text() == "invoice"
    assert dialog.must.toPlainText() == "Download invoice" and dialog.intent.currentText() == "billing"

    # A misspelt article is refused, and nothing is stored.
    dialog.articles.setText("invoice, invoyce")
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("✘ 'invoyce' is not an article of 'demo'"), timeout=10_000)
    assert _newest(window, 2).version == 1

    dialog.decision.setCurrentIndex(dialog.decision.findData(NO_ARTICLE))
    assert not dialog.articles.isEnabled()
    dialog.must.setPlainText("invoice\n\n  Billing history ")
    dialog.must_not.setPlainText("refund")
    dialog.intent.setCurrentText("account")
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.status.text() == "Saved #2 as version 2.", timeout=10_000)
    saved = _newest(window, 2)
    assert saved.expect == {
        "articles": [], "must_include": ["invoice", "Billing history"], "must_not_include": ["refund"],
        "intent": "account", "sentiment": "neutral", "flags": [],
    }  # fmt: skip
    assert saved.source == "demo gold" and saved.status == "confirmed"
    qtbot.waitUntil(lambda: "no good article" in dialog.table.item(row, 2).text(), timeout=10_000)
    assert dialog.must.toPlainText() == "invoice\nBilling history"  # the form shows the saved version

    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 65, timeout=10_000)
    assert 2 not in [c.number for c in dialog.cases] and _newest(window, 2).status == cases_store.DELETED
    assert dialog.status.text() == "Deleted #2. Undo: Ctrl+Z."
    assert dialog.current is not None and dialog.current.number == 3  # the next case takes its place
    store = window.services.store
    assert 2 not in [c.number for c in store.run_sync(cases_store.latest_cases, store.db, "demo")]

    qtbot.keyClick(dialog.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 66, timeout=10_000)
    back = _newest(window, 2)
    assert (back.version, back.status, back.expect) == (4, "confirmed", saved.expect)
    assert dialog.current is not None and dialog.current.number == 2
    assert dialog.must.toPlainText() == "invoice\nBilling history"
    qtbot.keyClick(dialog.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # and the edit before it
    qtbot.waitUntil(lambda: dialog.status.text() == "Undid the edit of #2.", timeout=10_000)
    first = _newest(window, 2)
    assert (first.version, first.expect["articles"], first.expect["must_include"]) == (
        5,
        ["invoice"],
        ["Download invoice"],
    )
    assert not dialog.undo_button.isEnabled()
    assert not window.presenter.shown


def test_enter_in_the_form_saves_and_never_deletes(qtbot: QtBot, window: MainWindow) -> None:
    dialog = RegressionSetDialog(window, window.services, window.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 66, timeout=10_000)
    dialog.table.selectRow([c.number for c in dialog.cases].index(2))
    dialog.intent.setCurrentText("account")
    qtbot.keyClick(dialog.articles, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.status.text() == "Saved #2 as version 2.", timeout=10_000)
    assert dialog.table.rowCount() == 66 and _newest(window, 2).expect["intent"] == "account"
