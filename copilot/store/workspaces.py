"""Workspaces: which help desk each one talks to, and how far its sync got."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from copilot.domain.workspaces import SkippedRecord, SyncState, WorkspaceConfig
from copilot.errors import NotFoundError, UnsentWorkError
from copilot.scrub import scrub
from copilot.store.transaction import transaction
from copilot.store.util import dumps, now_iso


def _config(r: dict[str, Any]) -> WorkspaceConfig:
    return WorkspaceConfig(r["id"], r["name"], r["kind"], r["url"], r["username"], json.loads(r["options"] or "{}"))


def save_workspace(db: Database, config: WorkspaceConfig) -> None:
    values = {
        "id": config.id,
        "name": config.name,
        "kind": config.kind,
        "url": config.url,
        "username": config.username,
        "options": dumps(config.options),
    }
    with transaction(db):
        if db.execute("SELECT 1 FROM workspaces WHERE id = ?", [config.id]).fetchone():
            db.table("workspaces").update(config.id, values)
        else:
            db.table("workspaces").insert({**values, "created_at": now_iso()})


def list_workspaces(db: Database) -> list[WorkspaceConfig]:
    return [_config(r) for r in db.query("SELECT * FROM workspaces ORDER BY created_at, id")]


def kind_of(db: Database, workspace: str) -> str:
    """The workspace's kind as stored ('demo', 'rt', 'file' for a ticket import …); "" when it is not there."""
    row = db.execute("SELECT kind FROM workspaces WHERE id = ?", [workspace]).fetchone()
    return str(row[0]) if row else ""


def get_workspace(db: Database, workspace: str) -> WorkspaceConfig:
    rows = list(db.query("SELECT * FROM workspaces WHERE id = ?", [workspace]))
    if not rows:
        raise NotFoundError(
            f"There is no workspace called '{workspace}'.", "List them with `support-copilot workspace list`."
        )
    return _config(rows[0])


def unsent_work(db: Database, workspace: str) -> list[str]:
    """What removing the workspace would throw away that exists nowhere else: undelivered messages, drafts."""
    found = [
        f"an undelivered {r[0]} on ticket #{r[1]}" if r[1] else f"an undelivered {r[0]}"
        for r in db.execute(
            "SELECT o.kind, COALESCE(t.number, 0) FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id "
            "WHERE o.workspace = ? AND o.state != 'sent' ORDER BY o.id",
            [workspace],
        )
    ]
    found += [
        f"a draft on ticket #{r[0]}"
        for r in db.execute(
            "SELECT t.number FROM drafts d JOIN tickets t ON t.id = d.ticket_id WHERE t.workspace = ? ORDER BY 1",
            [workspace],
        )
    ]
    return found


def remove_workspace(db: Database, workspace: str, *, force: bool = False) -> None:
    """Forget a workspace and everything cached from it (the help desk itself is untouched). Refuses while it
    holds undelivered replies or drafts, unless `force`."""
    ticket_ids = "SELECT id FROM tickets WHERE workspace = :ws"
    output_ids = f"SELECT id FROM ai_outputs WHERE ticket_id IN ({ticket_ids})"
    with transaction(db):
        unsent = unsent_work(db, workspace)
        if unsent and not force:
            shown = "; ".join(unsent[:5]) + (f" and {len(unsent) - 5} more" if len(unsent) > 5 else "")
            raise UnsentWorkError(
                f"The workspace '{workspace}' holds work that was never delivered: {shown}.",
                "Send or discard it first, or remove the workspace anyway (--force in the command line).",
                unsent,
            )
        for sql in (
            f"DELETE FROM output_flags WHERE ticket_id IN ({ticket_ids})",
            f"DELETE FROM sent_replies WHERE ticket_id IN ({ticket_ids})",
            f"DELETE FROM drafts WHERE ticket_id IN ({ticket_ids})",
            f"DELETE FROM ai_outputs WHERE id IN ({output_ids})",
            "DELETE FROM outbox WHERE workspace = :ws",
            f"DELETE FROM ticket_badges WHERE ticket_id IN ({ticket_ids})",
            f"DELETE FROM ticket_search WHERE ticket_id IN ({ticket_ids})",
            f"DELETE FROM messages WHERE ticket_id IN ({ticket_ids})",
            f"DELETE FROM article_feedback WHERE ticket_id IN ({ticket_ids})",
            f"DELETE FROM ticket_opens WHERE ticket_id IN ({ticket_ids})",
            "DELETE FROM triage_examples WHERE workspace = :ws",
            "DELETE FROM tickets WHERE workspace = :ws",
            "DELETE FROM article_window_vectors WHERE workspace = :ws",
            "DELETE FROM article_embeddings WHERE workspace = :ws",
            "DELETE FROM article_versions WHERE workspace = :ws",
            "DELETE FROM articles WHERE workspace = :ws",
            "DELETE FROM sync_skipped WHERE workspace = :ws",
            "DELETE FROM triage_models WHERE workspace = :ws",
            "DELETE FROM workspaces WHERE id = :ws",
        ):
            db.execute(sql, {"ws": workspace})


