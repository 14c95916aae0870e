"""What agents write: drafts kept safe while typing, and the replies and notes they sent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from copilot.domain import SentReply, Visibility
from copilot.store.util import insert_row, now_iso


@dataclass(frozen=True)
class SavedDraft:
    ticket_id: int
    body: str
    ai_body: str
    output_id: int | None
    updated_at: str


def save_draft(db: Database, ticket_id: int, body: str, ai_body: str, output_id: int | None) -> None:
    db.table("drafts").upsert(
        {
            "ticket_id": ticket_id,
            "body": body,
            "ai_body": ai_body,
            "output_id": output_id,
            "updated_at": now_iso(),
        },
        pk="ticket_id",
    )


def load_draft(db: Database, ticket_id: int) -> SavedDraft | None:
    rows = list(db.query("SELECT * FROM drafts WHERE ticket_id = ?", [ticket_id]))
    if not rows:
        return None
    r = rows[0]
    return SavedDraft(r["ticket_id"], r["body"], r["ai_body"], r["output_id"], r["updated_at"])


def discard_draft(db: Database, ticket_id: int) -> None:
    db.execute("DELETE FROM drafts WHERE ticket_id = ?", [ticket_id])


def record_sent(
    db: Database,
    ticket_id: int,
    message_id: int,
    visibility: Visibility,
    body: str,
    ai_draft: str,
    output_id: int | None,
    edit_ratio: float,
) -> SentReply:
    sent_at = now_iso()
    reply_id = insert_row(
        db,
        "sent_replies",
        {
            "ticket_id": ticket_id,
            "message_id": message_id,
            "visibility": visibility.value,
            "body": body,
            "ai_draft": ai_draft,
            "output_id": output_id,
            "edit_ratio": edit_ratio,
            "sent_at": sent_at,
        },
    )
    return SentReply(reply_id, ticket_id, visibility, body, ai_draft, edit_ratio, sent_at)


def sent_replies(db: Database, ticket_id: int) -> list[SentReply]:
    return [
        SentReply(
            r["id"],
            r["ticket_id"],
            Visibility(r["visibility"]),
            r["body"],
            r["ai_draft"],
            r["edit_ratio"],
            r["sent_at"],
        )
        for r in db.query("SELECT * FROM sent_replies WHERE ticket_id = ? ORDER BY id", [ticket_id])
    ]
