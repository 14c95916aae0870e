"""Change settings (the declared schema in copilot.config.settings); secrets never go here."""

from __future__ import annotations

from typing import Any

from copilot.services import Services
from copilot.store.settings import get_setting, set_setting


async def change_setting(services: Services, key: str, raw: Any) -> Any:
    """Validate and store one setting; returns the typed value now in force."""
    await services.store.run(services.settings.set, services.store.db, key, raw)
    return services.settings.get(key)


def load_window_state(services: Services, keys: tuple[str, ...]) -> dict[str, str | None]:
    """Read remembered window state (geometry, pane sizes). Synchronous: the window needs it before it shows."""
    return services.store.run_sync(lambda: {key: get_setting(services.store.db, key) for key in keys})


def save_window_state(services: Services, values: dict[str, str]) -> None:
    """Remember window state. Synchronous: it runs while the window closes, when the loop may not run again."""

    def write() -> None:
        for key, value in values.items():
            set_setting(services.store.db, key, value)

    services.store.run_sync(write)
