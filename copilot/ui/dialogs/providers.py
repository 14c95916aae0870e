"""Model providers (add, test, remove; keys to the keyring) and the Usage view (cost per day, model, task, ticket)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import providers as model_cases
from copilot.assist.preferences import change_setting
from copilot.llm.catalog import PROVIDER_KINDS
from copilot.services import Services
from copilot.ui.runner import Runner


class ProvidersDialog(QDialog):
    def __init__(self, parent: QWidget | None, services: Services, runner: Runner) -> None:
        super().__init__(parent)
        self.setObjectName("providersDialog")
        self.setWindowTitle("Model providers")
        self.resize(760, 440)
        self.services = services
        self.runner = runner
        self.rows: dict[str, model_cases.ProviderInfo] = {}

        self.list = QListWidget()
        self.list.setMaximumWidth(220)
        self.list.currentItemChanged.connect(self._picked)
        self.kind = QComboBox()
        for spec in PROVIDER_KINDS.values():
            self.kind.addItem(spec.label, spec.kind)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.name = QLineEdit(placeholderText="how models refer to it, e.g. openai or local")
        self.base = QLineEdit(placeholderText="endpoint, e.g. http://127.0.0.1:8000/v1")
        self.key = QLineEdit(placeholderText="stored in your system keyring, never in a file")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.model = QLineEdit(placeholderText="a model to test with, e.g. gpt-4o-mini")
        self.use_for_tiers = QCheckBox("Use this model for the cheap and frontier tiers")
        self.status = QLabel(
            "Add a provider to let the router send tasks to a model. Without one, everything runs on the built-in engine."
        )
        self.status.setObjectName("providerStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("Provider", self.kind)
        form.addRow("Name", self.name)
        form.addRow("Endpoint", self.base)
        form.addRow("API key", self.key)
        form.addRow("Model", self.model)
        form.addRow("", self.use_for_tiers)
        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.test)
        self.save_button = QPushButton("&Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.clicked.connect(self.remove)
        new = QPushButton("&New")
        new.clicked.connect(self.clear_form)
        row = QHBoxLayout()
        for b in (new, self.test_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.save_button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.status)
        right.addStretch(1)
        right.addLayout(row)
        body = QHBoxLayout()
        body.addWidget(self.list)
        body.addLayout(right, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(close)
        self._kind_changed()
        self.reload()

    def _kind_changed(self) -> None:
        spec = PROVIDER_KINDS[str(self.kind.currentData())]
        self.base.setEnabled(spec.needs_base or bool(spec.default_base))
        if spec.default_base and not self.base.text():
            self.base.setText(spec.default_base)
        self.key.setPlaceholderText("stored in your system keyring" if spec.needs_key else "optional for this kind")
        if not self.name.text() and not spec.needs_base:
            self.name.setText(spec.kind)

    def reload(self, select: str = "") -> None:
        def show(rows: list[model_cases.ProviderInfo]) -> None:
            self.list.clear()
            self.rows = {r.id: r for r in rows}
            for r in rows:
                item = QListWidgetItem(f"{r.id}\n{r.label}")
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                self.list.addItem(item)
                if r.id == select:
                    self.list.setCurrentItem(item)

        self.runner.run(model_cases.list_providers(self.services), show, "")

    def clear_form(self) -> None:
        self.list.setCurrentRow(-1)
        for field in (self.name, self.base, self.key, self.model):
            field.clear()
        self.name.setReadOnly(False)
        self._kind_changed()

    def _picked(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        r = self.rows[item.data(Qt.ItemDataRole.UserRole)]
        self.kind.setCurrentIndex(max(0, self.kind.findData(r.kind)))
        self.name.setText(r.id)
        self.name.setReadOnly(True)
        self.base.setText(r.api_base)
        self.key.clear()
        self.key.setPlaceholderText("leave empty to keep the stored key")

    def test(self) -> None:
        name, model = self.name.text().strip(), self.model.text().strip()
        if not model:
            self.status.setText("✘ Type a model name to test with.")
            return
        self.status.setText("Testing…")
        self.test_button.setEnabled(False)

        async def run() -> float:
            # Saving first makes the test use exactly what will be stored (the key goes to the keyring).
            await model_cases.save_provider(
                self.services, name, str(self.kind.currentData()), self.base.text(), self.key.text().strip() or None
            )
            return await model_cases.check_provider(self.services, name, model)

        def ok(seconds: float) -> None:
            self.test_button.setEnabled(True)
            self.status.setText(f"✔ {name}/{model} answered in {seconds:.2f} s.")
            self.reload(select=name)

        def failed(exc: BaseException) -> None:
            from copilot.errors import as_copilot_error

            self.test_button.setEnabled(True)
            error = as_copilot_error(exc)
            self.status.setText(f"✘ {error.message}\n{error.hint}")

        self.runner.run(run(), ok, "Testing provider", on_error=failed)

    def save(self) -> None:
        name, model = self.name.text().strip(), self.model.text().strip()
        use = self.use_for_tiers.isChecked() and bool(model)

        async def run() -> model_cases.ProviderInfo:
            info = await model_cases.save_provider(
                self.services, name, str(self.kind.currentData()), self.base.text(), self.key.text().strip() or None
            )
            if use:
                for tier in ("cheap", "frontier"):
                    current = self.services.settings.text(f"models.{tier}")
                    await change_setting(
                        self.services, f"models.{tier}", ", ".join(filter(None, [f"{name}/{model}", current]))
                    )
            return info

        def saved(info: model_cases.ProviderInfo) -> None:
            self.key.clear()
            tiers = (
                " It now serves the cheap and frontier tiers."
                if use
                else " Name its models in Preferences → tier models."
            )
            self.status.setText(f"Saved {info.label} as '{info.id}'.{tiers}")
            self.reload(select=info.id)

        self.runner.run(run(), saved, "Saving provider")

    def remove(self) -> None:
        name = self.name.text().strip()
        if name not in self.rows:
            return

        def removed(_none: None) -> None:
            self.clear_form()
            self.reload()
            self.status.setText(f"Removed '{name}' and its key.")

        self.runner.run(model_cases.remove_provider(self.services, name), removed, "Removing provider")


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
