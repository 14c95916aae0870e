"""Model providers, the accounting of every model call, the result cache, and the monthly budget."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from copilot.domain.usage import CallRecord
from copilot.scrub import scrub
from copilot.store.db import Store
from copilot.store.util import insert_row, now_iso


@dataclass(frozen=True)
class ProviderRow:
    id: str
    kind: str
    label: str
    api_base: str


def save_provider(db: Database, provider: ProviderRow) -> None:
    db.execute(
        "INSERT INTO providers (id, kind, label, api_base, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, label = excluded.label, api_base = excluded.api_base",
        [provider.id, provider.kind, provider.label, provider.api_base, now_iso()],
    )


def list_providers(db: Database) -> list[ProviderRow]:
    return [
        ProviderRow(r[0], r[1], r[2], r[3])
        for r in db.execute("SELECT id, kind, label, api_base FROM providers ORDER BY created_at, id")
    ]


def remove_provider(db: Database, provider_id: str) -> None:
    db.execute("DELETE FROM providers WHERE id = ?", [provider_id])


def log_call(db: Database, record: CallRecord) -> int:
    return insert_row(
        db,
        "model_calls",
        {**record.__dict__, "error": scrub(record.error), "cache_hit": int(record.cache_hit), "created_at": now_iso()},
    )


def month_start(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).isoformat(timespec="seconds")


def spent_this_month(db: Database, now: datetime | None = None) -> float:
    row = db.execute(
        "SELECT COALESCE(sum(cost_usd), 0) FROM model_calls WHERE created_at >= ?", [month_start(now)]
    ).fetchone()
    return float(row[0])


def cache_get(db: Database, key: str) -> dict[str, Any] | None:
    row = db.execute("SELECT payload FROM model_cache WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else None


def cache_put(
    db: Database, key: str, task: str, model: str, prompt_version: str, content_hash: str, payload: dict[str, Any]
) -> None:
    db.execute(
        "INSERT OR REPLACE INTO model_cache (key, task, model, prompt_version, content_hash, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [key, task, model, prompt_version, content_hash, json.dumps(payload, ensure_ascii=False), now_iso()],
    )


def usage_report(db: Database, since: str = "") -> dict[str, Any]:
    """Cost and calls per day, model, task and ticket (for `support-copilot usage` and the Usage view)."""
    where = "WHERE created_at >= ?" if since else ""
    params = [since] if since else []

    def grouped(column: str, label: str) -> list[dict[str, Any]]:
        return [
            {
                label: r[0],
                "calls": r[1],
                "cost_usd": round(r[2], 6),
                "tokens_in": r[3],
                "tokens_out": r[4],
                "cache_hits": r[5],
            }
            for r in db.execute(
                f"SELECT {column}, count(*), sum(cost_usd), sum(tokens_in), sum(tokens_out), sum(cache_hit) "
                f"FROM model_calls {where} GROUP BY 1 ORDER BY 3 DESC, 1",
                params,
            )
        ]

    per_ticket = [
        {"ticket": r[0], "workspace": r[1], "calls": r[2], "cost_usd": round(r[3], 6)}
        for r in db.execute(
            "SELECT t.number, t.workspace, count(*), sum(c.cost_usd) FROM model_calls c JOIN tickets t ON t.id = c.ticket_id "
            f"{where.replace('created_at', 'c.created_at')} GROUP BY c.ticket_id ORDER BY 4 DESC LIMIT 50",
            params,
        )
    ]
    totals = db.execute(
        f"SELECT count(*), COALESCE(sum(cost_usd), 0), COALESCE(sum(cache_hit), 0), "
        f"COALESCE(sum(CASE WHEN outcome != 'ok' THEN 1 ELSE 0 END), 0) FROM model_calls {where}",
        params,
    ).fetchone()
    return {
        "calls": totals[0],
        "cost_usd": round(float(totals[1]), 6),
        "cache_hits": totals[2],
        "errors": totals[3],
        "per_day": grouped("substr(created_at, 1, 10)", "day"),
        "per_model": grouped("model", "model"),
        "per_task": grouped("task", "task"),
        "per_ticket": per_ticket,
    }


class StoreCallLog:
    """The call log and result cache of `copilot.llm.calls`, kept in this database (on its writer thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def log(self, record: CallRecord) -> None:
        await self.store.run(log_call, self.store.db, record)

    def log_soon(self, record: CallRecord) -> None:
        self.store.submit(log_call, self.store.db, record)

    async def cached(self, key: str) -> dict[str, Any] | None:
        return await self.store.run(cache_get, self.store.db, key)

    async def keep(
        self, key: str, task: str, model: str, prompt_version: str, content_hash: str, payload: dict[str, Any]
    ) -> None:
        await self.store.run(cache_put, self.store.db, key, task, model, prompt_version, content_hash, payload)
