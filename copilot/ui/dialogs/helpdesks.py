"""The Workspaces dialog: add a help desk (type, URL, user, token to the keyring), test it, pick queues."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import workspace as ws
from copilot.domain.workspaces import WorkspaceConfig
from copilot.helpdesk.base import ConnectionInfo
from copilot.helpdesk.registry import KINDS
from copilot.services import Services
from copilot.ui.runner import Runner


class WorkspacesDialog(QDialog):
    workspaces_changed = Signal(str)  # the workspace that was added, changed or removed

    def __init__(self, parent: QWidget | None, services: Services, runner: Runner) -> None:
        super().__init__(parent)
        self.setObjectName("workspacesDialog")
        self.setWindowTitle("Help desks")
        self.resize(720, 420)
        self.services = services
        self.runner = runner
        self.configs: dict[str, WorkspaceConfig] = {}
        self._last_info: ConnectionInfo | None = None

        self.list = QListWidget()
        self.list.setMaximumWidth(230)
        self.list.currentItemChanged.connect(self._picked)
        self.kind = QComboBox()
        for kind in KINDS.values():
            self.kind.addItem(kind.label, kind.kind)
        self.name = QLineEdit(placeholderText="e.g. acme (letters, digits, - or _)")
        self.title = QLineEdit(placeholderText="shown in the title bar, e.g. Acme support")
        self.url = QLineEdit(placeholderText=next(iter(KINDS.values())).url_example)
        self.user = QLineEdit(placeholderText="your user name in the help desk")
        self.token = QLineEdit(placeholderText="stored in your system keyring, never in a file")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.queues = QComboBox()
        self.queues.setEditable(True)
        self.queues.setToolTip("Which queue to sync; empty: all queues you can see. Test the connection to list them.")
        self.status = QLabel("Fill in the help desk's address, your user name and an API token, then test.")
        self.status.setObjectName("testResult")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Type", self.kind)
        form.addRow("Name", self.name)
        form.addRow("Title", self.title)
        form.addRow("Address", self.url)
        form.addRow("User", self.user)
        form.addRow("API token", self.token)
        form.addRow("Queue", self.queues)

        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.test)
        self.new_button = QPushButton("&New")
        self.new_button.clicked.connect(self.clear_form)
        self.remove_button = QPushButton("&Remove…")
        self.remove_button.clicked.connect(self.remove)
        self.save_button = QPushButton("&Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        row = QHBoxLayout()
        for b in (self.new_button, self.test_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.save_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.status)
        right.addStretch(1)
        right.addLayout(row)
        body = QHBoxLayout()
        body.addWidget(self.list)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(close)
        self.reload()

    def reload(self, select: str = "") -> None:
        def show(rows: list[ws.WorkspaceSummary]) -> None:
            self.list.clear()
            self.configs = {}
            for r in rows:
                if r.config.kind == "demo":
                    continue
                self.configs[r.config.id] = r.config
                state = (
                    f"offline since {r.state.offline_since[11:16]}" if r.state.offline_since else f"{r.tickets} tickets"
                )
                item = QListWidgetItem(f"{r.config.name}\n{KINDS[r.config.kind].label} · {state}")
                item.setData(Qt.ItemDataRole.UserRole, r.config.id)
                self.list.addItem(item)
                if r.config.id == select:
                    self.list.setCurrentItem(item)
            if not self.configs and not self.name.text():  # never wipe what the user is typing
                self.status.setText("No help desk yet. Add your first: the demo workspace stays available.")

        self.runner.run(ws.list_workspaces(self.services), show, "Loading workspaces")

    def clear_form(self) -> None:
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        for field in (self.name, self.title, self.url, self.user, self.token):
            field.clear()
        self.queues.clear()
        self.queues.setEditText("")
        self.name.setReadOnly(False)
        self.name.setFocus()

    def _picked(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        config = self.configs[item.data(Qt.ItemDataRole.UserRole)]
        self.kind.setCurrentIndex(max(0, self.kind.findData(config.kind)))
        self.name.setText(config.id)
        self.name.setReadOnly(True)  # the name keys the keyring entry and the cache
        self.title.setText(config.name)
        self.url.setText(config.url)
        self.user.setText(config.username)
        self.token.clear()
        self.token.setPlaceholderText("leave empty to keep the stored token")
        queues = config.options.get("queues") or []
        self.queues.clear()
        self.queues.setEditText(queues[0] if queues else "")

    def config(self) -> WorkspaceConfig:
        name = self.name.text().strip()
        queue = self.queues.currentText().strip()
        existing = self.configs.get(name)
        options = dict(existing.options) if existing else {}
        options["queues"] = [queue] if queue else []
        return WorkspaceConfig(
            name,
            self.title.text().strip() or name,
            str(self.kind.currentData()),
            self.url.text().strip().rstrip("/"),
            self.user.text().strip(),
            options,
        )

    async def _test(self, config: WorkspaceConfig, typed: str) -> ConnectionInfo:
        # An empty field means the stored token (read from the keyring here, off the click handler).
        source = self.services.connectors.token(config.id)
        token = typed or (source() if source is not None else "")
        return await ws.check_connection(self.services, config, token)

    def test(self) -> None:
        self.status.setText("Testing…")
        self.test_button.setEnabled(False)
        started = time.perf_counter()

        def shown(info: ConnectionInfo) -> None:
            self.test_button.setEnabled(True)
            self.status.setText(
                f"✔ Connected to {info.version} as {info.user} in {time.perf_counter() - started:.1f} s. "
                f"Queues you can see: {', '.join(info.queues) or 'none'}."
            )
            current = self.queues.currentText()
            self.queues.clear()
            self.queues.addItems(["", *info.queues])
            self.queues.setEditText(current)
            self._last_info = info

        def failed(exc: BaseException) -> None:
            from copilot.errors import as_copilot_error

            self.test_button.setEnabled(True)
            error = as_copilot_error(exc)
            self.status.setText(f"✘ {error.message}\n{error.hint}")

        self.runner.run(
            self._test(self.config(), self.token.text().strip()),
            shown,
            "Testing connection",
            on_error=failed,
        )

    def save(self) -> None:
        config = self.config()
        token = self.token.text().strip() or None
        info = self._last_info
        if info is not None and info.user:
            config = WorkspaceConfig(
                config.id,
                config.name,
                config.kind,
                config.url,
                config.username,
                {**config.options, "agent_name": info.user},
            )
        if token is None and config.id not in self.configs:
            self.status.setText("✘ Paste an API token: a new help desk needs one.")
            return

        def saved(result: WorkspaceConfig) -> None:
            self.token.clear()
            self.status.setText(f"Saved. '{result.name}' syncs in the background; pick it in the Workspace menu.")
            self.reload(select=result.id)
            self.workspaces_changed.emit(result.id)

        self.runner.run(ws.save_workspace(self.services, config, token), saved, "Saving workspace")

    def remove(self) -> None:
        name = self.name.text().strip()
        if name not in self.configs:
            return

        def removed(_none: None) -> None:
            self.clear_form()
            self.reload()
            self.workspaces_changed.emit(name)

        def ask(unsent: list[str]) -> None:
            question = (
                f"Forget '{name}' and its local cache here? Tickets and replies in the help desk itself are untouched."
            )
            if unsent:  # this is the only copy of that work: say what would be lost
                question += "\n\nThese were never delivered and will be deleted:\n• " + "\n• ".join(unsent[:10])
            answer = QMessageBox.question(self, "Remove help desk", question)
            if answer == QMessageBox.StandardButton.Yes:
                self.runner.run(ws.remove_workspace(self.services, name, force=True), removed, "Removing workspace")

        self.runner.run(ws.unsent_work(self.services, name), ask, "Checking for unsent work")
