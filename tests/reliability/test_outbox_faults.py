"""The outbox under injected faults: connection refused (nothing landed), connection cut after the request
landed, 429 and 5xx answers, the app killed mid-send (and restarted on the same file), and a disk that fills
while the sent reply is recorded. Every reply must end up in the help desk once and in the thread once."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from copilot.assist import outbox
from copilot.assist.sync import apply_batch
from copilot.config.paths import prepare_home, resources_dir
from copilot.config.settings import Settings
from copilot.domain import Ticket, Visibility
from copilot.domain.events import EventBus
from copilot.errors import HelpdeskRateLimited, HelpdeskUnreachable
from copilot.helpdesk.base import Posted, SyncBatch
from copilot.helpdesk.demo import DemoHelpdesk
from copilot.services import Connectors, Services
from copilot.store import Store, open_database
from copilot.store import outbox as outbox_store
from copilot.store import tickets as ticket_store
from tests.reliability.faults import FaultyConnection
from tests.reliability.summary import FIGURES

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
REPLIES = 100
FAULTS = ("refused", "cut_after", "429", "5xx", "kill", "disk_full")


class Killed(BaseException):
    """The process died here: nothing after this line of the attempt runs (not an Exception, so nothing catches it)."""


class FlakyHelpdesk(DemoHelpdesk):
    """Remembers what really landed; each post first draws its fate from a seeded script."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(resources_dir() / "demo", now=NOW)
        self.rng = rng
        self.landed: list[str] = []
        self.fault_rate = 0.7
        self.injected: Counter[str] = Counter()
        self.conn: FaultyConnection | None = None

    async def post_message(
        self, ticket: Ticket, body: str, visibility: Visibility, author: str, watermark: str
    ) -> Posted:
        fault = self.rng.choice(FAULTS) if self.rng.random() < self.fault_rate else ""
        if fault:
            self.injected[fault] += 1
        if fault == "refused":
            raise HelpdeskUnreachable("connection refused", outcome_unknown=False)
        if fault == "429":
            raise HelpdeskRateLimited("slow down", retry_after=1)
        self.landed.append(body)  # from here on the help desk has it
        if fault == "cut_after":
            raise HelpdeskUnreachable("connection reset after sending", outcome_unknown=True)
        if fault == "5xx":
            raise HelpdeskUnreachable("HTTP 502 from the help desk", outcome_unknown=True)
        if fault == "kill":
            raise Killed
        if fault == "disk_full":
            assert self.conn is not None
            self.conn.arm(1)  # the disk fills before the sent reply is recorded
        return Posted(f"r{len(self.landed)}", NOW.isoformat())

    async def find_posted(self, ticket: Ticket, body: str, visibility: Visibility, watermark: str) -> Posted | None:
        if self.rng.random() < self.fault_rate / 3:  # the look-up itself can fail; the outcome stays unknown
            self.injected["lookup_refused"] += 1
            raise HelpdeskUnreachable("connection refused while checking the thread", outcome_unknown=True)
        return Posted(f"r{self.landed.index(body) + 1}", NOW.isoformat()) if body in self.landed else None


def _start(path: Path, home: Path, helpdesk: FlakyHelpdesk) -> Services:
    store = Store(open_database(path, factory=FaultyConnection))
    assert isinstance(store.db.conn, FaultyConnection)
    helpdesk.conn = store.db.conn
    return Services(
        prepare_home(home), store, EventBus(), store.run_sync(Settings.load, store.db), Connectors({"demo": helpdesk})
    )


async def test_no_reply_lost_or_doubled_under_faults(tmp_path: Path) -> None:
    rng = random.Random(20261128)
    helpdesk = FlakyHelpdesk(rng)
    path = tmp_path / "copilot.db"
    services = _start(path, tmp_path / "home", helpdesk)
    tickets = helpdesk._content()["tickets"][:5]
    batch = SyncBatch([helpdesk._ticket(raw, NOW) for raw in tickets], cursor="c", full_threads=True)
    await services.store.run(ticket_store.ensure_workspace, services.store.db, "demo", "Demo", "demo")
    await services.store.run(apply_batch, services.store.db, "demo", batch)
    ids = [
        await services.store.run(ticket_store.ticket_id_for, services.store.db, "demo", int(r["number"]))
        for r in tickets
    ]
    bodies = [f"Reply {i}: we are on it." for i in range(REPLIES)]
    for i, body in enumerate(bodies):
        ticket_id = ids[i % len(ids)]
        assert ticket_id is not None
        await outbox.queue_message(services, ticket_id, body, internal=False)

    kills = disk_full = 0
    for _round in range(60):
        await services.store.run(services.store.db.execute, "UPDATE outbox SET next_attempt_at = ''")
        due = await services.store.run(outbox_store.due, services.store.db, "demo")
        if not due:
            break
        for item in due:
            try:
                await outbox.deliver(services, item.id)
            except Killed:  # the app died mid-send: start again on the same file
                kills += 1
                services.close()
                services = _start(path, tmp_path / "home", helpdesk)
            except sqlite3.OperationalError:  # the disk filled; space comes back before the next attempt
                disk_full += 1
                helpdesk.conn.disarm() if helpdesk.conn else None
        if _round == 40:
            helpdesk.fault_rate = 0.0  # the help desk settles down, so every reply can finish
    items = await services.store.run(outbox_store.items, services.store.db, "demo")
    threads = [await services.store.run(ticket_store.get_ticket, services.store.db, i) for i in ids if i is not None]
    in_threads = Counter(m.body for t in threads for m in t.messages)
    services.close()

    landed = Counter(helpdesk.landed)
    lost = [b for b in bodies if landed[b] == 0 or in_threads[b] == 0]
    doubled = [b for b in bodies if landed[b] > 1 or in_threads[b] > 1]
    faults = sum(helpdesk.injected.values())
    print(f"\noutbox under faults: {faults} faults {dict(helpdesk.injected)}, {REPLIES} replies, "
          f"{len(lost)} lost, {len(doubled)} doubled")  # fmt: skip
    FIGURES["outbox: injected faults"] += faults
    FIGURES["outbox: replies lost"] += len(lost)
    FIGURES["outbox: replies doubled"] += len(doubled)
    assert faults >= 100 and kills and disk_full
    assert not lost and not doubled
    assert all(i.state is outbox_store.OutboxState.SENT for i in items)
