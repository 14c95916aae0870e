"""The Help desks form is built from the fields each help-desk kind declares (no RT-only field hard-coded)."""

from __future__ import annotations

import pytest
import qasync
from PySide6.QtWidgets import QFormLayout, QLabel
from pytestqt.qtbot import QtBot

from copilot.helpdesk import registry
from copilot.helpdesk.base import FormField
from copilot.services import Services
from copilot.ui.dialogs.helpdesks import WorkspacesDialog
from copilot.ui.runner import ErrorPresenter, Runner


def _labels(dialog: WorkspacesDialog) -> list[str]:
    labels = []
    for row in range(dialog.form.rowCount()):
        item = dialog.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        widget = item.widget() if item is not None else None
        labels.append(widget.text() if isinstance(widget, QLabel) else "")
    return labels


def test_the_form_follows_the_chosen_kind(
    qtbot: QtBot, qloop: qasync.QEventLoop, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = FormField("site", "Site", "The help desk's site id.", "--site", required=True)
    other = registry.HelpdeskKind(
        "other", "Other desk", "https://other.example", "token", registry.KINDS["rt"].factory, (site,)
    )
    monkeypatch.setitem(registry.KINDS, "other", other)
    runner = Runner(ErrorPresenter(None), qloop)
    dialog = WorkspacesDialog(None, services, runner)
    qtbot.addWidget(dialog)
    assert dialog.kind.currentData() == "rt"
    assert list(dialog.fields) == ["queues"] and _labels(dialog)[-1] == "Queue"
    dialog.name.setText("acme")
    dialog.fields["queues"].setEditText("Support")
    assert dialog.config().options["queues"] == ["Support"]
    dialog.fields["queues"].setEditText("")
    assert dialog.config().options["queues"] == []

    dialog.kind.setCurrentIndex(dialog.kind.findData("other"))
    assert list(dialog.fields) == ["site"] and "Queue" not in _labels(dialog)
    assert _labels(dialog)[-1] == "Site (required)" and dialog.url.placeholderText() == "https://other.example"
    dialog.token.setText("a-token")
    dialog.save()
    assert dialog.status.text() == "✘ Fill in Site: this kind of help desk needs it."
    dialog.fields["site"].setEditText("eu-1")
    assert dialog.config().options["site"] == "eu-1" and "queues" not in dialog.config().options
    qtbot.waitUntil(lambda: runner.idle, timeout=30_000)
