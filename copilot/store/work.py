"""What agents and leads produce: drafts, sent replies, AI outputs and flags on them, settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from copilot.domain.models import AIOutput, OutputFlag, Provenance, SentReply, Visibility
from copilot.errors import NotFoundError
from copilot.store.util import dumps, insert_row, now_iso


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


def record_output(db: Database, ticket_id: int, task: str, prov: Provenance, payload: dict[str, Any]) -> int:
    return insert_row(
        db,
        "ai_outputs",
        {
            "ticket_id": ticket_id,
            "task": task,
            "engine": prov.engine,
            "model": prov.model,
            "prompt_version": prov.prompt_version,
            "inputs_hash": prov.inputs_hash,
            "payload": dumps(payload),
            "created_at": now_iso(),
        },
    )


def _output_from_row(r: dict[str, Any]) -> AIOutput:
    return AIOutput(
        id=r["id"],
        ticket_id=r["ticket_id"],
        task=r["task"],
        provenance=Provenance(r["engine"], r["model"], r["prompt_version"], r["inputs_hash"]),
        payload=json.loads(r["payload"]),
        created_at=r["created_at"],
    )


def get_output(db: Database, output_id: int) -> AIOutput:
    rows = list(db.query("SELECT * FROM ai_outputs WHERE id = ?", [output_id]))
    if not rows:
        raise NotFoundError(f"AI output {output_id} does not exist.")
    return _output_from_row(rows[0])


def add_flag(
    db: Database,
    output_id: int,
    target: str,
    target_text: str,
    reason: str,
    note: str,
    correction: str,
    flagged_by: str,
) -> int:
    out = get_output(db, output_id)
    return insert_row(
        db,
        "output_flags",
        {
            "output_id": output_id,
            "ticket_id": out.ticket_id,
            "target": target,
            "target_text": target_text,
            "reason": reason,
            "note": note,
            "correction": correction,
            "flagged_by": flagged_by,
            "created_at": now_iso(),
        },
    )


@dataclass(frozen=True)
class FlagQuery:
    reason: str = ""
    engine_or_model: str = ""
    since: str = ""  # ISO date, inclusive
    until: str = ""  # ISO date, inclusive
    include_resolved: bool = True


def list_flags(db: Database, q: FlagQuery | None = None) -> list[OutputFlag]:
    f = q or FlagQuery()
    where = ["1 = 1"]
    params: dict[str, Any] = {}
    if f.reason:
        where.append("f.reason = :reason")
        params["reason"] = f.reason
    if f.engine_or_model:
        where.append("(o.engine = :em OR o.model = :em)")
        params["em"] = f.engine_or_model
    if f.since:
        where.append("substr(f.created_at, 1, 10) >= :since")
        params["since"] = f.since[:10]
    if f.until:
        where.append("substr(f.created_at, 1, 10) <= :until")
        params["until"] = f.until[:10]
    if not f.include_resolved:
        where.append("f.resolved_at = ''")
    sql = (
        "SELECT f.*, o.task, o.engine, o.model, o.prompt_version, o.inputs_hash, t.number AS ticket_number "
        "FROM output_flags f JOIN ai_outputs o ON o.id = f.output_id JOIN tickets t ON t.id = f.ticket_id "
        f"WHERE {' AND '.join(where)} ORDER BY f.created_at DESC, f.id DESC"
    )
    return [
        OutputFlag(
            id=r["id"],
            ticket_id=r["ticket_id"],
            output_id=r["output_id"],
            task=r["task"],
            target=r["target"],
            target_text=r["target_text"],
            reason=r["reason"],
            note=r["note"],
            correction=r["correction"],
            flagged_by=r["flagged_by"],
            created_at=r["created_at"],
            provenance=Provenance(r["engine"], r["model"], r["prompt_version"], r["inputs_hash"]),
            resolved_at=r["resolved_at"],
            outcome=r["outcome"],
            resolved_by=r["resolved_by"],
            ticket_number=r["ticket_number"],
        )
        for r in db.query(sql, params)
    ]


def resolve_flag(db: Database, flag_id: int, outcome: str, resolved_by: str) -> None:
    cur = db.execute(
        "UPDATE output_flags SET resolved_at = ?, outcome = ?, resolved_by = ? WHERE id = ?",
        [now_iso(), outcome, resolved_by, flag_id],
    )
    if cur.rowcount == 0:
        raise NotFoundError(f"Flag {flag_id} does not exist.")


def get_setting(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def set_setting(db: Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, value])
