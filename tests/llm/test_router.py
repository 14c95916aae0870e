"""Routing decisions from the tasks' declared tiers and the packaged table: which tier, which models, and the reason given."""

from __future__ import annotations

import pytest

from copilot.assist.tasks import BY_NAME
from copilot.errors import ValidationError
from copilot.llm import catalog
from copilot.llm.router import Budget, Route, TicketFacts, route

TIERS = {"cheap": ["openai/gpt-4o-mini", "groq/llama"], "frontier": ["openai/gpt-4o"]}


def route_for_task(task: str, facts: TicketFacts, tiers: dict[str, list[str]], **options: object) -> Route:
    """As the app routes: with the tier the task declares (copilot.assist.tasks) as its default."""
    return route(task, facts, tiers, default_tier=BY_NAME[task].tier, **options)  # type: ignore[arg-type]


def facts(**changes: object) -> TicketFacts:
    base = {
        "messages": 2,
        "words": 60,
        "flags": (),
        "language": "en",
        "retrieval_confidence": 0.8,
        "text": "How do I pair a bulb?",
    }
    return TicketFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_routine_draft_goes_to_the_cheap_tier_with_frontier_as_fallback() -> None:
    r = route_for_task("draft", facts(), TIERS)
    assert r.tier == "cheap" and r.models == ("openai/gpt-4o-mini", "groq/llama", "openai/gpt-4o")
    assert r.reason == "cheap: a routine question"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"text": "I want a refund now", "flags": ("churn_risk",)}, "frontier: refund request + churn risk"),
        ({"messages": 9}, "frontier: long thread"),
        ({"retrieval_confidence": 0.2}, "frontier: no strong article"),
        ({"language": "de"}, "frontier: not in English (de)"),
        ({"text": "my account was hacked"}, "frontier: security"),
    ],
)
def test_hard_tickets_escalate_with_the_reason(changes: dict[str, object], reason: str) -> None:
    r = route_for_task("draft", facts(**changes), TIERS)
    assert r.tier == "frontier" and r.reason == reason and r.models[0] == "openai/gpt-4o"


def test_tasks_take_their_default_tier_and_user_overrides_win() -> None:
    assert route_for_task("summary", facts(), TIERS).tier == "cheap"
    assert route_for_task("triage", facts(), TIERS).built_in
    assert route_for_task("triage", facts(triage_unsure=True), TIERS).reason == "cheap: the built-in triage is unsure"
    assert route_for_task("summary", facts(), TIERS, overrides={"summary": "built-in"}).built_in
    assert (
        route_for_task("draft", facts(), TIERS, overrides=catalog.parse_task_overrides("draft=frontier", BY_NAME)).tier
        == "frontier"
    )
    with pytest.raises(ValidationError):
        catalog.parse_task_overrides("draft=best", BY_NAME)


def test_no_model_or_a_spent_budget_means_built_in() -> None:
    assert route_for_task("draft", facts(), {"cheap": [], "frontier": []}).reason == "built-in: no model is configured"
    spent = route_for_task("draft", facts(text="refund"), TIERS, budget=Budget(10.0, 10.5))
    assert spent.built_in and "budget" in spent.reason
    warned = route_for_task("draft", facts(), TIERS, budget=Budget(10.0, 8.5))
    assert warned.tier == "cheap" and warned.warnings == ("85% of the monthly model budget spent",)


def test_a_missing_tier_borrows_the_other_and_says_so() -> None:
    r = route_for_task("draft", facts(text="refund please"), {"cheap": ["openai/gpt-4o-mini"], "frontier": []})
    assert r.tier == "cheap" and r.reason == "cheap: no frontier model is configured (refund request)"


def test_model_refs_resolve_only_for_providers_that_are_set_up() -> None:
    providers = {"local": catalog.Provider("local", "openai_compatible", "Local", "http://127.0.0.1:8000/v1")}
    m = catalog.resolve("local/llama3", providers)
    assert m is not None and m.litellm_model == "openai/llama3" and m.api_base == "http://127.0.0.1:8000/v1"
    assert catalog.resolve("openai/gpt-4o", providers) is None


def test_rerank_runs_only_when_the_best_article_is_not_clear() -> None:
    assert route_for_task("rerank", facts(suggestions=5, retrieval_confidence=0.9), TIERS).reason == (
        "built-in: the best article is a clear match"
    )
    assert route_for_task("rerank", facts(suggestions=1, retrieval_confidence=0.3), TIERS).built_in
    unclear = route_for_task("rerank", facts(suggestions=5, retrieval_confidence=0.5), TIERS)
    assert unclear.tier == "cheap" and unclear.reason == "cheap: the best article is not a clear match"
    assert route(
        "rerank", facts(suggestions=5, retrieval_confidence=0.5), TIERS, overrides={"rerank": "built-in"}
    ).built_in
