"""Tickets, their messages, the inbox listing and its search."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from copilot.domain import Message, Role, Ticket, Visibility
from copilot.domain.inbox import InboxFilter, InboxPage, InboxRow
from copilot.errors import NotFoundError
from copilot.store.transaction import transaction
from copilot.store.util import dumps, fts_prefix_query, insert_row, now_iso


def ensure_workspace(db: Database, workspace_id: str, name: str, kind: str, article_url: str = "") -> None:
    db.execute(
        "INSERT OR IGNORE INTO workspaces (id, name, kind, created_at, article_url) VALUES (?, ?, ?, ?, ?)",
        [workspace_id, name, kind, now_iso(), article_url],
    )
    if article_url:
        db.execute("UPDATE workspaces SET article_url = ? WHERE id = ?", [article_url, workspace_id])


def article_url_template(db: Database, workspace: str) -> str:
    """The workspace's article address with "{id}" in it, or "" when it has no help centre."""
    row = db.execute("SELECT article_url FROM workspaces WHERE id = ?", [workspace]).fetchone()
    return str(row[0]) if row and row[0] else ""


def article_url(db: Database, workspace: str, article_id: str) -> str:
    """The customer-visible address of an article, or "" when the workspace has no help centre."""
    template = article_url_template(db, workspace)
    return template.replace("{id}", article_id) if template else ""


def _save_row(db: Database, ticket: Ticket) -> int:
    """Insert or update the ticket's own row (not its thread); an empty language keeps the stored one."""
    existing = ticket_id_for(db, ticket.workspace, ticket.number)
    values = {
        "workspace": ticket.workspace,
        "number": ticket.number,
        "subject": ticket.subject,
        "customer_name": ticket.customer_name,
        "customer_email": ticket.customer_email,
        "status": ticket.status,
        "tags": dumps(list(ticket.tags)),
        "intent": ticket.intent,
        "language": ticket.language,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }
    if existing is None:
        return insert_row(db, "tickets", values)
    if not ticket.language:
        del values["language"]
    db.table("tickets").update(existing, values)
    return existing


def upsert_ticket(db: Database, ticket: Ticket) -> int:
    """Insert or update a ticket with all its messages; returns the store's ticket id."""
    with transaction(db):
        ticket_id = _save_row(db, ticket)
        merge_messages(db, ticket_id, ticket.messages, replace=not any(m.remote_id for m in ticket.messages))
        _refresh_search_row(db, ticket_id)
    return ticket_id


def merge_messages(
    db: Database, ticket_id: int, messages: tuple[Message, ...] | list[Message], *, replace: bool
) -> int:
    """Add the help desk's messages to a thread; ones it already has (same remote id) are updated in place.

    `replace` is for help desks without message ids (the demo): the thread is rewritten, except messages
    our own sent replies point at. Returns how many messages were new.
    """
    known = {
        r[1]: int(r[0])
        for r in db.execute("SELECT id, remote_id FROM messages WHERE ticket_id = ? AND remote_id != ''", [ticket_id])
    }
    if replace:
        db.execute(
            "DELETE FROM messages WHERE ticket_id = ? AND id NOT IN "
            "(SELECT message_id FROM sent_replies WHERE message_id IS NOT NULL)",
            [ticket_id],
        )
    added = 0
    for m in messages:
        values = {
            "ticket_id": ticket_id,
            "author": m.author,
            "role": m.role.value,
            "visibility": m.visibility.value,
            "body": m.body,
            "body_format": m.body_format,
            "created_at": m.created_at,
            "remote_id": m.remote_id,
        }
        if m.remote_id and m.remote_id in known:
            db.table("messages").update(known[m.remote_id], values)
        else:
            db.table("messages").insert(values)
            added += 1
    if added and not replace:
        latest = db.execute("SELECT max(created_at) FROM messages WHERE ticket_id = ?", [ticket_id]).fetchone()[0]
        db.execute("UPDATE tickets SET updated_at = max(updated_at, ?) WHERE id = ?", [latest, ticket_id])
    return added


def ticket_id_for(db: Database, workspace: str, number: int) -> int | None:
    row = db.execute("SELECT id FROM tickets WHERE workspace = ? AND number = ?", [workspace, number]).fetchone()
    return int(row[0]) if row else None


