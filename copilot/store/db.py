"""Open the database safely and run all database work on one worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlite_utils import Database

from copilot.errors import DatabaseError
from copilot.store.migrations import migrate

T = TypeVar("T")
P = ParamSpec("P")


def open_database(path: Path | str) -> Database:
    """Open (creating if needed) and migrate. Corrupt or foreign files give a DatabaseError."""
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        db = Database(conn)
        migrate(db)
    except sqlite3.DatabaseError as exc:
        with contextlib.suppress(Exception):
            conn.close()
        raise DatabaseError(
            f"The database {path} cannot be opened: {exc}.",
            "It may be damaged. Move the file aside (nothing is deleted) and restart to begin a fresh one, "
            "or set COPILOT_HOME to another folder.",
        ) from exc
    return db


class Store:
    """Owns the connection; every read and write runs on its single worker thread, in order."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copilot-db")

    @classmethod
    def open(cls, path: Path | str) -> Store:
        return cls(open_database(path))

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue work without waiting for it, from any thread (the writer thread included: no deadlock)."""
        return self._executor.submit(lambda: fn(*args, **kwargs))

    def run_sync(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """For start-up and scripts outside an event loop; still on the writer thread."""
        return self._executor.submit(lambda: fn(*args, **kwargs)).result()

    def close(self) -> None:
        def _close() -> None:
            with contextlib.suppress(sqlite3.Error):
                self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.conn.close()

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)
