"""A workspace made by `tickets import` opens in the window like any other, with no help desk behind it:
the inbox and the copilot work, drafts are saved here, and Sync and Send are disabled with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from copilot.assist.knowledge import import_kb
from copilot.assist.tickets_import import import_tickets
from copilot.services import Services
from copilot.store.drafts import load_draft
from copilot.ui.main_window import MainWindow
from copilot.ui.viewmodels.sync_status import IMPORTED_TEXT

BILLING = ("I was charged twice for my subscription this month", "Please refund the duplicate charge on my card")
SHIPPING = ("My parcel has not arrived and tracking shows nothing", "Where is my delivery? It is a week late")


def _line(number: int, body: str, intent: str = "") -> str:
    obj = {
        "id": number,
        "subject": body[:40],
        "customer": {"name": f"Customer {number}", "email": f"c{number}@example.com"},
        "status": "open",
        "tags": [],
        "messages": [{"from": "customer", "body": body}],
    }
    if intent:
        obj["intent"] = intent
    return json.dumps(obj)


def _jsonl(tmp_path: Path) -> Path:
    """Eight labelled tickets (the triage history) and one to answer, unlabelled."""
    lines = [_line(i + 1, BILLING[i % 2] + f" (order {i})", "billing") for i in range(4)]
    lines += [_line(i + 5, SHIPPING[i % 2] + f" (order {i})", "shipping") for i in range(4)]
    lines.append(_line(9, "Hello, I was charged twice for one order, can you refund the extra charge?"))
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _index_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Article indexing starts right after the open (not 1.5 s later), so each test's idle wait covers it."""
    monkeypatch.setattr("copilot.ui.main_window.INDEXING_DELAY_MS", 0)


def _await(qtbot: QtBot, loop: qasync.QEventLoop, coro: object) -> None:
    task = loop.create_task(coro)  # type: ignore[arg-type]
    qtbot.waitUntil(task.done, timeout=20_000)
    task.result()


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services, tmp_path: Path) -> Iterator[MainWindow]:
    _await(qtbot, qloop, import_tickets(services, _jsonl(tmp_path), "acme"))
    w = MainWindow(services, "acme", qloop)
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: w.inbox.model.rowCount() == 9 and "acme" in w.windowTitle(), timeout=10_000)
    runner = w.runner
    yield w
    qtbot.waitUntil(lambda: runner.idle, timeout=30_000)


def _open_first(qtbot: QtBot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: w.result is not None or bool(w.presenter.shown), timeout=20_000)
    assert not w.presenter.shown, [e.user_text() for e in w.presenter.shown]
    qtbot.waitUntil(lambda: w.runner.idle, timeout=20_000)


