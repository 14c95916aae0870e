"""The outbox: replies, notes and status changes written down before any network call, then delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlite_utils import Database

from copilot.errors import NotFoundError
from copilot.scrub import scrub
from copilot.store.util import insert_row, now_iso


class OutboxKind(StrEnum):
    REPLY = "reply"
    NOTE = "note"
    STATUS = "status"
    ARTICLE = "article"  # push the article's current version to the help desk's knowledge base


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for (another) attempt
    SENDING = "sending"  # an attempt is in flight; found like this after a crash = outcome unknown
    SENT = "sent"
    FAILED = "failed"  # the help desk refused it; the agent decides (retry or edit)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    workspace: str
    ticket_id: int | None
    ticket_number: int  # 0 for article items
    article_id: str
    kind: OutboxKind
    body: str
    author: str
    ai_draft: str
    output_id: int | None
    state: OutboxState
    outcome_unknown: bool
    attempts: int
    next_attempt_at: str
    last_error: str
    error_kind: str  # AUTH when the help desk refused (or lacked) the token; "" otherwise
    remote_id: str
    watermark: str
    created_at: str
    sent_at: str


_SELECT = "SELECT o.*, COALESCE(t.number, 0) AS ticket_number FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id"


def _item(r: dict[str, Any]) -> OutboxItem:
    return OutboxItem(
        id=r["id"],
        workspace=r["workspace"],
        ticket_id=r["ticket_id"],
        ticket_number=r["ticket_number"],
        article_id=r["article_id"],
        kind=OutboxKind(r["kind"]),
        body=r["body"],
        author=r["author"],
        ai_draft=r["ai_draft"],
        output_id=r["output_id"],
        state=OutboxState(r["state"]),
        outcome_unknown=bool(r["outcome_unknown"]),
        attempts=r["attempts"],
        next_attempt_at=r["next_attempt_at"],
        last_error=r["last_error"],
        error_kind=r["error_kind"],
        remote_id=r["remote_id"],
        watermark=r["watermark"],
        created_at=r["created_at"],
        sent_at=r["sent_at"],
    )


def enqueue(
    db: Database,
    workspace: str,
    ticket_id: int | None,
    kind: OutboxKind,
    body: str,
    author: str,
    *,
    article_id: str = "",
    ai_draft: str = "",
    output_id: int | None = None,
    watermark: str = "",
) -> OutboxItem:
    now = now_iso()
    item_id = insert_row(
        db,
        "outbox",
        {
            "workspace": workspace,
            "ticket_id": ticket_id,
            "article_id": article_id,
            "kind": kind.value,
            "body": body,
            "author": author,
            "ai_draft": ai_draft,
            "output_id": output_id,
            "state": OutboxState.PENDING.value,
            "next_attempt_at": now,
            "watermark": watermark,
            "created_at": now,
        },
    )
    return get_item(db, item_id)


def get_item(db: Database, item_id: int) -> OutboxItem:
    rows = list(db.query(f"{_SELECT} WHERE o.id = ?", [item_id]))
    if not rows:
        raise NotFoundError(f"Outbox item {item_id} does not exist.", "Refresh the outbox.")
    return _item(rows[0])


def items(
    db: Database, workspace: str, *, states: tuple[OutboxState, ...] = (), ticket_id: int | None = None
) -> list[OutboxItem]:
    where, params = ["o.workspace = ?"], [workspace]
    if states:
        where.append(f"o.state IN ({', '.join('?' for _ in states)})")
        params += [s.value for s in states]
    if ticket_id is not None:
        where.append("o.ticket_id = ?")
        params.append(str(ticket_id))
    return [_item(r) for r in db.query(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY o.id", params)]


def due(db: Database, workspace: str, now: str | None = None) -> list[OutboxItem]:
    """Items to attempt now: pending ones whose time has come, and any left 'sending' by a crash."""
    moment = now or now_iso()
    return [
        _item(r)
        for r in db.query(
            f"{_SELECT} WHERE o.workspace = ? AND (o.state = 'sending' OR (o.state = 'pending' AND o.next_attempt_at <= ?)) "
            "ORDER BY o.id",
            [workspace, moment],
        )
    ]


def begin_attempt(db: Database, item_id: int) -> OutboxItem:
    """Committed before the network call: if we crash now, the next start knows the outcome is unknown."""
    db.execute(
        "UPDATE outbox SET outcome_unknown = CASE WHEN state = 'sending' THEN 1 ELSE outcome_unknown END WHERE id = ?",
        [item_id],
    )
    db.execute("UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?", [item_id])
    return get_item(db, item_id)


def mark_sent(db: Database, item_id: int, remote_id: str) -> None:
    db.execute(
        "UPDATE outbox SET state = 'sent', remote_id = ?, sent_at = ?, last_error = '', error_kind = '', "
        "outcome_unknown = 0 WHERE id = ?",
        [remote_id, now_iso(), item_id],
    )


def backoff_seconds(attempts: int, retry_after: float | None = None, cap: float = 300.0) -> float:
    """Capped exponential backoff (2, 4, 8 … 300 s); the help desk's Retry-After wins when it asks for longer."""
    delay = min(cap, 2.0 ** max(1, attempts))
    if retry_after is not None:
        delay = max(delay, min(retry_after, 3600.0))
    return delay


def mark_retry(db: Database, item_id: int, error: str, *, delay_s: float, outcome_unknown: bool) -> None:
    at = (datetime.now(UTC) + timedelta(seconds=delay_s)).isoformat(timespec="seconds")
    db.execute(
        "UPDATE outbox SET state = 'pending', last_error = ?, error_kind = '', next_attempt_at = ?, "
        "outcome_unknown = CASE WHEN ? THEN 1 ELSE outcome_unknown END WHERE id = ?",
        [scrub(error), at, int(outcome_unknown), item_id],
    )


AUTH = "auth"  # the error kind of a reply the help desk refused for its credentials


def mark_failed(db: Database, item_id: int, error: str, *, outcome_unknown: bool = False, kind: str = "") -> None:
    db.execute(
        "UPDATE outbox SET state = 'failed', last_error = ?, error_kind = ?, "
        "outcome_unknown = CASE WHEN ? THEN 1 ELSE outcome_unknown END WHERE id = ?",
        [scrub(error), kind, int(outcome_unknown), item_id],
    )


def requeue(db: Database, item_id: int) -> OutboxItem:
    """The agent's retry: attempt again now (a failed item keeps whether its outcome is unknown)."""
    db.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE id = ? AND state IN ('failed', 'pending')",
        [now_iso(), item_id],
    )
    return get_item(db, item_id)


def cancel(db: Database, item_id: int) -> OutboxItem:
    """Take back an item that was never delivered (its text is returned to the caller, who keeps it)."""
    item = get_item(db, item_id)
    if item.state in (OutboxState.PENDING, OutboxState.FAILED) and not item.outcome_unknown:
        db.execute("DELETE FROM outbox WHERE id = ?", [item_id])
    return item


def counts(db: Database, workspace: str) -> dict[str, int]:
    return {
        r[0]: int(r[1])
        for r in db.execute("SELECT state, count(*) FROM outbox WHERE workspace = ? GROUP BY state", [workspace])
    }
