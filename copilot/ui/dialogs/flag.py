"""Flag one AI output (or part of it) as incorrect, unsupported or outdated."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from copilot.assist import review


class FlagDialog(QDialog):
    """Flag one AI output (or part of it) as incorrect, unsupported or outdated."""

    def __init__(self, parent: QWidget | None, what: str, text: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Flag AI output")
        self.setObjectName("flagDialog")
        self.reason = QComboBox()
        for r in review.REASONS:
            self.reason.addItem(r.capitalize(), r)
        self.note = QLineEdit(placeholderText="What is wrong? e.g. 'the refund window is 30 days now'")
        self.correction = QPlainTextEdit()
        self.correction.setPlaceholderText("Optional: what it should have said")
        self.correction.setMaximumHeight(90)
        quoted = QLabel(f"<b>{html.escape(what)}</b><br><i>“{html.escape(text[:400])}”</i>")
        quoted.setObjectName("flaggedPart")
        quoted.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Flag")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(quoted)
        form.addRow("Reason", self.reason)
        form.addRow("Note", self.note)
        form.addRow("Correction", self.correction)
        form.addRow(buttons)
        self.resize(480, 300)

    def values(self) -> tuple[str, str, str]:
        return str(self.reason.currentData()), self.note.text(), self.correction.toPlainText()
