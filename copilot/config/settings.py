"""Settings as a declared schema: one typed, frozen dataclass per section, each field with its default, bounds
and description. The generic schema (the Preferences form, `support-copilot settings`, the README's table) is
generated from the sections; code reads them typed (`settings.suggest.count`). Secrets never live here."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

from sqlite_utils import Database

from copilot.errors import ValidationError
from copilot.store.settings import get_setting, set_setting

S = TypeVar("S")


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    label: str = ""  # what the Preferences form calls it
    low: float | None = None  # bounds for numbers, inclusive
    high: float | None = None


def setting(
    default: Any,
    description: str,
    *,
    label: str,
    choices: tuple[str, ...] = (),
    low: float | None = None,
    high: float | None = None,
) -> Any:
    """A section field's declaration (its type is the field's annotation)."""
    meta = {"description": description, "label": label, "choices": choices, "low": low, "high": high}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class AgentSettings:
    name: str = setting(
        "",
        "Your name: signs drafts, replies, flags and article edits. Empty: the help desk's agent, else your computer user name.",
        label="Your name",
    )


@dataclass(frozen=True)
class DraftSettings:
    tone: str = setting(
        "friendly", "The tone new drafts start in.", label="Default tone", choices=("friendly", "concise", "formal")
    )
    autosave_ms: int = setting(
        800,
        "How long after the last keystroke the draft is saved (ms).",
        label="Autosave delay (ms)",
        low=100,
        high=60_000,
    )


@dataclass(frozen=True)
class SuggestSettings:
    count: int = setting(
        5, "How many suggested articles the copilot panel shows (3 to 10).", label="Suggested articles", low=3, high=10
    )
    min_confidence: float = setting(
        0.5,
        "Below this confidence (the chance the article answers the ticket) an article is shown as weak and the "
        "draft will not cite it; it says that no article covers the question instead.",
        label="Weak below",
        low=0.0,
        high=1.0,
    )


@dataclass(frozen=True)
class SyncSettings:
    interval_s: int = setting(
        120,
        "How often a help-desk workspace syncs in the background and retries its outbox (seconds; 0: only on F5).",
        label="Sync every (s)",
        low=0,
        high=86_400,
    )


@dataclass(frozen=True)
class ModelsSettings:
    cheap: str = setting(
        "",
        "Models for the cheap tier, best first, as provider/model (e.g. openai/gpt-4o-mini). Empty: the packaged table's list; only providers you added are used.",
        label="Cheap tier models",
    )
    frontier: str = setting(
        "",
        "Models for the frontier tier, best first (e.g. anthropic/claude-3-5-sonnet-20241022). Empty: the packaged table's list.",
        label="Frontier tier models",
    )
    judge: str = setting(
        "",
        "A model (provider/model) that judges unsupported sentences in every replay, beside the built-in lexical check (Review → Try a model…, `eval replay`). Empty: the lexical check alone.",
        label="Replay judge model",
    )


@dataclass(frozen=True)
class RoutingSettings:
    tasks: str = setting(
        "",
        "Per-task tiers that override the table, e.g. draft=frontier, summary=built-in (tiers: built-in, cheap, frontier, escalate).",
        label="Routing overrides",
    )


@dataclass(frozen=True)
class EmbeddingsSettings:
    model: str = setting(
        "",
        "Sentence vectors for meaning search and triage from a provider's embedding model, as provider/model "
        "(e.g. openai/text-embedding-3-small, or a local server's model). Empty: the built-in all-MiniLM-L6-v2, on this computer.",
        label="Embedding model",
    )


@dataclass(frozen=True)
class BudgetSettings:
    monthly_usd: float = setting(
        0.0,
        "Monthly model budget in US dollars: a warning at 80%, the built-in engine only at 100%. 0: no budget.",
        label="Monthly budget ($)",
        low=0.0,
    )


@dataclass(frozen=True)
class LimitsSettings:
    article_bytes: int = setting(
        1_000_000,
        "The largest article an import or a help desk may bring in (bytes of UTF-8); a larger one is refused by name.",
        label="Largest article (bytes)",
        low=1_000,
        high=50_000_000,
    )
    jsonl_line_bytes: int = setting(
        2_000_000,
        "The longest line a JSON Lines import may hold (bytes); a longer one is refused with its line number.",
        label="Longest JSONL line (bytes)",
        low=1_000,
        high=100_000_000,
    )


# The order is the order of the Preferences form and the README's table.
SECTIONS: dict[str, type] = {
    "agent": AgentSettings,
    "draft": DraftSettings,
    "suggest": SuggestSettings,
    "sync": SyncSettings,
    "models": ModelsSettings,
    "routing": RoutingSettings,
    "embeddings": EmbeddingsSettings,
    "limits": LimitsSettings,
    "budget": BudgetSettings,
}
_TYPES = {"str": str, "int": int, "float": float}
ORDER = (
    "agent.name", "draft.tone", "suggest.count", "suggest.min_confidence", "draft.autosave_ms", "sync.interval_s",
    "models.cheap", "models.frontier", "models.judge", "routing.tasks", "embeddings.model", "limits.article_bytes",
    "limits.jsonl_line_bytes", "budget.monthly_usd",
)  # fmt: skip


def _specs() -> dict[str, SettingSpec]:
    specs = {}
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            m = f.metadata
            specs[f"{section}.{f.name}"] = SettingSpec(
                f"{section}.{f.name}", _TYPES[str(f.type)], f.default, m["description"], m["choices"], m["label"],
                m["low"], m["high"],
            )  # fmt: skip
    return specs


_ALL = _specs()
SCHEMA: tuple[SettingSpec, ...] = tuple(_ALL[key] for key in ORDER) + tuple(
    s for k, s in _ALL.items() if k not in ORDER
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
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        bounds = f"from {spec.low:g} to {spec.high:g}" if spec.high is not None else f"at least {spec.low:g}"
        raise ValidationError(f"{spec.key} must be {bounds}, not {raw!r}.")
    return value


class Section(Generic[S]):
    """`settings.suggest`: one section's current values, typed (read through `Settings.section`)."""

    def __init__(self, cls: type[S]) -> None:
        self.cls = cls

    def __get__(self, owner: Settings, kind: type[Settings] | None = None) -> S:
        return owner.section(self.cls)


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

    def section(self, cls: type[S]) -> S:
        """One section's values, typed (`settings.section(SuggestSettings).count`)."""
        name = next(n for n, c in SECTIONS.items() if c is cls)
        values = {f.name: self.get(f"{name}.{f.name}") for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**values)

    agent = Section(AgentSettings)
    draft = Section(DraftSettings)
    suggest = Section(SuggestSettings)
    sync = Section(SyncSettings)
    models = Section(ModelsSettings)
    routing = Section(RoutingSettings)
    embeddings = Section(EmbeddingsSettings)
    limits = Section(LimitsSettings)
    budget = Section(BudgetSettings)


def settings_markdown() -> str:
    """The settings reference, generated from the schema (the README embeds it)."""
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for s in SCHEMA:
        default = repr(s.default) if s.default != "" else "(empty)"
        choices = f" One of: {', '.join(s.choices)}." if s.choices else ""
        rows.append(f"| `{s.key}` | {default} | {s.description}{choices} |")
    return "\n".join(rows)
