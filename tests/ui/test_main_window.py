"""Drive the whole copilot loop in the real main window, offscreen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from copilot.services import Services
from copilot.store.drafts import load_draft
from copilot.store.outputs import list_flags
from copilot.ui.dialogs.article_editor import ArticleEditor
from copilot.ui.dialogs.flag import FlagDialog
from copilot.ui.main_window import MainWindow
from tests.ui.conftest import demo_window, open_ticket


@pytest.fixture
def window(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> Iterator[MainWindow]:
    yield from demo_window(qtbot, qloop, services)


def test_the_whole_loop(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    w = window
    open_ticket(qtbot, w, 3)
    panel = w.panel
    assert "Marcus" in w.conversation.header.text() or "CHARGED TWICE" in w.conversation.header.text()
    shown = panel.text()
    assert "Wants:" in shown and "Legal or chargeback threat" in shown and "“This is unacceptable!!”" in shown
    assert "You were charged twice" in shown and "⚑ Flag" in shown
    assert panel.editor.toPlainText().startswith("Hi Marcus,")
    assert "built-in" in panel.draft_meta.text()

    # Edit, autosave, send.
    panel.editor.moveCursor(panel.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(panel.editor, " PS: refund issued.")
    qtbot.waitUntil(lambda: "saved" in panel.saved.text(), timeout=15_000)
    ticket_id = w.current_ticket
    assert ticket_id is not None
    saved = w.services.store.run_sync(load_draft, w.services.store.db, ticket_id)
    assert saved is not None and saved.body.endswith("PS: refund issued.")
    panel.send_button.click()
    qtbot.waitUntil(lambda: "Reply sent" in w.statusBar().currentMessage(), timeout=15_000)
    qtbot.waitUntil(lambda: "PS: refund issued." in w.conversation.thread_view.toPlainText(), timeout=15_000)
    assert w.services.store.run_sync(load_draft, w.services.store.db, ticket_id) is None

    # A team lead flags the summary.
    qtbot.waitUntil(lambda: w.result is not None and w.runner.idle, timeout=30_000)
    monkeypatch.setattr(FlagDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(FlagDialog, "values", lambda self: ("incorrect", "wrong ask", "He wants a refund"))
    # Click the first "⚑ Flag" link in the panel (the summary's first line).
    panel.view.other_link.emit("act:0")
    qtbot.waitUntil(lambda: bool(w.services.store.run_sync(list_flags, w.services.store.db, None)), timeout=15_000)
    [flag] = w.services.store.run_sync(list_flags, w.services.store.db, None)
    assert (flag.task, flag.target, flag.reason, flag.correction) == (
        "summary",
        "summary:0",
        "incorrect",
        "He wants a refund",
    )
    assert flag.target_text.startswith("I was charged twice")

    # An agent corrects the outdated refund article; search reflects it at once.
    w.open_article("refund-policy")
    editor = next(d for d in w.findChildren(ArticleEditor))
    qtbot.waitUntil(lambda: editor.article is not None, timeout=15_000)
    editor.body.setPlainText(editor.body.toPlainText().replace("14 days", "30 days"))
    editor.reason.setText("Policy changed on 1 October")
    editor.save_button.click()
    qtbot.waitUntil(lambda: editor.article is not None and editor.article.version == 2, timeout=15_000)
    assert "30 days" in editor.preview.toPlainText()
    editor.close()
    w.inbox.search.setText("")
    from copilot.kb.retrieve import search_text

    hits = w.services.store.run_sync(search_text, w.services.store.db, "refund 30 days of delivery", workspace="demo")
    assert hits[0].article_id == "refund-policy"


def test_search_filters_and_empty_state(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    qtbot.keyClicks(w.inbox.search, "chargeback")
    qtbot.waitUntil(lambda: w.inbox.model.rowCount() == 1, timeout=15_000)
    assert w.inbox.model.loaded_rows()[0].number == 3
    w.inbox.search.setText("zzzz-nothing-matches")
    qtbot.waitUntil(lambda: w.inbox.model.rowCount() == 0, timeout=15_000)
    assert not w.inbox.empty.isHidden()
    w.inbox.search.clear()
    w.inbox.urgent.setChecked(True)
    qtbot.waitUntil(lambda: 0 < w.inbox.model.rowCount() < 60, timeout=15_000)
    assert all(r.urgent for r in w.inbox.model.loaded_rows())


def test_html_message_is_shown_without_script_or_remote_image(qtbot: QtBot, window: MainWindow) -> None:
    open_ticket(qtbot, window, 22)
    browser = window.conversation.thread_view
    html = browser.toHtml()
    assert "crashes" in browser.toPlainText()
    assert "evil.example" not in html and "tracker.example" not in html and "document.cookie" not in html


def test_no_good_article_is_said_plainly(qtbot: QtBot, window: MainWindow) -> None:
    open_ticket(qtbot, window, 33)  # conflict minerals: no article covers it
    assert "No good article" in window.panel.text()
    assert "checking this with the team" in window.panel.editor.toPlainText()


def test_no_good_article_feeds_the_gaps_view(qtbot: QtBot, window: MainWindow) -> None:
    from copilot.ui.dialogs.gaps import GapsDialog

    w = window
    open_ticket(qtbot, w, 33)  # "No good article"
    open_ticket(qtbot, w, 24)  # a strong match
    dialog = GapsDialog(w, w.services, w.runner, "demo")
    qtbot.addWidget(dialog)
    dialog.open_ticket_number.connect(w.select_ticket_number)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0, timeout=30_000)
    cells = [dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount())]
    assert any("#33 " in c for c in cells) and not any("#24 " in c for c in cells)
    assert "tickets had no article above 50%" in dialog.summary.text()
    row = next(r for r, c in enumerate(cells) if "#33 " in c)
    dialog.table.cellDoubleClicked.emit(row, 0)
    qtbot.waitUntil(lambda: w.result is not None and w.result.ticket.number == 33, timeout=30_000)


def test_regenerate_in_another_tone_is_undoable(qtbot: QtBot, window: MainWindow) -> None:
    open_ticket(qtbot, window, 2)
    before = window.panel.editor.toPlainText()
    window.panel.set_tone("formal")
    window.session.regenerate("formal")
    qtbot.waitUntil(lambda: window.panel.editor.toPlainText().startswith("Dear Daniel Kim,"), timeout=15_000)
    window.panel.editor.undo()
    assert window.panel.editor.toPlainText() == before


def test_pane_sizes_are_remembered_between_runs(qtbot: QtBot, qloop: qasync.QEventLoop, services: Services) -> None:
    first = MainWindow(services, "demo", qloop)
    qtbot.addWidget(first)
    first.resize(780, 560)  # fits the offscreen 800x600 screen, so Qt need not clamp it
    first.show()
    first.splitter.setSizes([200, 250, 330])
    qtbot.wait(50)
    remembered, size = first.splitter.sizes(), first.size()
    first.close()
    second = MainWindow(services, "demo", qloop)
    qtbot.addWidget(second)
    second.show()
    qtbot.wait(50)
    assert second.size() == size
    assert second.splitter.sizes() == remembered
    second.close()


def test_preferences_form_changes_settings(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QComboBox, QLineEdit

    from copilot.ui.dialogs.preferences import PreferencesDialog

    window.open_preferences()
    dialog = window.findChild(PreferencesDialog)
    assert dialog is not None
    name = dialog.editors["agent.name"]
    tone = dialog.editors["draft.tone"]
    assert isinstance(name, QLineEdit) and isinstance(tone, QComboBox)
    name.setText("Robin Ade")
    tone.setCurrentIndex(tone.findData("formal"))
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result() == PreferencesDialog.DialogCode.Accepted, timeout=15_000)
    assert window.services.settings.get("agent.name") == "Robin Ade"
    assert window.services.settings.get("draft.tone") == "formal"
    assert window.panel.current_tone() == "formal"


def test_review_dialog_filters_and_resolves(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.assist import review
    from copilot.ui.dialogs.review import ReviewDialog

    open_ticket(qtbot, window, 12)
    assert window.result is not None
    for reason, output in (("outdated", "draft"), ("incorrect", "summary")):
        window.runner.run(
            review.flag_output(window.services, window.result.output_ids[output], target=output,
                               target_text="x", reason=reason)
        )  # fmt: skip
    qtbot.waitUntil(lambda: window.runner.idle, timeout=15_000)
    window.open_review()
    dialog = window.findChild(ReviewDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=15_000)
    dialog.reason.setCurrentIndex(dialog.reason.findData("outdated"))
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=15_000)
    dialog.table.selectRow(0)
    assert "Provenance" in dialog.detail.text() and "built-in" in dialog.detail.text()
    dialog.outcome.setCurrentIndex(dialog.outcome.findData("article fixed"))
    dialog.resolve_button.click()
    qtbot.waitUntil(
        lambda: dialog.table.rowCount() == 1 and "article fixed" in dialog.table.item(0, 6).text(), timeout=15_000
    )
    dialog.show_resolved.setCurrentIndex(dialog.show_resolved.findData(False))
    dialog.reason.setCurrentIndex(0)
    qtbot.waitUntil(
        lambda: dialog.table.rowCount() == 1 and dialog.table.item(0, 3).text() == "incorrect", timeout=15_000
    )
    dialog.close()


def test_closing_right_after_typing_keeps_the_draft(qtbot: QtBot, window: MainWindow) -> None:
    open_ticket(qtbot, window, 6)
    window.autosave.setInterval(60_000)  # the timer cannot save it: closing must
    window.panel.editor.moveCursor(window.panel.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(window.panel.editor, " Typed just before closing.")
    ticket_id = window.current_ticket
    assert ticket_id is not None
    window.close()
    saved = window.services.store.run_sync(load_draft, window.services.store.db, ticket_id)
    assert saved is not None
    assert saved.body.endswith("Typed just before closing.")


def test_draft_text_and_citations_always_agree(qtbot: QtBot, window: MainWindow) -> None:
    open_ticket(qtbot, window, 4)  # pairing a bulb: three articles in turn above "Weak below" as each is hidden
    panel = window.panel
    assert window.result is not None
    first = window.result.draft.citations[0]
    assert first.title in panel.editor.toPlainText()
    # Untouched draft: hiding the cited article re-drafts, and the text follows the new citations.
    window.session.not_relevant(first.article_id)
    qtbot.waitUntil(
        lambda: window.result is not None and window.result.draft.citations[0].article_id != first.article_id,
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: window.runner.idle, timeout=30_000)
    second = window.result.draft.citations[0]
    assert second.title in panel.editor.toPlainText()
    assert second.title in panel.citations.text()
    # Edited draft: the agent's text stays, and so do the citations that describe it.
    qtbot.keyClicks(panel.editor, "My own words. ")
    shown = panel.citations.text()
    window.session.not_relevant(second.article_id)
    qtbot.waitUntil(
        lambda: window.result is not None and window.result.draft.citations[0].article_id != second.article_id,
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: window.runner.idle, timeout=30_000)
    assert "My own words." in panel.editor.toPlainText()
    assert panel.citations.text() == shown


def test_after_sending_the_editor_is_empty_and_the_status_is_set(qtbot: QtBot, window: MainWindow) -> None:
    from copilot.store.outbox import items

    w = window
    open_ticket(qtbot, w, 7)
    draft = w.panel.editor.toPlainText()
    assert draft, "the AI draft fills the editor while the customer waits"
    pending = next(a for a in w.panel.send_status_menu.actions() if a.text() == "Send and set pending")
    assert pending.shortcut().toString() == "Ctrl+Alt+P"
    pending.trigger()
    qtbot.waitUntil(lambda: "Status set to pending." in w.statusBar().currentMessage(), timeout=30_000)
    qtbot.waitUntil(lambda: w.result is not None and w.runner.idle, timeout=30_000)
    assert w.panel.editor.toPlainText() == ""  # a second Ctrl+Enter cannot send the same draft again
    assert draft.splitlines()[0] in w.conversation.thread_view.toPlainText()
    assert "pending" in w.conversation.header.text()
    sent = w.services.store.run_sync(items, w.services.store.db, "demo")
    assert [(i.kind.value, i.state.value) for i in sent] == [("reply", "sent"), ("status", "sent")]
    # Regenerating is asking for a draft: it comes back.
    w.session.regenerate(w.panel.current_tone())
    qtbot.waitUntil(lambda: w.panel.editor.toPlainText() != "", timeout=30_000)
    # The status alone, from the Ticket menu.
    w.set_status("resolved")
    qtbot.waitUntil(lambda: "resolved" in w.conversation.header.text(), timeout=30_000)


def test_help_checks_the_database_in_the_background(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot.ui import main_window

    shown: list[str] = []
    monkeypatch.setattr(main_window.QMessageBox, "information", lambda _w, _t, text: shown.append(text))
    [item] = [a for a in window.menuBar().actions() if a.text() == "&Help"]
    [check] = [a for a in item.menu().actions() if a.text() == "Check the &database…"]
    check.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
    assert shown[0].startswith("The database is sound (schema version")


def test_a_flagged_sentence_is_named_in_words_and_the_review_shows_every_column(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QInputDialog, QLabel

    from copilot.ui.dialogs.review import ReviewDialog

    open_ticket(qtbot, window, 6)
    sentences = window.session.draft_sentences()
    monkeypatch.setattr(QInputDialog, "getItem", lambda *_a: (sentences[3], True))
    headings: list[str] = []

    def accept(dialog: FlagDialog) -> QDialog.DialogCode:
        headings.append(dialog.findChild(QLabel, "flaggedPart").text())
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(FlagDialog, "exec", accept)
    monkeypatch.setattr(FlagDialog, "values", lambda self: ("incorrect", "", ""))
    window.panel.flag_sentence_button.click()
    assert headings and headings[0].startswith("<b>Flag the draft reply, sentence 4 as wrong:</b>")
    assert "draft:sentence" not in headings[0] and sentences[3][:30] in headings[0]
    qtbot.waitUntil(lambda: bool(window.services.store.run_sync(list_flags, window.services.store.db, None)))

    window.open_review()
    dialog = window.findChild(ReviewDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and dialog.isVisible(), timeout=15_000)
    table = dialog.table
    assert table.item(0, 2).text() == "Draft reply, sentence 4"
    metrics = table.fontMetrics()
    for column in (0, 1, 2, 3, 5, 6):  # read whole at the dialog's default size; the flagged text takes the rest
        shown = (table.item(0, column).text(), table.horizontalHeaderItem(column).text())
        assert table.columnWidth(column) >= max(metrics.horizontalAdvance(t) for t in shown), shown
    assert table.horizontalScrollBar().maximum() == 0
    dialog.close()


def test_insert_link_keeps_a_space_from_the_text_beside_it(qtbot: QtBot, window: MainWindow) -> None:
    open_ticket(qtbot, window, 8)
    editor = window.panel.editor
    editor.moveCursor(editor.textCursor().MoveOperation.End)  # right after the signature's last word
    window.panel.insert_link.emit("change-order", "Change or cancel an order")
    qtbot.waitUntil(lambda: "change-order" in editor.toPlainText(), timeout=10_000)
    assert editor.toPlainText().endswith(
        "Sam Rivera Change or cancel an order: https://help.lumen-home.example/articles/change-order"
    )
    editor.moveCursor(editor.textCursor().MoveOperation.Start)  # right before "Hi": a space after the link
    window.panel.insert_link.emit("track-order", "Track your order")
    qtbot.waitUntil(lambda: "track-order" in editor.toPlainText(), timeout=10_000)
    assert editor.toPlainText().startswith("Track your order: https://help.lumen-home.example/articles/track-order Hi")


def test_a_small_edit_is_not_0_percent_and_an_empty_send_says_why(qtbot: QtBot, window: MainWindow) -> None:
    open_ticket(qtbot, window, 6)
    panel = window.panel
    assert len(panel.editor.toPlainText().split()) > 60  # one word more changes under 1% of it
    panel.editor.moveCursor(panel.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(panel.editor, " Thanks")
    panel.send_button.click()
    qtbot.waitUntil(lambda: "Reply sent" in window.statusBar().currentMessage(), timeout=15_000)
    assert "You changed less than 1% of the AI draft." in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.runner.idle and panel.editor.toPlainText() == "", timeout=15_000)
    panel.editor.setFocus()
    qtbot.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage().startswith("Nothing to send: the reply is empty.")
    assert not window.presenter.shown
