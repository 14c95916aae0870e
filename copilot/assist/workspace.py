"""Workspaces: open one (demo or help desk), add and test a help desk, keep the inbox badges current."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlite_utils import Database

from copilot.app import Services
from copilot.config.secrets import HELPDESK_TOKEN_ENV, delete_secret, helpdesk_key, set_secret
from copilot.domain import Ticket
from copilot.domain.events import TicketDidChange
from copilot.domain.workspaces import SyncState, WorkspaceConfig
from copilot.engine.signals import detect_flags, is_urgent, sentiment
from copilot.errors import ValidationError
from copilot.helpdesk.base import ConnectionInfo
from copilot.helpdesk.demo import DEMO_WORKSPACE
from copilot.helpdesk.registry import KINDS, make_connector
from copilot.store import tickets as ticket_store
from copilot.store import workspaces as ws_store

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class WorkspaceSummary:
    config: WorkspaceConfig
    tickets: int
    state: SyncState
    outbox: dict[str, int]


def content_key(ticket: Ticket) -> str:
    h = hashlib.sha256()
    for m in ticket.messages:
        h.update(f"{m.id}|{m.role}|{m.visibility}|{m.body}\x00".encode())
    return h.hexdigest()[:16]


def refresh_badges(db: Database, workspace: str, ticket_ids: set[int] | None = None) -> int:
    """Recompute sentiment and urgency badges for tickets whose thread changed. Returns how many."""
    known = ticket_store.badge_keys(db, workspace)
    changed = 0
    tickets = (
        ticket_store.all_tickets(db, workspace)
        if ticket_ids is None
        else [ticket_store.get_ticket(db, i) for i in sorted(ticket_ids)]
    )
    for t in tickets:
        key = content_key(t)
        if known.get(t.id) == key:
            continue
        flags = detect_flags(t)
        label, *_ = sentiment(t)
        ticket_store.set_badges(db, t.id, label, is_urgent(flags), [f.label for f in flags], key)
        changed += 1
    return changed


def _count(db: Database, workspace: str) -> int:
    return int(db.execute("SELECT count(*) FROM tickets WHERE workspace = ?", [workspace]).fetchone()[0])


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


async def open_workspace(services: Services, workspace: str) -> int:
    """Show what the local store has at once; the demo is filled on first open (help desks sync separately)."""
    store = services.store
    await ensure_registered(services, workspace)
    if workspace == DEMO_WORKSPACE and await store.run(_count, store.db, workspace) == 0:
        from copilot.assist.sync import sync_workspace

        await sync_workspace(services, workspace)
    await store.run(refresh_badges, store.db, workspace)
    services.bus.emit(TicketDidChange(ticket_id=0))
    return await store.run(_count, store.db, workspace)


def validate_config(config: WorkspaceConfig) -> None:
    if not _NAME.match(config.id):
        raise ValidationError(
            f"'{config.id}' cannot name a workspace.",
            "Use lower-case letters, digits, '-' or '_' (up to 40), starting with a letter or digit.",
        )
    if config.id == DEMO_WORKSPACE:
        raise ValidationError("'demo' is the built-in demo workspace.", "Choose another name.")
    if config.kind not in KINDS:
        raise ValidationError(f"Unknown help-desk type '{config.kind}'.", f"Known types: {', '.join(KINDS)}.")
    if not re.match(r"^https?://[^\s/]+", config.url):
        raise ValidationError(
            f"'{config.url}' is not a web address.",
            "Use the address you open the help desk at, e.g. https://rt.example.com.",
        )


async def check_connection(services: Services, config: WorkspaceConfig, token: str) -> ConnectionInfo:
    """Try a help desk with these settings before anything is saved (one or two small calls). An empty token
    means the one stored for this workspace (read from the keyring on the store's thread, never the GUI's)."""
    validate_config(config)
    if not token and config.id in services.tokens:
        token = await services.store.run(services.tokens[config.id])
    connector = make_connector(config, lambda: token)
    try:
        return await connector.test_connection()
    finally:
        await connector.aclose()


async def save_workspace(services: Services, config: WorkspaceConfig, token: str | None) -> WorkspaceConfig:
    """Add or change a help-desk workspace. The token goes to the OS keyring first: no keyring, nothing saved."""
    validate_config(config)
    if token:
        set_secret(helpdesk_key(config.id), token, HELPDESK_TOKEN_ENV)
    await services.store.run(ws_store.save_workspace, services.store.db, config)
    services.attach(config)
    return config


async def set_token(services: Services, workspace: str, token: str) -> None:
    if not token.strip():
        raise ValidationError("The token is empty.", "Paste the API token from the help desk.")
    set_secret(helpdesk_key(workspace), token.strip(), HELPDESK_TOKEN_ENV)
    if workspace in services.tokens:
        services.tokens[workspace].forget()


async def remove_workspace(services: Services, workspace: str) -> None:
    if workspace == DEMO_WORKSPACE:
        raise ValidationError("The demo workspace is built in and cannot be removed.")
    await services.store.run(ws_store.remove_workspace, services.store.db, workspace)
    delete_secret(helpdesk_key(workspace))
    connector = services.connectors.pop(workspace, None)
    if connector is not None:
        await connector.aclose()
    services.bus.emit(TicketDidChange(ticket_id=0))


async def list_workspaces(services: Services) -> list[WorkspaceSummary]:
    from copilot.store import outbox

    def _read(db: Database) -> list[WorkspaceSummary]:
        configs = {c.id: c for c in ws_store.list_workspaces(db)}
        out = []
        for name, connector in services.connectors.items():
            config = configs.get(name) or WorkspaceConfig(name, connector.display_name, connector.kind)
            out.append(
                WorkspaceSummary(config, _count(db, name), ws_store.sync_state(db, name), outbox.counts(db, name))
            )
        return out

    return await services.store.run(_read, services.store.db)
