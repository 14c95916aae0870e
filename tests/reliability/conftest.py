"""Print the reliability figures (faults, kills, cases, lost, doubled, crashes) at the end of the run."""

from __future__ import annotations

import pytest

from tests.reliability.summary import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name in sorted(FIGURES):
        terminalreporter.write_line(f"{name}: {FIGURES[name]}")
