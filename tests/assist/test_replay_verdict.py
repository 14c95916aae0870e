"""The replay's comparison, verdict and report without running the assist: scored cases in, words out."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.assist.replay import (
    CaseChange,
    CaseScore,
    ConfigRun,
    ReplayReport,
    compare_case,
    read_routing_file,
    score_case,
)
from copilot.assist.replay_report import render_html, render_text
from copilot.errors import ValidationError
from copilot.evaluation.assist import TicketOutcome


def _outcome(number: int, articles: tuple[str, ...], draft: str, unsupported: tuple[str, ...] = ()) -> TicketOutcome:
    return TicketOutcome(number, articles, False, "billing", "neutral", (), draft, (), 0.2, unsupported, 0.001, 120)


EXPECT = {"articles": ["invoice"], "intent": "billing", "must_include": ["Download invoice"],
          "must_not_include": ["refund"]}  # fmt: skip


def test_a_case_is_worse_when_an_expectation_it_met_is_lost() -> None:
    good = score_case(EXPECT, _outcome(2, ("invoice",), "Open Orders and tap Download invoice."))
    assert (good.articles_ok, good.intent_ok, good.missing, good.must_not_hits) == (True, True, (), ())
    promise = "We will refund you today."
    bad = score_case(EXPECT, _outcome(2, ("shipping", "x", "y", "invoice"), f"Sorry. {promise}", (promise,)))
    worse, better = compare_case(good, bad)
    assert worse == [
        "lost the expected article (or the 'no good article' decision)",
        "missing 'Download invoice'",
        "says 'refund'",
        f"1 unsupported sentence(s) (lexical check): '{promise}'",
    ]
    assert better == []
    assert compare_case(bad, good)[0] == [] and "found the expected article" in compare_case(bad, good)[1]
    none = score_case({"articles": []}, _outcome(3, ("a",), "x"))
    assert none.articles_ok is False  # gold says no article answers it; the outcome did not say so


def _run(label: str, scores: list[CaseScore]) -> ConfigRun:
    return ConfigRun(label, {"article_top1": 1.0, "tickets": 2}, 0, 0.0, 0, 1.0, tuple(scores))


def test_the_verdict_allows_the_tolerance_and_names_the_worse_cases(tmp_path: Path) -> None:
    a = score_case(EXPECT, _outcome(1, ("invoice",), "Download invoice <b>"))
    b = score_case(EXPECT, _outcome(2, ("invoice",), "Download invoice"))
    changes = (CaseChange(1, "Invoice <please>", ("says 'refund'",), ()),)
    strict = ReplayReport("s", 2, 0.0, _run("built-in engine", [a, b]), _run("m", [a, b]), changes)
    assert (strict.verdict, strict.exit_code, strict.allowed_worse) == ("worse", 1, 0)
    lenient = ReplayReport("s", 2, 0.5, _run("built-in engine", [a, b]), _run("m", [a, b]), changes)
    assert (lenient.verdict, lenient.exit_code) == ("not worse", 0)
    text = render_text(strict)
    assert "  #1 Invoice <please>: says 'refund'" in text and text.rstrip().endswith("worse: #1.")
    page = render_html(strict)
    assert "<b>" not in page and "<please>" not in page  # ticket and draft text is escaped
    assert "Download invoice &lt;b&gt;" in page and "<script" not in page and "http" not in page.split("<style>")[0]
    assert strict.as_dict()["worse_cases"][0]["number"] == 1


def test_a_routing_file_may_only_set_routing(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"models.cheap": "local/small", "routing.tasks": "draft=frontier"}', encoding="utf-8")
    assert read_routing_file(path) == {"models.cheap": "local/small", "routing.tasks": "draft=frontier"}
    path.write_text('{"budget.monthly_usd": 5}', encoding="utf-8")
    with pytest.raises(ValidationError, match="not a routing file"):
        read_routing_file(path)
