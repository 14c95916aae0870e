"""Read a ticket for the agent, keep its draft safe, and send replies or internal notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from copilot.domain import Role, SentReply, Ticket, Visibility
from copilot.domain.events import DraftDidUpdate
from copilot.domain.inbox import InboxFilter, InboxPage, InboxRow
from copilot.errors import CopilotError, HelpdeskAuthError, ValidationError
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

    @property
    def awaits_reply(self) -> bool:
        """Whether the customer is waiting for us: their message is the last one and no reply is on its way.
        Only then is the editor filled with an AI draft (after sending, it stays empty: no reply twice)."""
        public = [m for m in self.ticket.messages if m.visibility is Visibility.PUBLIC]
        waiting = any(i.kind is OutboxKind.REPLY for i in self.unsent)
        return not waiting and (not public or public[-1].role is Role.CUSTOMER)


@dataclass(frozen=True)
class Delivery:
    """How sending went: the reply or note (sent, waiting or failed), the status change sent with it, and the
    error the attempt met, if any."""

    item: OutboxItem
    status_item: OutboxItem | None = None
    error: CopilotError | None = None

    @property
    def needs_token(self) -> bool:
        return isinstance(self.error, HelpdeskAuthError)


async def list_inbox(services: Services, workspace: str, filt: InboxFilter) -> list[InboxRow]:
    return await services.store.run(ticket_store.list_inbox, services.store.db, workspace, filt)


async def inbox_head(
    services: Services, workspace: str, filt: InboxFilter, first: int, also: int | None = None
) -> InboxPage:
    """The first `first` rows under the filter, the count of all, and ticket `also`'s row when it is listed."""
    return await services.store.run(ticket_store.inbox_head, services.store.db, workspace, filt, first, also)


async def inbox_ids(services: Services, workspace: str, filt: InboxFilter) -> list[int]:
    """The ids of every ticket under the filter, in inbox order."""
    return await services.store.run(ticket_store.inbox_ids, services.store.db, workspace, filt)


async def inbox_rows(services: Services, ids: list[int]) -> list[InboxRow]:
    """The inbox rows of these tickets (those scrolled into view), in the order given."""
    return await services.store.run(ticket_store.inbox_rows, services.store.db, ids)


async def find_ticket_number(services: Services, workspace: str, number: int) -> Ticket:
    """A ticket by the number the help desk shows (e.g. from the Gaps view)."""
    return await services.store.run(ticket_store.find_ticket, services.store.db, workspace, number)


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


def save_draft_now(services: Services, ticket_id: int, body: str, ai_body: str, output_id: int | None) -> None:
    """Save a draft synchronously on the store's thread: for closing, when the event loop may not run again."""
    services.store.run_sync(drafts.save_draft, services.store.db, ticket_id, body, ai_body, output_id)


async def discard_draft(services: Services, ticket_id: int) -> None:
    await services.store.run(drafts.discard_draft, services.store.db, ticket_id)
    services.bus.emit(DraftDidUpdate(ticket_id=ticket_id))


async def send_reply(services: Services, ticket_id: int, body: str, **options: Any) -> OutboxItem:
    """`send` (same options), returning just the outbox item: how delivery went (sent, pending with the next
    attempt, or failed with the reason); the text is never lost either way."""
    return (await send(services, ticket_id, body, **options)).item


async def send(
    services: Services,
    ticket_id: int,
    body: str,
    *,
    internal: bool,
    ai_draft: str = "",
    output_id: int | None = None,
    author: str = "",
    status: str = "",
) -> Delivery:
    """`send_reply`, optionally setting the ticket's status ("pending", …) after it, through the outbox too.
    The status change is queued behind the reply and sent once the reply is; if the reply has to wait, the
    status waits with it (the outbox delivers oldest first)."""
    from copilot.assist import outbox as sending

    if status and status not in sending.STATUSES:
        raise ValidationError(
            f"'{status}' is not a status an agent sets.", f"Use one of: {', '.join(sending.STATUSES)}."
        )
    item = await sending.queue_message(
        services, ticket_id, body, internal=internal, ai_draft=ai_draft, output_id=output_id, author=author
    )
    status_item = await sending.queue_status(services, ticket_id, status) if status else None
    async with services.lock(f"outbox:{item.workspace}"):
        item, error = await sending.attempt(services, item.id)
        if status_item is not None and item.state is OutboxState.SENT:
            status_item = await sending.deliver(services, status_item.id)
    return Delivery(item, status_item, error)
