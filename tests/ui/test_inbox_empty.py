"""The inbox's empty state says why it is empty: nothing synced yet, or a search or filter that hides every ticket."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from copilot.domain.inbox import InboxPage
from copilot.ui.widgets.inbox import FILTERED_EMPTY, NOTHING_YET, InboxPane


def test_an_empty_inbox_without_filters_does_not_ask_to_clear_them(qtbot: QtBot) -> None:
    pane = InboxPane()
    qtbot.addWidget(pane)
    pane.set_rows(InboxPage((), (), 0), None)
    assert not pane.empty.isHidden() and pane.empty.text() == NOTHING_YET
    pane.urgent.setChecked(True)
    pane.set_rows(InboxPage((), (), 0), None)
    assert pane.empty.text() == FILTERED_EMPTY
