"""Run the copilot's tasks (copilot.assist.tasks) on the tier the router picks: built-in, a cheap model or a
frontier model.

The built-in result is always computed first (it is fast and is the fallback). Tasks routed to a model replace
their built-in part; a model failure keeps the built-in part with a note. Every call goes through the cache and
the call log (copilot.llm.calls); results are cached by (task, prompt version, model, ticket content).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlite_utils import Database

from copilot.assist.providers import provider_key
from copilot.assist.tasks import BY_NAME, PER_TICKET, ROUTABLE, Applied, Task, TaskInputs
from copilot.assist.ticket_assist import assist_builtin, record_once
from copilot.domain import AssistResult, Provenance, Role, Ticket
from copilot.domain.tickets import content_key
from copilot.domain.usage import RoutedOutput
from copilot.engine import ENGINE, MODEL
from copilot.errors import CopilotError, ValidationError
from copilot.llm import catalog, prompts, schema
from copilot.llm.calls import AccountedCalls, cache_key
from copilot.llm.catalog import Provider, ResolvedModel
from copilot.llm.client import Attempt, Completion, ModelCallError, ModelClient
from copilot.llm.router import Budget, Route, TicketFacts, route
from copilot.services import Services
from copilot.store import outputs as outputs_store
from copilot.store import tickets as ticket_store
from copilot.store import usage
from copilot.store.usage import StoreCallLog
from copilot.store.util import dumps

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "de": "German", "fr": "French"}
BUILTIN_TAGS_VERSION = "tags-builtin-1"
Delta = Callable[[str, str], None]  # (task, new text)


async def assist_ticket(
    services: Services,
    ticket_id: int,
    tone: str | None = None,
    on_delta: Delta | None = None,
) -> AssistResult:
    """Run every built-in task, then the tasks the router sends to a model (streamed through `on_delta`
    as (task, text piece)); record each output with its provenance and routing."""
    result = await assist_builtin(services, ticket_id, tone)
    return await assist_with_models(services, result, tone=tone or services.settings.draft.tone, on_delta=on_delta)


@dataclass(frozen=True)
class ModelSetup:
    providers: dict[str, Provider]
    tiers: dict[str, list[ResolvedModel]]
    overrides: dict[str, str]
    budget: Budget

    @property
    def any_model(self) -> bool:
        return any(self.tiers.values())


def _setup(db: Database, services: Services) -> ModelSetup:
    s = services.settings
    providers = {
        p.id: catalog.stored_provider(p.id, p.kind, p.api_base)
        for p in usage.list_providers(db)
        if p.kind in catalog.PROVIDER_KINDS
    }
    override = services.model_override
    if override is not None:
        providers["cli"], name = catalog.named_model(override, "cli")
        refs = {"cheap": [f"cli/{name}"], "frontier": [f"cli/{name}"]}
    else:
        table = catalog.table()
        refs = {
            tier: catalog.model_list(chosen) or list(table["tiers"][tier])
            for tier, chosen in (("cheap", s.models.cheap), ("frontier", s.models.frontier))
        }
    tiers = {
        tier: [m for m in (catalog.resolve(r, providers) for r in found) if m is not None]
        for tier, found in refs.items()
    }
    budget = Budget(s.budget.monthly_usd, usage.spent_this_month(db))
    overrides = catalog.parse_task_overrides(s.routing.tasks, ROUTABLE)
    return ModelSetup(providers, tiers, overrides, budget)


async def models_configured(services: Services) -> bool:
    """Whether any task could go to a model (a provider is set up, or --model was given)."""
    if services.model_override is not None:
        return True
    return bool(await services.store.run(usage.list_providers, services.store.db))


async def engines_line(services: Services) -> str:
    """What answers the copilot's tasks, in a sentence for the status bar: the built-in engine alone, or the
    models that are set up (the router picks per task; the built-in engine is the fallback)."""
    try:
        setup = await services.store.run(_setup, services.store.db, services)
    except ValidationError as exc:  # a routing setting that cannot be read: the assist says so when it runs
        return f"Models cannot be used: {exc.message}"
    if setup.any_model:
        refs = sorted({m.ref for models in setup.tiers.values() for m in models})
        return (
            f"Models: {', '.join(refs)} (the router picks them per task; the built-in engine answers the rest and "
            "whenever a model fails)."
        )
    if setup.providers:
        return (
            f"No tier uses the providers set up ({', '.join(sorted(setup.providers))}): everything runs on this "
            "computer (built-in engine). Choose models in Models → Providers."
        )
    return "Everything runs on this computer (built-in engine)."


def facts_of(result: AssistResult) -> TicketFacts:
    t = result.ticket
    customer = " ".join(m.body for m in t.customer_messages())
    return TicketFacts(
        messages=len(t.public_messages()),
        words=sum(len(m.body.split()) for m in t.messages),
        flags=tuple(f.kind for f in result.flags),
        language=t.language or result.draft.language,
        retrieval_confidence=_retrieval_confidence(result),
        text=f"{t.subject} {customer}",
        triage_unsure=result.triage.is_unsure,
        suggestions=len(result.suggestions),
    )


def _retrieval_confidence(result: AssistResult) -> float:
    """How sure the article match is, for routing. An article the agent chose is as sure as it gets: no model is
    paid to re-order the suggestions under it, and a weak ranking is no reason to escalate the draft."""
    if result.suggestions and result.suggestions[0].chosen:
        return 1.0
    return max((s.confidence for s in result.suggestions), default=0.0)


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


def messages_for(
    task: Task, result: AssistResult, values: dict[str, str], keep: int | None, context: str
) -> list[dict[str, str]]:
    """The system message (the task's instructions and the guard) and the ticket as delimited data."""
    user = prompts.ticket_block(transcript(result.ticket, keep))
    if context:
        user += f"\n\n{task.context_heading}:\n{context}"
    return [
        {"role": "system", "content": prompts.system_message(task.name, **values)},
        {"role": "user", "content": user},
    ]


def route_for(task: Task, facts: TicketFacts, setup: ModelSetup) -> Route:
    available = {tier: [m.ref for m in models] for tier, models in setup.tiers.items()}
    return route(task.name, facts, available, default_tier=task.tier, overrides=setup.overrides, budget=setup.budget)


def _gather_inputs(db: Database, services: Services, result: AssistResult, tone: str) -> TaskInputs:
    return TaskInputs(
        language=LANGUAGE_NAMES.get(result.draft.language, "English"),
        tone=tone,
        agent=services.agent_name(result.ticket.workspace),
        min_confidence=services.settings.suggest.min_confidence,
        known_tags=tuple(ticket_store.known_tags(db, result.ticket.workspace)),
    )


def _builtin_extras(db: Database, result: AssistResult) -> AssistResult:
    """The built-in answers of the tasks the built-in pass does not cover (recorded like every output)."""
    thread = content_key(result.ticket)
    extras, provenance, ids = dict(result.extras), dict(result.provenance), dict(result.output_ids)
    for task in PER_TICKET:
        if task.builtin is None:
            continue
        payload = task.builtin(result)
        prov = Provenance(
            ENGINE, MODEL, BUILTIN_TAGS_VERSION, cache_key(task.name, "", MODEL, dumps([thread, payload]))
        )
        extras[task.output], provenance[task.output] = payload, prov
        ids[task.output] = record_once(db, result.ticket.id, task.output, prov, payload)
    return replace(result, extras=extras, provenance=provenance, output_ids=ids)


async def assist_with_models(
    services: Services, result: AssistResult, *, tone: str, on_delta: Delta | None = None
) -> AssistResult:
    """Replace the built-in parts the router sends to a model; record routing for every task."""
    store = services.store
    setup = await store.run(_setup, store.db, services)
    result = await store.run(_builtin_extras, store.db, result)
    inputs = await store.run(_gather_inputs, store.db, services, result, tone)
    facts = facts_of(result)
    routes = {task.name: route_for(task, facts, setup) for task in PER_TICKET}
    routing = {
        task.output: RoutedOutput(task.output, "built-in", MODEL, routes[task.name].reason) for task in PER_TICKET
    }
    if not setup.any_model:
        return replace(result, routing={k: asdict(v) for k, v in routing.items()})
    resolved = {m.ref: m for models in setup.tiers.values() for m in models}
    client = ModelClient(lambda pid: provider_key(pid, setup.providers[pid].kind if pid in setup.providers else ""))
    log = StoreCallLog(store)
    thread = content_key(result.ticket)

    async def run(task: Task, base: AssistResult) -> tuple[Task, Any, RoutedOutput]:
        r = routes[task.name]
        if r.built_in or not task.worth_asking(base, inputs):
            return task, None, routing[task.output]
        prompt = prompts.load(task.name)
        values = inputs.values(base)
        context = task.context(base, inputs)
        key = cache_key(
            task.name, prompt.version, r.models[0], dumps([thread, context, values if task.values_in_key else ""])
        )
        calls = AccountedCalls(log, task.name, r, base.ticket.id)
        hit = await calls.from_cache(key)
        if hit is not None:
            return task, *hit

        def shorten(messages: list[dict[str, str]]) -> list[dict[str, str]] | None:
            count = len(base.ticket.messages)
            return messages_for(task, base, values, max(1, count // 2), context) if count > 1 else None

        messages = messages_for(task, base, values, None, context)
        chain = [resolved[ref] for ref in r.models]
        account = calls.accountant()
        try:
            completion = await client.complete(
                chain, messages, on_delta=_delta_for(task, on_delta), on_attempt=account, shorten=shorten
            )
            value: Any = completion.text.strip()
            if task.schema is not None:
                value = await _structured(client, chain, messages, completion, task, account)
        except (ModelCallError, schema.SchemaError) as exc:
            note = exc.message if isinstance(exc, CopilotError) else f"the model's answer did not fit ({exc})"
            return (
                task,
                None,
                RoutedOutput(task.output, "built-in", MODEL, f"built-in: fallback ({r.reason})", note=note),
            )
        return task, value, await calls.remember(key, prompt.version, thread, value, completion)

    async def chain_from(first: Task) -> list[tuple[Task, Any, RoutedOutput]]:
        """A task, then the tasks that wait for its answer, each given the result so far."""
        done = [await run(first, result)]
        base = result
        for follower in [t for t in PER_TICKET if t.after == first.name]:
            applied = _apply(done[-1], base, inputs)
            base = applied.result if isinstance(applied, Applied) else base
            done.append(await run(follower, base))
        return done

    heads = [t for t in PER_TICKET if not t.after]
    finished = [answer for chain in await asyncio.gather(*map(chain_from, heads)) for answer in chain]
    current, provenance, payloads = result, dict(result.provenance), {}
    for task, value, out in sorted(finished, key=lambda answer: PER_TICKET.index(answer[0])):
        routing[task.output] = replace(out, task=task.output)
        if value is None:
            continue
        applied = _apply((task, value, out), current, inputs)
        if isinstance(applied, str):
            routing[task.output] = replace(out, task=task.output, tier="built-in", note=applied)
            continue
        current = applied.result
        payloads[task.output] = applied.payload
        version = prompts.load(task.name).version
        provenance[task.output] = Provenance("litellm", out.model, version, provenance[task.output].inputs_hash)

    def _record(db: Database) -> dict[str, int]:
        ids = dict(result.output_ids)
        for output, payload in payloads.items():
            ids[output] = outputs_store.record_output(
                db, result.ticket.id, output, provenance[output], {**payload, "routing": asdict(routing[output])}
            )
        return ids

    ids = await store.run(_record, store.db)
    return replace(current, output_ids=ids, provenance=provenance, routing={k: asdict(v) for k, v in routing.items()})


def _apply(answer: tuple[Task, Any, RoutedOutput], base: AssistResult, inputs: TaskInputs) -> Applied | str:
    task, value, _out = answer
    if value is None:
        return "no model answer"
    return task.apply(base, value, inputs)


@dataclass(frozen=True)
class Rewritten:
    text: str
    routed: RoutedOutput


REWRITE_TASKS = ("rewrite", "translate")  # tools on the agent's reply (the judge is the replay's)


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
    facts = TicketFacts(messages=0, words=len(text.split()), flags=(), language="", retrieval_confidence=1.0, text="")
    r = route_for(BY_NAME[task], facts, setup)
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
    key = cache_key(task, prompt.version, r.models[0], dumps([text, values]))
    calls = AccountedCalls(StoreCallLog(store), task, r, ticket_id)
    hit = await calls.from_cache(key)
    if hit is not None:
        return Rewritten(str(hit[0]), hit[1])
    resolved = {m.ref: m for models in setup.tiers.values() for m in models}
    client = ModelClient(lambda pid: provider_key(pid, setup.providers[pid].kind if pid in setup.providers else ""))
    completion = await client.complete(
        [resolved[ref] for ref in r.models],
        messages,
        on_delta=on_delta,
        on_attempt=calls.accountant(),
        max_tokens=max(400, len(text) // 2),
    )
    value = completion.text.strip()
    return Rewritten(value, await calls.remember(key, prompt.version, "", value, completion))


def _delta_for(task: Task, on_delta: Delta | None) -> Callable[[str], None] | None:
    """What the caller sees while a task streams: a text answer piece by piece; a JSON answer with
    `stream_labels` (the summary) as its lines so far, "Wants: …" one per line, the last one still growing."""
    if on_delta is None:
        return None
    if task.schema is None:
        return lambda piece: on_delta(task.output, piece)
    if not task.stream_labels:
        return None
    received: list[str] = []

    def lines_so_far(piece: str) -> None:
        received.append(piece)
        fields = schema.partial_strings("".join(received))
        lines = [f"{label}: {fields[key]}" for label, key in task.stream_labels if key in fields]
        if lines:
            on_delta(task.output, "\n".join(lines))

    return lines_so_far


async def _structured(
    client: ModelClient,
    chain: list[ResolvedModel],
    messages: list[dict[str, str]],
    completion: Completion,
    task: Task,
    account: Callable[[Attempt], Awaitable[None]],
) -> dict[str, Any]:
    """Validate against the task's schema; repair once by asking again with the error, else raise."""
    try:
        return schema.parse(completion.text, _schema_of(task))
    except schema.SchemaError as first:
        retry = [
            *messages,
            {"role": "assistant", "content": completion.text},
            {"role": "user", "content": f"That answer is not valid: {first}. Answer again with only the JSON object."},
        ]
        again = await client.complete(
            [m for m in chain if m.ref == completion.model] or chain, retry, on_attempt=account
        )
        return schema.parse(again.text, _schema_of(task))


def _schema_of(task: Task) -> schema.Schema:
    if task.schema is None:
        raise ValueError(f"{task.name} answers in plain text")
    return task.schema
