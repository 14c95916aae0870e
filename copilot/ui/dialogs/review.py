"""Team leads review flagged AI output: filter, read the provenance, resolve with an outcome."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import regression, review
from copilot.domain import OutputFlag
from copilot.services import Services
from copilot.store.outputs import FlagQuery
from copilot.store.regression import RegressionCase
from copilot.ui.runner import Runner

REVIEW_SET = "review"  # the regression set flags go to unless the lead names another


class ReviewDialog(QDialog):
    """Team leads review flags: filter by reason, engine/model and date; resolve each with an outcome."""

    open_ticket = Signal(int)  # double-click a flag to see its ticket

    def __init__(self, parent: QWidget | None, services: Services, runner: Runner) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.flags: list[OutputFlag] = []
        self.setWindowTitle("Review flagged AI output")
        self.setObjectName("reviewDialog")
        self.reason = QComboBox()
        self.reason.addItem("Any reason", "")
        for r in review.REASONS:
            self.reason.addItem(r.capitalize(), r)
        self.engine = QComboBox()
        self.engine.addItem("Any engine or model", "")
        self.period = QComboBox()
        for label, days in (("Any time", 0), ("Today", 1), ("Last 7 days", 7), ("Last 30 days", 30)):
            self.period.addItem(label, days)
        self.show_resolved = QComboBox()
        self.show_resolved.addItem("Open and resolved", True)
        self.show_resolved.addItem("Open only", False)
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(
            ["When", "Ticket", "Output", "Reason", "Flagged text", "Engine / model", "Outcome"]
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # short columns are read whole
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)  # the flagged text takes what is left
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)  # the detail shows one flag
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.detail = QLabel("Select a flag to see its details.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome = QComboBox()
        for o in review.OUTCOMES:
            self.outcome.addItem(o.capitalize(), o)
        self.resolve_button = QPushButton("Mark resolved")
        self.resolve_button.setEnabled(False)
        self.case_set = QComboBox()
        self.case_set.setEditable(True)
        self.case_set.setCurrentText(REVIEW_SET)
        self.case_set.setToolTip("The regression set the case goes to")
        self.case_button = QPushButton("Add to regression set")
        self.case_button.setToolTip("A resolved flag with a correction becomes a case every replay checks")
        self.case_button.setEnabled(False)
        self.try_button = QPushButton("Try a model or prompt…")
        for button in (self.resolve_button, self.case_button, self.try_button):
            button.setAutoDefault(False)  # Enter in the set's name must not resolve the selected flag
        self.empty = QLabel("No flags match. Flags appear here when someone marks an AI output as wrong (⚑).")
        self.empty.setObjectName("emptyState")

        filters = QHBoxLayout()
        for w in (self.reason, self.engine, self.period, self.show_resolved):
            filters.addWidget(w)
        filters.addStretch(1)
        resolve = QHBoxLayout()
        resolve.addWidget(QLabel("Outcome:"))
        resolve.addWidget(self.outcome)
        resolve.addWidget(self.resolve_button)
        resolve.addStretch(1)
        resolve.addWidget(self.case_set)
        resolve.addWidget(self.case_button)
        resolve.addWidget(self.try_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.detail)
        layout.addLayout(resolve)
        self.resize(1100, 560)

        for combo in (self.reason, self.engine, self.period, self.show_resolved):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_ticket.emit(self.flags[row].ticket_id))
        self.table.setToolTip("Double-click a flag to open its ticket")
        self.resolve_button.clicked.connect(self._resolve)
        self.case_button.clicked.connect(self._add_case)
        self.try_button.clicked.connect(self._try)
        self.runner.run(review.engines_and_models(services), self._fill_engines, "Loading review")
        self.reload()

    def _fill_engines(self, names: list[str]) -> None:
        for name in names:
            self.engine.addItem(name, name)

    def query(self) -> FlagQuery:
        days = int(self.period.currentData())
        since = (datetime.now(UTC) - timedelta(days=days - 1)).date().isoformat() if days else ""
        return FlagQuery(
            reason=str(self.reason.currentData()),
            engine_or_model=str(self.engine.currentData()),
            since=since,
            include_resolved=bool(self.show_resolved.currentData()),
        )

    def reload(self) -> None:
        self.runner.run(review.list_flags(self.services, self.query()), self._show, "Loading flags")

    def _show(self, flags: list[OutputFlag]) -> None:
        self.flags = flags
        self.table.setRowCount(len(flags))
        for i, f in enumerate(flags):
            cells = (
                f.created_at[:16].replace("T", " "),
                f"#{f.ticket_number}",
                review.flagged_part(f.task, f.target).removeprefix("the ").capitalize(),
                f.reason,
                f.target_text,
                f"{f.provenance.engine} / {f.provenance.model}",
                f"{f.outcome} ({f.resolved_by})" if f.is_resolved else "open",
            )
            for j, value in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(value))
        self.empty.setVisible(not flags)
        self._selected()

    def _current(self) -> OutputFlag | None:
        rows = self.table.selectionModel().selectedRows()
        return self.flags[rows[0].row()] if rows else None

    def _selected(self) -> None:
        f = self._current()
        self.resolve_button.setEnabled(f is not None and not f.is_resolved)
        self.case_button.setEnabled(f is not None and f.is_resolved and bool(f.correction.strip()))
        if f is None:
            self.detail.setText("Select a flag to see its details.")
            return
        p = f.provenance
        self.detail.setText(
            f"<b>{html.escape(f.reason.capitalize())}</b> by {html.escape(f.flagged_by)}: {html.escape(f.note or '(no note)')}"
            f"<br><b>Correction:</b> {html.escape(f.correction or '(none)')}"
            f"<br><b>Provenance:</b> output #{f.output_id}, {html.escape(p.engine)} / {html.escape(p.model)}, "
            f"prompt {html.escape(p.prompt_version)}, inputs {html.escape(p.inputs_hash)}"
        )

    def _resolve(self) -> None:
        f = self._current()
        if f is not None:
            outcome = str(self.outcome.currentData())
            self.runner.run(review.resolve_flag(self.services, f.id, outcome), lambda _r: self.reload(), "Resolving")

    def _add_case(self) -> None:
        f = self._current()
        name = self.case_set.currentText().strip() or REVIEW_SET
        if f is None:
            return

        def added(case: RegressionCase) -> None:
            self.detail.setText(
                f"Added ticket #{case.number} to '{html.escape(name)}' (version {case.version}): "
                f"{html.escape(', '.join(sorted(case.expect)) or 'no expectations')} will be checked by every replay."
            )

        self.runner.run(regression.add_flag_case(self.services, f.id, name), added, "Adding regression case")

    def _try(self) -> None:
        from copilot.ui.dialogs.replay import ReplayDialog

        ReplayDialog(self, self.services, self.runner).show()
