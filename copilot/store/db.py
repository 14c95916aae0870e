"""Open the database safely and run all database work on one worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlite_utils import Database

from copilot.errors import DatabaseError
from copilot.store.migrations import migrate
from copilot.store.transaction import transaction

T = TypeVar("T")
P = ParamSpec("P")


def open_database(path: Path | str, *, factory: type[sqlite3.Connection] = sqlite3.Connection) -> Database:
    """Open (creating if needed) and migrate. Corrupt or foreign files give a DatabaseError.
    `factory` is the connection class (tests pass one that fails on purpose)."""
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, factory=factory)
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


def _atomically(db: Database, fn: Callable[[], T]) -> T:
    with transaction(db):
        return fn()


class Store:
    """Owns the connection; every read and write runs on its single worker thread, in order, and each
    unit of work handed to `run` is one transaction: a use case's writes land together or not at all."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copilot-db")

    @classmethod
    def open(cls, path: Path | str) -> Store:
        return cls(open_database(path))

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: _atomically(self.db, lambda: fn(*args, **kwargs)))

    def run_sync(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """For start-up and scripts outside an event loop; still on the writer thread."""
        return self._executor.submit(lambda: _atomically(self.db, lambda: fn(*args, **kwargs))).result()

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database file (outside any transaction, as SQLite requires)."""
        self._executor.submit(lambda: self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")).result()

    def close(self) -> None:
        def _close() -> None:
            with contextlib.suppress(sqlite3.Error):
                self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.conn.close()

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)
