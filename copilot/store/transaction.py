"""The one way the store groups writes: `transaction(db)` is BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error.

The connection runs with isolation_level=None, so `with db.conn:` opens no transaction (and, inside one,
commits it early): every multi-row write goes through here instead. Nested use becomes a savepoint, so a
store function that is atomic on its own stays atomic inside a bigger use case.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator

from sqlite_utils import Database

_savepoints = itertools.count(1)


def _quietly(conn: sqlite3.Connection, sql: str) -> None:
    # A failed rollback (the disk went away) must not hide the error that caused it; SQLite rolls back
    # a hot journal at the next open anyway.
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute(sql)


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """Everything written inside lands together or not at all."""
    conn = db.conn
    if conn.in_transaction:
        name = f"copilot_sp_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            _quietly(conn, f"ROLLBACK TO SAVEPOINT {name}")
            _quietly(conn, f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    # IMMEDIATE takes the write lock up front: a deferred BEGIN that later upgrades can fail with
    # SQLITE_BUSY_SNAPSHOT in WAL mode, which busy_timeout does not wait out.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        _quietly(conn, "ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        _quietly(conn, "ROLLBACK")
        raise
