"""What the copilot produces for a ticket (summary, flags, triage, draft), with provenance, and flags on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from copilot.domain.articles import Citation, Suggestion
from copilot.domain.tickets import Ticket


@dataclass(frozen=True)
class Provenance:
    """What produced an AI output, so a reviewer can trace and reproduce it."""

    engine: str
    model: str
    prompt_version: str
    inputs_hash: str


@dataclass(frozen=True)
class SummaryLine:
    label: str  # "Wants", "Tried", "Next"
    text: str
    message_id: int | None = None


@dataclass(frozen=True)
class Summary:
    lines: tuple[SummaryLine, ...]

    def as_text(self) -> str:
        return "\n".join(f"{line.label}: {line.text}" for line in self.lines)


@dataclass(frozen=True)
class Flag:
    kind: str  # e.g. "churn_risk"
    label: str  # "Churn risk"
    reason: str  # why it was raised, in words
    evidence: str  # the quoted text
    message_id: int | None = None
    severity: int = 1  # 1 mild .. 3 severe


@dataclass(frozen=True)
class Triage:
    intent: str
    confidence: float
    priority: str  # low / normal / high / urgent
    tags: tuple[str, ...]
    neighbours: tuple[tuple[int, str, float], ...] = ()  # (ticket number, intent, similarity)
    priority_reason: str = ""
    candidates: tuple[tuple[str, float], ...] = ()  # every intent the neighbours voted for, best first

    UNSURE_BELOW = 0.35

    @property
    def is_unsure(self) -> bool:
        return self.confidence < self.UNSURE_BELOW


@dataclass(frozen=True)
class Draft:
    text: str
    language: str
    tone: str
    citations: tuple[Citation, ...] = ()
    grounded: bool = True  # False when no article covers the question
    note: str = ""  # for the agent only, never sent (e.g. "the steps are quoted in English")


@dataclass(frozen=True)
class AIOutput:
    """One stored output of one task, with its provenance."""

    id: int
    ticket_id: int
    task: str
    provenance: Provenance
    payload: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class AssistResult:
    ticket: Ticket
    summary: Summary
    flags: tuple[Flag, ...]
    sentiment: str
    triage: Triage
    suggestions: tuple[Suggestion, ...]
    draft: Draft
    output_ids: dict[str, int] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    # Per task: tier, model, why it was routed there, tokens, cost, latency (see copilot.assist.routing).
    routing: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Outputs of tasks beyond the core ones, by output name (e.g. "tags": {"tags": [...]}).
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket": {
                "number": self.ticket.number,
                "workspace": self.ticket.workspace,
                "subject": self.ticket.subject,
                "customer": self.ticket.customer_name,
                "status": self.ticket.status,
                "language": self.ticket.language,
            },
            "summary": [asdict(line) for line in self.summary.lines],
            "sentiment": self.sentiment,
            "flags": [asdict(f) for f in self.flags],
            "triage": asdict(self.triage),
            "suggestions": [asdict(s) for s in self.suggestions],
            "draft": asdict(self.draft),
            **self.extras,
            "outputs": {
                task: {"id": self.output_ids.get(task), **asdict(prov), "routing": self.routing.get(task)}
                for task, prov in self.provenance.items()
            },
        }


@dataclass(frozen=True)
class OutputFlag:
    """A reviewer's flag on one AI output (or one part of it)."""

    id: int
    ticket_id: int
    output_id: int
    task: str
    target: str  # what part: "summary", "flag:churn_risk", "draft:sentence:2", "article:ID"
    target_text: str
    reason: str  # incorrect / unsupported / outdated
    note: str
    correction: str
    flagged_by: str
    created_at: str
    provenance: Provenance
    resolved_at: str = ""
    outcome: str = ""
    resolved_by: str = ""
    ticket_number: int = 0  # the help desk's number, for people

    @property
    def is_resolved(self) -> bool:
        return bool(self.resolved_at)
