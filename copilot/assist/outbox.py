"""Sending through the outbox: written to SQLite before any network call, delivered exactly once.

When an attempt's outcome is unknown (a timeout after the request left, a crash mid-send), the next attempt
first asks the help desk whether the message is already in the thread, and only posts when it is not.
"""

from __future__ import annotations

import logging

from sqlite_utils import Database

from copilot.domain import Role, Visibility
from copilot.domain.events import DraftDidUpdate, TicketDidChange
from copilot.domain.workspaces import no_helpdesk_reason
from copilot.engine.text import edit_ratio
from copilot.errors import (
    CopilotError,
    HelpdeskAuthError,
    HelpdeskRateLimited,
    HelpdeskUnreachable,
    ValidationError,
    as_copilot_error,
    storage_error,
)
from copilot.helpdesk.base import thread_watermark
from copilot.kb.articles import ArticleInput, get_article
from copilot.services import Services
from copilot.store import drafts, outbox
from copilot.store import tickets as ticket_store
from copilot.store import workspaces as ws_store
from copilot.store.outbox import OutboxItem, OutboxKind, OutboxState
from copilot.store.transaction import transaction

log = logging.getLogger(__name__)


def _needs_helpdesk(services: Services, workspace: str) -> None:
    """Nothing is queued for a workspace with no help desk to deliver it (one made by a ticket import):
    the draft stays where it is."""
    if workspace not in services.connectors:
        raise ValidationError("There is no help desk to send this to.", no_helpdesk_reason(workspace))


async def queue_message(
    services: Services,
    ticket_id: int,
    body: str,
    *,
    internal: bool,
    ai_draft: str = "",
    output_id: int | None = None,
    author: str = "",
) -> OutboxItem:
    """Write the reply or note to the outbox (the draft is cleared in the same step: the text lives on there)."""
    text = body.strip()
    if not text:
        raise ValidationError("The reply is empty.", "Write a reply, or regenerate the draft, then send.")
    store = services.store
    ticket = await store.run(ticket_store.get_ticket, store.db, ticket_id)
    _needs_helpdesk(services, ticket.workspace)
    sender = author or services.agent_name(ticket.workspace)
    kind = OutboxKind.NOTE if internal else OutboxKind.REPLY

    def _enqueue(db: Database) -> OutboxItem:
        with transaction(db):
            item = outbox.enqueue(
                db,
                ticket.workspace,
                ticket_id,
                kind,
                text,
                sender,
                ai_draft=ai_draft,
                output_id=output_id,
                watermark=thread_watermark(ticket),
            )
            db.execute("DELETE FROM drafts WHERE ticket_id = ?", [ticket_id])
        return item

    item = await store.run(_enqueue, store.db)
    services.bus.emit(DraftDidUpdate(ticket_id=ticket_id))
    services.bus.emit(TicketDidChange(ticket_id=ticket_id))
    return item


async def queue_status(services: Services, ticket_id: int, status: str) -> OutboxItem:
    """Change a ticket's status here at once, and in the help desk through the outbox."""
    store = services.store
    ticket = await store.run(ticket_store.get_ticket, store.db, ticket_id)
    _needs_helpdesk(services, ticket.workspace)

    def _enqueue(db: Database) -> OutboxItem:
        with transaction(db):
            ticket_store.set_status(db, ticket_id, status)
            return outbox.enqueue(
                db, ticket.workspace, ticket_id, OutboxKind.STATUS, status, services.agent_name(ticket.workspace)
            )

    item = await store.run(_enqueue, store.db)
    services.bus.emit(TicketDidChange(ticket_id=ticket_id))
    return item


STATUSES = ("open", "pending", "resolved")  # what an agent sets; "solved" is the word shown for resolved


async def set_status(services: Services, ticket_id: int, status: str) -> OutboxItem:
    """The agent sets a ticket open, pending or solved: at once here, and in the help desk through the outbox."""
    if status not in STATUSES:
        raise ValidationError(f"'{status}' is not a status an agent sets.", f"Use one of: {', '.join(STATUSES)}.")
    item = await queue_status(services, ticket_id, status)
    async with services.lock(f"outbox:{item.workspace}"):
        return await deliver(services, item.id)


async def queue_article(services: Services, workspace: str, article_id: str) -> OutboxItem:
    def _enqueue(db: Database) -> OutboxItem:
        title = get_article(db, workspace, article_id).title
        return outbox.enqueue(
            db, workspace, None, OutboxKind.ARTICLE, title, services.agent_name(workspace), article_id=article_id
        )

    return await services.store.run(_enqueue, services.store.db)


async def deliver(services: Services, item_id: int) -> OutboxItem:
    """One attempt at one item. Failures are recorded on the item (state, reason, next attempt), not raised."""
    return (await attempt(services, item_id))[0]


