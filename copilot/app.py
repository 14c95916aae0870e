"""Composition root: paths -> settings -> store -> services (-> Qt for the GUI). Nothing else wires things."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from copilot.config.paths import AppPaths, prepare_home, resources_dir
from copilot.config.settings import Settings
from copilot.domain.events import EventBus
from copilot.helpdesk.demo import DEMO_WORKSPACE, DemoHelpdesk
from copilot.helpdesk.registry import KINDS
from copilot.llm.catalog import ModelOverride
from copilot.scrub import ScrubbingFormatter
from copilot.services import Connectors, Services
from copilot.store import Store
from copilot.store.workspaces import list_workspaces

log = logging.getLogger(__name__)


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


def build_services(
    home: Path | None = None, *, database: Path | None = None, model_override: ModelOverride | None = None
) -> Services:
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
        connectors=Connectors({DEMO_WORKSPACE: demo}),
        model_override=model_override,
        log_handler=handler,
        scratch=_scratch,
    )
    for config in store.run_sync(list_workspaces, store.db):
        if config.kind in KINDS:
            services.connectors.attach(config)
    return services


def _scratch(home: Path, model_override: ModelOverride | None) -> Services:
    return build_services(home, model_override=model_override)


def run_gui(workspace: str = DEMO_WORKSPACE, home: Path | None = None) -> int:
    """Start the desktop app. Qt is imported here, never at module import."""
    from copilot.ui.main import run

    return run(build_services, workspace=workspace, home=home)
