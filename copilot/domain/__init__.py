"""Plain data: tickets, messages, articles, AI outputs and reviews. No I/O here."""

from copilot.domain.models import (
    AIOutput,
    Article,
    ArticleVersion,
    AssistResult,
    Citation,
    Draft,
    Flag,
    Message,
    OutputFlag,
    Provenance,
    SentReply,
    Suggestion,
    Summary,
    SummaryLine,
    Ticket,
    Triage,
)

__all__ = [
    "AIOutput",
    "Article",
    "ArticleVersion",
    "AssistResult",
    "Citation",
    "Draft",
    "Flag",
    "Message",
    "OutputFlag",
    "Provenance",
    "SentReply",
    "Suggestion",
    "Summary",
    "SummaryLine",
    "Ticket",
    "Triage",
]
