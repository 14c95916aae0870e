"""Settings as a declared schema (type, default, description) with typed access. Secrets never live here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from copilot.boundary import clean_text
from copilot.errors import ValidationError
from copilot.store.settings import get_setting, set_setting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    label: str = ""  # what the Preferences form calls it
    minimum: float | None = None
    maximum: float | None = None


SCHEMA: tuple[SettingSpec, ...] = (
    SettingSpec(
        "agent.name",
        str,
        "",
        "Your name: signs drafts, replies, flags and article edits. Empty: the help desk's agent, else your computer user name.",
        label="Your name",
    ),
    SettingSpec(
        "draft.tone",
        str,
        "friendly",
        "The tone new drafts start in.",
        ("friendly", "concise", "formal"),
        label="Default tone",
    ),
    SettingSpec(
        "suggest.count",
        int,
        5,
        "How many suggested articles the copilot panel shows (3 to 10).",
        label="Suggested articles",
        minimum=3,
        maximum=10,
    ),
    SettingSpec(
        "suggest.min_confidence",
        float,
        0.25,
        "Below this confidence an article is shown as weak and the "
        "draft will not cite it; it says that no article covers the question instead.",
        label="Weak below",
        minimum=0,
        maximum=1,
    ),
    SettingSpec(
        "draft.autosave_ms",
        int,
        800,
        "How long after the last keystroke the draft is saved (ms).",
        label="Autosave delay (ms)",
        minimum=100,
        maximum=60_000,
    ),
    SettingSpec(
        "sync.interval_s",
        int,
        120,
        "How often a help-desk workspace syncs in the background and retries its outbox (seconds; 0: only on F5).",
        label="Sync every (s)",
        minimum=0,
        maximum=86_400,
    ),
    SettingSpec(
        "models.cheap",
        str,
        "",
        "Models for the cheap tier, best first, as provider/model (e.g. openai/gpt-4o-mini). Empty: the packaged table's list; only providers you added are used.",
        label="Cheap tier models",
    ),
    SettingSpec(
        "models.frontier",
        str,
        "",
        "Models for the frontier tier, best first (e.g. anthropic/claude-3-5-sonnet-20241022). Empty: the packaged table's list.",
        label="Frontier tier models",
    ),
    SettingSpec(
        "routing.tasks",
        str,
        "",
        "Per-task tiers that override the table, e.g. draft=frontier, summary=built-in (tiers: built-in, cheap, frontier, escalate).",
        label="Routing overrides",
    ),
    SettingSpec(
        "embeddings.model",
        str,
        "",
        "Sentence vectors for meaning search and triage from a provider's embedding model, as provider/model "
        "(e.g. openai/text-embedding-3-small, or a local server's model). Empty: the built-in all-MiniLM-L6-v2, on this computer.",
        label="Embedding model",
    ),
    SettingSpec(
        "limits.article_bytes",
        int,
        1_000_000,
        "The largest article an import or a help desk may bring in (bytes of UTF-8); a larger one is refused by name.",
        label="Largest article (bytes)",
        minimum=1_000,
        maximum=50_000_000,
    ),
    SettingSpec(
        "limits.jsonl_line_bytes",
        int,
        2_000_000,
        "The longest line a JSON Lines import may hold (bytes); a longer one is refused with its line number.",
        label="Longest JSONL line (bytes)",
        minimum=1_000,
        maximum=100_000_000,
    ),
    SettingSpec(
        "budget.monthly_usd",
        float,
        0.0,
        "Monthly model budget in US dollars: a warning at 80%, the built-in engine only at 100%. 0: no budget.",
        label="Monthly budget ($)",
        minimum=0,
    ),
)
SPECS = {s.key: s for s in SCHEMA}


def _coerce(spec: SettingSpec, raw: Any) -> Any:
    try:
        value = spec.type(raw)
    except (TypeError, ValueError) as exc:
        kind = {int: "a whole number", float: "a number"}.get(spec.type, "text")
        raise ValidationError(f"{spec.key} must be {kind}, not {raw!r}.") from exc
    if spec.choices and value not in spec.choices:
        raise ValidationError(f"{spec.key} must be one of {', '.join(spec.choices)}.")
    if isinstance(value, str):
        return clean_text(value)
    if not math.isfinite(value) or (spec.minimum is not None and value < spec.minimum):
        raise ValidationError(f"{spec.key} must be at least {spec.minimum:g}, not {raw!r}.")
    if spec.maximum is not None and value > spec.maximum:
        raise ValidationError(f"{spec.key} must be at most {spec.maximum:g}, not {raw!r}.")
    return value


class Settings:
    """Values cached in memory; writes go to the database (call from the store's thread)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    @classmethod
    def load(cls, db: Database) -> Settings:
        values: dict[str, Any] = {}
        for spec in SCHEMA:
            raw = get_setting(db, spec.key)
            try:
                values[spec.key] = spec.default if raw is None else _coerce(spec, raw)
            except ValidationError:
                values[spec.key] = spec.default  # a bad stored value must not stop the app
        return cls(values)

    def get(self, key: str) -> Any:
        return self._values[key] if key in self._values else SPECS[key].default

    def set(self, db: Database, key: str, raw: Any) -> None:
        if key not in SPECS:
            raise ValidationError(f"There is no setting called {key}.", "See `support-copilot settings`.")
        value = _coerce(SPECS[key], raw)
        set_setting(db, key, str(value))
        self._values[key] = value

    def text(self, key: str) -> str:
        return str(self.get(key))

    def number(self, key: str) -> float:
        return float(self.get(key))


def settings_markdown() -> str:
    """The settings reference, generated from the schema (the README embeds it)."""
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for s in SCHEMA:
        default = repr(s.default) if s.default != "" else "(empty)"
        choices = f" One of: {', '.join(s.choices)}." if s.choices else ""
        rows.append(f"| `{s.key}` | {default} | {s.description}{choices} |")
    return "\n".join(rows)
