"""Dialogs: flag an AI output, review flags (team leads), and edit an article with its history."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import knowledge, review
from copilot.assist.preferences import change_setting
from copilot.config.settings import SCHEMA, SettingSpec
from copilot.domain import Article, ArticleVersion, OutputFlag
from copilot.kb.articles import diff_versions
from copilot.services import Services
from copilot.store.outputs import FlagQuery
from copilot.ui.render import markdown_html
from copilot.ui.runner import Runner
from copilot.ui.widgets.safe_browser import SafeBrowser


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
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.detail = QLabel("Select a flag to see its details.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome = QComboBox()
        for o in review.OUTCOMES:
            self.outcome.addItem(o.capitalize(), o)
        self.resolve_button = QPushButton("Mark resolved")
        self.resolve_button.setEnabled(False)
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
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.detail)
        layout.addLayout(resolve)
        self.resize(980, 560)

        for combo in (self.reason, self.engine, self.period, self.show_resolved):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_ticket.emit(self.flags[row].ticket_id))
        self.table.setToolTip("Double-click a flag to open its ticket")
        self.resolve_button.clicked.connect(self._resolve)
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
                f"{f.task} ({f.target})",
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


class ArticleEditor(QDialog):
    """Read or correct an article: Markdown with live preview; each save is a version with a reason."""

    def __init__(
        self,
        parent: QWidget | None,
        services: Services,
        runner: Runner,
        article_id: str,
        on_saved: Callable[[Article], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.article_id = article_id
        self.on_saved = on_saved
        self.article: Article | None = None
        self.versions: list[ArticleVersion] = []
        self.setObjectName("articleEditor")
        self.setWindowTitle("Article")
        self.title = QLineEdit()
        self.body = QPlainTextEdit()
        self.body.setObjectName("articleBody")
        self.preview = SafeBrowser()
        self.reason = QLineEdit(placeholderText="Why are you changing it? (required)")
        self.save_button = QPushButton("Save new version")
        self.save_button.setObjectName("saveArticle")
        self.history = QListWidget()
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.revert_button = QPushButton("Revert to this version")
        self.revert_button.setEnabled(False)
        self.info = QLabel()

        split = QSplitter()
        split.addWidget(self.body)
        split.addWidget(self.preview)
        edit_tab = QWidget()
        edit_layout = QVBoxLayout(edit_tab)
        edit_layout.addWidget(self.title)
        edit_layout.addWidget(split, 1)
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        row.addWidget(self.save_button)
        edit_layout.addLayout(row)
        history_tab = QWidget()
        history_layout = QHBoxLayout(history_tab)
        history_layout.addWidget(self.history, 1)
        right = QVBoxLayout()
        right.addWidget(self.diff, 1)
        right.addWidget(self.revert_button)
        history_layout.addLayout(right, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(edit_tab, "Edit")
        self.tabs.addTab(history_tab, "History")
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.tabs)
        self.resize(900, 600)

        self._preview_timer = QTimer(self, singleShot=True, interval=150)
        self._preview_timer.timeout.connect(self._render_preview)
        self.body.textChanged.connect(self._preview_timer.start)
        self.title.textChanged.connect(self._preview_timer.start)
        self.save_button.clicked.connect(self.save)
        self.history.currentRowChanged.connect(self._show_version)
        self.revert_button.clicked.connect(self._revert)
        self.load()

    def load(self) -> None:
        self.runner.run(knowledge.get_article(self.services, self.article_id), self._show_article, "Opening article")
        self.runner.run(knowledge.article_history(self.services, self.article_id), self._show_history, "")

    def _show_article(self, article: Article) -> None:
        self.article = article
        self.setWindowTitle(f"Article: {article.title}")
        self.title.setText(article.title)
        self.body.setPlainText(article.body)
        self.info.setText(
            f"<b>{html.escape(article.id)}</b> · version {article.version} · updated {article.updated_at[:16]}"
        )
        self._render_preview()

    def _render_preview(self) -> None:
        self.preview.setHtml(f"<h2>{html.escape(self.title.text())}</h2>{markdown_html(self.body.toPlainText())}")

    def _show_history(self, versions: list[ArticleVersion]) -> None:
        self.versions = versions
        self.history.clear()
        for v in versions:
            item = QListWidgetItem(f"v{v.version} · {v.created_at[:16].replace('T', ' ')} · {v.author}: {v.reason}")
            self.history.addItem(item)

    def _show_version(self, row: int) -> None:
        if not (0 <= row < len(self.versions)):
            self.diff.clear()
            self.revert_button.setEnabled(False)
            return
        v = self.versions[row]
        older = self.versions[row + 1] if row + 1 < len(self.versions) else None
        self.diff.setPlainText(diff_versions(older, v) if older else f"# {v.title}\n\n{v.body}")
        self.revert_button.setEnabled(row > 0)

    def save(self) -> None:
        coro = knowledge.save_article(
            self.services, self.article_id, self.title.text().strip(), self.body.toPlainText(), self.reason.text()
        )
        self.runner.run(coro, self._saved, "Saving article")

    def _saved(self, article: Article) -> None:
        self.reason.clear()
        self._show_article(article)
        self.runner.run(knowledge.article_history(self.services, self.article_id), self._show_history, "")
        if self.on_saved is not None:
            self.on_saved(article)

    def _revert(self) -> None:
        row = self.history.currentRow()
        if 0 <= row < len(self.versions):
            coro = knowledge.revert_article(self.services, self.article_id, self.versions[row].version)
            self.runner.run(coro, self._saved, "Reverting article")


class PreferencesDialog(QDialog):
    """A form generated from the settings schema: a new setting needs no UI code."""

    def __init__(self, parent: QWidget | None, services: Services, runner: Runner) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.setWindowTitle("Preferences")
        self.setObjectName("preferencesDialog")
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout(self)
        for spec in SCHEMA:
            editor = self._editor(spec, services.settings.get(spec.key))
            editor.setToolTip(spec.description)
            self.editors[spec.key] = editor
            label = QLabel(spec.label)
            label.setToolTip(spec.description)
            form.addRow(label, editor)
            hint = QLabel(f"<small>{html.escape(spec.description)}</small>")
            hint.setWordWrap(True)
            form.addRow(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(520, 420)

    @staticmethod
    def _editor(spec: SettingSpec, value: object) -> QWidget:
        if spec.choices:
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(choice.capitalize(), choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            return combo
        if spec.type is int:
            spin = QSpinBox()
            spin.setRange(0, 100_000)
            spin.setValue(int(str(value)))
            return spin
        if spec.type is float:
            dspin = QDoubleSpinBox()
            dspin.setRange(0.0, 1.0)
            dspin.setSingleStep(0.05)
            dspin.setValue(float(str(value)))
            return dspin
        return QLineEdit(str(value))

    def value(self, key: str) -> object:
        editor = self.editors[key]
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QSpinBox | QDoubleSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit)
        return editor.text().strip()

    def save(self) -> None:
        changed = [s.key for s in SCHEMA if self.value(s.key) != self.services.settings.get(s.key)]

        async def write_all() -> None:
            for key in changed:
                await change_setting(self.services, key, self.value(key))

        self.runner.run(write_all(), lambda _none: self.accept(), "Saving preferences")


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