async def attempt(services: Services, item_id: int) -> tuple[OutboxItem, CopilotError | None]:
    """Like `deliver`, and also the error the attempt met (None when it was sent), so that a caller can tell
    by its type what to do next (a `HelpdeskAuthError`: ask for a new token)."""
    store = services.store
    item = await store.run(outbox.begin_attempt, store.db, item_id)
    connector = services.connector(item.workspace)
    error: CopilotError | None = None
    try:
        if item.kind is OutboxKind.ARTICLE:
            article = await store.run(get_article, store.db, item.workspace, item.article_id)
            await connector.update_article(ArticleInput(article.id, article.title, article.body, article.tags))
            await store.run(outbox.mark_sent, store.db, item.id, "")
        elif item.kind is OutboxKind.STATUS:
            assert item.ticket_id is not None
            ticket = await store.run(ticket_store.get_ticket, store.db, item.ticket_id)
            await connector.set_status(ticket, item.body)
            await store.run(outbox.mark_sent, store.db, item.id, "")
        else:
            await _deliver_message(services, item)
    except HelpdeskRateLimited as exc:
        error = exc
        delay = outbox.backoff_seconds(item.attempts, exc.retry_after)
        await store.run(outbox.mark_retry, store.db, item.id, exc.message, delay_s=delay, outcome_unknown=False)
    except HelpdeskUnreachable as exc:
        error = exc
        delay = outbox.backoff_seconds(item.attempts)
        await store.run(
            outbox.mark_retry, store.db, item.id, exc.message, delay_s=delay, outcome_unknown=exc.outcome_unknown
        )
        await store.run(ws_store.mark_unreachable, store.db, item.workspace, exc.message)
    except HelpdeskAuthError as exc:
        error = exc
        await store.run(outbox.mark_failed, store.db, item.id, f"{exc.message} {exc.hint}", kind=outbox.AUTH)
    except CopilotError as exc:  # HelpdeskError included: refused or unreadable, retrying as is will not help
        error = exc
        await store.run(outbox.mark_failed, store.db, item.id, exc.message)
    except Exception as exc:
        if storage_error(exc) is not None:
            raise  # the disk, not the help desk: the item stays 'sending', so the next attempt looks first
        log.exception("delivering outbox item %s", item.id)
        error = as_copilot_error(exc)
        # Our bug: keep the text, and treat the outcome as unknown so a retry checks the thread first.
        await store.run(
            outbox.mark_failed,
            store.db,
            item.id,
            "Support Copilot hit an internal error; see the log.",
            outcome_unknown=True,
        )
    done = await store.run(outbox.get_item, store.db, item.id)
    if item.ticket_id is not None:
        services.bus.emit(TicketDidChange(ticket_id=item.ticket_id))
    return done, error


async def _deliver_message(services: Services, item: OutboxItem) -> None:
    store = services.store
    assert item.ticket_id is not None
    ticket = await store.run(ticket_store.get_ticket, store.db, item.ticket_id)
    connector = services.connector(item.workspace)
    visibility = Visibility.INTERNAL if item.kind is OutboxKind.NOTE else Visibility.PUBLIC
    posted = None
    if item.outcome_unknown:  # the last attempt may have landed: look before posting again
        posted = await connector.find_posted(ticket, item.body, visibility, item.watermark)
    if posted is None:
        posted = await connector.post_message(ticket, item.body, visibility, item.author, item.watermark)

    def _record(db: Database) -> None:  # the thread's message and the outbox's state change land together
        with transaction(db):
            message = ticket_store.add_message(
                db, ticket.id, item.author, Role.AGENT, visibility, item.body, posted.remote_id
            )
            drafts.record_sent(
                db,
                ticket.id,
                message.id,
                visibility,
                item.body,
                item.ai_draft,
                item.output_id,
                edit_ratio(item.ai_draft, item.body),
            )
            if visibility is Visibility.PUBLIC and ticket.status == "new":
                ticket_store.set_status(db, ticket.id, "open")
            outbox.mark_sent(db, item.id, posted.remote_id)

    await store.run(_record, store.db)


async def deliver_due(services: Services, workspace: str) -> list[OutboxItem]:
    """Attempt every item whose time has come, oldest first; stop early when the help desk is unreachable."""
    store = services.store
    results: list[OutboxItem] = []
    async with services.lock(f"outbox:{workspace}"):
        for item in await store.run(outbox.due, store.db, workspace):
            done = await deliver(services, item.id)
            results.append(done)
            if done.state is OutboxState.PENDING and done.last_error:
                break  # unreachable or rate-limited: the rest waits for the next round
    return results


async def retry(services: Services, item_id: int) -> OutboxItem:
    """The agent's "Retry" on a failed item (after a new token, or when the help desk is back)."""
    item = await services.store.run(outbox.requeue, services.store.db, item_id)
    async with services.lock(f"outbox:{item.workspace}"):
        return await deliver(services, item.id)


async def retry_refused(services: Services, workspace: str) -> list[OutboxItem]:
    """After a new token: attempt again everything the old one got refused."""
    store = services.store
    failed = await store.run(outbox.items, store.db, workspace, states=(OutboxState.FAILED,))
    for item in failed:
        if item.error_kind == outbox.AUTH:
            await store.run(outbox.requeue, store.db, item.id)
    return await deliver_due(services, workspace)


async def take_back(services: Services, item_id: int) -> OutboxItem:
    """Withdraw an undelivered reply into the ticket's draft, so the agent can edit it."""
    store = services.store

    def _take(db: Database) -> OutboxItem:
        item = outbox.get_item(db, item_id)
        if item.state is OutboxState.SENT or item.outcome_unknown or item.ticket_id is None:
            raise ValidationError(
                "This message may already be in the help desk, so it cannot be taken back.",
                "Retry it: the next attempt checks the thread before sending again.",
            )
        if item.state is OutboxState.SENDING:
            raise ValidationError("This message is being sent right now.", "Wait a moment.")
        existing = drafts.load_draft(db, item.ticket_id)
        body = item.body if existing is None else f"{existing.body}\n\n{item.body}"
        drafts.save_draft(db, item.ticket_id, body, item.ai_draft, item.output_id)
        return outbox.cancel(db, item_id)

    item = await store.run(_take, store.db)
    if item.ticket_id is not None:
        services.bus.emit(DraftDidUpdate(ticket_id=item.ticket_id))
        services.bus.emit(TicketDidChange(ticket_id=item.ticket_id))
    return item


async def list_outbox(services: Services, workspace: str, ticket_id: int | None = None) -> list[OutboxItem]:
    return await services.store.run(outbox.items, services.store.db, workspace, ticket_id=ticket_id)