def upsert_fields(db: Database, ticket: Ticket) -> int:
    """Insert or update a ticket's fields only (subject, status, tags …), keeping its thread."""
    with transaction(db):
        ticket_id = _save_row(db, ticket)
        _refresh_search_row(db, ticket_id)
    return ticket_id


def add_remote_messages(db: Database, ticket_id: int, messages: list[Message]) -> int:
    with transaction(db):
        added = merge_messages(db, ticket_id, messages, replace=False)
        _refresh_search_row(db, ticket_id)
    return added


def _refresh_search_row(db: Database, ticket_id: int) -> None:
    t = db.execute(
        "SELECT subject, customer_name || ' ' || customer_email FROM tickets WHERE id = ?", [ticket_id]
    ).fetchone()
    bodies = [r[0] for r in db.execute("SELECT body FROM messages WHERE ticket_id = ?", [ticket_id])]
    db.table("ticket_search").upsert(
        {"ticket_id": ticket_id, "subject": t[0], "customer": t[1], "body": "\n".join(bodies)},
        pk="ticket_id",
    )


def _message_from_row(r: dict[str, Any]) -> Message:
    return Message(
        id=r["id"],
        ticket_id=r["ticket_id"],
        author=r["author"],
        role=Role(r["role"]),
        visibility=Visibility(r["visibility"]),
        body=r["body"],
        body_format=r["body_format"],
        created_at=r["created_at"],
        remote_id=r["remote_id"],
    )


def _ticket_from_row(db: Database, r: dict[str, Any]) -> Ticket:
    msgs = tuple(
        _message_from_row(m)
        for m in db.query("SELECT * FROM messages WHERE ticket_id = ? ORDER BY created_at, id", [r["id"]])
    )
    return _ticket_of(r, msgs)


def _ticket_of(r: dict[str, Any], msgs: tuple[Message, ...]) -> Ticket:
    return Ticket(
        id=r["id"],
        workspace=r["workspace"],
        number=r["number"],
        subject=r["subject"],
        customer_name=r["customer_name"],
        customer_email=r["customer_email"],
        status=r["status"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        tags=tuple(json.loads(r["tags"])),
        intent=r["intent"],
        language=r["language"],
        messages=msgs,
    )


def get_ticket(db: Database, ticket_id: int) -> Ticket:
    rows = list(db.query("SELECT * FROM tickets WHERE id = ?", [ticket_id]))
    if not rows:
        raise NotFoundError(f"Ticket {ticket_id} is not in the local store.", "Refresh the inbox.")
    return _ticket_from_row(db, rows[0])


def find_ticket(db: Database, workspace: str, number: int) -> Ticket:
    rows = list(db.query("SELECT * FROM tickets WHERE workspace = ? AND number = ?", [workspace, number]))
    if not rows:
        raise NotFoundError(
            f"There is no ticket #{number} in the workspace '{workspace}'.",
            "Check the number with `support-copilot tickets` or in the inbox.",
        )
    return _ticket_from_row(db, rows[0])


def all_tickets(db: Database, workspace: str) -> list[Ticket]:
    """Every ticket with its thread: two queries, not one per ticket (10,000 tickets: start-up read them all)."""
    threads: dict[int, list[Message]] = {}
    for m in db.query(
        "SELECT m.* FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.workspace = ? "
        "ORDER BY m.ticket_id, m.created_at, m.id",
        [workspace],
    ):
        threads.setdefault(m["ticket_id"], []).append(_message_from_row(m))
    return [
        _ticket_of(r, tuple(threads.get(r["id"], ())))
        for r in db.query("SELECT * FROM tickets WHERE workspace = ? ORDER BY number", [workspace])
    ]


def earlier_tickets(db: Database, ticket: Ticket) -> list[tuple[int, int, str, str, str]]:
    """The same customer's other tickets: (id, number, subject, status, created_at), newest first."""
    return [
        (r[0], r[1], r[2], r[3], r[4])
        for r in db.execute(
            "SELECT id, number, subject, status, created_at FROM tickets "
            "WHERE workspace = ? AND customer_email = ? AND id != ? ORDER BY created_at DESC",
            [ticket.workspace, ticket.customer_email, ticket.id],
        )
    ]


def add_message(
    db: Database, ticket_id: int, author: str, role: Role, visibility: Visibility, body: str, remote_id: str = ""
) -> Message:
    created = now_iso()
    if remote_id:
        row = db.execute(
            "SELECT id FROM messages WHERE ticket_id = ? AND remote_id = ?", [ticket_id, remote_id]
        ).fetchone()
        if row:  # a sync already brought it in
            return _message_from_row(next(iter(db.query("SELECT * FROM messages WHERE id = ?", [row[0]]))))
    with transaction(db):
        msg_id = insert_row(
            db,
            "messages",
            {
                "ticket_id": ticket_id,
                "author": author,
                "role": role.value,
                "visibility": visibility.value,
                "body": body,
                "body_format": "text",
                "created_at": created,
                "remote_id": remote_id,
            },
        )
        db.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", [created, ticket_id])
        _refresh_search_row(db, ticket_id)
    return Message(msg_id, ticket_id, author, role, visibility, body, "text", created, remote_id)


def set_status(db: Database, ticket_id: int, status: str) -> None:
    db.execute("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?", [status, now_iso(), ticket_id])


def set_badges(db: Database, ticket_id: int, sentiment: str, urgent: bool, flags: list[str], key: str) -> None:
    db.table("ticket_badges").upsert(
        {
            "ticket_id": ticket_id,
            "sentiment": sentiment,
            "urgent": int(urgent),
            "flags": dumps(flags),
            "computed_for": key,
        },
        pk="ticket_id",
    )


def set_many_badges(db: Database, rows: list[tuple[int, str, bool, list[str], str]]) -> None:
    """(ticket id, sentiment, urgent, flags, computed_for) for many tickets: one statement, one transaction."""
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO ticket_badges (ticket_id, sentiment, urgent, flags, computed_for) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (ticket_id) DO UPDATE SET sentiment = excluded.sentiment, urgent = excluded.urgent, "
            "flags = excluded.flags, computed_for = excluded.computed_for",
            [(i, label, int(urgent), dumps(flags), key) for i, label, urgent, flags, key in rows],
        )


