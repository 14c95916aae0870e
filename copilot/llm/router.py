"""Routing decisions: which tier serves a task for this ticket, which models in what order, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from copilot.llm import catalog


@dataclass(frozen=True)
class TicketFacts:
    """What routing looks at: cheap to compute from the built-in engine's results."""

    messages: int
    words: int
    flags: tuple[str, ...]
    language: str
    retrieval_confidence: float
    text: str  # the customer's words, for topic detection
    triage_unsure: bool = False
    suggestions: int = 0  # how many articles the built-in search suggested


@dataclass(frozen=True)
class Budget:
    monthly_usd: float  # 0: no budget
    spent_usd: float

    @property
    def share(self) -> float:
        return self.spent_usd / self.monthly_usd if self.monthly_usd > 0 else 0.0


@dataclass(frozen=True)
class Route:
    task: str
    tier: str
    models: tuple[str, ...]  # model refs in fallback order; empty for the built-in engine
    reason: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def built_in(self) -> bool:
        return self.tier == "built-in"


def hard_reasons(facts: TicketFacts, rules: dict[str, Any]) -> list[str]:
    """Why a ticket deserves the frontier tier, in words ("refund request", "churn risk" …)."""
    reasons: list[str] = []
    lowered = facts.text.lower()
    for topic, words in rules.get("hard_topics", {}).items():
        if any(re.search(rf"\b{re.escape(w)}", lowered) for w in words):
            reasons.append(topic)
    for flag in facts.flags:
        if flag in rules.get("hard_flags", []):
            reasons.append(flag.replace("_", " "))
    if facts.messages > int(rules.get("long_thread_messages", 6)) or facts.words > int(
        rules.get("long_thread_words", 1200)
    ):
        reasons.append("long thread")
    if facts.retrieval_confidence < float(rules.get("low_retrieval_confidence", 0.45)):
        reasons.append("no strong article")
    if facts.language and facts.language != "en":
        reasons.append(f"not in English ({facts.language})")
    return list(dict.fromkeys(reasons))


def route(
    task: str,
    facts: TicketFacts,
    tiers: dict[str, list[str]],
    *,
    default_tier: str = "built-in",
    overrides: dict[str, str] | None = None,
    budget: Budget | None = None,
    table: dict[str, Any] | None = None,
) -> Route:
    """`tiers` holds the models available per tier (providers set up), in fallback order; `default_tier` is the
    task's own (its declaration), which the user's `overrides` replace."""
    data = table or catalog.table()
    wanted = (overrides or {}).get(task) or default_tier
    warnings: list[str] = []
    if budget is not None and budget.monthly_usd > 0:
        if budget.share >= 1.0:
            return Route(task, "built-in", (), f"built-in: monthly budget of ${budget.monthly_usd:.2f} spent")
        if budget.share >= float(data.get("budget", {}).get("warn_at", 0.8)):
            warnings.append(f"{budget.share:.0%} of the monthly model budget spent")
    if wanted == "built-in":
        if task == "triage" and facts.triage_unsure and tiers.get("cheap"):
            return Route(task, "cheap", tuple(tiers["cheap"]), "cheap: the built-in triage is unsure", tuple(warnings))
        return Route(task, "built-in", (), "built-in: the table's default for this task", tuple(warnings))
    if task == "rerank" and wanted != "built-in":
        below = float(data.get("rerank", {}).get("below_confidence", 0.8))
        if facts.suggestions < 2:
            return Route(task, "built-in", (), "built-in: fewer than two articles to order", tuple(warnings))
        if facts.retrieval_confidence >= below:
            return Route(task, "built-in", (), "built-in: the best article is a clear match", tuple(warnings))
        why = "the best article is not a clear match"
    elif wanted == "escalate":
        reasons = hard_reasons(facts, data.get("escalation", {}))
        wanted = "frontier" if reasons else "cheap"
        why = " + ".join(reasons[:3]) if reasons else "a routine question"
    else:
        why = "the default for this task"
    chain = list(tiers.get(wanted, []))
    if wanted == "frontier":
        chain += [m for m in tiers.get("cheap", []) if m not in chain]  # a cheaper answer beats none
    elif wanted == "cheap":
        chain += [m for m in tiers.get("frontier", []) if m not in chain]
    if not chain:
        return Route(task, "built-in", (), "built-in: no model is configured", tuple(warnings))
    if not tiers.get(wanted):
        other = "cheap" if wanted == "frontier" else "frontier"
        return Route(task, other, tuple(chain), f"{other}: no {wanted} model is configured ({why})", tuple(warnings))
    return Route(task, wanted, tuple(chain), f"{wanted}: {why}", tuple(warnings))
