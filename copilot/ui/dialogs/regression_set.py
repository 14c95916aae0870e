"""Review → Regression set…: a set's cases (ticket, expectations, where each came from) with a form to edit a
case's expectations; delete with undo. Each change is a new version of the case in the store."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import regression
from copilot.assist.regression import Expectations
from copilot.errors import as_copilot_error
from copilot.services import Services
from copilot.store.regression import RegressionCase
from copilot.ui.runner import Runner

NOT_CHECKED, CITE, NO_ARTICLE = "not checked", "cite", "no article"


class RegressionSetDialog(QDialog):
    """Pick a set; select a case to edit what a good answer must and must not do."""

    def __init__(self, parent: QWidget | None, services: Services, runner: Runner, set_name: str = "") -> None:
        super().__init__(parent)
        self.services, self.runner = services, runner
        self.cases: list[RegressionCase] = []
        self.undoable: list[tuple[str, int, int, str]] = []  # (set, number, version before, what), newest last
        self._wanted_set = set_name or regression.DEMO_SET
        self._select_after = 0
        self.setWindowTitle("Regression set")
        self.setObjectName("regressionSetDialog")
        self.sets = QComboBox()
        self.count = QLabel("")
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Ticket", "Subject", "Expects", "From", "Status"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.about = QLabel("Select a case to edit its expectations.")
        self.about.setWordWrap(True)
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.decision = QComboBox()
        self.decision.addItem("Not checked", NOT_CHECKED)
        self.decision.addItem("Cite one of these articles", CITE)
        self.decision.addItem('"No good article" is right', NO_ARTICLE)
        self.articles = QLineEdit()
        self.articles.setPlaceholderText("article ids, comma-separated (e.g. invoice, refund-policy)")
        self.must = QPlainTextEdit()
        self.must.setPlaceholderText("one per line: words the draft must contain")
        self.must_not = QPlainTextEdit()
        self.must_not.setPlaceholderText("one per line: words the draft must never contain")
        for box in (self.must, self.must_not):
            box.setTabChangesFocus(True)
            box.setFixedHeight(72)
        self.intent = QComboBox()
        self.intent.setEditable(True)
        self.intent.setToolTip("The right intent (empty: not checked)")
        self.save_button = QPushButton("&Save")
        self.save_button.setShortcut(QKeySequence("Ctrl+S"))
        self.save_button.setToolTip("Save the expectations as the case's next version (Ctrl+S)")
        self.delete_button = QPushButton("&Delete case")
        self.delete_button.setToolTip("Remove the case from the set (Delete in the list; Ctrl+Z undoes)")
        self.undo_button = QPushButton("&Undo")
        self.undo_button.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_button.setToolTip("Undo the last delete or save (Ctrl+Z)")
        # Enter in the form saves. Left to Qt, the first button (Delete case) became the dialog's default, so
        # Enter in the Articles field deleted the case.
        self.delete_button.setAutoDefault(False)
        self.undo_button.setAutoDefault(False)
        self.save_button.setDefault(True)
        self.status = QLabel("")
        self.status.setObjectName("regressionSetStatus")
        self.status.setWordWrap(True)
        self._layout()
        self._set_form_enabled(False)
        self.undo_button.setEnabled(False)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete, Qt.ShortcutContext.WidgetShortcut)
        self.sets.currentIndexChanged.connect(lambda _i: self.reload())
        self.table.itemSelectionChanged.connect(self._picked)
        self.decision.currentIndexChanged.connect(self._decision_changed)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.undo_button.clicked.connect(self.undo)
        self.runner.run(regression.case_sets(services), self._fill_sets, "Loading regression sets")

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Set"))
        top.addWidget(self.sets, 1)
        top.addWidget(self.count)
        form = QFormLayout()
        form.addRow(self.about)
        form.addRow("&Article decision", self.decision)
        form.addRow("Art&icles", self.articles)
        form.addRow("&Must include", self.must)
        form.addRow("Must &not include", self.must_not)
        form.addRow("In&tent", self.intent)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons)
        right.addWidget(self.status)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.table, 3)
        body.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        self.resize(1180, 620)

    # --- loading ------------------------------------------------------------------------------------------

    def _fill_sets(self, sets: list[tuple[str, int, int]]) -> None:
        self.sets.blockSignals(True)
        self.sets.clear()
        for name, _confirmed, _candidates in sets:
            self.sets.addItem(name, name)
        index = max(0, self.sets.findData(self._wanted_set))
        self.sets.setCurrentIndex(index)
        self.sets.blockSignals(False)
        self.reload()

    @property
    def set_name(self) -> str:
        return str(self.sets.currentData() or "")

    def reload(self, select: int = 0) -> None:
        if not self.set_name:
            return
        self._select_after = select
        self.runner.run(regression.list_cases(self.services, self.set_name), self._show_cases, "Loading cases")

    def _show_cases(self, cases: list[RegressionCase]) -> None:
        self.cases = cases
        self.count.setText(f"{len(cases)} cases")
        self.table.blockSignals(True)
        self.table.setRowCount(len(cases))
        for row, case in enumerate(cases):
            cells = [
                f"#{case.number}",
                str(case.ticket.get("subject", "")),
                regression.describe(case.expect),
                case.source,
                f"{case.status} v{case.version}",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        intents = sorted({str(c.expect.get("intent")) for c in cases if c.expect.get("intent")})
        typed = self.intent.currentText()
        self.intent.clear()
        self.intent.addItems(["", *intents])
        self.intent.setCurrentText(typed)
        numbers = [c.number for c in cases]
        if cases:
            # The same row may stay selected while it now holds another case (or a newer version): no selection
            # change is announced then, so the form is refilled here.
            self.table.blockSignals(True)
            self.table.selectRow(numbers.index(self._select_after) if self._select_after in numbers else 0)
            self.table.blockSignals(False)
            self._picked()
        else:
            self._set_form_enabled(False)
            self.about.setText("This set has no cases. Add some from Review → Review flags or `eval cases import`.")

    # --- the form -----------------------------------------------------------------------------------------

    @property
    def current(self) -> RegressionCase | None:
        rows = self.table.selectionModel().selectedRows()
        return self.cases[rows[0].row()] if rows and rows[0].row() < len(self.cases) else None

    def _picked(self) -> None:
        case = self.current
        self._set_form_enabled(case is not None)
        if case is None:
            return
        e = Expectations.of(case.expect)
        decision = NOT_CHECKED if e.articles is None else (CITE if e.articles else NO_ARTICLE)
        self.decision.setCurrentIndex(self.decision.findData(decision))
        self.articles.setText(", ".join(e.articles or ()))
        self.must.setPlainText("\n".join(e.must_include))
        self.must_not.setPlainText("\n".join(e.must_not_include))
        self.intent.setCurrentText(e.intent)
        self._decision_changed()
        note = f" Note: {case.note}" if case.note else ""
        self.about.setText(
            f"Ticket #{case.number} in {case.workspace}: {case.ticket.get('subject', '')}\n"
            f"From {case.source}, {case.created_at[:10]} (version {case.version}; answered with {case.kb_version}).{note}"
        )

    def _decision_changed(self) -> None:
        self.articles.setEnabled(self.current is not None and self.decision.currentData() == CITE)

    def _set_form_enabled(self, on: bool) -> None:
        for w in (self.decision, self.articles, self.must, self.must_not, self.intent):
            w.setEnabled(on)
        self.save_button.setEnabled(on)
        self.delete_button.setEnabled(on)

    def edited(self) -> Expectations:
        decision = self.decision.currentData()
        articles: tuple[str, ...] | None = None
        if decision == CITE:
            articles = tuple(a.strip() for a in self.articles.text().split(",") if a.strip())
        elif decision == NO_ARTICLE:
            articles = ()
        return Expectations(
            articles,
            tuple(self.must.toPlainText().splitlines()),
            tuple(self.must_not.toPlainText().splitlines()),
            self.intent.currentText(),
        )

    # --- changes ------------------------------------------------------------------------------------------

    def save(self) -> None:
        case = self.current
        if case is None:
            return
        edited = self.edited()
        if self.decision.currentData() == CITE and not edited.articles:
            self.status.setText("✘ Name at least one article, or choose another article decision.")
            return
        self.runner.run(
            regression.edit_case(self.services, self.set_name, case.number, edited),
            lambda saved: self._changed(
                saved, case.version, "saved", f"Saved #{saved.number} as version {saved.version}."
            ),
            "Saving the case",
            on_error=self._failed,
        )

    def delete(self) -> None:
        case = self.current
        if case is None:
            return
        numbers = [c.number for c in self.cases]
        at = numbers.index(case.number)
        neighbour = (numbers[at + 1 :] or numbers[:at][-1:] or [0])[0]  # the next case takes its place
        self.runner.run(
            regression.delete_case(self.services, self.set_name, case.number),
            lambda gone: self._changed(
                gone, case.version, "deleted", f"Deleted #{gone.number}. Undo: Ctrl+Z.", select=neighbour
            ),
            "Deleting the case",
            on_error=self._failed,
        )

    def undo(self) -> None:
        if not self.undoable:
            return
        set_name, number, version, what = self.undoable.pop()
        self.undo_button.setEnabled(bool(self.undoable))
        self.runner.run(
            regression.undo_case(self.services, set_name, number, version),
            lambda back: self._undone(back, what),
            "Undoing",
            on_error=self._failed,
        )

    def _changed(self, case: RegressionCase, before: int, what: str, text: str, select: int | None = None) -> None:
        if case.version != before:  # a save that changed nothing has nothing to undo
            self.undoable.append((case.set_name, case.number, before, what))
        self.undo_button.setEnabled(bool(self.undoable))
        self.status.setText(text)
        self.reload(select=case.number if select is None else select)

    def _undone(self, case: RegressionCase, what: str) -> None:
        self.status.setText(f"Undid the {'deletion' if what == 'deleted' else 'edit'} of #{case.number}.")
        if case.set_name == self.set_name:
            self.reload(select=case.number)

    def _failed(self, exc: BaseException) -> None:
        error = as_copilot_error(exc)
        self.status.setText(f"✘ {error.message} {error.hint}".strip())
