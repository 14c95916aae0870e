"""Stored setting values (the schema and typed access live in copilot.config.settings)."""

from __future__ import annotations

from sqlite_utils import Database


def get_setting(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def set_setting(db: Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, value])
