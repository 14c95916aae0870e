"""The database check from the app: SQLite's full integrity check on the open store."""

from __future__ import annotations

from copilot.assist.maintenance import check_database
from copilot.services import Services
from copilot.store.migrations import MIGRATIONS


async def test_a_sound_database_says_so_with_its_schema(services: Services) -> None:
    check = await check_database(services)
    assert check.sound and check.problems == ()
    assert check.schema.endswith(f"{len(MIGRATIONS)} migrations recorded")
    assert check.path == str(services.paths.database)
