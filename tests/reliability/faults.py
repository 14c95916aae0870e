"""Fault injection for the store: a connection that fails every write from the Nth on (a disk that filled up),
and snapshots of whole databases to compare before and after."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP)\b", re.IGNORECASE)
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")

_OURS = str(Path("copilot", "store", "transaction.py"))

Snapshot = dict[str, list[tuple[Any, ...]]]


class FaultyConnection(sqlite3.Connection):
    """Counts write statements; once armed, the `fail_from`-th write and every later one fail like a full disk.
    While `recording`, the database is snapshotted after every COMMIT (the states a failure may leave)."""

    fail_from: int | None = None
    writes = 0
    recording = False
    commits: list[Snapshot]

    def arm(self, fail_from: int | None, *, record: bool = False) -> None:
        self.fail_from, self.writes, self.recording, self.commits = fail_from, 0, record, []

    def disarm(self) -> None:
        self.fail_from, self.recording = None, False

    def _check(self, sql: str) -> None:
        if _WRITE.match(sql):
            self.writes += 1
            if self.fail_from is not None and self.writes >= self.fail_from:
                raise sqlite3.OperationalError("database or disk is full")

    def _after(self, sql: str) -> None:
        # Only a COMMIT by the store's own transaction() ends a unit the code means to leave behind; a lone
        # autocommitted write (or sqlite-utils' own per-statement transaction) is exactly what must not happen.
        committed = not self.in_transaction and sql.strip().upper() == "COMMIT"
        if self.recording and committed and sys._getframe(2).f_code.co_filename.endswith(_OURS):
            self.recording = False
            self.commits.append(snapshot(self))
            self.recording = True

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self._check(sql)
        cursor = super().execute(sql, parameters)
        self._after(sql)
        return cursor

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        self._check(sql)
        cursor = super().executemany(sql, parameters)
        self._after(sql)
        return cursor


def _mask(value: Any) -> Any:
    # Clock readings differ between the clean run and a faulted one; what matters is which rows exist.
    return "<time>" if isinstance(value, str) and _TIME.match(value) else value


def snapshot(conn: sqlite3.Connection) -> Snapshot:
    """Every table's rows (FTS shadow tables included) and the schema itself."""
    names = [
        r[0]
        for r in sqlite3.Connection.execute(
            conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
    ]
    out: Snapshot = {
        "sqlite_master": sorted(
            sqlite3.Connection.execute(conn, "SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr
        )
    }
    for name in names:
        rows = sqlite3.Connection.execute(conn, f'SELECT * FROM "{name}"').fetchall()
        out[name] = sorted((tuple(_mask(v) for v in row) for row in rows), key=repr)
    out["user_version"] = [tuple(sqlite3.Connection.execute(conn, "PRAGMA user_version").fetchone())]
    return out
