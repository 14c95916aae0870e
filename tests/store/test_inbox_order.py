"""The inbox's order, read in two parts along an index (urgent tickets, then the rest): urgent first, then the
latest change, equal times in ticket-number order; the first page, the count and the whole listing agree under
every filter."""

from pathlib import Path

from sqlite_utils import Database

from copilot.domain import Message, Role, Ticket, Visibility
from copilot.domain.inbox import InboxFilter
from copilot.store import tickets as ticket_store
from copilot.store.db import open_database

TIMES = ("2026-01-01T10:00:00+00:00", "2026-01-02T10:00:00+00:00", "2026-01-03T10:00:00+00:00")


def _store(tmp_path: Path) -> Database:
    db = open_database(tmp_path / "inbox.db")
    ticket_store.ensure_workspace(db, "ws", "Workspace", "demo")
    ticket_store.ensure_workspace(db, "other", "Other", "demo")
    for number in range(1, 41):
        updated = TIMES[number % 3]  # many tickets share a time
        body = "my printer jams" if number % 4 == 0 else "where is my refund"
        message = Message(0, 0, "Ana", Role.CUSTOMER, Visibility.PUBLIC, body, "text", updated)
        ticket = Ticket(
            0, "ws", 100 - number, f"Ticket {number}", "Ana", "ana@example.com",
            "open" if number % 2 else "solved", TIMES[0], updated, messages=(message,),
        )  # fmt: skip
        ticket_id = ticket_store.upsert_ticket(db, ticket)
        ticket_store.set_badges(db, ticket_id, "neutral", number % 5 == 0, [], "k")
    ticket_store.upsert_ticket(db, Ticket(0, "other", 1, "Elsewhere", "Bo", "bo@example.com", "open", *TIMES[2:] * 2))
    return db


def _expected(db: Database, filt: InboxFilter) -> list[int]:
    rows = db.execute(
        "SELECT t.id, t.number, t.status, t.updated_at, COALESCE(b.urgent, 0) FROM tickets t "
        "LEFT JOIN ticket_badges b ON b.ticket_id = t.id WHERE t.workspace = 'ws'"
    ).fetchall()
    text = {r[0] for r in db.execute("SELECT rowid FROM ticket_search_fts WHERE ticket_search_fts MATCH 'printer*'")}
    kept = [
        r
        for r in rows
        if (not filt.status or r[2] == filt.status)
        and (not filt.urgent_only or r[4])
        and (not filt.query or r[0] in text)
    ]
    by_number = sorted(kept, key=lambda r: r[1])
    by_time = sorted(by_number, key=lambda r: r[3], reverse=True)  # stable: equal times keep number order
    return [r[0] for r in sorted(by_time, key=lambda r: -r[4])]


def test_urgent_first_then_latest_change_then_number_under_every_filter(tmp_path: Path) -> None:
    db = _store(tmp_path)
    filters = [
        InboxFilter(),
        InboxFilter(status="open"),
        InboxFilter(urgent_only=True),
        InboxFilter(query="printer"),
        InboxFilter(query="printer", status="solved"),
    ]
    for filt in filters:
        expected = _expected(db, filt)
        assert expected, filt
        assert ticket_store.inbox_ids(db, "ws", filt) == expected, filt
        for first in (1, 3, 7, len(expected), len(expected) + 5):
            page = ticket_store.inbox_head(db, "ws", filt, first)
            assert list(page.ids) == expected[:first], (filt, first)
            assert page.total == len(expected), (filt, first)
    assert ticket_store.inbox_ids(db, "ws", InboxFilter(query="nothing-like-this")) == []
