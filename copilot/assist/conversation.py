"""Read a ticket for the agent, keep its draft safe, and send replies or internal notes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from copilot.domain import SentReply, Ticket
from copilot.domain.events import DraftDidUpdate
from copilot.domain.inbox import InboxFilter, InboxRow
from copilot.services import Services
from copilot.store import drafts, outbox
from copilot.store import review as review_store
from copilot.store import tickets as ticket_store
from copilot.store.outbox import OutboxItem, OutboxKind, OutboxState


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    earlier: list[tuple[int, int, str, str, str]]
    sent: list[SentReply]
    draft: drafts.SavedDraft | None
    unsent: list[OutboxItem]  # replies and notes not yet delivered (pending, sending or failed)


async def list_inbox(services: Services, workspace: str, filt: InboxFilter) -> list[InboxRow]:
    return await services.store.run(ticket_store.list_inbox, services.store.db, workspace, filt)


async def open_ticket(services: Services, ticket_id: int) -> TicketView:
    def _read(db: Database) -> TicketView:
        t = ticket_store.get_ticket(db, ticket_id)
        review_store.record_open(db, ticket_id)  # the weekly review's "time from opening to sending"
        return TicketView(
            t,
            ticket_store.earlier_tickets(db, t),
            drafts.sent_replies(db, ticket_id),
            drafts.load_draft(db, ticket_id),
            [
                i
                for i in outbox.items(db, t.workspace, ticket_id=ticket_id)
                if i.state is not OutboxState.SENT and i.kind in (OutboxKind.REPLY, OutboxKind.NOTE)
            ],
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
    await services.store.run(drafts.save_draft, services.store.db, ticket_id, body, ai_body, output_id)
    services.bus.emit(DraftDidUpdate(initiator=initiator, ticket_id=ticket_id))


async def discard_draft(services: Services, ticket_id: int) -> None:
    await services.store.run(drafts.discard_draft, services.store.db, ticket_id)
    services.bus.emit(DraftDidUpdate(ticket_id=ticket_id))


async def send_reply(
    services: Services,
    ticket_id: int,
    body: str,
    *,
    internal: bool,
    ai_draft: str = "",
    output_id: int | None = None,
    author: str = "",
) -> OutboxItem:
    """Write the reply to the outbox, then try to deliver it at once. The returned item says how that went
    (sent, pending with the next attempt, or failed with the reason); the text is never lost either way."""
    from copilot.assist import outbox as sending

    item = await sending.queue_message(
        services, ticket_id, body, internal=internal, ai_draft=ai_draft, output_id=output_id, author=author
    )
    async with services.lock(f"outbox:{item.workspace}"):
        return await sending.deliver(services, item.id)
