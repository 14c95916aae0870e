"""Model providers and usage: add a provider (key to the keyring), test it, and read the accounting."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from copilot.config.secrets import delete_secret, get_secret, set_secret
from copilot.errors import ValidationError
from copilot.llm import catalog
from copilot.llm.client import ModelCallError, ModelClient
from copilot.services import Services
from copilot.store import usage as usage_store

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")

API_KEY_ENV = "COPILOT_API_KEY"


def provider_key(provider_id: str, kind: str = "") -> str:
    """COPILOT_API_KEY when set, else the keyring entry of the provider (or of its kind, for --model runs)."""
    key = get_secret(f"provider/{provider_id}", API_KEY_ENV)
    if not key and kind and kind != provider_id:
        key = get_secret(f"provider/{kind}", API_KEY_ENV)
    return key


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    kind: str
    label: str
    api_base: str


async def save_provider(
    services: Services, provider_id: str, kind: str, api_base: str, key: str | None
) -> ProviderInfo:
    if not _ID.match(provider_id):
        raise ValidationError(f"'{provider_id}' cannot name a provider.", "Use lower-case letters, digits, '-' or '_'.")
    spec = catalog.PROVIDER_KINDS.get(kind)
    if spec is None:
        raise ValidationError(f"Unknown provider kind '{kind}'.", f"Known: {', '.join(catalog.PROVIDER_KINDS)}.")
    base = api_base.strip().rstrip("/") or spec.default_base
    if spec.needs_base and not re.match(r"^https?://", base):
        raise ValidationError(f"{spec.label} needs the endpoint's address (http://… or https://…).")
    if key:
        set_secret(f"provider/{provider_id}", key, API_KEY_ENV)
    row = usage_store.ProviderRow(provider_id, kind, spec.label, base)
    await services.store.run(usage_store.save_provider, services.store.db, row)
    return ProviderInfo(provider_id, kind, spec.label, base)


async def list_providers(services: Services) -> list[ProviderInfo]:
    rows = await services.store.run(usage_store.list_providers, services.store.db)
    return [ProviderInfo(r.id, r.kind, r.label, r.api_base) for r in rows]


async def remove_provider(services: Services, provider_id: str) -> None:
    await services.store.run(usage_store.remove_provider, services.store.db, provider_id)
    delete_secret(f"provider/{provider_id}")


async def check_provider(services: Services, provider_id: str, model: str, key: str | None = None) -> float:
    """One tiny call; returns the latency in seconds, or raises with the exact problem."""
    rows = {p.id: p for p in await list_providers(services)}
    if provider_id not in rows:
        raise ValidationError(f"There is no provider called '{provider_id}'.")
    p = rows[provider_id]
    resolved = catalog.resolve(f"{p.id}/{model}", {p.id: catalog.stored_provider(p.id, p.kind, p.api_base)})
    assert resolved is not None
    client = ModelClient(lambda pid: key or provider_key(pid), timeout_s=20)
    started = time.perf_counter()
    try:
        await client.complete([resolved], [{"role": "user", "content": "Reply with the word OK."}], max_tokens=5)
    except ModelCallError as exc:  # a test shows no built-in result: say what failed and what to check
        raise ModelCallError(
            " ".join(exc.notes) or exc.message, "Check the endpoint, the key and the model name, then test again."
        ) from exc
    return time.perf_counter() - started


async def usage(services: Services, since: str = "") -> dict[str, Any]:
    def _read(db: Any) -> dict[str, Any]:
        report = usage_store.usage_report(db, since)
        spent = usage_store.spent_this_month(db)
        monthly = services.settings.budget.monthly_usd
        report["budget"] = {
            "monthly_usd": monthly,
            "spent_usd": round(spent, 6),
            "share": spent / monthly if monthly > 0 else 0.0,
        }
        return report

    return await services.store.run(_read, services.store.db)


@dataclass(frozen=True)
class BudgetStatus:
    """The monthly model budget as the team lead should see it: a line for the banner, or nothing to say."""

    monthly_usd: float
    spent_usd: float
    share: float
    level: str  # "ok", "warning" (at the table's warn_at, 80%), "spent" (100%: models paused)

    @property
    def message(self) -> str:
        if self.level == "spent":
            return (
                f"Model budget spent: ${self.spent_usd:.2f} of ${self.monthly_usd:.2f} this month. "
                "Everything runs on the built-in engine until the month ends or the budget is raised."
            )
        if self.level == "warning":
            return (
                f"{self.share:.0%} of this month's model budget spent (${self.spent_usd:.2f} of "
                f"${self.monthly_usd:.2f}). At 100% the copilot falls back to the built-in engine."
            )
        return ""


async def budget_status(services: Services) -> BudgetStatus:
    monthly = services.settings.budget.monthly_usd
    spent = await services.store.run(usage_store.spent_this_month, services.store.db)
    share = spent / monthly if monthly > 0 else 0.0
    warn_at = float(catalog.table().get("budget", {}).get("warn_at", 0.8))
    level = "ok" if monthly <= 0 or share < warn_at else ("spent" if share >= 1.0 else "warning")
    return BudgetStatus(monthly, round(spent, 6), share, level)
