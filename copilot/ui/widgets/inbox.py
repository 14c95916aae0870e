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

from copilot.domain.inbox import InboxFilter, InboxPage, InboxRow

COLUMNS = ("", "#", "Subject", "Customer", "Age", "Status")
ROLES = frozenset(
    (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.UserRole)
)
FILTERED_EMPTY = "No tickets match. Clear the search or the filters."
NOTHING_YET = "No tickets here yet. Workspace → Sync now (F5) fetches them from the help desk."
PAGE = 100  # rows read from the store at a time as the table scrolls
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
    """The tickets under the filter, fetched as the table needs them (Qt's canFetchMore/fetchMore).

    It starts with the first rows (`set_page`); scrolling to their end asks for the ids of all (`ids_wanted`,
    answered with `extend_ids`), and a row not read yet paints blank and asks for its page (`rows_wanted`,
    answered with `add_rows`)."""

    rows_wanted = Signal(list)  # ticket ids whose rows the table needs
    ids_wanted = Signal()  # the ids of every ticket under the filter

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[int] = []
        self._rows: dict[int, InboxRow] = {}
        self._position: dict[int, int] = {}  # ticket id -> row
        self._asked: set[int] = set()  # pages asked for and not yet here
        self._wanted: set[int] = set()  # pages to ask for once this paint is over
        self.total = 0  # tickets under the filter, the rows not fetched yet included
        self._ids_asked = False
        self._ask = QTimer(self, singleShot=True, interval=0)
        self._ask.timeout.connect(self._ask_now)

    def set_page(self, page: InboxPage) -> None:
        self.beginResetModel()
        self.ids = list(page.ids)
        self.total = page.total
        self._ids_asked = False
        self._position = {tid: i for i, tid in enumerate(self.ids)}
        self._rows = {r.ticket_id: r for r in page.rows}
        self._asked.clear()
        self._wanted.clear()
        self.endResetModel()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not parent.isValid() and len(self.ids) < self.total and not self._ids_asked

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        if self.canFetchMore(parent):
            self._ids_asked = True
            self.ids_wanted.emit()

    def extend_ids(self, ids: list[int]) -> None:
        """Every id under the filter has arrived: the rows after the head follow it."""
        head = len(self.ids)
        if ids[:head] != self.ids:  # the inbox changed in between: start again from these ids
            rows = self._rows
            self.set_page(InboxPage(tuple(ids), tuple(rows[t] for t in ids[:PAGE] if t in rows), len(ids)))
            return
        self.total = len(ids)
        if len(ids) > head:
            self.beginInsertRows(QModelIndex(), head, len(ids) - 1)
            self.ids = ids
            self._position.update((t, i) for i, t in enumerate(ids[head:], head))
            self.endInsertRows()

    def add_rows(self, rows: list[InboxRow]) -> None:
        """Rows asked for have arrived: show them."""
        changed = []
        for r in rows:
            i = self._position.get(r.ticket_id)
            if i is not None:
                self._rows[r.ticket_id] = r
                changed.append(i)
        self._asked.clear()  # what did not come (a ticket gone meanwhile) may be asked for again
        if changed:
            last = len(COLUMNS) - 1
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), last))

    def row_at(self, row: int) -> InboxRow | None:
        """The row's ticket, or None while its page is still being read."""
        return self._rows.get(self.ids[row]) if 0 <= row < len(self.ids) else None

    def row_of(self, ticket_id: int) -> int | None:
        return self._position.get(ticket_id)

    def loaded_rows(self) -> list[InboxRow]:
        """The rows read so far, in inbox order."""
        return [self._rows[t] for t in self.ids if t in self._rows]

    def _want(self, row: int) -> None:
        page = row // PAGE
        if page not in self._asked and page not in self._wanted:
            self._wanted.add(page)
            self._ask.start()

    def _ask_now(self) -> None:
        ids: list[int] = []
        for page in sorted(self._wanted):
            ids.extend(t for t in self.ids[page * PAGE : (page + 1) * PAGE] if t not in self._rows)
        self._asked |= self._wanted
        self._wanted.clear()
        if ids:
            self.rows_wanted.emit(ids)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in ROLES or not index.isValid():
            return None  # the view asks a dozen roles per cell on every paint: answer the others at once
        if role == Qt.ItemDataRole.UserRole:
            return self.ids[index.row()]
        row = self._rows.get(self.ids[index.row()])
        if row is None:
            if role == Qt.ItemDataRole.DisplayRole:
                self._want(index.row())
            return None
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
        return None


class InboxPane(QWidget):
    ticket_selected = Signal(int)
    filter_changed = Signal(object)  # InboxFilter
    rows_wanted = Signal(list)  # ticket ids whose rows are about to be shown: answer with add_rows
    ids_wanted = Signal()  # the table scrolled past the first rows: answer with extend_ids

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
        self.model.rows_wanted.connect(self.rows_wanted)
        self.model.ids_wanted.connect(self.ids_wanted)
        self._keep: int | None = None  # the open ticket, to select once the ids past the head arrive
        self._scroll_back = 0  # where the agent had scrolled to before a refresh, to return to
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
        self.empty = QLabel(FILTERED_EMPTY)
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

    def set_rows(self, page: InboxPage, keep_ticket: int | None) -> None:
        scrolled = self.table.verticalScrollBar().value()
        blocker = self.table.selectionModel().blockSignals(True)
        self.model.set_page(page)
        self.table.selectionModel().blockSignals(blocker)
        self._scroll_back = 0
        if scrolled and self.model.canFetchMore(QModelIndex()):  # the agent was further down: stay there
            self._scroll_back = scrolled
            self.model.fetchMore(QModelIndex())
        n = page.total
        self.count.setText(f"{n:,} ticket{'s' if n != 1 else ''}")
        filtered = self.current_filter() != InboxFilter()
        self.empty.setText(FILTERED_EMPTY if filtered else NOTHING_YET)
        self.empty.setVisible(not n)
        self._keep = keep_ticket
        self._show_kept()

    def _show_kept(self) -> None:
        row = self.model.row_of(self._keep) if self._keep is not None else None
        if row is not None:
            self._keep = None
            blocker = self.table.selectionModel().blockSignals(True)
            self.table.selectRow(row)
            self.table.selectionModel().blockSignals(blocker)

    def extend_ids(self, ids: list[int]) -> None:
        self.model.extend_ids(ids)
        self._show_kept()
        if self._scroll_back:
            self.table.updateGeometries()  # the scroll bar's new range, before going back down
            self.table.verticalScrollBar().setValue(self._scroll_back)
            self._scroll_back = 0

    def add_rows(self, rows: list[InboxRow]) -> None:
        self.model.add_rows(rows)

    def select_row(self, row: int) -> None:
        """Make the row current (which announces the ticket) and selected."""
        if 0 <= row < self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(row, 2))
            self.table.selectRow(row)

    def select_first(self) -> None:
        self.select_row(0)

    def select_ticket(self, ticket_id: int) -> bool:
        """Select the ticket if the inbox lists it among the rows fetched so far."""
        row = self.model.row_of(ticket_id)
        if row is None:
            return False
        self.select_row(row)
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.ticket_selected.emit(self.model.ids[current.row()])
