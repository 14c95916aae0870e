"""Add a real Request Tracker in the Help desks dialog, sync it into the inbox, and send while it is down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from pytestqt.qtbot import QtBot

from copilot.services import Services
from copilot.store import outbox
from copilot.ui.dialogs.helpdesks import WorkspacesDialog
from copilot.ui.main_window import MainWindow
from tests.integration.rt_server import RTServer
from tests.ui.conftest import demo_window

pytestmark = pytest.mark.integration


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> Iterator[MainWindow]:
    yield from demo_window(qtbot, qloop, services)


def test_add_help_desk_sync_and_send_while_it_is_down(
    qtbot: QtBot, window: MainWindow, rt: RTServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = window
    with rt.api() as api:
        created = api.post("/ticket", json={"Queue": "Support", "Subject": "Screen flickers after update",
                                            "Requestor": "alice@example.com", "Content": "My screen flickers since the update."})  # fmt: skip
        number = int(created.json()["id"])
    dialog = WorkspacesDialog(w, w.services, w.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setText("acme")
    dialog.title.setText("Acme support")
    dialog.url.setText(rt.url)
    dialog.user.setText("agent1")
    dialog.token.setText("wrong-token")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("✘"), timeout=20_000)
    assert "refused the credentials" in dialog.status.text()
    dialog.token.setText(rt.token)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: not dialog.status.text().startswith("Testing"), timeout=20_000)
    assert dialog.status.text().startswith("✔"), dialog.status.text()
    assert dialog.fields["queues"].findText("Support") >= 0
    dialog.fields["queues"].setEditText("Support")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Saved"), timeout=30_000)
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=30_000)  # the list reloads in the background
    assert not dialog.token.text() and dialog.name.isReadOnly()

    w.switch_workspace("acme")
    # The title comes when the workspace has opened; until then the sync label may still be the demo's.
    qtbot.waitUntil(lambda: w.windowTitle() == "Support Copilot — Acme support", timeout=30_000)
    qtbot.waitUntil(lambda: w.sync_label.text().startswith("Synced ") and w.inbox.model.rowCount() >= 1, timeout=30_000)
    ticket_id = next(r.ticket_id for r in w.inbox.model.loaded_rows() if r.number == number)
    assert w.inbox.select_ticket(ticket_id)
    qtbot.waitUntil(lambda: w.result is not None and w.result.ticket.number == number, timeout=20_000)
    qtbot.waitUntil(lambda: w.runner.idle, timeout=20_000)

    rt.stop()
    try:
        w.panel.editor.setPlainText("Please update the display driver.")
        w.session.send(False)
        qtbot.waitUntil(lambda: "in the outbox" in w.statusBar().currentMessage(), timeout=20_000)
        qtbot.waitUntil(lambda: "waiting to send" in w.conversation.thread_view.toPlainText(), timeout=30_000)
        w.sync.sync_now(background=True)
        qtbot.waitUntil(lambda: w.sync_label.text().startswith("⚠ Offline since"), timeout=20_000)
        assert "1 waiting to send" in w.sync_label.text()
        assert not w.presenter.shown  # background failures do not pop up dialogs
    finally:
        rt.start()
    [item] = w.services.store.run_sync(outbox.items, w.services.store.db, "acme")
    w.conversation.outbox_action.emit("retry", item.id)
    qtbot.waitUntil(lambda: "waiting to send" not in w.conversation.thread_view.toPlainText(), timeout=20_000)
    assert "Please update the display driver." in w.conversation.thread_view.toPlainText()
    qtbot.waitUntil(lambda: w.runner.idle, timeout=20_000)
    w.sync.sync_now(background=False)
    qtbot.waitUntil(lambda: w.sync_label.text().startswith("Synced "), timeout=20_000)

    # The token is revoked: the next sync asks for a new one, and carries on with it.
    w.services.store.run_sync(lambda: None)
    from copilot.config.secrets import set_secret

    set_secret("helpdesk/acme", "1-1-revoked", "COPILOT_HELPDESK_TOKEN")
    token = w.services.connectors.token("acme")
    assert token is not None
    token.forget()
    asked: list[str] = []

    def answer(*args: object, **kwargs: object) -> tuple[str, bool]:
        asked.append(str(args[2]))
        return rt.token, True

    monkeypatch.setattr("copilot.ui.main_window.QInputDialog.getText", answer)
    w.sync.sync_now(background=True)
    qtbot.waitUntil(lambda: bool(asked) and w.sync_label.text().startswith("Synced "), timeout=30_000)
    assert "refused the credentials" in asked[0] and not w.presenter.shown
