"""Help-desk records a sync cannot read or store: skipped with their reason, kept, shown, and passed by."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from copilot.assist.sync import sync_status, sync_workspace
from copilot.config.paths import resources_dir
from copilot.domain import Ticket
from copilot.helpdesk.base import SyncBatch
from copilot.helpdesk.demo import DemoHelpdesk
from copilot.services import Services
from copilot.store import tickets as ticket_store
from copilot.store import workspaces as ws_store
from copilot.ui.viewmodels.sync_status import status_text, status_tip

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class GarbledHelpdesk(DemoHelpdesk):
    """Two batches: one record the connector could not read, one the store refuses (a 20-digit id), good ones."""

    def __init__(self) -> None:
        super().__init__(resources_dir() / "demo", now=NOW)
        self.fixed = False

    def tickets(self) -> list[Ticket]:
        return [self._ticket(raw, NOW) for raw in self._content()["tickets"][:4]]

    async def sync(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        first, second, third, fourth = self.tickets()
        if self.fixed:  # the agent fixed ticket #X in the help desk: it arrives readable this time
            yield SyncBatch([dataclasses.replace(fourth, subject="Fixed")], cursor="c3", full_threads=True)
            return
        broken = dataclasses.replace(fourth, number=10**20)
        yield SyncBatch([first, broken], cursor="c1", full_threads=True, errors=["ticket #9901: date out of range"])
        yield SyncBatch([second, third], cursor="c2", full_threads=True, errors=[f"ticket #{fourth.number}: bad"])


async def test_skipped_records_are_kept_shown_and_passed(services: Services) -> None:
    helpdesk = GarbledHelpdesk()
    services.connectors.replace("demo", helpdesk)
    report = await sync_workspace(services, "demo", articles=False)

    # The rest of each batch is stored and the cursor moved past the bad records.
    db = services.store.db
    numbers = [t.number for t in helpdesk.tickets()]
    stored = [n for n in numbers if ticket_store.ticket_id_for(db, "demo", n) is not None]
    assert stored == numbers[:3]
    assert ws_store.sync_state(db, "demo").cursor == "c2"
    assert len(report.errors) == 3
    skipped = report.as_json()["skipped"]
    assert {s["record"] for s in skipped} == {"ticket #9901", f"ticket #{10**20}", f"ticket #{numbers[3]}"}
    assert any("could not be stored" in s["reason"] for s in skipped)
    assert report.skipped_total == 3

    # Kept in the store, so the status line shows them after a restart too, with reasons in its tooltip.
    status = await sync_status(services, "demo")
    assert status.skipped == 3
    assert status_text(status).endswith("· 3 skipped")
    tip = status_tip(status)
    assert "3 help-desk records skipped" in tip and "ticket #9901: date out of range" in tip

    # Fixed in the help desk: it arrives readable, and its entry goes; the others stay.
    helpdesk.fixed = True
    report = await sync_workspace(services, "demo", articles=False)
    assert report.errors == [] and report.skipped_total == 2
    assert ticket_store.ticket_id_for(db, "demo", numbers[3]) is not None
    count, latest = ws_store.skipped_records(db, "demo")
    assert count == 2 and {r.record for r in latest} == {"ticket #9901", f"ticket #{10**20}"}
