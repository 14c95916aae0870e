"""Preferences: a form generated from the settings schema."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from copilot.assist.preferences import change_setting
from copilot.config.settings import SCHEMA, SettingSpec
from copilot.services import Services
from copilot.ui.runner import Runner


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

    def focus_setting(self, key: str) -> None:
        editor = self.editors[key]
        editor.setFocus()
        if isinstance(editor, QLineEdit):
            editor.selectAll()

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
