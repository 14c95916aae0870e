"""AI outputs with their provenance, and the flags team leads raise and resolve on them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from copilot.domain import AIOutput, OutputFlag, Provenance
from copilot.errors import NotFoundError
from copilot.store.util import dumps, insert_row, now_iso


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
