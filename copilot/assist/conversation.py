"""Read a ticket for the agent, keep its draft safe, and send replies or internal notes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlite_utils import Database

from copilot.app import Services
from copilot.builtin.text import words
from copilot.domain.models import Role, SentReply, Ticket, Visibility
from copilot.errors import ValidationError
from copilot.events import DraftDidUpdate, TicketDidChange
from copilot.store import tickets as ticket_store
from copilot.store import work


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    earlier: list[tuple[int, int, str, str, str]]
    sent: list[SentReply]
    draft: work.SavedDraft | None


async def list_inbox(services: Services, workspace: str, filt: ticket_store.InboxFilter) -> list[ticket_store.InboxRow]:
    return await services.store.run(ticket_store.list_inbox, services.store.db, workspace, filt)


async def open_ticket(services: Services, ticket_id: int) -> TicketView:
    def _read(db: Database) -> TicketView:
        t = ticket_store.get_ticket(db, ticket_id)
        return TicketView(
            t,
            ticket_store.earlier_tickets(db, t),
            work.sent_replies(db, ticket_id),
            work.load_draft(db, ticket_id),
        )

    return await services.store.run(_read, services.store.db)


async def save_draft(
    services: Services,
    ticket_id: int,
    body: str,
    ai_body: str,
    output_id: int | None,
    initiator: object = None,
) -> None:
    await services.store.run(work.save_draft, services.store.db, ticket_id, body, ai_body, output_id)
    services.bus.emit(DraftDidUpdate(initiator=initiator, ticket_id=ticket_id))


async def discard_draft(services: Services, ticket_id: int) -> None:
    await services.store.run(work.discard_draft, services.store.db, ticket_id)
    services.bus.emit(DraftDidUpdate(ticket_id=ticket_id))


def edit_ratio(ai_draft: str, sent: str) -> float:
    """0.0 when the agent sent the draft unchanged, 1.0 when nothing of it survived (word-level)."""
    if not ai_draft.strip():
        return 1.0
    matcher = difflib.SequenceMatcher(None, words(ai_draft), words(sent), autojunk=False)
    return round(1.0 - matcher.ratio(), 3)


async def send_reply(
    services: Services,
    ticket_id: int,
    body: str,
    *,
    internal: bool,
    ai_draft: str = "",
    output_id: int | None = None,
    author: str = "",
) -> SentReply:
    """Send through the ticket's help desk, then record the message, the AI draft and the edit ratio."""
    text = body.strip()
    if not text:
        raise ValidationError("The reply is empty.", "Write a reply, or regenerate the draft, then send.")
    store = services.store
    ticket = await store.run(ticket_store.get_ticket, store.db, ticket_id)
    visibility = Visibility.INTERNAL if internal else Visibility.PUBLIC
    sender = author or services.agent_name(ticket.workspace)
    # Keep the agent's text before any network call: a failed send must not lose it.
    await store.run(work.save_draft, store.db, ticket_id, body, ai_draft, output_id)
    await services.connector(ticket.workspace).post_message(ticket, text, visibility, sender)

    def _record(db: Database) -> SentReply:
        with db.conn:
            message = ticket_store.add_message(db, ticket_id, sender, Role.AGENT, visibility, text)
            sent = work.record_sent(
                db, ticket_id, message.id, visibility, text, ai_draft, output_id, edit_ratio(ai_draft, text)
            )
            if not internal and ticket.status == "new":
                ticket_store.set_status(db, ticket_id, "open")
            work.discard_draft(db, ticket_id)
        return sent

    sent = await store.run(_record, store.db)
    services.bus.emit(TicketDidChange(ticket_id=ticket_id))
    services.bus.emit(DraftDidUpdate(ticket_id=ticket_id))
    return sent