def test_an_imported_workspace_opens_without_sync_or_send(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    assert w.windowTitle() == "Support Copilot — acme (imported tickets)"
    assert "imported from a file" in w.statusBar().currentMessage()
    # Sync: disabled, and the status line, its tip and F5 say why.
    assert not w.sync_action.isEnabled() and "no help desk" in w.sync_action.toolTip()
    assert "no help desk" in w.sync_action.text()
    assert w.sync_label.text() == IMPORTED_TEXT and "tickets import" in w.sync_label.toolTip()
    w.no_sync_action.trigger()
    assert "no help desk" in w.statusBar().currentMessage()
    assert not any(act.isEnabled() for act in w.status_actions)
    # The Workspace menu lists it beside the demo, checked.
    w._fill_workspace_menu()
    listed = {a.text(): a.isChecked() for a in w.workspace_menu.actions() if a.isCheckable()}
    assert listed.get("acme (imported tickets)") is True and any("Demo" in name for name in listed)

    # The copilot fills the panel: summary, triage from the labelled tickets, and an empty knowledge base said so.
    _open_first(qtbot, w)
    assert w.result is not None
    shown = w.panel.text()
    assert "Summary" in shown and "Triage" in shown
    assert w.result.triage.intent in ("billing", "shipping"), w.result.triage
    assert "no knowledge-base articles" in shown and "kb import" in shown and "Ranked by" not in shown
    panel = w.panel
    for button in (panel.send_button, panel.note_button, panel.send_status_button):
        assert not button.isEnabled() and "no help desk" in button.toolTip()
    assert panel.editor.isEnabled() and panel.regen_button.isEnabled()

    # The draft is saved here; Ctrl+Enter says why nothing is sent, and keeps it.
    panel.editor.moveCursor(panel.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(panel.editor, " PS: kept here.")
    qtbot.waitUntil(lambda: "saved" in panel.saved.text(), timeout=5_000)
    qtbot.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "no help desk" in w.statusBar().currentMessage()
    ticket_id = w.current_ticket
    assert ticket_id is not None
    saved = w.services.store.run_sync(load_draft, w.services.store.db, ticket_id)
    assert saved is not None and saved.body.endswith("PS: kept here.")
    assert panel.editor.toPlainText().endswith("PS: kept here.")
    outbox = w.services.store.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert outbox == 0


def test_switching_to_the_demo_enables_sync_and_send_again(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    _open_first(qtbot, w)
    w.switch_workspace("demo")
    qtbot.waitUntil(lambda: w.inbox.model.rowCount() >= 60, timeout=20_000)
    _open_first(qtbot, w)
    assert w.sync_action.isEnabled() and not w.no_sync_action.isEnabled() and w.sync_action.text() == "&Sync now"
    assert w.panel.send_button.isEnabled() and "Ctrl+Enter" in w.panel.send_button.toolTip()
    assert "no knowledge-base articles" not in w.panel.text()


def test_the_workspace_s_articles_are_suggested(
    qtbot: QtBot, qloop: qasync.QEventLoop, services: Services, tmp_path: Path
) -> None:
    kb = tmp_path / "kb.jsonl"
    article = {"id": "refunds", "title": "Refund a duplicate charge", "body": "Charged twice? We refund the extra."}
    kb.write_text(json.dumps(article) + "\n", encoding="utf-8")
    _await(qtbot, qloop, import_tickets(services, _jsonl(tmp_path), "acme"))
    _await(qtbot, qloop, import_kb(services, kb, "acme"))
    w = MainWindow(services, "acme", qloop)
    qtbot.addWidget(w)
    w.show()
    w.start()
    _open_first(qtbot, w)
    assert w.result is not None and [s.article_id for s in w.result.suggestions][:1] == ["refunds"]
    assert "no knowledge-base articles" not in w.panel.text()
    qtbot.waitUntil(lambda: w.runner.idle, timeout=30_000)


def test_an_imported_workspace_is_removed_from_the_workspace_menu(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    w = window
    _open_first(qtbot, w)
    asked: list[str] = []

    def answer(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.No if len(asked) == 1 else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    w._fill_workspace_menu()
    remove = next(a for a in w.workspace_menu.actions() if a.objectName() == "removeImported")
    assert remove.text() == "Remove 'acme (imported tickets)'…"
    # The draft typed on it is named before anything is deleted; "No" keeps everything.
    w.panel.editor.insertPlainText("A reply only kept here. ")
    qtbot.waitUntil(lambda: "saved" in w.panel.saved.text(), timeout=5_000)
    remove.trigger()
    qtbot.waitUntil(lambda: bool(asked), timeout=5_000)
    assert "a draft on ticket #" in asked[0] and "untouched" in asked[0]
    assert asked[0].startswith("Forget 'acme (imported tickets)' and everything")
    qtbot.waitUntil(lambda: w.runner.idle, timeout=5_000)
    count = "SELECT count(*) FROM tickets WHERE workspace = 'acme'"
    assert w.services.store.db.execute(count).fetchone()[0] == 9
    # "Yes" forgets it and opens the demo; the menu no longer lists it.
    remove.trigger()
    qtbot.waitUntil(lambda: w.workspace == "demo" and w.inbox.model.rowCount() >= 60, timeout=20_000)
    assert w.services.store.db.execute(count).fetchone()[0] == 0
    w._fill_workspace_menu()
    names = [a.text() for a in w.workspace_menu.actions()]
    assert not any("acme" in name for name in names)
    assert not any(a.objectName() == "removeImported" for a in w.workspace_menu.actions())
    _open_first(qtbot, w)


def test_the_panel_says_drafts_are_signed_with_the_user_name_and_sets_it(qtbot: QtBot, window: MainWindow) -> None:
    import getpass

    from PySide6.QtWidgets import QLineEdit

    from copilot.ui.dialogs.preferences import PreferencesDialog

    w = window
    _open_first(qtbot, w)
    user = getpass.getuser()
    assert w.panel.editor.toPlainText().endswith(f"\n{user}")
    note = w.panel.signer
    assert note.isVisible() and f"Signed as '{user}'" in note.text() and "Set your name" in note.text()
    note.linkActivated.emit("set-name")
    dialog = next(d for d in w.findChildren(PreferencesDialog) if d.isVisible())
    field = dialog.editors["agent.name"]
    assert isinstance(field, QLineEdit) and dialog.focusWidget() is field
    field.setText("Ada Agent")
    dialog.save()
    qtbot.waitUntil(lambda: not note.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: w.panel.editor.toPlainText().endswith("\nAda Agent"), timeout=20_000)


def test_the_demo_signs_as_its_agent_without_a_note(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    w.switch_workspace("demo")
    qtbot.waitUntil(lambda: w.inbox.model.rowCount() >= 60, timeout=20_000)
    _open_first(qtbot, w)
    assert not w.panel.signer.isVisible() and w.panel.editor.toPlainText().endswith("\nSam Rivera")
