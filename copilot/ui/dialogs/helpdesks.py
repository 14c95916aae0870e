"""The Help desks dialog: add a help desk (type, URL, user, token to the keyring, the fields its kind
declares), test it, save it."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QMessageBox, QWidget

from copilot.assist import workspace as ws
from copilot.domain.workspaces import WorkspaceConfig
from copilot.helpdesk.base import ConnectionInfo, FormField
from copilot.helpdesk.registry import KINDS
from copilot.services import Services
from copilot.ui.dialogs.list_form import ListFormDialog
from copilot.ui.runner import Runner


class WorkspacesDialog(ListFormDialog):
    workspaces_changed = Signal(str)  # the workspace that was added, changed or removed

    def __init__(self, parent: QWidget | None, services: Services, runner: Runner) -> None:
        super().__init__(
            parent, services, runner, title="Help desks", status_name="testResult", remove_text="&Remove…",
            intro="Fill in the help desk's address, your user name and an API token, then test.",
        )  # fmt: skip
        self.setObjectName("workspacesDialog")
        self.resize(720, 420)
        self.configs: dict[str, WorkspaceConfig] = {}
        self._last_info: ConnectionInfo | None = None
        self.list.setMaximumWidth(230)
        self.kind = QComboBox()
        for kind in KINDS.values():
            self.kind.addItem(kind.label, kind.kind)
        self.name = QLineEdit(placeholderText="e.g. acme (letters, digits, - or _)")
        self.title = QLineEdit(placeholderText="shown in the title bar, e.g. Acme support")
        self.url = QLineEdit()
        self.user = QLineEdit(placeholderText="your user name in the help desk")
        self.token = QLineEdit(placeholderText="stored in your system keyring, never in a file")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        for label, widget in (("Type", self.kind), ("Name", self.name), ("Title", self.title),
                              ("Address", self.url), ("User", self.user), ("API token", self.token)):  # fmt: skip
            self.form.addRow(label, widget)
        self.fields: dict[str, QComboBox] = {}  # the kind's declared fields, by option name
        self._field_specs: tuple[FormField, ...] = ()
        self.kind.currentIndexChanged.connect(lambda _i: self._build_fields())
        self._build_fields()
        self.list.currentItemChanged.connect(lambda item, _old: self.picked(self.key_of(item)))
        self.new_button.clicked.connect(self.clear_form)
        self.test_button.clicked.connect(self.test)
        self.remove_button.clicked.connect(self.remove)
        self.save_button.clicked.connect(self.save)
        self.reload()

    def _build_fields(self) -> None:
        """The rows the chosen kind declares (e.g. Request Tracker's queue), below the common ones."""
        kind = KINDS[str(self.kind.currentData())]
        self.url.setPlaceholderText(kind.url_example)
        self.token.setToolTip(kind.token_label)
        for _ in self._field_specs:
            self.form.removeRow(self.form.rowCount() - 1)
        self.fields = {}
        self._field_specs = kind.fields
        for spec in kind.fields:
            box = QComboBox()
            box.setEditable(True)
            box.setToolTip(spec.help)
            label = QLabel(f"{spec.label}{' (required)' if spec.required else ''}")
            label.setToolTip(spec.help)
            self.form.addRow(label, box)
            self.fields[spec.name] = box

    def reload(self, select: str = "") -> None:
        def show(rows: list[ws.WorkspaceSummary]) -> None:
            shown = [r for r in rows if r.config.kind != "demo"]
            self.configs = {r.config.id: r.config for r in shown}
            self.fill_list([(r.config.id, _entry(r)) for r in shown], select)
            if not self.configs and not self.name.text():  # never wipe what the user is typing
                self.status.setText("No help desk yet. Add your first: the demo workspace stays available.")

        self.runner.run(ws.list_workspaces(self.services), show, "Loading workspaces")

    def clear_form(self) -> None:
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        for field in (self.name, self.title, self.url, self.user, self.token):
            field.clear()
        for box in self.fields.values():
            box.clear()
            box.setEditText("")
        self.name.setReadOnly(False)
        self.name.setFocus()

    def picked(self, key: str | None) -> None:
        if key is None:
            return
        config = self.configs[key]
        self.kind.setCurrentIndex(max(0, self.kind.findData(config.kind)))
        self.name.setText(config.id)
        self.name.setReadOnly(True)  # the name keys the keyring entry and the cache
        self.title.setText(config.name)
        self.url.setText(config.url)
        self.user.setText(config.username)
        self.token.clear()
        self.token.setPlaceholderText("leave empty to keep the stored token")
        for spec in self._field_specs:
            texts = spec.texts(config.options.get(spec.name))
            self.fields[spec.name].clear()
            self.fields[spec.name].setEditText(texts[0] if texts else "")

    def config(self) -> WorkspaceConfig:
        name = self.name.text().strip()
        existing = self.configs.get(name)
        options = dict(existing.options) if existing else {}
        for spec in self._field_specs:
            options[spec.name] = spec.value([self.fields[spec.name].currentText()])
        return WorkspaceConfig(
            name,
            self.title.text().strip() or name,
            str(self.kind.currentData()),
            self.url.text().strip().rstrip("/"),
            self.user.text().strip(),
            options,
        )

    def _missing(self) -> str:
        """The label of the first required field left empty, or ""."""
        empty = (s.label for s in self._field_specs if s.required and not self.fields[s.name].currentText().strip())
        return next(empty, "")

    def test(self) -> None:
        self.testing()
        started = time.perf_counter()

        def shown(info: ConnectionInfo) -> None:
            self.tested(
                f"✔ Connected to {info.version} as {info.user} in {time.perf_counter() - started:.1f} s. "
                f"Queues you can see: {', '.join(info.queues) or 'none'}."
            )
            for spec in self._field_specs:
                if spec.suggest:  # offer what the help desk listed, keep what was typed
                    box = self.fields[spec.name]
                    current = box.currentText()
                    box.clear()
                    box.addItems(["", *getattr(info, spec.suggest)])
                    box.setEditText(current)
            self._last_info = info

        # An empty token field tests with the stored token.
        coro = ws.check_connection(self.services, self.config(), self.token.text().strip())
        self.runner.run(coro, shown, "Testing connection", on_error=self.test_failed)

    def save(self) -> None:
        config = self.config()
        token = self.token.text().strip() or None
        info = self._last_info
        if info is not None and info.user:
            options = {**config.options, "agent_name": info.user}
            config = WorkspaceConfig(config.id, config.name, config.kind, config.url, config.username, options)
        if token is None and config.id not in self.configs:
            self.status.setText("✘ Paste an API token: a new help desk needs one.")
            return
        if missing := self._missing():
            self.status.setText(f"✘ Fill in {missing}: this kind of help desk needs it.")
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


def _entry(r: ws.WorkspaceSummary) -> str:
    state = f"offline since {r.state.offline_since[11:16]}" if r.state.offline_since else f"{r.tickets} tickets"
    return f"{r.config.name}\n{KINDS[r.config.kind].label} · {state}"
