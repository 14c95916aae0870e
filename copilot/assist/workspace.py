"""Open a workspace: fill the local store from its help desk, and keep the inbox badges current."""

from __future__ import annotations

import hashlib

from sqlite_utils import Database

from copilot.app import Services
from copilot.builtin.signals import detect_flags, is_urgent, sentiment
from copilot.domain.models import Ticket
from copilot.events import TicketDidChange
from copilot.kb.articles import count_articles, import_articles
from copilot.store import tickets as ticket_store


def content_key(ticket: Ticket) -> str:
    h = hashlib.sha256()
    for m in ticket.messages:
        h.update(f"{m.id}|{m.role}|{m.visibility}|{m.body}\x00".encode())
    return h.hexdigest()[:16]


def refresh_badges(db: Database, workspace: str) -> int:
    """Recompute sentiment and urgency badges for tickets whose thread changed. Returns how many."""
    known = ticket_store.badge_keys(db, workspace)
    changed = 0
    for t in ticket_store.all_tickets(db, workspace):
        key = content_key(t)
        if known.get(t.id) == key:
            continue
        flags = detect_flags(t)
        label, *_ = sentiment(t)
        ticket_store.set_badges(db, t.id, label, is_urgent(flags), [f.label for f in flags], key)
        changed += 1
    return changed


async def open_workspace(services: Services, workspace: str) -> int:
    """Seed from the help desk on first open; returns the number of tickets in the local store."""
    connector = services.connector(workspace)
    store = services.store

    def _count(db: Database) -> int:
        return int(db.execute("SELECT count(*) FROM tickets WHERE workspace = ?", [workspace]).fetchone()[0])

    await store.run(
        ticket_store.ensure_workspace,
        store.db,
        workspace,
        connector.display_name,
        connector.kind,
        connector.article_url_template,
    )
    if await store.run(_count, store.db) == 0:
        batch = await connector.sync(None)
        articles = await connector.list_articles()

        def _seed(db: Database) -> None:
            for t in batch.tickets:
                ticket_store.upsert_ticket(db, t)
            if count_articles(db, workspace) == 0:
                import_articles(db, workspace, articles, author=connector.display_name)

        await store.run(_seed, store.db)
    await store.run(refresh_badges, store.db, workspace)
    services.bus.emit(TicketDidChange(ticket_id=0))
    return await store.run(_count, store.db)
