"""Removing a help-desk workspace that holds unsent work asks first, naming what would be deleted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlite_utils import Database

from copilot.domain import Ticket
from copilot.domain.workspaces import WorkspaceConfig
from copilot.services import Services
from copilot.store import drafts, tickets
from copilot.store import workspaces as ws_store
from copilot.ui.dialogs import helpdesks
from copilot.ui.runner import ErrorPresenter, Runner


@pytest.fixture
def runner(qloop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[Runner]:
    r = Runner(ErrorPresenter(None), qloop)
    yield r
    qtbot.waitUntil(lambda: r.idle, timeout=30_000)  # before the services fixture closes the store


def test_removing_a_workspace_with_a_draft_asks_and_names_it(
    qtbot: QtBot, services: Services, runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = WorkspaceConfig("acme", "Acme", "rt", "http://127.0.0.1:9", "agent1", {"queues": ["Support"]})

    def _work(db: Database) -> None:
        ws_store.save_workspace(db, config)
        t = Ticket(0, "acme", 41, "Printer", "Ana", "ana@example.com", "open", "2026-01-01", "2026-01-01")
        drafts.save_draft(db, tickets.upsert_ticket(db, t), "half a reply", "", None)

    services.store.run_sync(_work, services.store.db)
    services.connectors.attach(config)
    dialog = helpdesks.WorkspacesDialog(None, services, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "acme" in dialog.configs, timeout=30_000)
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]

    def question(parent: object, title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return answers[len(asked) - 1]

    monkeypatch.setattr(helpdesks.QMessageBox, "question", question)
    dialog.name.setText("acme")
    dialog.remove()
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=30_000)
    assert "a draft on ticket #41" in asked[0] and "never delivered" in asked[0]
    qtbot.wait(200)  # "No": nothing is removed
    assert "acme" in [w.id for w in services.store.run_sync(ws_store.list_workspaces, services.store.db)]
    dialog.name.setText("acme")
    dialog.remove()
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=30_000)
    qtbot.waitUntil(
        lambda: "acme" not in [w.id for w in services.store.run_sync(ws_store.list_workspaces, services.store.db)],
        timeout=30_000,
    )
