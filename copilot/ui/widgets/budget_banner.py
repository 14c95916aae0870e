"""A banner above the panes for what concerns the whole team: the monthly model budget."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from copilot.assist.providers import BudgetStatus


class BudgetBanner(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("budgetBanner")
        self.setWordWrap(True)
        self.hide()

    def show_status(self, status: BudgetStatus) -> None:
        """Hidden while the budget is fine; yellow from 80%, red once it is spent."""
        self.setVisible(status.level != "ok")
        self.setText(status.message)
        self.setProperty("level", status.level)
        self.setStyleSheet(
            "QLabel#budgetBanner { padding: 6px 10px; color: #3d2c00; background: "
            + ("#ffd7d5;" if status.level == "spent" else "#fff4cc;")
            + " border-bottom: 1px solid #d9c27a; }"
        )