def sync_state(db: Database, workspace: str) -> SyncState:
    row = db.execute(
        "SELECT sync_cursor, last_sync_at, offline_since, last_error FROM workspaces WHERE id = ?", [workspace]
    ).fetchone()
    return SyncState(*row) if row else SyncState("", "", "", "")


def save_cursor(db: Database, workspace: str, cursor: str) -> None:
    db.execute("UPDATE workspaces SET sync_cursor = ? WHERE id = ?", [cursor, workspace])


def record_skipped(db: Database, workspace: str, problems: list[str], stored: list[str]) -> None:
    """Keep the records a sync skipped ("ticket #12: its date is out of range"), in the batch's transaction;
    `stored` names records ("ticket #12") that arrived readable this time, so their old entries go."""
    with transaction(db):
        for record in stored:
            db.execute("DELETE FROM sync_skipped WHERE workspace = ? AND record = ?", [workspace, record])
        for problem in problems:
            record, _, reason = scrub(problem).partition(": ")
            db.execute(
                "INSERT INTO sync_skipped (workspace, record, reason, skipped_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (workspace, record, reason) DO UPDATE SET skipped_at = excluded.skipped_at",
                [workspace, record, reason or "unreadable", now_iso()],
            )


def skipped_records(db: Database, workspace: str, limit: int = 50) -> tuple[int, list[SkippedRecord]]:
    """How many records the workspace's syncs skipped, and the latest `limit` of them."""
    count = int(db.execute("SELECT count(*) FROM sync_skipped WHERE workspace = ?", [workspace]).fetchone()[0])
    rows = db.execute(
        "SELECT record, reason, skipped_at FROM sync_skipped WHERE workspace = ? ORDER BY skipped_at DESC, id DESC "
        "LIMIT ?",
        [workspace, limit],
    ).fetchall()
    return count, [SkippedRecord(*r) for r in rows]


def mark_synced(db: Database, workspace: str) -> None:
    db.execute(
        "UPDATE workspaces SET last_sync_at = ?, offline_since = '', last_error = '' WHERE id = ?",
        [now_iso(), workspace],
    )


def mark_unreachable(db: Database, workspace: str, error: str) -> str:
    """Record that the help desk could not be reached; returns since when it has been offline."""
    now = now_iso()
    db.execute(
        "UPDATE workspaces SET offline_since = CASE WHEN offline_since = '' THEN ? ELSE offline_since END, "
        "last_error = ? WHERE id = ?",
        [now, scrub(error), workspace],
    )
    return str(db.execute("SELECT offline_since FROM workspaces WHERE id = ?", [workspace]).fetchone()[0])


def mark_error(db: Database, workspace: str, error: str) -> None:
    """The help desk answered but the sync could not finish (a refused token, an unreadable answer)."""
    db.execute("UPDATE workspaces SET offline_since = '', last_error = ? WHERE id = ?", [scrub(error), workspace])
