"""'Use this article' in the copilot panel, its Alt+N shortcut, and a correction saved from a ticket's panel."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from copilot.services import Services
from copilot.ui.dialogs.article_editor import ArticleEditor
from copilot.ui.main_window import MainWindow
from tests.ui.conftest import demo_window, open_ticket


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> Iterator[MainWindow]:
    yield from demo_window(qtbot, qloop, services)


def _click(w: MainWindow, title: str, caption: str) -> None:
    """Follow the panel's link `caption` in the paragraph of the article `title`, as a click on it does."""
    assert w.result is not None
    page = w.panel.sections.render(w.result, w.session.min_confidence)
    paragraph = next(p for p in page.split("<p>") if f"<b>{title}</b>" in p)
    link = re.search(rf"href='(act:\d+)'[^>]*>{re.escape(caption)}</a>", paragraph)
    assert link is not None, paragraph
    w.panel.sections.run(link.group(1))


def test_use_this_article_then_dont_use_it(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    open_ticket(qtbot, w, 12)  # a return: no article over the line, so the draft says the team is asked
    assert w.result is not None and not w.result.draft.grounded
    assert "No good article" in w.panel.text() and "Use this article" in w.panel.text()

    _click(w, "Return a product", "Use this article")
    qtbot.waitUntil(lambda: w.result is not None and w.result.suggestions[0].chosen, timeout=30_000)
    qtbot.waitUntil(lambda: w.runner.idle, timeout=30_000)
    first = w.result.suggestions[0]
    assert first.article_id == "returns"
    shown = w.panel.text()
    assert "chosen by you" in shown and f"the copilot ranked it {first.confidence:.0%}" in shown
    assert "No good article" not in shown and "Don't use" in shown
    assert "Return a product" in w.panel.editor.toPlainText()  # the untouched draft now cites it
    assert "Return a product" in w.panel.citations.text()
    assert "Using “Return a product” for this ticket" in w.statusBar().currentMessage()

    # Alt+1 on the chosen article undoes the choice: the ranking decides again.
    alt1 = next(a for a in w.findChildren(type(w.sync_action)) if a.shortcut() == QKeySequence("Alt+1"))
    alt1.trigger()
    qtbot.waitUntil(lambda: w.result is not None and not w.result.suggestions[0].chosen, timeout=30_000)
    qtbot.waitUntil(lambda: w.runner.idle, timeout=30_000)
    assert "No good article" in w.panel.text() and "chosen by you" not in w.panel.text()
    # Alt+2 uses the second listed article.
    second = w.result.suggestions[1].article_id
    next(a for a in w.findChildren(type(w.sync_action)) if a.shortcut() == QKeySequence("Alt+2")).trigger()
    qtbot.waitUntil(
        lambda: (
            w.result is not None and w.result.suggestions[0].chosen and w.result.suggestions[0].article_id == second
        ),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: w.runner.idle, timeout=30_000)


def test_a_correction_saved_from_the_panel_is_cited_next(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    open_ticket(qtbot, w, 11)
    _click(w, "Reset your Lumen Hub to factory settings", "Edit")
    editor = next(d for d in w.findChildren(ArticleEditor))
    qtbot.waitUntil(lambda: editor.article is not None, timeout=15_000)
    assert editor.ticket_id == w.current_ticket
    editor.body.setPlainText(
        editor.body.toPlainText().replace(
            "**Settings > Advanced > Factory reset**", "**Devices > Hub > Remove and reset**"
        )
    )
    editor.reason.setText("The menu moved")
    editor.save_button.click()
    qtbot.waitUntil(lambda: "cites the corrected article" in w.statusBar().currentMessage(), timeout=30_000)
    assert "#11" in w.statusBar().currentMessage()
    editor.close()
    qtbot.waitUntil(
        lambda: (
            w.result is not None and w.result.suggestions[0].chosen and w.result.suggestions[0].article_version == 2
        ),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: w.runner.idle, timeout=30_000)
    assert w.result.draft.citations[0].article_id == "factory-reset-hub"
    assert "Devices > Hub > Remove and reset" in w.panel.editor.toPlainText()
