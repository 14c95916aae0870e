"""The Usage view: model cost per day (a bar chart), per model, task and ticket, against the monthly budget."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import providers as model_cases
from copilot.services import Services
from copilot.ui.runner import Runner


class CostChart(QWidget):
    """Cost per day as bars (QPainter: QtCharts is not part of pyside6-essentials)."""

    def __init__(self) -> None:
        super().__init__()
        self.days: list[tuple[str, float]] = []
        self.setMinimumHeight(150)

    def set_days(self, days: list[tuple[str, float]]) -> None:
        self.days = days[-30:]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if not self.days:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No model calls yet.")
            return
        top = max(c for _, c in self.days)
        if top <= 0:
            p.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No cost so far (cached answers and your own models are free).",
            )
            return
        w, h = self.width(), self.height() - 30
        bar = max(4.0, (w - 20) / len(self.days) - 4)
        for i, (day, cost) in enumerate(self.days):
            x = 10 + i * (bar + 4)
            height = max(1.0, (h - 20) * cost / top)
            p.fillRect(QRectF(x, h - height, bar, height), QColor("#3b6fb6"))
            if len(self.days) <= 10 or i % max(1, len(self.days) // 6) == 0:
                p.drawText(QRectF(x - 10, h + 4, bar + 40, 20), Qt.AlignmentFlag.AlignLeft, day[5:])
        p.drawText(QRectF(10, 2, w - 20, 18), Qt.AlignmentFlag.AlignRight, f"max ${top:.4f} a day")


class UsageDialog(QDialog):
    def __init__(self, parent: QWidget | None, services: Services, runner: Runner) -> None:
        super().__init__(parent)
        self.setObjectName("usageDialog")
        self.setWindowTitle("Usage")
        self.resize(760, 520)
        self.totals = QLabel("Loading…")
        self.totals.setWordWrap(True)
        self.chart = CostChart()
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableWidget] = {}
        for key, title in (
            ("per_model", "Per model"),
            ("per_task", "Per task"),
            ("per_ticket", "Per ticket"),
            ("per_day", "Per day"),
        ):
            table = QTableWidget()
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            self.tables[key] = table
            self.tabs.addTab(table, title)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.totals)
        layout.addWidget(self.chart)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(close)
        runner.run(model_cases.usage(services), self.show_report, "Reading usage")

    def show_report(self, report: dict[str, Any]) -> None:
        budget = report["budget"]
        line = f"<b>${report['cost_usd']:.4f}</b> over {report['calls']} model calls ({report['cache_hits']} from cache, {report['errors']} failed)."
        if budget["monthly_usd"]:
            colour = "#a40000" if budget["share"] >= 1 else ("#b36b00" if budget["share"] >= 0.8 else "#2e7d32")
            line += f" This month: <span style='color:{colour}'>${budget['spent_usd']:.4f} of ${budget['monthly_usd']:.2f} ({budget['share']:.0%})</span>."
        else:
            line += f" This month: ${budget['spent_usd']:.4f}; no budget set (Preferences → Monthly budget)."
        self.totals.setText(line)
        self.chart.set_days([(d["day"], d["cost_usd"]) for d in sorted(report["per_day"], key=lambda d: d["day"])])
        for key, table in self.tables.items():
            rows = report[key]
            columns = list(rows[0]) if rows else ["(nothing yet)"]
            table.setColumnCount(len(columns))
            table.setHorizontalHeaderLabels([c.replace("_", " ") for c in columns])
            table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                for c, col in enumerate(columns):
                    value = row[col]
                    text = f"${value:.4f}" if col == "cost_usd" else str(value)
                    table.setItem(r, c, QTableWidgetItem(text))
            table.resizeColumnsToContents()
