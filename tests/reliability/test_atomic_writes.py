"""Every multi-row use case is all-or-nothing: a write that fails at any step (a full disk) leaves the database
exactly as it was, or exactly as one of the states a clean run commits on its way (never anything in between)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from copilot.assist import labels, outbox
from copilot.assist.sync import apply_batch, sync_workspace
from copilot.config.paths import prepare_home, resources_dir
from copilot.config.settings import Settings
from copilot.domain import Ticket, Visibility
from copilot.domain.events import EventBus
from copilot.errors import CopilotError
from copilot.helpdesk.base import Posted, SyncBatch
from copilot.helpdesk.demo import DemoHelpdesk
from copilot.kb.articles import ArticleInput, import_articles, revert_article, save_article
from copilot.services import Connectors, Services
from copilot.store import Store, drafts, open_database
from copilot.store import outbox as outbox_store
from copilot.store import tickets as ticket_store
from copilot.store import workspaces as ws_store
from copilot.store.migrations import MIGRATIONS, migrate
from tests.reliability.faults import FaultyConnection, snapshot
from tests.reliability.summary import FIGURES

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
Op = Callable[[Services], Awaitable[object]]


class SmallHelpdesk(DemoHelpdesk):
    """The demo's first tickets in two sync batches; posts land with ids that repeat from run to run."""

    def __init__(self) -> None:
        super().__init__(resources_dir() / "demo", now=NOW)
        self.landed: list[str] = []

    def tickets(self) -> list[Ticket]:
        return [self._ticket(raw, NOW) for raw in self._content()["tickets"][:10]]

    async def sync(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        tickets = self.tickets()
        yield SyncBatch(tickets[4:7], cursor="c1", full_threads=True)
        yield SyncBatch(tickets[7:10], cursor="c2", full_threads=True)

    async def post_message(
        self, ticket: Ticket, body: str, visibility: Visibility, author: str, watermark: str
    ) -> Posted:
        self.landed.append(body)
        return Posted(f"r{len(self.landed)}", NOW.isoformat())

    async def find_posted(self, ticket: Ticket, body: str, visibility: Visibility, watermark: str) -> Posted | None:
        return Posted(f"r{self.landed.index(body) + 1}", NOW.isoformat()) if body in self.landed else None


def _services(path: Path, home: Path, helpdesk: SmallHelpdesk) -> Services:
    store = Store(open_database(path, factory=FaultyConnection))
    return Services(
        paths=prepare_home(home),
        store=store,
        bus=EventBus(),
        settings=store.run_sync(Settings.load, store.db),
        connectors=Connectors({"demo": helpdesk}),
    )


def _conn(services: Services) -> FaultyConnection:
    conn = services.store.db.conn
    assert isinstance(conn, FaultyConnection)
    return conn


def _populate(db: Database, helpdesk: SmallHelpdesk, examples: Path) -> None:
    ticket_store.ensure_workspace(db, "demo", "Demo", "demo")
    apply_batch(db, "demo", SyncBatch(helpdesk.tickets()[:4], cursor="c0", full_threads=True))
    import_articles(
        db,
        "demo",
        [ArticleInput(f"a{i}", f"Article {i}", f"How to do thing {i}.", ("howto",)) for i in range(3)],
        "import",
    )
    save_article(db, "demo", "a0", "Article 0", "How to do thing 0, better.", "agent", "clearer")
    first, second = (ticket_store.ticket_id_for(db, "demo", t.number) for t in helpdesk.tickets()[:2])
    assert first is not None and second is not None
    drafts.save_draft(db, first, "Half-written reply", "AI draft", None)
    outbox_store.enqueue(db, "demo", second, outbox_store.OutboxKind.REPLY, "Queued reply", "Sam", watermark="")
    examples.write_text(
        "".join(f'{{"id": "e{i}", "text": "printer jam number {i}", "label": "hardware"}}\n' for i in range(3)),
        encoding="utf-8",
    )


@pytest.fixture
async def base(tmp_path: Path) -> Path:
    """A database file with a workspace, tickets, articles with history, a draft, a queued reply, examples."""
    path = tmp_path / "base.db"
    services = _services(path, tmp_path / "home", SmallHelpdesk())
    await services.store.run(_populate, services.store.db, SmallHelpdesk(), tmp_path / "old.jsonl")
    await labels.import_examples(services, tmp_path / "old.jsonl", "demo")
    services.close()
    return path


async def _ticket(services: Services, index: int) -> int:
    number = SmallHelpdesk().tickets()[index].number
    found = await services.store.run(ticket_store.ticket_id_for, services.store.db, "demo", number)
    assert found is not None
    return found


async def _fault_every_write(
    base: Path, tmp: Path, op: Op, check_after: Callable[[Services, SmallHelpdesk], Awaitable[None]] | None = None
) -> int:
    """Run `op` cleanly (counting its writes, recording each committed state), then once per write with the
    disk "full" from that write on. Returns how many faults were injected."""
    shutil.copy(base, tmp / "clean.db")
    services = _services(tmp / "clean.db", tmp / "home", SmallHelpdesk())
    conn = _conn(services)
    before = snapshot(conn)
    conn.arm(None, record=True)
    await op(services)
    conn.disarm()
    total, allowed = conn.writes, [before, *conn.commits]
    assert snapshot(conn) != before, "the operation must change something, or this test proves nothing"
    services.close()
    assert total > 0
    for k in range(1, total + 1):
        path = tmp / f"trial{k}.db"
        shutil.copy(base, path)
        helpdesk = SmallHelpdesk()
        services = _services(path, tmp / "home", helpdesk)
        conn = _conn(services)
        conn.arm(k)
        with pytest.raises((sqlite3.Error, CopilotError)):
            await op(services)
        conn.disarm()
        state = snapshot(conn)
        if state not in allowed:
            differing = [t for t in before if state.get(t) != before.get(t)]
            pytest.fail(f"write {k} of {total} failed and left a state no clean run commits (tables {differing})")
        if check_after is not None:
            await check_after(services, helpdesk)
        services.close()
        path.unlink()
    FIGURES["atomic: injected write faults"] += total
    return total


async def test_kb_import_is_all_or_nothing(base: Path, tmp_path: Path) -> None:
    items = [ArticleInput(f"n{i}", f"New {i}", f"Fresh text {i}.") for i in range(3)]
    items.append(ArticleInput("a1", "Article 1", "Changed text."))

    async def op(s: Services) -> object:
        return await s.store.run(import_articles, s.store.db, "demo", items, "import")

    # The import writes one statement per table (rows in batches since the 30k-article work): each one fails in turn.
    assert await _fault_every_write(base, tmp_path, op) >= 4


async def test_triage_import_replace_is_all_or_nothing(base: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.jsonl"
    new.write_text('{"id": "x1", "text": "cannot log in", "label": "account"}\n', encoding="utf-8")

    async def op(s: Services) -> object:
        return await labels.import_examples(s, new, "demo", replace_all=True)

    await _fault_every_write(base, tmp_path, op)


async def test_queued_reply_and_cleared_draft_land_together(base: Path, tmp_path: Path) -> None:
    async def op(s: Services) -> object:
        return await outbox.queue_message(s, await _ticket(s, 0), "Here is the fix.", internal=False)

    await _fault_every_write(base, tmp_path, op)


async def test_delivered_reply_is_never_lost_or_doubled(base: Path, tmp_path: Path) -> None:
    async def op(s: Services) -> object:
        [item] = await s.store.run(outbox_store.items, s.store.db, "demo")
        return await outbox.deliver(s, item.id)

    async def recovers(s: Services, helpdesk: SmallHelpdesk) -> None:
        # Space is back: the next round delivers; the thread holds the reply once, the help desk got it once.
        await s.store.run(s.store.db.execute, "UPDATE outbox SET next_attempt_at = ''")
        await outbox.deliver_due(s, "demo")
        ticket = await s.store.run(ticket_store.get_ticket, s.store.db, await _ticket(s, 1))
        assert [m.body for m in ticket.messages].count("Queued reply") == 1
        assert helpdesk.landed == ["Queued reply"]
        [item] = await s.store.run(outbox_store.items, s.store.db, "demo")
        assert item.state is outbox_store.OutboxState.SENT

    await _fault_every_write(base, tmp_path, op, recovers)


async def test_sync_batches_land_whole(base: Path, tmp_path: Path) -> None:
    async def op(s: Services) -> object:
        return await sync_workspace(s, "demo", articles=False)

    assert await _fault_every_write(base, tmp_path, op) >= 20


async def test_article_save_and_revert_are_atomic(base: Path, tmp_path: Path) -> None:
    async def save(s: Services) -> object:
        return await s.store.run(save_article, s.store.db, "demo", "a1", "Article 1", "Edited.", "agent", "fix")

    async def revert(s: Services) -> object:
        return await s.store.run(revert_article, s.store.db, "demo", "a0", 1, "agent")

    await _fault_every_write(base, tmp_path, save)
    await _fault_every_write(base, tmp_path, revert)


async def test_workspace_removal_is_atomic(base: Path, tmp_path: Path) -> None:
    async def op(s: Services) -> object:
        return await s.store.run(ws_store.remove_workspace, s.store.db, "demo", force=True)

    assert await _fault_every_write(base, tmp_path, op) >= 10


def test_each_migration_lands_whole(tmp_path: Path) -> None:
    def fresh(path: Path) -> FaultyConnection:
        conn = sqlite3.connect(path, isolation_level=None, factory=FaultyConnection)
        assert isinstance(conn, FaultyConnection)
        db = Database(conn)
        migrate(db, MIGRATIONS[:2])
        db.execute(
            "INSERT INTO articles (id, workspace, title, body, version, updated_at) VALUES "
            "('a', 'w', 'Lumen Hub: reset', 'Hold the button.', 1, '2026-01-01T00:00:00')"
        )
        return conn

    conn = fresh(tmp_path / "clean.db")
    before = snapshot(conn)
    conn.arm(None, record=True)
    migrate(Database(conn))
    conn.disarm()
    total, allowed = conn.writes, [before, *conn.commits]
    conn.close()
    for k in range(1, total + 1):
        conn = fresh(tmp_path / f"m{k}.db")
        conn.arm(k)
        with pytest.raises(sqlite3.Error):
            migrate(Database(conn))
        conn.disarm()
        assert snapshot(conn) in allowed, f"migration write {k} of {total}"
        conn.close()
    FIGURES["atomic: injected write faults"] += total
