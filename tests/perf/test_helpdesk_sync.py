"""Sync speed against a real Request Tracker 5: 1,000 tickets, then 50 changes. Prints figures; never fails on
a slow machine (only on wrong results)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from copilot.assist.sync import sync_workspace
from copilot.assist.workspace import save_workspace
from copilot.domain.workspaces import WorkspaceConfig
from copilot.services import Services
from tests.integration.rt_server import RTServer, rt_installed

pytestmark = [pytest.mark.perf, pytest.mark.integration]
TICKETS = 1000
CHANGES = 50


@pytest.fixture(scope="module")
def seeded_rt(tmp_path_factory: pytest.TempPathFactory) -> RTServer:
    if not rt_installed():
        if os.environ.get("CI"):
            pytest.fail("Request Tracker 5 is not installed; .ci/run installs it")
        pytest.skip("Request Tracker 5 is not installed")
    server = RTServer(Path(tmp_path_factory.mktemp("rt-perf")))
    server.setup()
    started = time.perf_counter()
    server.seed_tickets(TICKETS)
    print(f"\nseeded {TICKETS} tickets (2 messages each) in {time.perf_counter() - started:.1f} s")
    server.start()
    yield server  # type: ignore[misc]
    server.stop()


def _line(label: str, report: object) -> str:
    r = report.__dict__
    share = r["wait_s"] / r["seconds"] if r["seconds"] else 0
    return (
        f"{label}: {r['seconds']:.1f} s wall, {r['requests']} requests, {r['wait_s']:.1f} s waiting on RT "
        f"({share:.0%} of the time; {r['wait_s'] / max(1, r['requests']) * 1000:.0f} ms per request), "
        f"{r['tickets_changed']} tickets, {r['messages_added']} messages"
    )


async def test_initial_and_incremental_sync(services: Services, seeded_rt: RTServer) -> None:
    config = WorkspaceConfig("perf", "Perf", "rt", seeded_rt.url, "agent1", {"queues": ["Support"]})
    await save_workspace(services, config, seeded_rt.token)
    first = await sync_workspace(services, "perf")
    print("\n" + _line(f"initial sync of {TICKETS} tickets", first))
    assert first.tickets_changed == TICKETS and first.messages_added == 2 * TICKETS and first.errors == []
    seeded_rt.change_tickets(CHANGES)
    second = await sync_workspace(services, "perf")
    print(_line(f"incremental sync after {CHANGES} changes", second))
    # ">=" on the cursor re-reads the tickets changed in the same second as the last one seen
    assert second.tickets_changed >= CHANGES and second.messages_added == CHANGES // 2
    idle = await sync_workspace(services, "perf")
    print(_line("sync with nothing changed", idle))
    assert idle.messages_added == 0
