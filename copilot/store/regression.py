"""Regression cases (a ticket snapshot and what a good answer must and must not do), versioned per set and
ticket number, and the replay runs made against them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from copilot.store.transaction import transaction
from copilot.store.util import dumps, insert_row, now_iso

CONFIRMED = "confirmed"
CANDIDATE = "candidate"  # offered from an accepted reply; a lead confirms it before it is replayed
DELETED = "deleted"  # a newest version that removes the case; the version before it is kept, so undo restores it


@dataclass(frozen=True)
class CaseInput:
    workspace: str  # whose knowledge base and labelled history answer it
    number: int
    ticket: dict[str, Any]  # the ticket in the demo's shape (what `eval assist` reads)
    expect: dict[str, Any]  # the gold keys: articles, intent, must_include, must_not_include …
    source: str
    kb_version: str
    status: str = CONFIRMED
    note: str = ""


@dataclass(frozen=True)
class RegressionCase:
    id: int
    set_name: str
    workspace: str
    number: int
    version: int
    status: str
    source: str
    ticket: dict[str, Any]
    expect: dict[str, Any]
    kb_version: str
    note: str
    created_by: str
    created_at: str


@dataclass(frozen=True)
class ReplayRun:
    id: int
    set_name: str
    candidate: str
    model: str
    verdict: str
    cases: int
    created_at: str


_COLUMNS = (
    "id, set_name, workspace, number, version, status, source, ticket, expect, kb_version, note, created_by, created_at"
)


def _case(r: Any) -> RegressionCase:
    return RegressionCase(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), json.loads(r[8]), r[9], r[10], r[11], r[12]
    )


def kb_version(db: Database, workspace: str) -> str:
    """A short fingerprint of the workspace's articles at their current versions ("kb-" + 10 hex digits)."""
    rows = db.execute("SELECT id, version FROM articles WHERE workspace = ? ORDER BY id", [workspace]).fetchall()
    digest = hashlib.sha256("\n".join(f"{r[0]}:{r[1]}" for r in rows).encode()).hexdigest()
    return f"kb-{digest[:10]}"


def latest_cases(db: Database, set_name: str, status: str = "") -> list[RegressionCase]:
    """The newest version of every case in the set (only those with `status` when given; deleted cases only
    when asked for), by ticket number."""
    sql = (
        f"SELECT {_COLUMNS} FROM regression_cases c WHERE set_name = :set AND version = "
        "(SELECT max(version) FROM regression_cases WHERE set_name = c.set_name AND number = c.number) "
        "AND (:status = '' AND status != :deleted OR status = :status) ORDER BY number"
    )
    return [_case(r) for r in db.execute(sql, {"set": set_name, "status": status, "deleted": DELETED})]


def set_exists(db: Database, set_name: str) -> bool:
    """Whether the set was ever written (even if every case in it is deleted now)."""
    return db.execute("SELECT 1 FROM regression_cases WHERE set_name = ? LIMIT 1", [set_name]).fetchone() is not None


def case_versions(db: Database, set_name: str, number: int) -> list[RegressionCase]:
    sql = f"SELECT {_COLUMNS} FROM regression_cases WHERE set_name = ? AND number = ? ORDER BY version"
    return [_case(r) for r in db.execute(sql, [set_name, number])]


def set_summaries(db: Database) -> list[tuple[str, int, int]]:
    """(set, confirmed cases, candidates) for every set, newest versions only."""
    sql = (
        "SELECT set_name, sum(status = 'confirmed'), sum(status = 'candidate') FROM regression_cases c "
        "WHERE version = (SELECT max(version) FROM regression_cases WHERE set_name = c.set_name "
        "AND number = c.number) AND status != 'deleted' GROUP BY set_name ORDER BY set_name"
    )
    return [(str(r[0]), int(r[1]), int(r[2])) for r in db.execute(sql)]


def add_cases(db: Database, set_name: str, cases: list[CaseInput], created_by: str = "") -> tuple[int, int]:
    """Store each case as a new version of its (set, number), all in one transaction; a case identical to its
    newest version is left alone. Returns (new versions written, unchanged)."""
    written = unchanged = 0
    with transaction(db):
        for case in cases:
            row = db.execute(
                "SELECT version, status, ticket, expect FROM regression_cases WHERE set_name = ? AND number = ? "
                "ORDER BY version DESC LIMIT 1",
                [set_name, case.number],
            ).fetchone()
            same = row is not None and (row[1], row[2], row[3]) == (case.status, dumps(case.ticket), dumps(case.expect))
            if same:
                unchanged += 1
                continue
            insert_row(
                db,
                "regression_cases",
                {
                    "set_name": set_name,
                    "workspace": case.workspace,
                    "number": case.number,
                    "version": (row[0] if row else 0) + 1,
                    "status": case.status,
                    "source": case.source,
                    "ticket": dumps(case.ticket),
                    "expect": dumps(case.expect),
                    "kb_version": case.kb_version,
                    "note": case.note,
                    "created_by": created_by,
                    "created_at": now_iso(),
                },
            )
            written += 1
    return written, unchanged


def revise_case(
    db: Database, set_name: str, number: int, *, expect: dict[str, Any] | None = None, status: str = "", by: str = ""
) -> RegressionCase:
    """A new version of a case with other expectations and/or another status (DELETED removes it). Returns the
    newest version afterwards (the same one when nothing changed)."""
    with transaction(db):
        versions = case_versions(db, set_name, number)
        if not versions:
            raise KeyError(number)
        case = versions[-1]
        change = CaseInput(
            case.workspace, number, case.ticket, case.expect if expect is None else expect, case.source,
            case.kb_version, status or case.status, case.note,
        )  # fmt: skip
        add_cases(db, set_name, [change], by)
        return case_versions(db, set_name, number)[-1]


def restore_case(db: Database, set_name: str, number: int, version: int, by: str = "") -> RegressionCase:
    """Undo: an earlier version's expectations and status become the case's next version."""
    with transaction(db):
        earlier = next((c for c in case_versions(db, set_name, number) if c.version == version), None)
        if earlier is None:
            raise KeyError(number)
        return revise_case(db, set_name, number, expect=earlier.expect, status=earlier.status, by=by)


def confirm_cases(db: Database, set_name: str, numbers: list[int]) -> list[int]:
    """Confirm candidates (their newest version); returns the numbers that were candidates."""
    confirmed: list[int] = []
    with transaction(db):
        for case in latest_cases(db, set_name, CANDIDATE):
            if not numbers or case.number in numbers:
                db.execute("UPDATE regression_cases SET status = ? WHERE id = ?", [CONFIRMED, case.id])
                confirmed.append(case.number)
    return confirmed


def record_run(
    db: Database, set_name: str, candidate: str, model: str, verdict: str, cases: int, report: dict[str, Any]
) -> int:
    return insert_row(
        db,
        "replay_runs",
        {
            "set_name": set_name,
            "candidate": candidate,
            "model": model,
            "verdict": verdict,
            "cases": cases,
            "report": dumps(report),
            "created_at": now_iso(),
        },
    )


def runs_for_model(db: Database, model: str) -> list[ReplayRun]:
    """Replays on record whose candidate was this model, newest first."""
    sql = "SELECT id, set_name, candidate, model, verdict, cases, created_at FROM replay_runs WHERE model = ?"
    return [ReplayRun(*r) for r in db.execute(sql + " ORDER BY id DESC", [model])]
