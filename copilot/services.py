"""Services: the typed, immutable bundle every use case receives. Built once by `copilot.app.build_services`.

Nothing here is a grab bag: each mutable part is an object with one job and a stated owner thread —
the workspaces' connectors (event loop), the built-in engine's caches (compute thread, locked), named activity
locks (event loop), the compute thread itself and a low-priority background thread.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

from copilot.assist.caches import EngineCaches
from copilot.config.paths import AppPaths
from copilot.config.secrets import TokenSource, helpdesk_key
from copilot.config.settings import Settings
from copilot.domain.events import EventBus
from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import NotFoundError
from copilot.helpdesk.base import Connector
from copilot.helpdesk.registry import make_connector
from copilot.llm.catalog import ModelOverride
from copilot.store import Store
from copilot.threads import lower_thread_priority

T = TypeVar("T")
P = ParamSpec("P")


class Connectors:
    """The open workspaces' help-desk connectors and their tokens. Used from the event loop only."""

    def __init__(self, builtin: dict[str, Connector]) -> None:
        self._connectors = dict(builtin)
        self._tokens: dict[str, TokenSource] = {}
        self._retired: list[Connector] = []  # replaced connectors, closed with the app

    def __contains__(self, workspace: object) -> bool:
        return workspace in self._connectors

    def __iter__(self) -> Iterator[str]:
        return iter(self._connectors)

    def items(self) -> list[tuple[str, Connector]]:
        return list(self._connectors.items())

    def get(self, workspace: str) -> Connector:
        if workspace not in self._connectors:
            raise NotFoundError(
                f"There is no workspace called '{workspace}'.",
                f"Known workspaces: {', '.join(self._connectors)}.",
            )
        return self._connectors[workspace]

    def find(self, workspace: str) -> Connector | None:
        return self._connectors.get(workspace)

    def token(self, workspace: str) -> TokenSource | None:
        return self._tokens.get(workspace)

    def attach(self, config: WorkspaceConfig) -> Connector:
        """Create (or replace) the connector for a help-desk workspace; its token is read when first needed."""
        old = self._connectors.get(config.id)
        token = TokenSource(helpdesk_key(config.id))
        self._connectors[config.id] = make_connector(config, token)
        self._tokens[config.id] = token
        if old is not None:
            self._retired.append(old)
        return self._connectors[config.id]

    def replace(self, workspace: str, connector: Connector) -> None:
        """Put a ready-made connector in place (a scripted help desk in tests, say)."""
        old = self._connectors.get(workspace)
        self._connectors[workspace] = connector
        if old is not None and old is not connector:
            self._retired.append(old)

    def detach(self, workspace: str) -> Connector | None:
        self._tokens.pop(workspace, None)
        return self._connectors.pop(workspace, None)

    def every_connector(self) -> list[Connector]:
        """Open and retired connectors alike: what must be closed at the end."""
        return [*self._connectors.values(), *self._retired]


@dataclass
class ActivityLocks:
    """One lock per named activity (a workspace's sync, its outbox), so two runs never overlap. Event loop only."""

    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def __call__(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())


@dataclass(frozen=True)
class Services:
    paths: AppPaths
    store: Store
    bus: EventBus
    settings: Settings
    connectors: Connectors
    caches: EngineCaches = field(default_factory=EngineCaches)
    locks: ActivityLocks = field(default_factory=ActivityLocks)
    model_override: ModelOverride | None = None  # `--model/--api-base` for one CLI run
    log_handler: logging.Handler | None = None
    # Fresh services on a throwaway data folder (evaluations and replays run there); wired by copilot.app.
    scratch: Callable[[Path, ModelOverride | None], Services] | None = None
    # CPU-heavy work (encoding, classifying, scoring) runs here, so the store's single thread only reads and writes.
    compute: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="copilot-compute")
    )
    # Work done ahead that nobody waits for yet (triage folds), at low priority, so it never holds up the compute
    # thread: one job at a time.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="copilot-background", initializer=lower_thread_priority
        )
    )

    async def run_compute(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.compute, lambda: fn(*args, **kwargs))

    async def run_background(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.background, lambda: fn(*args, **kwargs))

    def connector(self, workspace: str) -> Connector:
        return self.connectors.get(workspace)

    def lock(self, name: str) -> asyncio.Lock:
        return self.locks(name)

    def agent_name(self, workspace: str | None = None) -> str:
        """Who the user is: the setting, else the help desk's configured agent, else the OS user name."""
        return self.guessed_agent_name(workspace) or self._known_agent_name(workspace)

    def guessed_agent_name(self, workspace: str | None = None) -> str:
        """The OS user name when nothing better names the agent (no `agent.name`, no help desk agent): drafts
        are signed with it, so the agent is told where it comes from. "" when the name is known."""
        return "" if self._known_agent_name(workspace) else getpass.getuser()

    def _known_agent_name(self, workspace: str | None) -> str:
        configured = self.settings.agent.name.strip()
        if configured:
            return configured
        connector = self.connectors.find(workspace) if workspace else None
        return connector.default_agent if connector is not None else ""

    def close(self) -> None:
        self.background.shutdown(wait=True, cancel_futures=True)  # its work stops within a step when cancelled
        self.compute.shutdown(wait=True, cancel_futures=True)
        self.store.close()
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
            self.log_handler.close()