def badge_keys(db: Database, workspace: str) -> dict[int, str]:
    return {
        r[0]: r[1]
        for r in db.execute(
            "SELECT b.ticket_id, b.computed_for FROM ticket_badges b JOIN tickets t ON t.id = b.ticket_id "
            "WHERE t.workspace = ?",
            [workspace],
        )
    }


_INBOX_ROW_SQL = (
    "SELECT t.id, t.number, t.subject, t.customer_name, t.status, t.created_at, t.updated_at, "
    "COALESCE(b.sentiment, '') AS sentiment, COALESCE(b.urgent, 0) AS urgent, "
    "COALESCE(b.flags, '[]') AS flags, t.id IN (SELECT ticket_id FROM drafts) AS has_draft "
    "FROM tickets t LEFT JOIN ticket_badges b ON b.ticket_id = t.id "
)
# Urgent first, then the latest change; equal times in ticket-number order. Each part is read apart, in the order
# of the index tickets(workspace, updated_at DESC, number), so a page of it reads only that page's tickets.
_INBOX_ORDER = " ORDER BY t.updated_at DESC, t.number"
_INBOX_PARTS = (" AND COALESCE(b.urgent, 0) = 1", " AND COALESCE(b.urgent, 0) = 0")


def _inbox_where(workspace: str, filt: InboxFilter | None) -> tuple[str, dict[str, Any]]:
    f = filt or InboxFilter()
    where = ["t.workspace = :ws"]
    params: dict[str, Any] = {"ws": workspace}
    fts = fts_prefix_query(f.query)
    if fts:
        # The matches lead (the unary + keeps SQLite off the workspace's index): sorting the few that match costs
        # less than walking every ticket in inbox order to find them.
        where[0] = "+t.workspace = :ws"
        where.append("t.id IN (SELECT rowid FROM ticket_search_fts WHERE ticket_search_fts MATCH :q)")
        params["q"] = fts
    if f.status:
        where.append("t.status = :status")
        params["status"] = f.status
    if f.urgent_only:
        where.append("COALESCE(b.urgent, 0) = 1")
    if f.with_draft_only:
        where.append("t.id IN (SELECT ticket_id FROM drafts)")
    return " WHERE " + " AND ".join(where), params


