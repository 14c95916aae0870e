"""Plain data every layer may import: tickets, articles, AI outputs, workspaces, inbox rows, events. No I/O here."""

from copilot.domain.articles import Article, ArticleVersion, Citation, Suggestion
from copilot.domain.outputs import (
    AIOutput,
    AssistResult,
    Draft,
    Flag,
    OutputFlag,
    Provenance,
    Summary,
    SummaryLine,
    Triage,
)
from copilot.domain.tickets import Message, Role, SentReply, Ticket, Visibility

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
    "Role",
    "SentReply",
    "Suggestion",
    "Summary",
    "SummaryLine",
    "Ticket",
    "Triage",
    "Visibility",
]
