"""The packaged routing table (tiers, task defaults, escalation rules, prices) and the providers it can use."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from copilot.config.paths import resources_dir
from copilot.errors import ValidationError

TIERS = ("built-in", "cheap", "frontier")


@dataclass(frozen=True)
class ProviderKind:
    kind: str
    label: str
    prefix: str  # litellm's provider prefix
    needs_key: bool
    needs_base: bool
    default_base: str = ""
    paid: bool = True  # False: the user's own hardware, calls cost nothing


PROVIDER_KINDS: dict[str, ProviderKind] = {
    k.kind: k
    for k in (
        ProviderKind("openai", "OpenAI", "openai", True, False),
        ProviderKind("anthropic", "Anthropic", "anthropic", True, False),
        ProviderKind("gemini", "Google Gemini", "gemini", True, False),
        ProviderKind("deepseek", "DeepSeek", "deepseek", True, False),
        ProviderKind("mistral", "Mistral", "mistral", True, False),
        ProviderKind("groq", "Groq", "groq", True, False),
        ProviderKind("openrouter", "OpenRouter", "openrouter", True, False),
        ProviderKind(
            "openai_compatible",
            "OpenAI-compatible endpoint (vLLM, llama.cpp, LM Studio …)",
            "openai",
            False,
            True,
            paid=False,
        ),
        ProviderKind("ollama", "Ollama", "ollama_chat", False, True, "http://127.0.0.1:11434", paid=False),
        ProviderKind("litellm_proxy", "Team LiteLLM Proxy (gateway)", "openai", True, True),
    )
}


@dataclass(frozen=True)
class ModelOverride:
    """`--model M --api-base URL`: one model serves the cheap and the frontier tier for a run."""

    model: str
    api_base: str = ""


@dataclass(frozen=True)
class Provider:
    id: str
    kind: str
    label: str
    api_base: str = ""

    @property
    def spec(self) -> ProviderKind:
        return PROVIDER_KINDS[self.kind]


@dataclass(frozen=True)
class ResolvedModel:
    ref: str  # what the user and the table write: "<provider id>/<model>"
    provider: Provider
    litellm_model: str
    api_base: str


def stored_provider(provider_id: str, kind: str, api_base: str = "") -> Provider:
    """A provider the user set up, named in messages by the name they gave it ("provider 'local'"), not by its
    kind: two endpoints of one kind must be told apart, and the user looks for the name they typed."""
    return Provider(provider_id, kind, f"provider '{provider_id}'", api_base)


def named_model(override: ModelOverride, provider_id: str, option: str = "--model") -> tuple[Provider, str]:
    """A model named on the command line (`--model M [--api-base URL]`, or `option`) as a provider `provider_id`
    and the model's name there: an OpenAI-compatible endpoint when an address is given, else a cloud provider by
    its litellm prefix ("anthropic/claude-…"), else OpenAI."""
    kind, name = "openai_compatible", override.model
    if not override.api_base:
        prefix, _, rest = override.model.partition("/")
        kind, name = (prefix, rest) if prefix in PROVIDER_KINDS and rest else ("openai", override.model)
    return Provider(provider_id, kind, f"{PROVIDER_KINDS[kind].label} ({option})", override.api_base), name


def resolve(ref: str, providers: dict[str, Provider]) -> ResolvedModel | None:
    """'openai/gpt-4o-mini' -> litellm's model string and endpoint; None when that provider is not set up."""
    provider_id, _, model = ref.strip().partition("/")
    provider = providers.get(provider_id)
    if provider is None or not model:
        return None
    spec = provider.spec
    return ResolvedModel(ref.strip(), provider, f"{spec.prefix}/{model}", provider.api_base or spec.default_base)


@cache
def table() -> dict[str, Any]:
    path = resources_dir() / "models" / "routing.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"The routing table {path} cannot be read: {exc}.", "Reinstall the app.") from exc
    return data


def parse_task_overrides(text: str, tasks: Iterable[str]) -> dict[str, str]:
    """'draft=frontier, summary=built-in' -> {task: tier}; unknown tasks or tiers are refused."""
    tasks = tuple(tasks)
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        task, _, tier = (s.strip() for s in part.partition("="))
        if task not in tasks or tier not in (*TIERS, "escalate"):
            raise ValidationError(
                f"'{part}' is not a routing rule.",
                f"Write task=tier, e.g. draft=frontier. Tasks: {', '.join(tasks)}; tiers: {', '.join(TIERS)}, escalate.",
            )
        out[task] = tier
    return out


def model_list(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


def price_per_token(ref: str) -> tuple[float, float] | None:
    """USD per token (input, output) from the table, for models litellm does not price."""
    prices = table().get("prices", {}).get(ref)
    if prices is None:
        return None
    return float(prices["input"]) / 1e6, float(prices["output"]) / 1e6
