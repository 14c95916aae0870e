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

from copilot.errors import DatabaseError, storage_error
from copilot.store.migrations import migrate
from copilot.store.transaction import transaction

T = TypeVar("T")
P = ParamSpec("P")


def open_database(path: Path | str, *, factory: type[sqlite3.Connection] = sqlite3.Connection) -> Database:
    """Open (creating if needed), check and migrate. A damaged file is refused before anything is written to it;
    a read-only file or a full disk is reported as such. `factory` is the connection class (tests pass one
    that fails on purpose)."""
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, factory=factory)
        conn.execute("PRAGMA busy_timeout = 5000")
        _check_integrity(conn, path, "quick_check")
        conn.execute("PRAGMA foreign_keys = ON")
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        db = Database(conn)
        migrate(db)
    except (sqlite3.DatabaseError, DatabaseError, OSError) as exc:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
        if isinstance(exc, DatabaseError):
            raise
        raise storage_error(exc) or DatabaseError(
            f"The database {path} cannot be opened: {exc}.",
            "It may be damaged. Move the file aside (nothing is deleted) and restart to begin a fresh one, "
            "or set COPILOT_HOME to another folder.",
        ) from exc
    return db


def integrity_problems(conn: sqlite3.Connection, check: str = "integrity_check") -> list[str]:
    """SQLite's own check of every page and index ("quick_check" skips index contents); [] when sound."""
    rows = [str(r[0]) for r in conn.execute(f"PRAGMA {check}").fetchall()]
    return [] if rows == ["ok"] else rows


def _check_integrity(conn: sqlite3.Connection, path: Path | str, check: str) -> None:
    try:
        problems = integrity_problems(conn, check)
    except sqlite3.DatabaseError as exc:  # too damaged to even check ("malformed", "not a database")
        if storage_error(exc) is not None:
            raise
        problems = [str(exc)]
    if problems:
        raise DatabaseError(
            f"The database {path} failed its integrity check ({problems[0]}); nothing was written to it.",
            "Move the file aside (nothing is deleted) and restart to begin a fresh one, or restore a backup. "
            "`support-copilot doctor` shows the full check.",
        )


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

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue work without waiting for it, from any thread (the writer thread included: no deadlock)."""
        return self._executor.submit(lambda: fn(*args, **kwargs))

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
