"""The triage line of the copilot panel: a sure intent, an unsure one with its candidates, or none of these."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from copilot.domain import AssistResult, Triage
from copilot.ui.widgets.panel_html import SectionRenderer


def _line(triage: Triage) -> str:
    def ignore(*_args: Any) -> None:
        return None

    renderer = SectionRenderer(ignore, ignore, ignore, ignore, ignore, ignore)
    result = cast(AssistResult, SimpleNamespace(triage=triage, extras={}, routing={}, provenance={}))
    return renderer._triage_html(result)


def test_the_triage_line_says_none_of_these_when_the_open_set_rule_does() -> None:
    sure = _line(Triage("billing", 0.82, "normal", ("billing",), candidates=(("billing", 0.82),)))
    assert "billing (82%)" in sure
    unsure = _line(Triage("billing", 0.2, "normal", (), candidates=(("billing", 0.2), ("refund", 0.15))))
    assert "unsure (billing 20%, refund 15%)" in unsure
    stranger = _line(Triage("billing", 0.0, "normal", (), candidates=(("billing", 0.0), ("refund", 0.0))))
    assert "none of these" in stranger and "nearest: billing, refund" in stranger and "0%" not in stranger
