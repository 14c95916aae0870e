"""Import tickets from a file (the demo's shape, or Zendesk's JSON export) into a workspace's local store:
all or nothing, with the bad line named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlite_utils import Database

from copilot.assist.local_copy import refresh_badges
from copilot.assist.regression import add_import_gold
from copilot.domain.events import TicketDidChange
from copilot.domain.workspaces import FILE_KIND, KB_ONLY_KIND
from copilot.errors import ValidationError
from copilot.helpdesk.ticket_file import TicketRecord, read_ticket_file
from copilot.services import Services
from copilot.store import tickets as ticket_store
from copilot.store import workspaces as ws_store


async def import_tickets(services: Services, path: Path, workspace: str, regression_set: str = "") -> int:
    """Read every ticket in `path` (nothing is stored when any line is bad), then store them all in one
    transaction; a ticket already there with the same number is replaced. Tickets with a `gold` line become
    regression cases of `regression_set` (default: the workspace's name). Returns how many were stored.
    A workspace with a help desk behind it (the demo included) is refused: its tickets come from `sync`, and an
    import would overwrite them by number (and, in a new data folder, keep the demo from ever being filled)."""
    connector = services.connectors.find(workspace)
    if connector is not None:
        raise ValidationError(
            f"'{workspace}' gets its tickets from its help desk ({connector.display_name}), not from files.",
            "Import into a workspace of its own, e.g. --workspace imported (it is made for the file).",
        )
    records = read_ticket_file(path)
    count = await services.store.run(store_records, services.store.db, workspace, records)
    await services.store.run(refresh_badges, services.store.db, workspace)
    await add_import_gold(services, regression_set or workspace, workspace, records)
    services.bus.emit(TicketDidChange(ticket_id=0))
    return count


def store_records(db: Database, workspace: str, records: list[TicketRecord]) -> int:
    """Every line was checked before this runs, so a bad file stores nothing."""
    ticket_store.ensure_workspace(db, workspace, workspace, FILE_KIND)
    # A `kb import` run first made the workspace for its articles alone: it now holds tickets from a file too.
    db.execute("UPDATE workspaces SET kind = ? WHERE id = ? AND kind = ?", [FILE_KIND, workspace, KB_ONLY_KIND])
    for record in records:
        ticket_store.upsert_ticket(db, replace(record.ticket, workspace=workspace))
    return len(records)


async def is_file_workspace(services: Services, workspace: str) -> bool:
    """Whether the workspace was made by a ticket import (it has no help desk to check against)."""
    return await services.store.run(ws_store.kind_of, services.store.db, workspace) == FILE_KIND
