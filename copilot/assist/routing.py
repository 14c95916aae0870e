"""Run the copilot's tasks on the tier the router picks: built-in, a cheap model or a frontier model.

The built-in result is always computed first (it is fast and is the fallback). Tasks routed to a model replace
their built-in part; a model failure keeps the built-in part with a note. Every call is accounted for; results
are cached by (task, prompt version, model, ticket content).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlite_utils import Database

from copilot.app import Services
from copilot.assist.workspace import content_key
from copilot.config.secrets import get_secret
from copilot.domain import (
    AssistResult,
    Citation,
    Draft,
    Flag,
    Provenance,
    Role,
    Summary,
    SummaryLine,
    Ticket,
    Triage,
)
from copilot.errors import CopilotError, ValidationError
from copilot.llm import catalog, prompts, schema
from copilot.llm.catalog import Provider, ResolvedModel
from copilot.llm.client import Attempt, Completion, ModelCallError, ModelClient
from copilot.llm.router import Budget, Route, TicketFacts, route
from copilot.store import outputs, usage
from copilot.store.util import dumps

MODEL_TASKS = ("summary", "signals", "triage", "rerank", "draft")
RERANK_CANDIDATES = 5
SHOWN_AS = {"rerank": "suggestions"}  # the re-ranked list is the suggestions output
API_KEY_ENV = "COPILOT_API_KEY"
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "de": "German", "fr": "French"}
Delta = Callable[[str, str], None]  # (task, new text)


@dataclass(frozen=True)
class RoutedOutput:
    task: str
    tier: str
    model: str
    reason: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    cache_hit: bool = False
    note: str = ""


@dataclass(frozen=True)
class ModelSetup:
    providers: dict[str, Provider]
    tiers: dict[str, list[ResolvedModel]]
    overrides: dict[str, str]
    budget: Budget

    @property
    def any_model(self) -> bool:
        return any(self.tiers.values())


def provider_key(provider_id: str, kind: str = "") -> str:
    """COPILOT_API_KEY when set, else the keyring entry of the provider (or of its kind, for --model runs)."""
    key = get_secret(f"provider/{provider_id}", API_KEY_ENV)
    if not key and kind and kind != provider_id:
        key = get_secret(f"provider/{kind}", API_KEY_ENV)
    return key


def _setup(db: Database, services: Services) -> ModelSetup:
    s = services.settings
    providers = {
        p.id: Provider(p.id, p.kind, p.label, p.api_base)
        for p in usage.list_providers(db)
        if p.kind in catalog.PROVIDER_KINDS
    }
    override = services.model_override
    if override is not None:
        kind, name = "openai_compatible", override.model
        if not override.api_base:  # "anthropic/claude-…": a cloud provider by its litellm name
            prefix, _, rest = override.model.partition("/")
            kind, name = (prefix, rest) if prefix in catalog.PROVIDER_KINDS and rest else ("openai", override.model)
        providers["cli"] = Provider("cli", kind, f"{catalog.PROVIDER_KINDS[kind].label} (--model)", override.api_base)
        refs = {"cheap": [f"cli/{name}"], "frontier": [f"cli/{name}"]}
    else:
        table = catalog.table()
        refs = {
            tier: catalog.model_list(s.text(f"models.{tier}")) or list(table["tiers"][tier])
            for tier in ("cheap", "frontier")
        }
    tiers = {
        tier: [m for m in (catalog.resolve(r, providers) for r in found) if m is not None]
        for tier, found in refs.items()
    }
    budget = Budget(s.number("budget.monthly_usd"), usage.spent_this_month(db))
    return ModelSetup(providers, tiers, catalog.parse_task_overrides(s.text("routing.tasks")), budget)


async def models_configured(services: Services) -> bool:
    """Whether any task could go to a model (a provider is set up, or --model was given)."""
    if services.model_override is not None:
        return True
    return bool(await services.store.run(usage.list_providers, services.store.db))


def facts_of(result: AssistResult) -> TicketFacts:
    t = result.ticket
    customer = " ".join(m.body for m in t.customer_messages())
    return TicketFacts(
        messages=len(t.public_messages()),
        words=sum(len(m.body.split()) for m in t.messages),
        flags=tuple(f.kind for f in result.flags),
        language=t.language or result.draft.language,
        retrieval_confidence=max((s.confidence for s in result.suggestions), default=0.0),
        text=f"{t.subject} {customer}",
        triage_unsure=result.triage.is_unsure,
        suggestions=len(result.suggestions),
    )


def transcript(ticket: Ticket, keep: int | None = None) -> str:
    """The thread as text. `keep` leaves out the oldest messages but always keeps the latest customer one."""
    messages = list(ticket.messages)
    if keep is not None and len(messages) > keep:
        latest_customer = next((m for m in reversed(messages) if m.role is Role.CUSTOMER), None)
        tail = messages[-keep:]
        if latest_customer is not None and latest_customer not in tail:
            tail = [latest_customer, *tail[1:]]
        messages = tail
    lines = [f"Subject: {ticket.subject}", f"Customer: {' '.join(ticket.customer_name.split())}"]
    for m in messages:
        who = (
            "Customer"
            if m.role is Role.CUSTOMER
            else ("Agent (internal note)" if m.visibility.value == "internal" else "Agent")
        )
        lines.append(f"\n[{who}, {m.created_at[:16]}]\n{m.body.strip()}")
    return "\n".join(lines)


def _passages(result: AssistResult, min_confidence: float) -> list[tuple[int, str, str, int, str]]:
    """Numbered passages the draft may cite: (number, article id, title, version, text)."""
    strong = [s for s in result.suggestions if s.confidence >= min_confidence][:3]
    return [(i + 1, s.article_id, s.title, s.article_version, s.passage) for i, s in enumerate(strong)]


def _candidates(result: AssistResult) -> str:
    """The suggestions a model may re-order: numbered, with title and best passage."""
    return "\n".join(
        f"[{n}] {s.title}: {s.passage}" for n, s in enumerate(result.suggestions[:RERANK_CANDIDATES], start=1)
    )


def _reranked(result: AssistResult, order: list[int]) -> AssistResult:
    """The model's order first (numbers it invented or repeated are ignored), the rest after, as they were."""
    top = result.suggestions[:RERANK_CANDIDATES]
    picked = list(dict.fromkeys(n for n in order if 1 <= n <= len(top)))
    rest = [s for n, s in enumerate(top, start=1) if n not in picked]
    return replace(result, suggestions=(*[top[n - 1] for n in picked], *rest, *result.suggestions[RERANK_CANDIDATES:]))


