"""The Providers dialog: add, test and remove model providers (keys go to the keyring)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QAbstractButton, QCheckBox, QComboBox, QLineEdit, QMessageBox, QWidget

from copilot.assist import providers as model_cases
from copilot.assist.preferences import change_setting
from copilot.assist.replay import replays_of_model
from copilot.llm.catalog import PROVIDER_KINDS
from copilot.services import Services
from copilot.ui.dialogs.list_form import ListFormDialog
from copilot.ui.runner import Runner


class ProvidersDialog(ListFormDialog):
    def __init__(self, parent: QWidget | None, services: Services, runner: Runner) -> None:
        super().__init__(
            parent, services, runner, title="Model providers", status_name="providerStatus",
            intro="Add a provider to let the router send tasks to a model. "
            "Without one, everything runs on the built-in engine.",
        )  # fmt: skip
        self.setObjectName("providersDialog")
        self.resize(760, 440)
        self.rows: dict[str, model_cases.ProviderInfo] = {}
        self.list.setMaximumWidth(220)
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
        for label, widget in (("Provider", self.kind), ("Name", self.name), ("Endpoint", self.base),
                              ("API key", self.key), ("Model", self.model), ("", self.use_for_tiers)):  # fmt: skip
            self.form.addRow(label, widget)
        self.list.currentItemChanged.connect(lambda item, _old: self.picked(self.key_of(item)))
        self.new_button.clicked.connect(self.clear_form)
        self.test_button.clicked.connect(self.test)
        self.remove_button.clicked.connect(self.remove)
        self.save_button.clicked.connect(self.save)
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
            self.rows = {r.id: r for r in rows}
            self.fill_list([(r.id, f"{r.id}\n{r.label}") for r in rows], select)

        self.runner.run(model_cases.list_providers(self.services), show, "")

    def clear_form(self) -> None:
        self.list.setCurrentRow(-1)
        for field in (self.name, self.base, self.key, self.model):
            field.clear()
        self.name.setReadOnly(False)
        self._kind_changed()

    def picked(self, key: str | None) -> None:
        if key is None:
            return
        r = self.rows[key]
        self.kind.setCurrentIndex(max(0, self.kind.findData(r.kind)))
        self.name.setText(r.id)
        self.name.setReadOnly(True)
        self.base.setText(r.api_base)
        self.key.clear()
        self.key.setPlaceholderText("leave empty to keep the stored key")

    async def _save(self, name: str) -> model_cases.ProviderInfo:
        key = self.key.text().strip() or None
        return await model_cases.save_provider(self.services, name, str(self.kind.currentData()), self.base.text(), key)

    def test(self) -> None:
        name, model = self.name.text().strip(), self.model.text().strip()
        if not model:
            self.status.setText("✘ Type a model name to test with.")
            return
        self.testing()

        async def run() -> float:
            # Saving first makes the test use exactly what will be stored (the key goes to the keyring).
            await self._save(name)
            return await model_cases.check_provider(self.services, name, model)

        def ok(seconds: float) -> None:
            self.tested(f"✔ {name}/{model} answered in {seconds:.2f} s.")
            self.reload(select=name)

        self.runner.run(run(), ok, "Testing provider", on_error=self.test_failed)

    def save(self) -> None:
        name, model = self.name.text().strip(), self.model.text().strip()
        if not (self.use_for_tiers.isChecked() and model):
            self._store(name, model, use=False)
            return
        ref = f"{name}/{model}"
        # A model serves the tiers only after a replay of a regression set, or when the user says so knowingly.
        self.runner.run(replays_of_model(self.services, ref), lambda runs: self._use_checked(name, model, bool(runs)))

    def _use_checked(self, name: str, model: str, replayed: bool) -> None:
        if replayed:
            self._store(name, model, use=True)
            return
        box = QMessageBox(self)
        box.setObjectName("replayFirstBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Support Copilot")
        box.setText(f"{name}/{model} has no replay on record.")
        box.setInformativeText(
            "Replay a regression set with it first: every case runs with the current configuration and with this "
            "model, and the report shows what got worse before any ticket does."
        )
        run_first = box.addButton("Run a replay first", QMessageBox.ButtonRole.AcceptRole)
        anyway = box.addButton("Use it anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)

        def chosen(button: QAbstractButton) -> None:
            if button is run_first:
                self._store(name, model, use=False, then=lambda: self.open_replay(f"{name}/{model}"))
            elif button is anyway:
                self._store(name, model, use=True)

        box.buttonClicked.connect(chosen)
        box.open()

    def open_replay(self, ref: str) -> None:
        from copilot.ui.dialogs.replay import ReplayDialog

        ReplayDialog(self, self.services, self.runner, model=ref, set_name="demo").show()

    def _store(self, name: str, model: str, *, use: bool, then: Callable[[], None] | None = None) -> None:
        async def run() -> model_cases.ProviderInfo:
            info = await self._save(name)
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
            if then is not None:
                then()

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
