"""The local copy of a workspace: its row in the store, and the inbox badges computed from each thread."""

from __future__ import annotations

from sqlite_utils import Database

from copilot.domain.tickets import content_key
from copilot.engine.signals import detect_flags, is_urgent, sentiment
from copilot.services import Services
from copilot.store import tickets as ticket_store


def refresh_badges(db: Database, workspace: str, ticket_ids: set[int] | None = None) -> int:
    """Recompute sentiment and urgency badges for tickets whose thread changed. Returns how many."""
    known = ticket_store.badge_keys(db, workspace)
    tickets = (
        ticket_store.all_tickets(db, workspace)
        if ticket_ids is None
        else [ticket_store.get_ticket(db, i) for i in sorted(ticket_ids)]
    )
    rows = []
    for whole in tickets:
        t = whole.readable()  # as the assist reads it (its key is the one the assist stores with its badges)
        key = content_key(t)
        if known.get(t.id) == key:
            continue
        flags = detect_flags(t)
        label, *_ = sentiment(t)
        rows.append((t.id, label, is_urgent(flags), [f.label for f in flags], key))
    if rows:
        ticket_store.set_many_badges(db, rows)
    return len(rows)


async def ensure_registered(services: Services, workspace: str) -> None:
    """The workspace's row in the store, as its connector describes it (name, kind, article links)."""
    connector = services.connector(workspace)
    await services.store.run(
        ticket_store.ensure_workspace,
        services.store.db,
        workspace,
        connector.display_name,
        connector.kind,
        connector.article_url_template,
    )
