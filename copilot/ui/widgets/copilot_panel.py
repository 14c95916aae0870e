"""The copilot panel for the selected ticket: summary, flags, triage, suggested articles and the draft."""

from __future__ import annotations

import html
from dataclasses import replace
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from copilot.domain import AssistResult, Summary, SummaryLine
from copilot.ui.widgets.panel_html import FLAG_TIP, SectionRenderer, routed_text
from copilot.ui.widgets.safe_browser import SafeBrowser

SUMMARY_REPAINT_MS = 80
PANEL_STYLE = """<style>
 p { margin: 2px 0 6px 0; } .acts { font-size: small; } .dim { color: #666666; }
 a { text-decoration: none; } .nogood { color: #8a4b00; }
</style>"""


def _tool(text: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    return button


class CopilotPanel(QWidget):
    flag_requested = Signal(str, str, str)  # task, target, text
    stop_generation = Signal()
    open_article = Signal(str)
    edit_article = Signal(str)
    insert_link = Signal(str, str)  # article id, title
    not_relevant = Signal(str)
    choose_article = Signal(str)  # "Use this article" (its id) or "Don't use" ("")
    regenerate = Signal(str)  # tone
    rewrite = Signal(str, str)  # "rewrite" and a tone, or "translate" and a language code
    send = Signal(bool, str)  # internal?, the status to set after it ("" keeps it)
    draft_edited = Signal(str)
    flag_sentence = Signal()
    set_name_requested = Signal()  # the agent wants to set the name drafts are signed with

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("copilot")
        self.result: AssistResult | None = None
        self._programmatic = False

        self.status = QLabel("Select a ticket to see the copilot.")
        self.status.setObjectName("copilotStatus")
        self.status.setWordWrap(True)
        # One rich-text document for all four sections: laying out one document is far cheaper than many
        # word-wrapped label widgets (measured: 30-45 ms GUI stalls with labels).
        self.view = SafeBrowser()
        self.view.setObjectName("copilotView")
        self.view.article_link.connect(self.open_article.emit)
        self.sections = SectionRenderer(
            self.flag_requested.emit,
            self.open_article.emit,
            self.insert_link.emit,
            self.edit_article.emit,
            self.not_relevant.emit,
            self.choose_article.emit,
        )
        self.view.other_link.connect(self.sections.run)

        self.draft_box = QGroupBox("Draft reply")
        self.tone = QComboBox()
        self.tone.setObjectName("tone")
        for tone in ("friendly", "concise", "formal"):
            self.tone.addItem(tone.capitalize(), tone)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopGeneration")
        self.stop_button.setShortcut("Esc")
        self.stop_button.hide()
        self.stop_button.clicked.connect(self.stop_generation.emit)
        self.regen_button = QPushButton("Regenerate")
        self.regen_button.setToolTip("Draft again in the chosen tone (Ctrl+R); Ctrl+Z brings your text back")
        self.rewrite_button = _tool("Rewrite")
        self.rewrite_button.setObjectName("rewriteButton")
        self.rewrite_button.setToolTip("Rewrite your reply in another tone, or translate it, with a model")
        self.rewrite_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.rewrite_menu = QMenu(self.rewrite_button)
        for tone in ("friendly", "concise", "formal"):
            act = self.rewrite_menu.addAction(f"Rewrite in a {tone} tone")
            act.triggered.connect(partial(self.rewrite.emit, "rewrite", tone))
        self.rewrite_menu.addSeparator()
        self.translate_customer = self.rewrite_menu.addAction("Translate into the customer's language")
        self.translate_customer.triggered.connect(lambda: self.rewrite.emit("translate", self._customer_language()))
        for code, name in (("en", "English"), ("es", "Spanish"), ("de", "German"), ("fr", "French")):
            act = self.rewrite_menu.addAction(f"Translate into {name}")
            act.triggered.connect(partial(self.rewrite.emit, "translate", code))
        self.rewrite_button.setMenu(self.rewrite_menu)
        self.flag_sentence_button = _tool("⚑ Flag a sentence…")
        self.flag_sentence_button.setToolTip(FLAG_TIP)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("draftEditor")
        self.editor.setPlaceholderText("The draft reply appears here. Edit it freely: it is saved as you type.")
        self.citations = QLabel()
        self.citations.setObjectName("citations")
        self.citations.setWordWrap(True)
        self.citations.setTextFormat(Qt.TextFormat.RichText)
        self.citations.linkActivated.connect(lambda link: self.open_article.emit(link.removeprefix("article:")))
        self.draft_meta = QLabel()
        self.draft_meta.setObjectName("draftMeta")
        self.draft_meta.setWordWrap(True)  # a note for the agent is a sentence or two: never wider than the panel
        self.signer = QLabel()  # shown only while drafts are signed with the computer's user name
        self.signer.setObjectName("signerNote")
        self.signer.setWordWrap(True)
        self.signer.setTextFormat(Qt.TextFormat.RichText)
        self.signer.linkActivated.connect(lambda _link: self.set_name_requested.emit())
        self.signer.hide()
        self.saved = QLabel()
        self.saved.setObjectName("savedIndicator")
        self.send_button = QPushButton("Send reply")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send to the customer (Ctrl+Enter)")
        self.note_button = QPushButton("Add as internal note")
        self.note_button.setToolTip("Only agents see it (Ctrl+Shift+Enter)")
        # Send and set the status in one step (Zendesk's keys): pending waits for the customer, solved closes it.
        self.send_status_button = _tool("Send and set…")
        self.send_status_button.setObjectName("sendStatusButton")
        self.send_status_button.setToolTip("Send the reply, then set the ticket's status")
        self.send_status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.send_status_menu = QMenu(self.send_status_button)
        for status, word, keys in (("pending", "pending", "Ctrl+Alt+P"), ("resolved", "solved", "Ctrl+Alt+S"),
                                   ("open", "open", "Ctrl+Alt+O")):  # fmt: skip
            act = self.send_status_menu.addAction(f"Send and set {word}")
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(partial(self.send.emit, False, status))
            self.addAction(act)  # the keys work anywhere in the panel, the menu closed
        self.send_status_button.setMenu(self.send_status_menu)

        top = QHBoxLayout()
        top.addWidget(QLabel("Tone:"))
        top.addWidget(self.tone)
        top.addWidget(self.regen_button)
        top.addWidget(self.rewrite_button)
        top.addWidget(self.stop_button)
        top.addStretch(1)
        top.addWidget(self.flag_sentence_button)
        actions = QHBoxLayout()
        actions.addWidget(self.saved)
        actions.addStretch(1)
        actions.addWidget(self.note_button)
        actions.addWidget(self.send_button)
        actions.addWidget(self.send_status_button)
        draft_layout = QVBoxLayout(self.draft_box)
        draft_layout.addLayout(top)
        draft_layout.addWidget(self.editor, 1)
        draft_layout.addWidget(self.citations)
        draft_layout.addWidget(self.draft_meta)
        draft_layout.addWidget(self.signer)
        draft_layout.addLayout(actions)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 5)
        layout.addWidget(self.draft_box, 4)

        self.regen_button.clicked.connect(lambda: self.regenerate.emit(self.current_tone()))
        self.tone.activated.connect(lambda _i: self.regenerate.emit(self.current_tone()))
        self.send_button.clicked.connect(lambda: self.send.emit(False, ""))
        self.note_button.clicked.connect(lambda: self.send.emit(True, ""))
        self.flag_sentence_button.clicked.connect(self.flag_sentence.emit)
        self.editor.textChanged.connect(self._edited)
        for keys, internal in (("Ctrl+Return", False), ("Ctrl+Shift+Return", True)):
            shortcut = QShortcut(QKeySequence(keys), self.editor)
            shortcut.activated.connect(lambda internal=internal: self.send.emit(internal, ""))
        self._send_blocked = ""  # why nothing can be sent from this workspace ("" when it can)
        self._send_tips = {w: w.toolTip() for w in self._send_widgets()}
        self.set_enabled(False)
        self._min_confidence = 0.0
        self._summary_stream = ""
        self._summary_timer = QTimer(self, singleShot=True, interval=SUMMARY_REPAINT_MS)
        self._summary_timer.timeout.connect(self._paint_summary_stream)

    def _customer_language(self) -> str:
        return (self.result.ticket.language or "en") if self.result is not None else "en"

    def current_tone(self) -> str:
        return str(self.tone.currentData())

    def _send_widgets(self) -> tuple[QWidget, ...]:
        return (self.send_button, self.note_button, self.send_status_button)

    def set_enabled(self, enabled: bool) -> None:
        for w in (self.editor, self.regen_button, self.rewrite_button, self.tone, self.flag_sentence_button):
            w.setEnabled(enabled)
        for button in self._send_widgets():
            button.setEnabled(enabled and not self._send_blocked)
        for act in self.send_status_menu.actions():  # their keys too
            act.setEnabled(not self._send_blocked)

    def set_send_blocked(self, reason: str) -> None:
        """No help desk behind the workspace: the Send controls are disabled, their tooltip says why; the
        draft is still edited and saved here. An empty reason enables them again."""
        self._send_blocked = reason
        for w in self._send_widgets():
            w.setToolTip(reason or self._send_tips[w])
        self.set_enabled(self.editor.isEnabled())

    def set_guessed_signer(self, name: str) -> None:
        """Drafts are signed with `name`, the computer's user name, because the agent's name is not set: say so
        with a link to set it. "" hides the note (the name is set, or the help desk names the agent)."""
        self.signer.setVisible(bool(name))
        self.signer.setText(
            f"Signed as '{html.escape(name)}' (this computer's user name). "
            "<a href='set-name'>Set your name</a> (File → Preferences → Your name)."
            if name
            else ""
        )

    def set_empty_kb(self, note: str) -> None:
        """What the suggestions section says when the workspace's knowledge base has no article at all."""
        self.sections.empty_kb_note = note

    def show_loading(self, text: str) -> None:
        self.status.setText(text)

    def show_result(self, result: AssistResult, min_confidence: float, draft_meta: bool = True) -> None:
        """Show every output; `draft_meta=False` keeps the citations of the draft the agent is editing."""
        self.result = result
        self._min_confidence = min_confidence
        self._summary_stream = ""
        self._summary_timer.stop()
        self.status.setText(
            f"<b>Copilot</b> · {html.escape(routed_text(result, 'summary'))} · sentiment: {result.sentiment}"
        )
        body = self.sections.render(result, min_confidence)
        scroll = self.view.verticalScrollBar().value()
        self.view.setHtml(PANEL_STYLE + body)
        self.view.verticalScrollBar().setValue(scroll)
        if draft_meta:
            self.show_draft_meta(result)
        self.set_enabled(True)

    def show_draft_meta(self, result: AssistResult) -> None:
        """The sources and maker of the draft in the editor."""
        d = result.draft
        cites = " · ".join(
            f"[{c.number}] <a href='article:{html.escape(c.article_id)}'>{html.escape(c.title)}</a> (v{c.article_version})"
            for c in d.citations
        )
        self.citations.setText(f"Sources: {cites}" if cites else "<i>No source article: the draft says so.</i>")
        self.draft_meta.setText(
            f"Drafted {html.escape(routed_text(result, 'draft'))} · language {d.language} · tone {d.tone}"
            + (f"<br><b>{html.escape(d.note)}</b>" if d.note else "")
        )

    def set_tone(self, tone: str) -> None:
        index = self.tone.findData(tone)
        if index >= 0:
            self.tone.setCurrentIndex(index)

    def set_draft_text(self, text: str) -> None:
        """Replace the draft as one undoable edit, without counting as the agent's typing."""
        self._programmatic = True
        try:
            cursor = self.editor.textCursor()
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.insertText(text)
            self.editor.moveCursor(QTextCursor.MoveOperation.Start)
        finally:
            self._programmatic = False

    def load_draft_text(self, text: str) -> None:
        """Show a ticket's draft fresh, with an empty undo history (switching tickets is not an edit)."""
        self._programmatic = True
        try:
            self.editor.setPlainText(text)
        finally:
            self._programmatic = False

    def stream_piece(self, piece: str, first: bool) -> None:
        """A model's draft arriving piece by piece (not the agent's typing; one undo step per stream)."""
        self._programmatic = True
        try:
            cursor = self.editor.textCursor()
            # The first piece opens an edit block and every later one joins it: the whole stream, with the text
            # it replaced, is a single Ctrl+Z.
            if first:
                cursor.beginEditBlock()
                cursor.select(QTextCursor.SelectionType.Document)
                cursor.removeSelectedText()
            else:
                cursor.joinPreviousEditBlock()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(piece)
            cursor.endEditBlock()
        finally:
            self._programmatic = False

    def stream_summary(self, lines: str) -> None:
        """A model's summary so far ("Wants: …" lines). Repainted at most every SUMMARY_REPAINT_MS, so a fast
        stream does not re-lay out the whole panel for every token."""
        self._summary_stream = lines
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def _paint_summary_stream(self) -> None:
        if self.result is None or not self._summary_stream:
            return
        parsed = [line.partition(": ") for line in self._summary_stream.splitlines()]
        summary = Summary(tuple(SummaryLine(label, text) for label, _sep, text in parsed))
        streaming = replace(self.result, summary=summary)
        text = self._summary_stream
        self.show_result(streaming, self._min_confidence, draft_meta=False)
        self.result = streaming
        self._summary_stream = text
        self.status.setText("<b>Copilot</b> · a model is writing the summary…")

    def set_generating(self, generating: bool) -> None:
        self.stop_button.setVisible(generating)
        if generating:
            self.draft_meta.setText("A model is writing the draft… (Esc or Stop keeps the built-in draft)")

    def insert_text(self, text: str) -> None:
        """Insert at the cursor (a link to an article) and go on typing there; a space keeps it apart from a word
        right before or after the cursor."""
        cursor = self.editor.textCursor()
        document = self.editor.document()
        before = document.characterAt(cursor.selectionStart() - 1) if cursor.selectionStart() > 0 else ""
        after = document.characterAt(cursor.selectionEnd())
        spaced = (" " if before and not before.isspace() else "") + text
        spaced += " " if after and not after.isspace() else ""  # the document's end reads as a paragraph mark
        cursor.insertText(spaced)
        self.editor.setFocus()

    def _edited(self) -> None:
        if not self._programmatic:
            self.draft_edited.emit(self.editor.toPlainText())

    def text(self) -> str:
        """What the panel shows, as plain text (for tests and accessibility checks)."""
        return self.view.toPlainText()

    def set_draft_note(self, text: str) -> None:
        self.draft_meta.setText(text)

    def set_save_state(self, text: str) -> None:
        self.saved.setText(text)

    def clear(self) -> None:
        self.result = None
        self._summary_stream = ""
        self._summary_timer.stop()
        self.sections.actions = []
        self.view.clear()
        self.load_draft_text("")
        self.citations.setText("")
        self.draft_meta.setText("")
        self.saved.setText("")
        self.status.setText("Select a ticket to see the copilot.")
        self.set_enabled(False)
