"""Workspaces: open one (demo or help desk), add and test a help desk, keep the inbox badges current."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlite_utils import Database

from copilot.assist.local_copy import ensure_registered, refresh_badges
from copilot.config.secrets import HELPDESK_TOKEN_ENV, delete_secret, helpdesk_key, set_secret
from copilot.domain.events import TicketDidChange
from copilot.domain.workspaces import FILE_KIND, SyncState, WorkspaceConfig
from copilot.errors import ValidationError
from copilot.helpdesk.base import ConnectionInfo
from copilot.helpdesk.demo import DEMO_WORKSPACE
from copilot.helpdesk.registry import KINDS, make_connector
from copilot.kb.articles import count_articles
from copilot.services import Services
from copilot.store import workspaces as ws_store

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class WorkspaceChoice:
    """A workspace the app can open, as the Workspace menu lists it."""

    id: str
    name: str
    has_helpdesk: bool  # False for one made by a ticket import: no sync, no sending


@dataclass(frozen=True)
class OpenedWorkspace:
    """What the window shows once a workspace is open."""

    choice: WorkspaceChoice
    tickets: int
    articles: int  # in its knowledge base; 0 means nothing can be suggested
    choices: list[WorkspaceChoice]  # every workspace the Workspace menu offers
    engines: str = ""  # what answers the copilot's tasks: the built-in engine, or the models set up


@dataclass(frozen=True)
class WorkspaceSummary:
    config: WorkspaceConfig
    tickets: int
    state: SyncState
    outbox: dict[str, int]


def _count(db: Database, workspace: str) -> int:
    return int(db.execute("SELECT count(*) FROM tickets WHERE workspace = ?", [workspace]).fetchone()[0])


async def open_workspace(services: Services, workspace: str) -> int:
    """Show what the local store has at once; the demo is filled on first open (help desks sync separately).
    A workspace made by a ticket import has no connector: its row in the store is all there is."""
    store = services.store
    imported = services.connectors.find(workspace) is None and (
        await store.run(ws_store.kind_of, store.db, workspace) == FILE_KIND
    )
    if not imported:
        await ensure_registered(services, workspace)  # an unknown workspace is named here (NotFoundError)
    if workspace == DEMO_WORKSPACE and await store.run(_count, store.db, workspace) == 0:
        from copilot.assist.sync import sync_workspace

        await sync_workspace(services, workspace)
    await store.run(refresh_badges, store.db, workspace)
    services.bus.emit(TicketDidChange(ticket_id=0))
    return await store.run(_count, store.db, workspace)


async def workspace_choices(services: Services) -> list[WorkspaceChoice]:
    """Every workspace the app can open: the help desks (the demo first), then those made by a ticket import."""
    choices = [WorkspaceChoice(name, c.display_name, True) for name, c in services.connectors.items()]
    configs = await services.store.run(ws_store.list_workspaces, services.store.db)
    imported = [c for c in configs if c.kind == FILE_KIND and c.id not in services.connectors]
    return choices + [WorkspaceChoice(c.id, f"{c.name} (imported tickets)", False) for c in imported]


async def open_for_window(services: Services, workspace: str) -> OpenedWorkspace:
    """`open_workspace`, with what the window needs beside the count: the workspace's name, whether a help desk
    is behind it, how many articles its knowledge base holds, and the other workspaces to switch to."""
    tickets = await open_workspace(services, workspace)
    choices = await workspace_choices(services)
    articles = await services.store.run(count_articles, services.store.db, workspace)
    choice = next((c for c in choices if c.id == workspace), WorkspaceChoice(workspace, workspace, False))
    from copilot.assist.routing import engines_line  # the model layer, only once a window opens

    return OpenedWorkspace(choice, tickets, articles, choices, await engines_line(services))


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
    stored = services.connectors.token(config.id)
    if not token and stored is not None:
        token = await services.store.run(stored)
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
    services.connectors.attach(config)
    return config


async def set_token(services: Services, workspace: str, token: str) -> None:
    if not token.strip():
        raise ValidationError("The token is empty.", "Paste the API token from the help desk.")
    set_secret(helpdesk_key(workspace), token.strip(), HELPDESK_TOKEN_ENV)
    token_source = services.connectors.token(workspace)
    if token_source is not None:
        token_source.forget()


async def unsent_work(services: Services, workspace: str) -> list[str]:
    """Undelivered replies and drafts that removing the workspace would delete ("a draft on ticket #12")."""
    return await services.store.run(ws_store.unsent_work, services.store.db, workspace)


async def remove_workspace(services: Services, workspace: str, *, force: bool = False) -> None:
    """Refuses (UnsentWorkError, naming them) while undelivered replies or drafts exist, unless `force`."""
    if workspace == DEMO_WORKSPACE:
        raise ValidationError("The demo workspace is built in and cannot be removed.")
    await services.store.run(ws_store.remove_workspace, services.store.db, workspace, force=force)
    delete_secret(helpdesk_key(workspace))
    connector = services.connectors.detach(workspace)
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
