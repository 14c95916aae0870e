"""Change settings (the declared schema in copilot.config.settings); secrets never go here."""

from __future__ import annotations

from typing import Any

from copilot.services import Services


async def change_setting(services: Services, key: str, raw: Any) -> Any:
    """Validate and store one setting; returns the typed value now in force."""
    await services.store.run(services.settings.set, services.store.db, key, raw)
    return services.settings.get(key)
