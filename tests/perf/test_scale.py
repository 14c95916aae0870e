"""Costs as the store grows: start-up's badge refresh and reading every ticket, at 66 and at 10,000 tickets
(the demo's threads repeated under new numbers, made in the test). Prints; never fails on a slow machine.

Run alone: .venv/bin/python -m pytest tests/perf/test_scale.py -q -s
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlite_utils import Database

from copilot.app import build_services
from copilot.assist.local_copy import refresh_badges
from copilot.assist.workspace import open_workspace
from copilot.services import Services
from copilot.store import tickets as ticket_store

pytestmark = pytest.mark.perf

TARGET = 10_000


def timed_ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return round((time.perf_counter() - t0) * 1000, 1)


def figures(db: Database) -> dict[str, float]:
    ids = [r[0] for r in db.execute("SELECT id FROM tickets WHERE workspace = 'demo'")]
    return {
        "tickets": len(ids),
        "all_tickets_ms": timed_ms(lambda: ticket_store.all_tickets(db, "demo")),
        "per_ticket_reads_ms (the old way)": timed_ms(lambda: [ticket_store.get_ticket(db, i) for i in ids]),
        "badges_startup_nothing_changed_ms": timed_ms(lambda: refresh_badges(db, "demo")),
        "inbox_list_ms": timed_ms(lambda: ticket_store.list_inbox(db, "demo")),
    }


def add_copies(db: Database, target: int) -> None:
    """Copies of the demo's tickets under new numbers until there are `target` (their badges not refreshed)."""
    demo = ticket_store.all_tickets(db, "demo")
    number = max(t.number for t in demo)
    count = len(demo)
    while count < target:
        for t in demo[: target - count]:
            number += 1
            ticket_store.upsert_ticket(db, dataclasses.replace(t, id=0, number=number))
        count = min(target, count + len(demo))


def grow(db: Database, target: int) -> float:
    """Copies of the demo's tickets under new numbers until there are `target`; returns badge time for them."""
    add_copies(db, target)
    return timed_ms(lambda: refresh_badges(db, "demo"))


def copy_of_store(services: Services, folder: Path) -> Services:
    """Services on a copy of `services`' store in `folder` (read beside the store's own connection)."""
    copy = folder / "copilot.db"
    copy.parent.mkdir()
    source, target = sqlite3.connect(services.paths.database), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    return build_services(folder, database=copy)


@pytest.fixture
async def grown(services: Services, tmp_path: Path) -> AsyncIterator[Services]:
    """The demo's store (in `services`, 66 tickets) and a copy of it grown to TARGET tickets, made in the set-up:
    under xdist a perf test holds the machine alone only while it measures (its call), and inserting 10,000
    tickets is not what it measures. The new tickets' badges are refreshed in the test, where that is timed."""
    await open_workspace(services, "demo")
    large = copy_of_store(services, tmp_path / "grown")
    await large.store.run(add_copies, large.store.db, TARGET)
    yield large
    large.close()


async def test_startup_costs_at_66_and_10000_tickets(
    services: Services, grown: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    small = await services.store.run(figures, services.store.db)
    first_badges = await grown.store.run(timed_ms, lambda: refresh_badges(grown.store.db, "demo"))
    large = await grown.store.run(figures, grown.store.db)
    with capsys.disabled():
        print("\nPERF store at 66 tickets: " + json.dumps(small))
        print(f"PERF store at {TARGET:,} tickets: " + json.dumps(large | {"badges_for_new_tickets_ms": first_badges}))
    assert large["tickets"] == TARGET
