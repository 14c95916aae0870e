"""Where the knowledge base falls short: tickets that got "No good article", by topic."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import knowledge
from copilot.services import Services
from copilot.ui.runner import Runner


class GapsDialog(QDialog):
    """Where the knowledge base falls short: tickets that got "No good article", by topic (team leads).
    Double-click a row to open its newest ticket."""

    open_ticket_number = Signal(int)

    def __init__(self, parent: QWidget | None, services: Services, runner: Runner, workspace: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Gaps in the knowledge base")
        self.resize(820, 420)
        self.services, self.runner, self.workspace = services, runner, workspace
        self.summary = QLabel("Reading…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("gapsTable")
        self.table.setHorizontalHeaderLabels(["Topic", "Tickets", "Best match", "Newest tickets", "Shared words"])
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(self._open)
        self._first_ticket: list[int] = []
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.runner.run(knowledge.knowledge_gaps(services, workspace), self._show, "Reading knowledge gaps")

    def _show(self, gaps: list[knowledge.KnowledgeGap]) -> None:
        below = self.services.settings.suggest.min_confidence
        if not gaps:
            self.summary.setText(
                f"No gaps: every ticket the copilot has assisted had an article above {below:.0%}. "
                "Tickets show up here once the copilot has shown them “No good article”."
            )
        else:
            total = sum(g.tickets for g in gaps)
            self.summary.setText(
                f"{total} tickets had no article above {below:.0%}, in {len(gaps)} topics. A new or corrected "
                "article for the largest topic helps the most. Double-click a row to open its newest ticket."
            )
        self.table.setRowCount(len(gaps))
        self._first_ticket = []
        for i, gap in enumerate(gaps):
            examples = "; ".join(f"#{n} {subject}" for n, subject in gap.examples)
            values = [gap.topic, str(gap.tickets), f"{gap.best_confidence:.0%}", examples, ", ".join(gap.words)]
            for j, value in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(value))
            self._first_ticket.append(gap.examples[0][0] if gap.examples else 0)

    def _open(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._first_ticket) and self._first_ticket[row]:
            self.open_ticket_number.emit(self._first_ticket[row])
