"""Labelled examples for triage from a file: a team's export of past tickets, intents or tags as labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from copilot.errors import ImportFileError
from copilot.evaluation.data import read_jsonl
from copilot.services import Services
from copilot.store.transaction import transaction


def _store(db: Database, workspace: str, rows: list[tuple[str, str, str]], replace_all: bool) -> int:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with transaction(db):
        if replace_all:
            db.execute("DELETE FROM triage_examples WHERE workspace = ?", [workspace])
        db.conn.executemany(
            "INSERT OR REPLACE INTO triage_examples (workspace, key, text, label, imported_at) VALUES (?, ?, ?, ?, ?)",
            [(workspace, key, text, label, now) for key, text, label in rows],
        )
    return len(rows)


async def import_examples(services: Services, path: Path, workspace: str, *, replace_all: bool = False) -> int:
    """Read JSON Lines {"id", "text", "label"} (the `eval triage` format) into the workspace's triage history.
    The whole file is checked first: a bad line names itself and nothing is imported. The same id again
    replaces its example; `replace_all` forgets the earlier import."""
    rows = []
    for number, item in enumerate(read_jsonl(path, ("id", "text", "label")), start=1):
        text, label = str(item["text"]).strip(), str(item["label"]).strip()
        if not text or not label:
            raise ImportFileError(f"{path.name}, example {number}: the text and the label must not be empty.")
        rows.append((str(item["id"]), text, label))
    return await services.store.run(_store, services.store.db, workspace, rows, replace_all)


async def example_counts(services: Services, workspace: str) -> dict[str, int]:
    """How many imported examples each label has."""

    def _read(db: Database) -> dict[str, int]:
        found = db.execute(
            "SELECT label, count(*) FROM triage_examples WHERE workspace = ? GROUP BY label ORDER BY 2 DESC",
            [workspace],
        ).fetchall()
        return {str(r[0]): int(r[1]) for r in found}

    return await services.store.run(_read, services.store.db)
