"""Composition root: paths -> settings -> store -> services (-> Qt for the GUI). Nothing else wires things."""

from __future__ import annotations

import asyncio
import getpass
import logging
import logging.handlers
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

from copilot.config.paths import AppPaths, prepare_home, resources_dir
from copilot.config.secrets import TokenSource, helpdesk_key
from copilot.config.settings import Settings
from copilot.domain.events import EventBus
from copilot.domain.workspaces import WorkspaceConfig
from copilot.helpdesk.base import Connector
from copilot.helpdesk.demo import DEMO_WORKSPACE, DemoHelpdesk
from copilot.helpdesk.registry import KINDS, make_connector
from copilot.llm.catalog import ModelOverride
from copilot.scrub import ScrubbingFormatter
from copilot.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class Services:
    paths: AppPaths
    store: Store
    bus: EventBus
    settings: Settings
    connectors: dict[str, Connector] = field(default_factory=dict)
    engine_cache: dict[str, object] = field(default_factory=dict)  # used on the store thread only
    log_handler: logging.Handler | None = None
    tokens: dict[str, TokenSource] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    retired: list[Connector] = field(default_factory=list)  # replaced connectors, closed with the app
    model_override: ModelOverride | None = None  # `--model/--api-base` for one CLI run
    # CPU-heavy work (encoding text) runs here, so the store's single thread stays free for data access.
    compute: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="copilot-compute")
    )

    async def run_compute(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.compute, lambda: fn(*args, **kwargs))

    def connector(self, workspace: str) -> Connector:
        from copilot.errors import NotFoundError

        if workspace not in self.connectors:
            raise NotFoundError(
                f"There is no workspace called '{workspace}'.",
                f"Known workspaces: {', '.join(self.connectors)}.",
            )
        return self.connectors[workspace]

    def attach(self, config: WorkspaceConfig) -> Connector:
        """Create (or replace) the connector for a help-desk workspace; its token is read when first needed."""
        old = self.connectors.get(config.id)
        token = TokenSource(helpdesk_key(config.id))
        self.connectors[config.id] = make_connector(config, token)
        self.tokens[config.id] = token
        if old is not None:
            self.retired.append(old)
        return self.connectors[config.id]

    def lock(self, name: str) -> asyncio.Lock:
        """One lock per named activity (a workspace's sync, its outbox), so two runs never overlap."""
        return self.locks.setdefault(name, asyncio.Lock())

    def agent_name(self, workspace: str | None = None) -> str:
        """Who the user is: the setting, else the help desk's configured agent, else the OS user name."""
        configured = self.settings.text("agent.name").strip()
        if configured:
            return configured
        if workspace in self.connectors:
            default = self.connectors[workspace].default_agent
            if default:
                return default
        return getpass.getuser()

    def close(self) -> None:
        self.compute.shutdown(wait=True, cancel_futures=True)
        self.store.close()
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
            self.log_handler.close()


def configure_logging(paths: AppPaths) -> logging.Handler:
    """Log to a file in the data folder; `Services.close()` detaches and closes it."""
    handler = logging.handlers.RotatingFileHandler(
        paths.log_file, maxBytes=2_000_000, backupCount=2, encoding="utf-8", delay=True
    )
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def build_services(home: Path | None = None, *, database: Path | None = None) -> Services:
    paths = prepare_home(home)
    handler = configure_logging(paths)
    try:
        store = Store.open(database or paths.database)
    except Exception:
        logging.getLogger().removeHandler(handler)
        handler.close()
        raise
    settings = store.run_sync(Settings.load, store.db)
    demo = DemoHelpdesk(resources_dir() / "demo")
    services = Services(
        paths=paths,
        store=store,
        bus=EventBus(),
        settings=settings,
        connectors={DEMO_WORKSPACE: demo},
        log_handler=handler,
    )
    from copilot.store.workspaces import list_workspaces

    for config in store.run_sync(list_workspaces, store.db):
        if config.kind in KINDS:
            services.attach(config)
    return services


def run_gui(workspace: str = DEMO_WORKSPACE, home: Path | None = None) -> int:
    """Start the desktop app. Qt is imported here, never at module import."""
    from copilot.ui.main import run

    return run(workspace=workspace, home=home)
