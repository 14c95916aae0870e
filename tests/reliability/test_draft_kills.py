"""Drafts under kill -9: a process saving a draft keystroke by keystroke is killed at random moments; every save
it was told had landed must be in the database afterwards, and the file must pass its integrity check."""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import time
from pathlib import Path

from copilot.domain import Ticket
from copilot.store import Store, drafts, open_database
from copilot.store import tickets as ticket_store
from tests.reliability.summary import FIGURES

KILLS = 50


def _typist(path: Path, ticket_id: int, start: int, out: int) -> None:
    """The child: the editor's autosave, one save per keystroke, acknowledging each after it returns."""
    store = Store.open(path)
    n = start
    while True:
        n += 1
        store.run_sync(drafts.save_draft, store.db, ticket_id, f"Dear customer, {'x' * (n % 300)} #{n}", "", None)
        os.write(out, f"{n}\n".encode())


def _last_ack(data: bytes) -> int:
    lines = [line for line in data.decode().split("\n") if line.strip()]
    return int(lines[-1]) if lines else 0


def test_no_acknowledged_draft_is_lost_to_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "copilot.db"
    db = open_database(path)
    ticket_store.ensure_workspace(db, "demo", "Demo", "demo")
    ticket_id = ticket_store.upsert_ticket(
        db, Ticket(0, "demo", 1, "Help", "Ana", "ana@example.com", "open", "2026-01-01", "2026-01-01")
    )
    db.conn.close()
    rng = random.Random(12)
    acked, lost = 0, 0
    for _kill in range(KILLS):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                os.close(read_end)
                _typist(path, ticket_id, acked, write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        data = b""
        deadline = time.monotonic() + rng.uniform(0.05, 0.4)
        while time.monotonic() < deadline:  # let it type for a random moment, then pull the plug
            ready, _, _ = select.select([read_end], [], [], 0.01)
            if ready:
                data += os.read(read_end, 65536)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while chunk := os.read(read_end, 65536):
            data += chunk
        os.close(read_end)
        acked = max(acked, _last_ack(data))
        check = sqlite3.connect(path)
        assert check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        row = check.execute("SELECT body FROM drafts WHERE ticket_id = ?", [ticket_id]).fetchone()
        check.close()
        saved = int(row[0].rsplit("#", 1)[1]) if row else 0
        if saved < acked:
            lost += 1
        acked = max(acked, saved)
    print(f"\ndrafts under kill -9: {KILLS} kills, {acked} saves acknowledged, {lost} lost")
    FIGURES["drafts: kill -9"] += KILLS
    FIGURES["drafts: lost"] += lost
    assert acked > KILLS and lost == 0
