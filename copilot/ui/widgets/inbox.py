"""The inbox: tickets with badges, instant full-text search, filters and keyboard navigation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from copilot.domain.inbox import InboxFilter, InboxRow

COLUMNS = ("", "#", "Subject", "Customer", "Age", "Status")
SENTIMENT_BADGE = {"negative": "☹", "positive": "☺", "neutral": ""}


def age_text(iso: str, now: datetime | None = None) -> str:
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    seconds = max(0.0, ((now or datetime.now(UTC)) - then).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


class InboxModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[InboxRow] = []

    def set_rows(self, rows: list[InboxRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                badges = ("⚠" if row.urgent else "") + SENTIMENT_BADGE.get(row.sentiment, "")
                return badges + (" ✎" if row.has_draft else "")
            return (str(row.number), row.subject, row.customer, age_text(row.updated_at), row.status)[col - 1]
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [f"Sentiment: {row.sentiment or 'not analysed yet'}"]
            if row.flags:
                parts.append("Flags: " + ", ".join(row.flags))
            if row.has_draft:
                parts.append("You have an unsent draft")
            return "\n".join(parts)
        if role == Qt.ItemDataRole.ForegroundRole and col == 0 and row.urgent:
            return QBrush(QColor("#c62828"))
        if role == Qt.ItemDataRole.UserRole:
            return row.ticket_id
        return None


class InboxPane(QWidget):
    ticket_selected = Signal(int)
    filter_changed = Signal(object)  # InboxFilter

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("inbox")
        self.search = QLineEdit(placeholderText="Search tickets (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.addItem("Any status", "")
        for s in ("new", "open", "pending", "resolved"):
            self.status.addItem(s.capitalize(), s)
        self.urgent = QCheckBox("Urgent")
        self.with_draft = QCheckBox("Has draft")
        self.table = QTableView()
        self.model = InboxModel()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 40), (1, 32), (3, 104), (4, 36), (5, 58)):
            self.table.setColumnWidth(col, width)
        self.empty = QLabel("No tickets match. Clear the search or the filters.")
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.count = QLabel()

        filters = QHBoxLayout()
        for w in (self.status, self.urgent, self.with_draft):
            filters.addWidget(w)
        filters.addStretch(1)
        filters.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)

        self._debounce = QTimer(self, singleShot=True, interval=120)
        self._debounce.timeout.connect(self._emit_filter)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.status.currentIndexChanged.connect(lambda _i: self._emit_filter())
        self.urgent.toggled.connect(lambda _b: self._emit_filter())
        self.with_draft.toggled.connect(lambda _b: self._emit_filter())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.search.returnPressed.connect(self.table.setFocus)

    def current_filter(self) -> InboxFilter:
        return InboxFilter(
            query=self.search.text(),
            status=str(self.status.currentData()),
            urgent_only=self.urgent.isChecked(),
            with_draft_only=self.with_draft.isChecked(),
        )

    def _emit_filter(self) -> None:
        self.filter_changed.emit(self.current_filter())

    def set_rows(self, rows: list[InboxRow], keep_ticket: int | None) -> None:
        blocker = self.table.selectionModel().blockSignals(True)
        self.model.set_rows(rows)
        self.table.selectionModel().blockSignals(blocker)
        self.count.setText(f"{len(rows)} ticket{'s' if len(rows) != 1 else ''}")
        self.empty.setVisible(not rows)
        if keep_ticket is not None:
            for i, r in enumerate(rows):
                if r.ticket_id == keep_ticket:
                    self.table.selectionModel().blockSignals(True)
                    self.table.selectRow(i)
                    self.table.selectionModel().blockSignals(blocker)
                    break

    def select_row(self, row: int) -> None:
        """Make the row current (which announces the ticket) and selected."""
        if 0 <= row < len(self.model.rows):
            self.table.setCurrentIndex(self.model.index(row, 2))
            self.table.selectRow(row)

    def select_first(self) -> None:
        self.select_row(0)

    def select_ticket(self, ticket_id: int) -> bool:
        for i, r in enumerate(self.model.rows):
            if r.ticket_id == ticket_id:
                self.select_row(i)
                return True
        return False

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.ticket_selected.emit(self.model.rows[current.row()].ticket_id)
