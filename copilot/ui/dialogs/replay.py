"""Review → Try a model or prompt…: replay a regression set with a candidate model or prompt version against the
current configuration, in the background with progress, and show the side-by-side report."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import regression
from copilot.assist.judge import Judge
from copilot.assist.replay import Candidate, ReplayReport, replay
from copilot.assist.replay_report import render_html, verdict_line
from copilot.errors import as_copilot_error
from copilot.llm.catalog import model_list
from copilot.services import Services
from copilot.ui.runner import Runner
from copilot.ui.widgets.safe_browser import SafeBrowser

NO_JUDGE = "None (the lexical check alone)"


class ReplayDialog(QDialog):
    """Pick a set and a candidate (a provider's model, or a prompt version), run, read the report."""

    replayed = Signal(str, str)  # (candidate model, verdict) after each run

    def __init__(
        self, parent: QWidget | None, services: Services, runner: Runner, model: str = "", set_name: str = ""
    ) -> None:
        super().__init__(parent)
        self.services, self.runner = services, runner
        self.report: ReplayReport | None = None
        self._stages: list[str] = []
        self._stage_count = 2
        self.setWindowTitle("Try a model or prompt")
        self.setObjectName("replayDialog")
        self.sets = QComboBox()
        self.kind = QComboBox()
        self.kind.addItem("A model (provider/model)", "model")
        self.kind.addItem("A prompt version (a folder in <data folder>/prompts)", "prompt")
        self.candidate = QComboBox()
        self.candidate.setEditable(True)
        self.candidate.setCurrentText(model)
        self.kind.currentIndexChanged.connect(self._show_example)
        self._show_example()
        self.judge = QComboBox()
        self.judge.setObjectName("replayJudge")
        self.judge.setEditable(True)
        self.judge.addItem(NO_JUDGE)
        self.judge.setToolTip(
            "A model that also reads every draft for sentences its sources do not support; its count decides "
            "(Preferences: models.judge sets the default)"
        )
        self.run_button = QPushButton("Replay")
        self.save_button = QPushButton("Save as HTML…")
        self.save_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("Each case runs with the current configuration and with the candidate.")
        self.status.setObjectName("replayStatus")
        self.status.setWordWrap(True)
        self.view = SafeBrowser()
        form = QFormLayout()
        form.addRow("Regression set", self.sets)
        form.addRow("Try", self.kind)
        form.addRow("Candidate", self.candidate)
        form.addRow("Judge", self.judge)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        self.resize(1100, 700)
        self.run_button.clicked.connect(self.start)
        self.save_button.clicked.connect(self.save)
        self._wanted_set = set_name
        self.runner.run(regression.case_sets(services), self._fill_sets, "Loading regression sets")
        self.runner.run(_model_refs(services), self._fill_models, "")

    def _show_example(self) -> None:
        # An editable combo box shows its line edit's placeholder: the combo box's own is never seen.
        line = self.candidate.lineEdit()
        if line is not None:  # always, as the combo box is editable
            line.setPlaceholderText(_EXAMPLES[str(self.kind.currentData())])

    def _fill_sets(self, sets: list[tuple[str, int, int]]) -> None:
        for name, confirmed, candidates in sets:
            waiting = f", {candidates} to confirm" if candidates else ""
            self.sets.addItem(f"{name} ({confirmed} cases{waiting})", name)
        index = self.sets.findData(self._wanted_set)
        if index >= 0:
            self.sets.setCurrentIndex(index)

    def _fill_models(self, refs: list[str]) -> None:
        typed = self.candidate.currentText()
        self.candidate.addItems([r for r in refs if r != typed])
        self.candidate.setCurrentText(typed)
        configured = self.services.settings.models.judge.strip()
        self.judge.addItems(list(dict.fromkeys([*([configured] if configured else []), *refs])))
        self.judge.setCurrentText(configured or NO_JUDGE)

    def start(self) -> None:
        name = str(self.sets.currentData() or "")
        what = self.candidate.currentText().strip()
        if not name or not what:
            self.status.setText("✘ Choose a regression set and type a candidate.")
            return
        is_prompt = self.kind.currentData() == "prompt"
        candidate = Candidate(prompt_version=what) if is_prompt else Candidate(model=what)
        judge_model = self.judge.currentText().strip()
        judge = Judge(judge_model) if judge_model and judge_model != NO_JUDGE else None
        self._stage_count = 4 if judge else 2
        self.run_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setValue(0)
        self._stages.clear()
        self.status.setText(f"Replaying '{name}'…")
        self.runner.run(
            replay(self.services, name, candidate, progress=self._progress, judge=judge),
            self._show,
            "Replaying",
            on_error=self._failed,
        )

    def _progress(self, label: str, done: int, total: int) -> None:
        # Each stage (the baseline, the candidate, then the judge on each) fills its share of the bar.
        if label not in self._stages:
            self._stages.append(label)
        share = 100 // self._stage_count
        stage = min(self._stage_count - 1, self._stages.index(label))
        self.progress.setValue(share * stage + int(share * done / max(1, total)))
        self.status.setText(f"{label}: {done} of {total} cases")

    def _show(self, report: ReplayReport) -> None:
        self.report = report
        self.progress.setValue(100)
        self.run_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.status.setText(verdict_line(report))
        self.view.setHtml(render_html(report))
        self.replayed.emit(self.candidate.currentText().strip(), report.verdict)

    def _failed(self, exc: BaseException) -> None:
        error = as_copilot_error(exc)
        self.run_button.setEnabled(True)
        self.progress.setVisible(False)
        self.status.setText(f"✘ {error.message} {error.hint}".strip())

    def save(self) -> None:
        if self.report is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save the replay report", "replay.html", "HTML (*.html)")
        if path:
            html_text = render_html(self.report)
            self.runner.run(_write(Path(path), html_text), lambda _n: self.status.setText(f"Saved {path}."), "")


_EXAMPLES = {
    "model": "e.g. local/small: a provider's model (Models → Providers… adds one), or a litellm name",
    "prompt": "e.g. draft-v3: a folder of prompt files in <data folder>/prompts",
}


async def _model_refs(services: Services) -> list[str]:
    """provider/model refs the user already names in the tier settings, to pick from."""
    refs = [r for key in ("models.cheap", "models.frontier") for r in model_list(services.settings.text(key))]
    return list(dict.fromkeys(refs))


async def _write(path: Path, text: str) -> int:
    return await asyncio.to_thread(path.write_text, text, encoding="utf-8")
