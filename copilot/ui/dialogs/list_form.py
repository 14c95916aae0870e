"""The list + form dialog shared by Help desks and Providers: saved entries on the left, a form on the right
with a status line, and New / Test / Remove / Save buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from copilot.errors import as_copilot_error
from copilot.services import Services
from copilot.ui.runner import Runner


class ListFormDialog(QDialog):
    """Subclasses add their rows to `form` and connect the buttons and `picked` to their own slots."""

    def __init__(
        self,
        parent: QWidget | None,
        services: Services,
        runner: Runner,
        *,
        title: str,
        status_name: str,
        intro: str,
        remove_text: str = "&Remove",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.services = services
        self.runner = runner
        self.list = QListWidget()
        self.form = QFormLayout()
        self.status = QLabel(intro)
        self.status.setObjectName(status_name)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.new_button = QPushButton("&New")
        self.test_button = QPushButton("&Test connection")
        self.remove_button = QPushButton(remove_text)
        self.save_button = QPushButton("&Save")
        self.save_button.setDefault(True)
        row = QHBoxLayout()
        for b in (self.new_button, self.test_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.save_button)
        right = QVBoxLayout()
        right.addLayout(self.form)
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

    def fill_list(self, entries: list[tuple[str, str]], select: str = "") -> None:
        """(key, text) per saved entry; the one keyed `select` becomes current."""
        self.list.clear()
        for key, text in entries:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.list.addItem(item)
            if key == select:
                self.list.setCurrentItem(item)

    @staticmethod
    def key_of(item: QListWidgetItem | None) -> str | None:
        """The key of a list entry (None: no entry), for the subclass's `currentItemChanged` slot."""
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def testing(self) -> None:
        self.status.setText("Testing…")
        self.test_button.setEnabled(False)

    def tested(self, text: str) -> None:
        self.test_button.setEnabled(True)
        self.status.setText(text)

    def test_failed(self, exc: BaseException) -> None:
        error = as_copilot_error(exc)
        self.tested(f"✘ {error.message}\n{error.hint}")
