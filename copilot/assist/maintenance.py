"""Looking after the local database from the app: SQLite's full integrity check, on the store thread."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from copilot.services import Services
from copilot.store.db import integrity_problems


@dataclass(frozen=True)
class DatabaseCheck:
    path: str
    problems: tuple[str, ...]  # empty when every page and index is sound
    schema: str  # "schema version N, M migrations recorded"

    @property
    def sound(self) -> bool:
        return not self.problems


def _check(db: Database) -> tuple[tuple[str, ...], str]:
    problems = tuple(integrity_problems(db.conn, "integrity_check"))
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    applied = int(db.execute("SELECT count(*) FROM _migrations").fetchone()[0])
    return problems, f"schema version {version}, {applied} migrations recorded"


async def check_database(services: Services) -> DatabaseCheck:
    """The full check `support-copilot doctor` runs, on the open database (reads only; it may take a while on a
    big store, so the GUI runs it in the background)."""
    problems, schema = await services.store.run(_check, services.store.db)
    return DatabaseCheck(str(services.paths.database), problems, schema)
