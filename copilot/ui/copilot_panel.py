"""The copilot panel for the selected ticket: summary, flags, triage, suggested articles and the draft."""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from copilot.domain.models import AssistResult, Provenance
from copilot.render import highlight

FLAG_TIP = "Flag this as wrong: incorrect, unsupported or outdated"


def _clear(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget: QWidget | None = item.widget()
        child: QLayout | None = item.layout()
        if widget is not None:
            widget.deleteLater()
        elif child is not None:
            _clear(child)


def _label(text: str, object_name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    if object_name:
        label.setObjectName(object_name)
    return label


def _tool(text: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    return button


def provenance_text(prov: Provenance | None) -> str:
    if prov is None:
        return ""
    return f"by {prov.engine} · {prov.model} · {prov.prompt_version}"


class CopilotPanel(QWidget):
    flag_requested = Signal(str, str, str)  # task, target, text
    open_article = Signal(str)
    edit_article = Signal(str)
    insert_link = Signal(str, str)  # article id, title
    not_relevant = Signal(str)
    regenerate = Signal(str)  # tone
    send = Signal(bool)  # internal?
    draft_edited = Signal(str)
    flag_sentence = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("copilot")
        self.result: AssistResult | None = None
        self._programmatic = False

        self.status = QLabel("Select a ticket to see the copilot.")
        self.status.setObjectName("copilotStatus")
        self.status.setWordWrap(True)
        self.summary_box, self.summary_layout = self._section("Summary")
        self.flags_box, self.flags_layout = self._section("Flags")
        self.triage_box, self.triage_layout = self._section("Triage")
        self.articles_box, self.articles_layout = self._section("Suggested articles")

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        for box in (self.summary_box, self.flags_box, self.triage_box, self.articles_box):
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)

        self.draft_box = QGroupBox("Draft reply")
        self.tone = QComboBox()
        self.tone.setObjectName("tone")
        for tone in ("friendly", "concise", "formal"):
            self.tone.addItem(tone.capitalize(), tone)
        self.regen_button = QPushButton("Regenerate")
        self.regen_button.setToolTip("Draft again in the chosen tone (Ctrl+R); Ctrl+Z brings your text back")
        self.flag_sentence_button = _tool("⚑ Flag a sentence…")
        self.flag_sentence_button.setToolTip(FLAG_TIP)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("draftEditor")
        self.editor.setPlaceholderText("The draft reply appears here. Edit it freely: it is saved as you type.")
        self.citations = _label("", "citations")
        self.citations.linkActivated.connect(lambda link: self.open_article.emit(link.removeprefix("article:")))
        self.draft_meta = QLabel()
        self.draft_meta.setObjectName("draftMeta")
        self.saved = QLabel()
        self.saved.setObjectName("savedIndicator")
        self.send_button = QPushButton("Send reply")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send to the customer (Ctrl+Enter)")
        self.note_button = QPushButton("Add as internal note")
        self.note_button.setToolTip("Only agents see it (Ctrl+Shift+Enter)")

        top = QHBoxLayout()
        top.addWidget(QLabel("Tone:"))
        top.addWidget(self.tone)
        top.addWidget(self.regen_button)
        top.addStretch(1)
        top.addWidget(self.flag_sentence_button)
        actions = QHBoxLayout()
        actions.addWidget(self.saved)
        actions.addStretch(1)
        actions.addWidget(self.note_button)
        actions.addWidget(self.send_button)
        draft_layout = QVBoxLayout(self.draft_box)
        draft_layout.addLayout(top)
        draft_layout.addWidget(self.editor, 1)
        draft_layout.addWidget(self.citations)
        draft_layout.addWidget(self.draft_meta)
        draft_layout.addLayout(actions)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 5)
        layout.addWidget(self.draft_box, 4)

        self.regen_button.clicked.connect(lambda: self.regenerate.emit(self.current_tone()))
        self.tone.activated.connect(lambda _i: self.regenerate.emit(self.current_tone()))
        self.send_button.clicked.connect(lambda: self.send.emit(False))
        self.note_button.clicked.connect(lambda: self.send.emit(True))
        self.flag_sentence_button.clicked.connect(self.flag_sentence.emit)
        self.editor.textChanged.connect(self._edited)
        for keys, internal in (("Ctrl+Return", False), ("Ctrl+Shift+Return", True)):
            shortcut = QShortcut(QKeySequence(keys), self.editor)
            shortcut.activated.connect(lambda internal=internal: self.send.emit(internal))
        self.set_enabled(False)

    def _section(self, title: str) -> tuple[QGroupBox, QVBoxLayout]:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        layout.setSpacing(4)
        return box, layout

    def _item(self, layout: QVBoxLayout, text: str, actions: list[tuple[str, str, Callable[[], None]]]) -> QLabel:
        """One rich-text item with its actions as inline links (a wrapped QLabel in a VBox sizes correctly)."""
        links = " ".join(
            f"<a href='act:{i}' title='{html.escape(tip)}' style='text-decoration:none'>{html.escape(caption)}</a>"
            for i, (caption, tip, _fn) in enumerate(actions)
        )
        label = _label(f"{text}<br><span style='font-size:small'>{links}</span>" if actions else text)
        callbacks = [fn for _c, _t, fn in actions]

        def activated(link: str) -> None:
            if link.startswith("act:"):
                callbacks[int(link[4:])]()
            elif link.startswith("article:"):
                self.open_article.emit(link.removeprefix("article:"))

        label.linkActivated.connect(activated)
        label.setProperty("actions", [c for c, _t, _f in actions])
        layout.addWidget(label)
        return label

    def _flag(self, task: str, target: str, text: str) -> tuple[str, str, Callable[[], None]]:
        return ("⚑ Flag", FLAG_TIP, lambda: self.flag_requested.emit(task, target, text))

    def current_tone(self) -> str:
        return str(self.tone.currentData())

    def set_enabled(self, enabled: bool) -> None:
        for w in (
            self.editor,
            self.send_button,
            self.note_button,
            self.regen_button,
            self.tone,
            self.flag_sentence_button,
        ):
            w.setEnabled(enabled)

    def show_loading(self, text: str) -> None:
        self.status.setText(text)

    def show_result(self, result: AssistResult, min_confidence: float) -> None:
        self.result = result
        prov = result.provenance
        self.status.setText(
            f"<b>Copilot</b> · {html.escape(provenance_text(prov.get('summary')))} · sentiment: {result.sentiment}"
        )
        self._show_summary(result)
        self._show_flags(result)
        self._show_triage(result)
        self._show_articles(result, min_confidence)
        self._show_draft_meta(result)
        self.set_enabled(True)

    def _show_summary(self, result: AssistResult) -> None:
        _clear(self.summary_layout)
        for i, line in enumerate(result.summary.lines):
            text = f"<b>{html.escape(line.label)}:</b> {html.escape(line.text)}"
            self._item(self.summary_layout, text, [self._flag("summary", f"summary:{i}", line.text)])

    def _show_flags(self, result: AssistResult) -> None:
        _clear(self.flags_layout)
        if not result.flags:
            self.flags_layout.addWidget(_label("<i>No flags: calm tone, nothing urgent.</i>", "noFlags"))
        for f in result.flags:
            color = "#c62828" if f.severity >= 3 else "#ef6c00" if f.severity == 2 else "#555"
            text = (
                f"<span style='color:{color}'><b>{html.escape(f.label)}</b></span> — {html.escape(f.reason)}<br>"
                f"<i>“{html.escape(f.evidence)}”</i>"
            )
            self._item(self.flags_layout, text, [self._flag("signals", f"flag:{f.kind}", f"{f.label}: {f.evidence}")])

    def _show_triage(self, result: AssistResult) -> None:
        _clear(self.triage_layout)
        t = result.triage
        similar = ", ".join(f"#{n}" for n, _label_, _sim in t.neighbours[:3])
        text = (
            f"<b>Intent:</b> {html.escape(t.intent or 'unknown (no labelled history yet)')} ({t.confidence:.0%})"
            f" · <b>Priority:</b> {t.priority} <span style='color:#555'>({html.escape(t.priority_reason)})</span><br>"
            f"<b>Tags:</b> {html.escape(', '.join(t.tags) or 'none')}"
            + (f"<br><span style='color:#555'>Like earlier tickets {similar}</span>" if similar else "")
        )
        self._item(self.triage_layout, text, [self._flag("triage", "triage", f"{t.intent} / {t.priority}")])

    def _show_articles(self, result: AssistResult, min_confidence: float) -> None:
        _clear(self.articles_layout)
        if not result.suggestions or result.suggestions[0].confidence < min_confidence:
            self.articles_layout.addWidget(
                _label(
                    "<b>No good article for this ticket.</b> The draft says so instead of guessing; "
                    "consider writing one.",
                    "noGoodArticle",
                )
            )
        for s in result.suggestions:
            weak = s.confidence < min_confidence
            title = f"<a href='article:{html.escape(s.article_id)}'>{html.escape(s.title)}</a>"
            text = (
                f"{title} <span style='color:{'#999' if weak else '#2e7d32'}'>{s.confidence:.0%}"
                f"{' (weak)' if weak else ''}</span><br><span style='color:#333'>{highlight(s.passage, s.highlights)}</span>"
            )
            aid, title_text = s.article_id, s.title
            actions: list[tuple[str, str, Callable[[], None]]] = [
                ("Open", "Read the article", partial(self.open_article.emit, aid)),
                (
                    "Insert link",
                    "Insert a link to this article into the draft",
                    partial(self.insert_link.emit, aid, title_text),
                ),
                (
                    "Edit",
                    "Correct this article: a new version the copilot uses at once",
                    partial(self.edit_article.emit, aid),
                ),
                ("Not relevant", "Hide it for this ticket", partial(self.not_relevant.emit, aid)),
                self._flag("suggestions", f"article:{aid}", title_text),
            ]
            self._item(self.articles_layout, text, actions)

    def _show_draft_meta(self, result: AssistResult) -> None:
        d = result.draft
        cites = " · ".join(
            f"[{c.number}] <a href='article:{html.escape(c.article_id)}'>{html.escape(c.title)}</a> (v{c.article_version})"
            for c in d.citations
        )
        self.citations.setText(f"Sources: {cites}" if cites else "<i>No source article: the draft says so.</i>")
        self.draft_meta.setText(
            f"Drafted {provenance_text(result.provenance.get('draft'))} · language {d.language} · tone {d.tone}"
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

    def insert_text(self, text: str) -> None:
        self.editor.textCursor().insertText(text)

    def _edited(self) -> None:
        if not self._programmatic:
            self.draft_edited.emit(self.editor.toPlainText())

    def clear(self) -> None:
        self.result = None
        for layout in (self.summary_layout, self.flags_layout, self.triage_layout, self.articles_layout):
            _clear(layout)
        self.load_draft_text("")
        self.citations.setText("")
        self.draft_meta.setText("")
        self.saved.setText("")
        self.status.setText("Select a ticket to see the copilot.")
        self.set_enabled(False)
