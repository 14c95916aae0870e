"""Costs as the store grows: start-up's badge refresh and reading every ticket, at 66 and at 10,000 tickets
(the demo's threads repeated under new numbers, made in the test). Prints; never fails on a slow machine.

Run alone: .venv/bin/python -m pytest tests/perf/test_scale.py -q -s
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import pytest
from sqlite_utils import Database

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


def grow(db: Database, target: int) -> float:
    """Copies of the demo's tickets under new numbers until there are `target`; returns badge time for them."""
    demo = ticket_store.all_tickets(db, "demo")
    number = max(t.number for t in demo)
    count = len(demo)
    while count < target:
        for t in demo[: target - count]:
            number += 1
            ticket_store.upsert_ticket(db, dataclasses.replace(t, id=0, number=number))
        count = min(target, count + len(demo))
    return timed_ms(lambda: refresh_badges(db, "demo"))


async def test_startup_costs_at_66_and_10000_tickets(services: Services, capsys: pytest.CaptureFixture[str]) -> None:
    await open_workspace(services, "demo")
    small = await services.store.run(figures, services.store.db)
    first_badges = await services.store.run(grow, services.store.db, TARGET)
    large = await services.store.run(figures, services.store.db)
    with capsys.disabled():
        print("\nPERF store at 66 tickets: " + json.dumps(small))
        print(f"PERF store at {TARGET:,} tickets: " + json.dumps(large | {"badges_for_new_tickets_ms": first_badges}))
    assert large["tickets"] == TARGET