def _messages(
    task: str, result: AssistResult, values: dict[str, str], keep: int | None, passages: str
) -> list[dict[str, str]]:
    user = prompts.ticket_block(transcript(result.ticket, keep))
    if passages:
        heading = "Articles to order" if task == "rerank" else "Article passages you may cite"
        user += f"\n\n{heading}:\n{passages}"
    return [{"role": "system", "content": prompts.system_message(task, **values)}, {"role": "user", "content": user}]


def _cache_key(task: str, prompt_version: str, model: str, content: str) -> str:
    return hashlib.sha256(f"{task}|{prompt_version}|{model}|{content}".encode()).hexdigest()


async def assist_with_models(
    services: Services, result: AssistResult, *, tone: str, on_delta: Delta | None = None
) -> AssistResult:
    """Replace the built-in parts the router sends to a model; record routing for every task."""
    store = services.store
    setup = await store.run(_setup, store.db, services)
    facts = facts_of(result)
    available = {tier: [m.ref for m in models] for tier, models in setup.tiers.items()}
    routes = {
        task: route(task, facts, available, overrides=setup.overrides, budget=setup.budget) for task in MODEL_TASKS
    }
    routing: dict[str, RoutedOutput] = {
        SHOWN_AS.get(task, task): RoutedOutput(
            SHOWN_AS.get(task, task), "built-in", "builtin-rules-1", routes[task].reason
        )
        for task in MODEL_TASKS
    }
    if not setup.any_model:
        return replace(result, routing={k: asdict(v) for k, v in routing.items()})
    resolved = {m.ref: m for models in setup.tiers.values() for m in models}
    client = ModelClient(lambda pid: provider_key(pid, setup.providers[pid].kind if pid in setup.providers else ""))
    thread = content_key(result.ticket)
    min_conf = services.settings.number("suggest.min_confidence")
    agent = services.agent_name(result.ticket.workspace)

    async def run(task: str, r: Route, result: AssistResult = result) -> tuple[str, Any, RoutedOutput]:
        if r.built_in:
            return task, None, routing[SHOWN_AS.get(task, task)]
        prompt = prompts.load(task)
        passages = _passages(result, min_conf) if task == "draft" else []
        passage_text = "\n".join(f"[{n}] {title}: {text}" for n, _, title, _, text in passages)
        if task == "rerank":
            passage_text = _candidates(result)
        language = LANGUAGE_NAMES.get(result.draft.language, "English")
        candidates = [label for label, _ in result.triage.candidates][:6]
        values = {
            "language": language,
            "tone": tone,
            "agent": agent,
            "candidates": ", ".join(candidates),
        }
        if task == "triage" and len(candidates) < 2:
            return task, None, routing[task]
        if task == "rerank" and len(result.suggestions) < 2:
            return task, None, routing["suggestions"]
        content = dumps([thread, passage_text, values if task in ("draft", "triage") else ""])
        key = _cache_key(task, prompt.version, r.models[0], content)
        hit = await _from_cache(services, task, r, result.ticket.id, key)
        if hit is not None:
            return task, *hit

        account = _accountant(services, task, r, result.ticket.id)

        def shorten(messages: list[dict[str, str]]) -> list[dict[str, str]] | None:
            count = len(result.ticket.messages)
            return _messages(task, result, values, max(1, count // 2), passage_text) if count > 1 else None

        delta = _delta_for(task, prompt.output, on_delta)
        messages = _messages(task, result, values, None, passage_text)
        chain = [resolved[ref] for ref in r.models]
        try:
            completion = await client.complete(chain, messages, on_delta=delta, on_attempt=account, shorten=shorten)
            value: Any = completion.text.strip()
            if prompt.output == "json":
                value = await _structured(client, chain, messages, completion, task, account)
        except (ModelCallError, schema.SchemaError) as exc:
            note = exc.message if isinstance(exc, CopilotError) else f"the model's answer did not fit ({exc})"
            return (
                task,
                None,
                RoutedOutput(task, "built-in", "builtin-rules-1", f"built-in: fallback ({r.reason})", note=note),
            )
        return task, value, await _remember(services, task, r, key, prompt.version, thread, value, completion)

    async def rerank_then_draft() -> list[tuple[str, Any, RoutedOutput]]:
        """The draft is grounded in the re-ranked suggestions, so it waits for them (when there is a re-rank)."""
        reranked = await run("rerank", routes["rerank"])
        base = _reranked(result, reranked[1]["order"]) if reranked[1] is not None else result
        return [reranked, await run("draft", routes["draft"], base)]

    parallel = [run(task, routes[task]) for task in MODEL_TASKS if task not in ("rerank", "draft")]
    side_by_side, chained = await asyncio.gather(asyncio.gather(*parallel), rerank_then_draft())
    done = [*side_by_side, *chained]
    summary, flags, sentiment, draft, triage = (
        result.summary,
        result.flags,
        result.sentiment,
        result.draft,
        result.triage,
    )
    suggestions = result.suggestions
    provenance = dict(result.provenance)
    payloads: dict[str, dict[str, Any]] = {}
    for task, value, out in done:
        shown = SHOWN_AS.get(task, task)
        routing[shown] = replace(out, task=shown)
        if value is None:
            continue
        version = prompts.load(task).version
        provenance[shown] = Provenance("litellm", out.model, version, provenance[shown].inputs_hash)
        if task == "summary":
            summary = Summary(tuple(SummaryLine(label, str(value[k])) for label, k in SUMMARY_LABELS))
            payloads[task] = {"lines": [asdict(line) for line in summary.lines]}
        elif task == "signals":
            sentiment = str(value["sentiment"])
            if value["urgency"] == "high" and not any(f.kind == "urgency" for f in flags):
                why = "; ".join(value["reasons"][:2]) or "the model judged it urgent"
                flags = (
                    *flags,
                    Flag(
                        "urgency",
                        "Urgent",
                        f"the model judged it urgent: {why}",
                        value["reasons"][0] if value["reasons"] else "",
                        None,
                        2,
                    ),
                )
            payloads[task] = {
                "sentiment": sentiment,
                "urgency": value["urgency"],
                "reasons": value["reasons"],
                "flags": [asdict(f) for f in flags],
            }
        elif task == "rerank":
            suggestions = _reranked(result, value["order"]).suggestions
            payloads["suggestions"] = {"items": [asdict(s) for s in suggestions], "model_order": value["order"]}
        elif task == "draft":
            draft = _draft_from(str(value), replace(result, suggestions=suggestions), min_conf)
            payloads[task] = asdict(draft)
        elif task == "triage":
            chosen = str(value["intent"])
            if chosen not in {label for label, _ in result.triage.candidates}:
                routing[task] = replace(out, tier="built-in", note=f"the model chose '{chosen}', not a candidate")
                provenance[task] = result.provenance[task]
                continue
            confidence = max(0.0, min(1.0, float(value["confidence"])))
            triage = replace(result.triage, intent=chosen, confidence=max(confidence, Triage.UNSURE_BELOW))
            payloads[task] = asdict(triage)

    def _record(db: Database) -> dict[str, int]:
        ids = dict(result.output_ids)
        for task, payload in payloads.items():
            ids[task] = outputs.record_output(
                db, result.ticket.id, task, provenance[task], {**payload, "routing": asdict(routing[task])}
            )
        return ids

    ids = await store.run(_record, store.db)
    return replace(
        result, summary=summary, flags=tuple(flags), sentiment=sentiment, draft=draft, triage=triage, output_ids=ids,
        suggestions=suggestions,
        provenance=provenance, routing={k: asdict(v) for k, v in routing.items()},
    )  # fmt: skip


async def _from_cache(
    services: Services, task: str, r: Route, ticket_id: int | None, key: str
) -> tuple[Any, RoutedOutput] | None:
    """A cached answer (logged as a cache hit, at no cost), or None."""
    store = services.store
    cached = await store.run(usage.cache_get, store.db, key)
    if cached is None:
        return None
    record = usage.CallRecord(task, r.tier, cached["model"], 0, 0, 0.0, 0.0, None, True, ticket_id, "ok", "", r.reason)
    await store.run(usage.log_call, store.db, record)
    tokens = (cached["tokens_in"], cached["tokens_out"])
    return cached["value"], RoutedOutput(task, r.tier, cached["model"], r.reason, *tokens, 0.0, 0.0, None, True)


async def _remember(
    services: Services, task: str, r: Route, key: str, version: str, thread: str, value: Any, completion: Completion
) -> RoutedOutput:
    """Cache a model's answer and describe how it was made (model, tokens, cost, latency, routing reason)."""
    payload = {
        "value": value, "model": completion.model,
        "tokens_in": completion.tokens_in, "tokens_out": completion.tokens_out,
    }  # fmt: skip
    store = services.store
    await store.run(usage.cache_put, store.db, key, task, completion.model, version, thread, payload)
    return RoutedOutput(
        task, r.tier, completion.model, r.reason, completion.tokens_in, completion.tokens_out, completion.cost_usd,
        completion.latency_ms, completion.ttft_ms, False, " ".join([*r.warnings, *completion.notes]),
    )  # fmt: skip


def _accountant(services: Services, task: str, r: Route, ticket_id: int | None) -> Callable[[Attempt], Any]:
    """Log every attempt at a model call (fallbacks and failures included) in the accounting table."""

    async def account(a: Attempt) -> None:
        record = usage.CallRecord(
            task, r.tier, a.model, a.tokens_in, a.tokens_out, a.cost_usd, a.latency_ms, a.ttft_ms, False,
            ticket_id, a.outcome, a.error, r.reason,
        )  # fmt: skip
        await services.store.run(usage.log_call, services.store.db, record)

    return account


@dataclass(frozen=True)
class Rewritten:
    text: str
    routed: RoutedOutput


REWRITE_TASKS = ("rewrite", "translate")


async def rewrite_reply(
    services: Services,
    ticket_id: int,
    text: str,
    *,
    task: str,
    tone: str = "",
    language: str = "",
    on_delta: Callable[[str], None] | None = None,
) -> Rewritten:
    """The agent's reply rewritten in another tone, or translated, by the tier the table gives the task
    (cheap by default). Facts, numbers, links and [n] markers are kept; the agent's text is data, not
    instructions. Raises with a plain reason when no model can do it (the built-in engine cannot)."""
    if task not in REWRITE_TASKS:
        raise ValueError(task)
    if not text.strip():
        raise ValidationError("There is no reply to rewrite yet.", "Write or generate a draft first.")
    store = services.store
    setup = await store.run(_setup, store.db, services)
    available = {tier: [m.ref for m in models] for tier, models in setup.tiers.items()}
    facts = TicketFacts(messages=0, words=len(text.split()), flags=(), language="", retrieval_confidence=1.0, text="")
    r = route(task, facts, available, overrides=setup.overrides, budget=setup.budget)
    what = "Rewriting the tone" if task == "rewrite" else "Translating"
    if r.built_in:
        raise ValidationError(
            f"{what} needs a model ({r.reason}).",
            "Add one in Models → Providers (Ctrl+Shift+M). Regenerate (Ctrl+R) drafts again in the chosen tone "
            "with the built-in engine.",
        )
    prompt = prompts.load(task)
    values = {"tone": tone or "friendly", "language": LANGUAGE_NAMES.get(language, language or "English")}
    messages = [
        {"role": "system", "content": prompts.instructions(task, **values)},
        {"role": "user", "content": prompts.reply_block(text)},
    ]
    key = _cache_key(task, prompt.version, r.models[0], dumps([text, values]))
    hit = await _from_cache(services, task, r, ticket_id, key)
    if hit is not None:
        return Rewritten(str(hit[0]), hit[1])
    resolved = {m.ref: m for models in setup.tiers.values() for m in models}
    client = ModelClient(lambda pid: provider_key(pid, setup.providers[pid].kind if pid in setup.providers else ""))
    completion = await client.complete(
        [resolved[ref] for ref in r.models],
        messages,
        on_delta=on_delta,
        on_attempt=_accountant(services, task, r, ticket_id),
        max_tokens=max(400, len(text) // 2),
    )
    value = completion.text.strip()
    return Rewritten(value, await _remember(services, task, r, key, prompt.version, "", value, completion))


SUMMARY_LABELS = (("Wants", "wants"), ("Now", "now"), ("Tried", "tried"), ("Next", "next"))


def _delta_for(task: str, output: str, on_delta: Delta | None) -> Callable[[str], None] | None:
    """What the caller sees while a task streams: the draft piece by piece; the summary (a JSON object) as
    its lines so far, "Wants: …" one per line, the last one still growing."""
    if on_delta is None:
        return None
    if output == "text":
        return lambda piece: on_delta(task, piece)
    if task != "summary":
        return None
    received: list[str] = []

    def summary_so_far(piece: str) -> None:
        received.append(piece)
        fields = schema.partial_strings("".join(received))
        lines = [f"{label}: {fields[key]}" for label, key in SUMMARY_LABELS if key in fields]
        if lines:
            on_delta(task, "\n".join(lines))

    return summary_so_far


async def _structured(
    client: ModelClient,
    chain: list[ResolvedModel],
    messages: list[dict[str, str]],
    completion: Completion,
    task: str,
    account: Callable[[Attempt], Any],
) -> dict[str, Any]:
    """Validate against the task's schema; repair once by asking again with the error, else raise."""
    try:
        return schema.parse(completion.text, task)
    except schema.SchemaError as first:
        retry = [
            *messages,
            {"role": "assistant", "content": completion.text},
            {"role": "user", "content": f"That answer is not valid: {first}. Answer again with only the JSON object."},
        ]
        again = await client.complete(
            [m for m in chain if m.ref == completion.model] or chain, retry, on_attempt=account
        )
        return schema.parse(again.text, task)


_CITE = re.compile(r"\[(\d)\]")


def _draft_from(text: str, result: AssistResult, min_conf: float) -> Draft:
    """The model's draft with its [n] markers mapped back to the passages it was given; unknown markers go."""
    passages = {n: (aid, title, version) for n, aid, title, version, _ in _passages(result, min_conf)}
    used = sorted({int(n) for n in _CITE.findall(text) if int(n) in passages})
    cleaned = _CITE.sub(lambda m: m.group(0) if int(m.group(1)) in passages else "", text)
    citations = tuple(Citation(n, passages[n][0], passages[n][1], passages[n][2]) for n in used)
    return Draft(cleaned.strip(), result.draft.language, result.draft.tone, citations, grounded=bool(citations))
