"""A workspace's trained triage classifiers, saved as the engine serialised them (one row per part: the whole
history's, each fold's), under the hash of what they were trained on, so a restart need not train them again."""

from __future__ import annotations

from sqlite_utils import Database

from copilot.store.transaction import transaction
from copilot.store.util import now_iso


def saved_triage_models(db: Database, workspace: str, fit_key: str) -> dict[str, bytes]:
    """The parts saved for this workspace that were trained on `fit_key`; those of anything else are not read."""
    rows = db.execute(
        "SELECT part, model FROM triage_models WHERE workspace = ? AND fit_key = ?", [workspace, fit_key]
    ).fetchall()
    return {str(part): bytes(model) for part, model in rows}


def save_triage_models(db: Database, workspace: str, fit_key: str, parts: dict[str, bytes]) -> None:
    """Keep these parts for the workspace, in place of everything saved for it before (one history per
    workspace is current: the parts of another `fit_key` go)."""
    with transaction(db):
        db.execute("DELETE FROM triage_models WHERE workspace = ? AND fit_key != ?", [workspace, fit_key])
        _insert(db, workspace, fit_key, parts)


def add_triage_models(db: Database, workspace: str, fit_key: str, parts: dict[str, bytes]) -> None:
    """Add parts trained later on the same history (folds): kept only while what is saved for the workspace
    was trained on `fit_key` too, so a model refitted meanwhile is never replaced by an older one's parts."""
    with transaction(db):
        current = db.execute("SELECT DISTINCT fit_key FROM triage_models WHERE workspace = ?", [workspace]).fetchall()
        if [row[0] for row in current] == [fit_key]:
            _insert(db, workspace, fit_key, parts)


def _insert(db: Database, workspace: str, fit_key: str, parts: dict[str, bytes]) -> None:
    saved_at = now_iso()
    db.conn.executemany(
        "INSERT OR REPLACE INTO triage_models (workspace, part, fit_key, model, saved_at) VALUES (?, ?, ?, ?, ?)",
        [(workspace, part, fit_key, blob, saved_at) for part, blob in parts.items()],
    )
