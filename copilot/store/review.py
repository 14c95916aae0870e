"""What the weekly review reads: AI outputs, flags, sent replies, model costs and ticket opens over a period,
as plain rows (the figures are computed in copilot.assist.weekly_review)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from copilot.store.util import now_iso


@dataclass(frozen=True)
class OutputRow:
    id: int
    ticket_id: int
    ticket_number: int
    subject: str
    task: str
    engine: str
    model: str
    created_at: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class FlagRow:
    output_id: int
    ticket_id: int
    ticket_number: int
    subject: str
    task: str
    model: str  # the model, or the engine for the built-in tier
    reason: str
    created_at: str


@dataclass(frozen=True)
class SentRow:
    ticket_id: int
    ticket_number: int
    subject: str
    output_id: int | None
    edit_ratio: float
    sent_at: str
    opened_at: str  # the agent's latest opening of the ticket before sending; "" if unknown


def record_open(db: Database, ticket_id: int, at: str | None = None) -> None:
    db.execute("INSERT INTO ticket_opens (ticket_id, opened_at) VALUES (?, ?)", [ticket_id, at or now_iso()])


_SCOPE = "(:workspace = '' OR t.workspace = :workspace)"


def outputs_since(db: Database, since: str, workspace: str = "") -> list[OutputRow]:
    sql = (
        "SELECT o.id, o.ticket_id, t.number, t.subject, o.task, o.engine, o.model, o.created_at, o.payload "
        f"FROM ai_outputs o JOIN tickets t ON t.id = o.ticket_id WHERE o.created_at >= :since AND {_SCOPE} "
        "ORDER BY o.created_at, o.id"
    )
    return [
        OutputRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]))
        for r in db.execute(sql, {"since": since, "workspace": workspace})
    ]


def flags_since(db: Database, since: str, workspace: str = "") -> list[FlagRow]:
    sql = (
        "SELECT f.output_id, f.ticket_id, t.number, t.subject, o.task, "
        "CASE WHEN o.engine = 'litellm' THEN o.model ELSE o.engine END, f.reason, f.created_at "
        "FROM output_flags f JOIN ai_outputs o ON o.id = f.output_id JOIN tickets t ON t.id = f.ticket_id "
        f"WHERE f.created_at >= :since AND {_SCOPE} ORDER BY f.created_at, f.id"
    )
    return [FlagRow(*r) for r in db.execute(sql, {"since": since, "workspace": workspace})]


def sent_since(db: Database, since: str, workspace: str = "") -> list[SentRow]:
    """Replies and notes sent from an AI draft (the agent's own text from scratch is not an AI output)."""
    sql = (
        "SELECT s.ticket_id, t.number, t.subject, s.output_id, s.edit_ratio, s.sent_at, "
        "coalesce((SELECT max(v.opened_at) FROM ticket_opens v WHERE v.ticket_id = s.ticket_id "
        "AND v.opened_at <= s.sent_at), '') "
        "FROM sent_replies s JOIN tickets t ON t.id = s.ticket_id "
        f"WHERE s.sent_at >= :since AND s.ai_draft != '' AND {_SCOPE} ORDER BY s.sent_at, s.id"
    )
    return [SentRow(*r) for r in db.execute(sql, {"since": since, "workspace": workspace})]


def model_costs_since(db: Database, since: str, workspace: str = "") -> list[tuple[str, int | None, float]]:
    """(time, ticket id, cost) of every model call, cache hits and embeddings included."""
    sql = (
        "SELECT c.created_at, c.ticket_id, c.cost_usd FROM model_calls c LEFT JOIN tickets t ON t.id = c.ticket_id "
        "WHERE c.created_at >= :since AND (:workspace = '' OR t.workspace = :workspace) ORDER BY c.created_at"
    )
    return [(str(r[0]), r[1], float(r[2])) for r in db.execute(sql, {"since": since, "workspace": workspace})]


def article_titles(db: Database, workspace: str, ids: list[str]) -> dict[str, str]:
    """Titles of the cited articles; `workspace` '' reads every workspace (the first of a shared id wins)."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    sql = f"SELECT id, title FROM articles WHERE id IN ({marks}) AND (? = '' OR workspace = ?) ORDER BY workspace DESC"
    return {str(r[0]): str(r[1]) for r in db.execute(sql, [*ids, workspace, workspace])}
