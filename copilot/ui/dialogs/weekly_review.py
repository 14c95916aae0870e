"""Review → Weekly review: the four numbers with their trend, the week-by-week table, the worst of the week to
click through, and the knowledge base's side; Save as HTML writes the report a lead can mail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from copilot.assist.weekly_report import CHARTS, render_html
from copilot.assist.weekly_review import WeekFigures, WeeklyReview, weekly_review
from copilot.services import Services
from copilot.ui.runner import Runner


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if kind == "share" else f"{value:g}"


class TrendChart(QWidget):
    """One number per week as a small line chart (QPainter; no chart library needed)."""

    def __init__(self, title: str, kind: str, value: Callable[[WeekFigures], float | None]) -> None:
        super().__init__()
        self.title, self.kind, self.value = title, kind, value
        self.weeks: list[WeekFigures] = []
        self.setMinimumSize(230, 130)
        self.setToolTip(title)

    def set_weeks(self, weeks: list[WeekFigures]) -> None:
        self.weeks = weeks
        self.update()

    def points(self) -> list[QPointF]:
        values = [self.value(w) for w in self.weeks]
        known = [v for v in values if v is not None]
        top = 1.0 if self.kind == "share" else max([*known, 1.0])
        left, right, top_px, bottom = 10.0, self.width() - 10.0, 46.0, self.height() - 18.0
        step = (right - left) / max(1, len(values) - 1)
        return [
            QPointF(left + i * step, bottom - (v / top) * (bottom - top_px))
            for i, v in enumerate(values)
            if v is not None
        ]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#fafafa"))
        painter.setPen(QColor("#333333"))
        painter.drawText(8, 16, self.title)
        latest = self.value(self.weeks[-1]) if self.weeks else None
        font = painter.font()
        font.setPointSize(font.pointSize() + 5)
        painter.setFont(font)
        painter.drawText(8, 40, f"{_fmt(latest, self.kind)}")
        font.setPointSize(font.pointSize() - 5)
        painter.setFont(font)
        painter.setPen(QPen(QColor("#bbbbbb"), 1))
        painter.drawLine(10, self.height() - 18, self.width() - 10, self.height() - 18)
        points = self.points()
        painter.setPen(QPen(QColor("#1565c0"), 2))
        painter.drawPolyline(points)
        painter.setBrush(QColor("#1565c0"))
        for p in points:
            painter.drawEllipse(p, 3, 3)
        painter.setPen(QColor("#666666"))
        if self.weeks:
            painter.drawText(8, self.height() - 4, self.weeks[0].week)
            painter.drawText(self.width() - 62, self.height() - 4, self.weeks[-1].week)
        painter.end()


class WeeklyReviewDialog(QDialog):
    """For team leads. Double-click a ticket to open it, an article to edit it."""

    open_ticket_number = Signal(int)
    edit_article = Signal(str)

    def __init__(self, parent: QWidget | None, services: Services, runner: Runner, workspace: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Weekly review")
        self.resize(1000, 680)
        self.services, self.runner, self.workspace = services, runner, workspace
        self.review: WeeklyReview | None = None
        self.weeks = QSpinBox(minimum=2, maximum=26, value=8, suffix=" weeks")
        self.weeks.valueChanged.connect(self.reload)
        self.summary = QLabel("Reading…")
        self.summary.setWordWrap(True)
        self.charts = [TrendChart(label, kind, value) for _name, label, value, kind in CHARTS]
        chart_row = QHBoxLayout()
        for chart in self.charts:
            chart_row.addWidget(chart)
        self.table = QTableWidget(0, 9)
        self.table.setObjectName("weeksTable")
        self.table.setHorizontalHeaderLabels(
            ["Week", "AI outputs", "Drafts sent", "Acceptance", "Median edit", "Flags/100", "No article",
             "Cost/ticket", "Minutes to send"]
        )  # fmt: skip
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.worst = QListWidget()
        self.worst.setObjectName("worstList")
        self.worst.itemDoubleClicked.connect(self._open_ticket)
        self.articles = QListWidget()
        self.articles.setObjectName("articlesList")
        self.articles.itemDoubleClicked.connect(self._edit_article)
        lists = QHBoxLayout()
        for title, widget in (("Worst of the week (double-click to open)", self.worst),
                              ("Knowledge base: probably outdated, then most cited", self.articles)):  # fmt: skip
            column = QVBoxLayout()
            column.addWidget(QLabel(f"<b>{title}</b>"))
            column.addWidget(widget)
            lists.addLayout(column)
        self.save = QPushButton("Save as HTML…")
        self.save.setEnabled(False)
        self.save.clicked.connect(self._save_html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.weeks)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(chart_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(lists, 1)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        self.runner.run(
            weekly_review(self.services, self.workspace, weeks=self.weeks.value()), self._show, "Reading the week"
        )

    def _show(self, review: WeeklyReview) -> None:
        self.review = review
        latest = review.weeks[-1]
        self.summary.setText(
            f"{latest.week}: {latest.ai_outputs} AI outputs, {latest.drafts_sent} AI drafts sent, {latest.flags} "
            "flags. Acceptance is the share of AI drafts sent with at most 20% of the words changed."
            if latest.ai_outputs or latest.drafts_sent
            else "Nothing yet this week: the numbers fill in as agents use the copilot and send its drafts."
        )
        for chart in self.charts:
            chart.set_weeks(review.weeks)
        self.table.setRowCount(len(review.weeks))
        for i, w in enumerate(reversed(review.weeks)):
            cost = "–" if w.cost_per_ticket is None else f"${w.cost_per_ticket:.4f}"
            minutes = "–" if w.median_minutes_to_send is None else f"{w.median_minutes_to_send:.1f}"
            cells = [w.week, str(w.ai_outputs), str(w.drafts_sent), _fmt(w.acceptance, "share"),
                     _fmt(w.median_edit_ratio, "share"), _fmt(w.flags_per_100, "number"),
                     _fmt(w.no_article_rate, "share"), cost, minutes]  # fmt: skip
            for j, cell in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(cell))
        self.worst.clear()
        for item in review.worst:
            row = QListWidgetItem(f"{item.kind}: #{item.ticket_number} {item.subject} — {item.why}")
            row.setData(Qt.ItemDataRole.UserRole, item.ticket_number)
            self.worst.addItem(row)
        if not review.worst:
            self.worst.addItem("Nothing flagged, heavily edited or unanswered this week.")
        self.articles.clear()
        for note in review.probably_outdated:
            row = QListWidgetItem(f"⚠ {note.title} — {note.why}")
            row.setData(Qt.ItemDataRole.UserRole, note.article_id)
            self.articles.addItem(row)
        for note in review.most_cited:
            row = QListWidgetItem(f"{note.title} — cited {note.citations}×")
            row.setData(Qt.ItemDataRole.UserRole, note.article_id)
            self.articles.addItem(row)
        self.save.setEnabled(True)

    def _open_ticket(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(number, int):
            self.open_ticket_number.emit(number)

    def _edit_article(self, item: QListWidgetItem) -> None:
        article = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(article, str):
            self.edit_article.emit(article)

    def _save_html(self) -> None:
        if self.review is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save the weekly review", "weekly-review.html", "HTML (*.html)")
        if name:
            Path(name).write_text(render_html(self.review), encoding="utf-8")
            self.summary.setText(f"Saved to {name}.")
