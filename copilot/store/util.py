"""Small helpers shared by the store's modules."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

_WORD = re.compile(r"\w+", re.UNICODE)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def fts_prefix_query(text: str) -> str:
    """A user's search box text as a safe FTS5 query: every word must match, as a prefix."""
    words = _WORD.findall(text)
    return " ".join(f'"{w}"*' for w in words)


def fts_any_query(words: list[str]) -> str:
    """Match documents holding any of the words (ranked by bm25)."""
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words))


def insert_row(db: Database, table: str, values: dict[str, Any]) -> int:
    """Insert one row and return its integer primary key."""
    pk = db.table(table).insert(values).last_pk
    assert pk is not None
    return int(pk)
