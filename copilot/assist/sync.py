"""Sync a workspace from its help desk: incremental, resumable, and safe to run while the agent works."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlite_utils import Database

from copilot.assist.local_copy import ensure_registered, refresh_badges
from copilot.boundary import clean_text
from copilot.domain import Role
from copilot.domain.events import ArticleDidChange, TicketDidChange
from copilot.domain.workspaces import SkippedRecord, SyncState
from copilot.engine.text import detect_language
from copilot.errors import HelpdeskError, HelpdeskUnreachable
from copilot.helpdesk.base import Capability, SyncBatch
from copilot.kb.articles import import_articles
from copilot.services import Services
from copilot.store import outbox
from copilot.store import tickets as ticket_store
from copilot.store import workspaces as ws_store
from copilot.store.transaction import transaction


@dataclass
class SyncReport:
    workspace: str
    tickets_changed: int = 0
    messages_added: int = 0
    articles_created: int = 0
    articles_updated: int = 0
    errors: list[str] = field(default_factory=list)  # one line per skipped record: "ticket #12: why"
    requests: int = 0
    wait_s: float = 0.0
    seconds: float = 0.0
    delivered: int = 0
    skipped_total: int = 0  # records this workspace's syncs have skipped and kept with their reasons, all told

    def as_json(self) -> dict[str, Any]:
        skipped = [{"record": r, "reason": why} for r, _, why in (e.partition(": ") for e in self.errors)]
        return {
            **asdict(self),
            "skipped": skipped,
            "wait_s": round(self.wait_s, 3),
            "seconds": round(self.seconds, 3),
        }


# What one bad record can raise in the store; a full disk or a damaged file (OperationalError) stops the batch.
_RECORD_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, OverflowError, UnicodeEncodeError, ValueError)


def apply_batch(db: Database, workspace: str, batch: SyncBatch) -> tuple[set[int], int, list[str]]:
    """Store one batch and its cursor in one transaction (idempotent, so a repeated batch changes nothing)."""
    with transaction(db):
        return _apply_batch(db, workspace, batch)


def _apply_batch(db: Database, workspace: str, batch: SyncBatch) -> tuple[set[int], int, list[str]]:
    touched: set[int] = set()
    errors: list[str] = []
    stored: list[str] = []
    added = 0
    for t in batch.tickets:
        try:  # each store function is its own savepoint: a record the store refuses leaves nothing behind
            touched.add(ticket_store.upsert_ticket(db, t) if batch.full_threads else ticket_store.upsert_fields(db, t))
        except _RECORD_ERRORS as exc:
            errors.append(f"ticket #{t.number}: could not be stored ({clean_text(str(exc))[:200]})")
        else:
            stored.append(f"ticket #{t.number}")
    for number, messages in batch.messages.items():
        ticket_id = ticket_store.ticket_id_for(db, workspace, number)
        if ticket_id is None:
            errors.append(f"ticket #{number}: messages arrived for a ticket this workspace does not have")
            continue
        try:
            added += ticket_store.add_remote_messages(db, ticket_id, messages)
        except _RECORD_ERRORS as exc:
            errors.append(f"ticket #{number}: its new messages could not be stored ({clean_text(str(exc))[:200]})")
            continue
        touched.add(ticket_id)
    for ticket_id in touched:
        t = ticket_store.get_ticket(db, ticket_id)
        if not t.language and t.messages:
            customer = " ".join(m.body for m in t.messages if m.role is Role.CUSTOMER)
            db.execute(
                "UPDATE tickets SET language = ? WHERE id = ?", [detect_language(f"{t.subject} {customer}"), ticket_id]
            )
    ws_store.record_skipped(db, workspace, batch.errors + errors, stored)
    # The cursor moves past skipped records: they are kept above with their reason, not retried forever.
    ws_store.save_cursor(db, workspace, batch.cursor)
    return touched, added, errors


def _import_remote_articles(db: Database, workspace: str, items: list[Any], author: str) -> tuple[int, int]:
    # An agent's correction still waiting in the outbox wins over the help desk's older text.
    waiting = {
        i.article_id
        for i in outbox.items(
            db, workspace, states=(outbox.OutboxState.PENDING, outbox.OutboxState.SENDING, outbox.OutboxState.FAILED)
        )
        if i.article_id
    }
    return import_articles(db, workspace, [a for a in items if a.id not in waiting], author)


async def sync_workspace(services: Services, workspace: str, *, articles: bool = True) -> SyncReport:
    """Pull what changed since the last sync; deliver the outbox afterwards. Raises when the help desk is
    unreachable or refuses the token (after recording it, so the status line can say "offline since …")."""
    from copilot.assist.outbox import deliver_due

    connector = services.connector(workspace)
    store = services.store
    report = SyncReport(workspace)
    started = time.perf_counter()
    http = getattr(connector, "http", None)
    before = (http.stats.requests, http.stats.wait_s) if http is not None else (0, 0.0)
    touched: set[int] = set()
    async with services.lock(f"sync:{workspace}"):
        await ensure_registered(services, workspace)
        state = await store.run(ws_store.sync_state, store.db, workspace)
        try:
            async for batch in connector.sync(state.cursor or None):
                changed, added, errors = await store.run(apply_batch, store.db, workspace, batch)
                touched |= changed
                report.tickets_changed += len(batch.tickets)
                report.messages_added += added
                report.errors += batch.errors + errors
                if changed:
                    services.bus.emit(TicketDidChange(ticket_id=0))  # the inbox shows each batch as it lands
            if articles and Capability.KB_READ in connector.capabilities and (workspace != "demo" or not state.cursor):
                items = await connector.list_articles()
                created, updated = await store.run(
                    _import_remote_articles, store.db, workspace, items, connector.display_name
                )
                report.articles_created, report.articles_updated = created, updated
        except HelpdeskUnreachable as exc:
            await store.run(ws_store.mark_unreachable, store.db, workspace, exc.message)
            raise
        except HelpdeskError as exc:  # refused token, garbage answers: reachable, but the sync stopped here
            await store.run(ws_store.mark_error, store.db, workspace, exc.message)
            raise
        await store.run(ws_store.mark_synced, store.db, workspace)
        report.skipped_total = (await store.run(ws_store.skipped_records, store.db, workspace, 0))[0]
    if touched:
        await store.run(refresh_badges, store.db, workspace, touched)
        services.bus.emit(TicketDidChange(ticket_id=0))
    if report.articles_created or report.articles_updated:
        from copilot.assist.indexing import refresh_vectors

        await refresh_vectors(services, workspace)
        services.bus.emit(ArticleDidChange(article_id=""))
    report.delivered = len([i for i in await deliver_due(services, workspace) if i.state is outbox.OutboxState.SENT])
    if http is not None:
        report.requests = http.stats.requests - before[0]
        report.wait_s = http.stats.wait_s - before[1]
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class SyncStatus:
    """What the status line says about a workspace: its last sync and what waits in its outbox."""

    state: SyncState
    unsent: int  # pending or being sent
    failed: int
    skipped: int = 0  # help-desk records the syncs skipped, all told
    skipped_latest: tuple[SkippedRecord, ...] = ()  # the latest of them, with their reasons


async def sync_status(services: Services, workspace: str) -> SyncStatus:
    def _read(db: Database) -> SyncStatus:
        waiting = outbox.counts(db, workspace)
        skipped, latest = ws_store.skipped_records(db, workspace, limit=20)
        return SyncStatus(
            ws_store.sync_state(db, workspace),
            waiting.get("pending", 0) + waiting.get("sending", 0),
            waiting.get("failed", 0),
            skipped,
            tuple(latest),
        )

    return await services.store.run(_read, services.store.db)