def _inbox_row(r: dict[str, Any]) -> InboxRow:
    return InboxRow(
        ticket_id=r["id"],
        number=r["number"],
        subject=r["subject"],
        customer=r["customer_name"],
        status=r["status"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        sentiment=r["sentiment"],
        urgent=bool(r["urgent"]),
        flags=tuple(json.loads(r["flags"])),
        has_draft=bool(r["has_draft"]),
    )


def _inbox_parts(filt: InboxFilter | None) -> tuple[str, ...]:
    """The inbox's parts in their order: urgent tickets, then the rest (urgent ones alone under that filter)."""
    return _INBOX_PARTS[:1] if filt is not None and filt.urgent_only else _INBOX_PARTS


def inbox_ids(db: Database, workspace: str, filt: InboxFilter | None = None) -> list[int]:
    """The ids of every ticket under the filter, in inbox order (the inbox reads their rows as they show)."""
    where, params = _inbox_where(workspace, filt)
    ids: list[int] = []
    for part in _inbox_parts(filt):
        sql = (
            "SELECT json_group_array(id) FROM (SELECT t.id FROM tickets t "
            f"LEFT JOIN ticket_badges b ON b.ticket_id = t.id{where}{part}{_INBOX_ORDER})"
        )
        ids += json.loads(db.execute(sql, params).fetchone()[0])  # one string, not 10,000 row tuples
    return ids


def inbox_rows(db: Database, ids: list[int]) -> list[InboxRow]:
    """The inbox rows of these tickets, in the order given (ids no longer in the store are left out)."""
    if not ids:
        return []
    sql = _INBOX_ROW_SQL + "WHERE t.id IN (SELECT value FROM json_each(:ids))"
    found = {r["id"]: _inbox_row(r) for r in db.query(sql, {"ids": json.dumps(ids)})}
    return [found[i] for i in ids if i in found]


def inbox_head(db: Database, workspace: str, filt: InboxFilter, first: int, also: int | None = None) -> InboxPage:
    """The first `first` rows under the filter, how many tickets it lists in all, and ticket `also`'s row when
    the filter lists it. Sorted LIMIT queries along an index: at 10,000 tickets they read little more than the page."""
    where, params = _inbox_where(workspace, filt)
    rows: list[InboxRow] = []
    for part in _inbox_parts(filt):
        if len(rows) < first:
            sql = _INBOX_ROW_SQL + where + part + _INBOX_ORDER + " LIMIT :n"
            rows += [_inbox_row(r) for r in db.query(sql, params | {"n": first - len(rows)})]
    total = len(rows)
    if total == first:
        badges = " LEFT JOIN ticket_badges b ON b.ticket_id = t.id" if "b." in where else ""  # only to filter by
        count_sql = f"SELECT count(*) FROM tickets t{badges}{where}"
        total = int(db.execute(count_sql, params).fetchone()[0])
    extra: tuple[InboxRow, ...] = ()
    if also is not None and all(r.ticket_id != also for r in rows):
        where_also = where + " AND t.id = :also"
        extra = tuple(_inbox_row(r) for r in db.query(_INBOX_ROW_SQL + where_also, params | {"also": also}))
    return InboxPage(tuple(r.ticket_id for r in rows), tuple(rows) + extra, total)


def list_inbox(db: Database, workspace: str, filt: InboxFilter | None = None) -> list[InboxRow]:
    """Every row under the filter, in inbox order (the CLI's listing; the GUI reads a page at a time)."""
    return inbox_rows(db, inbox_ids(db, workspace, filt))


def known_tags(db: Database, workspace: str, limit: int = 40) -> list[str]:
    """The tags this workspace's tickets carry, most used first."""
    rows = db.execute(
        "SELECT value, count(*) FROM tickets, json_each(tickets.tags) WHERE workspace = ? "
        "GROUP BY value ORDER BY 2 DESC, 1 LIMIT ?",
        [workspace, limit],
    )
    return [str(r[0]) for r in rows]
