"""A judge model for unsupported sentences: it reads a draft's sentences with the cited articles and the thread
and says, sentence by sentence, whether the sources support it. Used by the replay beside the built-in lexical
check; a malformed, incomplete or timed-out answer is a failure of the judge for that draft, never "supported"."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlite_utils import Database

from copilot.assist.providers import provider_key
from copilot.assist.tasks import BY_NAME
from copilot.engine.text import sentences
from copilot.errors import ValidationError
from copilot.llm import catalog, prompts, schema
from copilot.llm.calls import AccountedCalls, cache_key
from copilot.llm.catalog import ModelOverride, Provider, ResolvedModel
from copilot.llm.client import Attempt, ModelCallError, ModelClient
from copilot.llm.router import Route
from copilot.services import Services
from copilot.store import usage
from copilot.store.usage import StoreCallLog
from copilot.store.util import dumps

TASK = BY_NAME["judge"]
SUPPORTED, UNSUPPORTED = "supported", "unsupported"
PASSAGE_CHARS = 4000  # of each cited article: enough for any demo article, bounded for a long one
JUDGE_TIMEOUT_S = 60.0


JUDGE_DOWN = frozenset({"unreachable", "bad_key", "no_keyring", "unknown_model"})  # no retry will help


@dataclass(frozen=True)
class Judge:
    """Which model judges: a provider's model (local/small) or a litellm name, with an endpoint when given."""

    model: str
    api_base: str = ""

    @property
    def label(self) -> str:
        return f"judge: {self.model}"


@dataclass(frozen=True)
class Judgement:
    """One draft judged: the sentences found unsupported, or why the judge gave no usable answer."""

    unsupported: tuple[str, ...]
    failed: str  # "" when the judge answered for every sentence
    cost_usd: float
    tokens: int
    seconds: float


@dataclass(frozen=True)
class ReadyJudge:
    """A judge resolved to a model and a client, for one replay."""

    judge: Judge
    model: ResolvedModel
    client: ModelClient
    log: StoreCallLog
    # Why the judge cannot answer at all (its endpoint unreachable, its key or model refused), once a call has
    # found out: every later draft fails at once with that reason instead of retrying (a dead port cost minutes).
    down: list[str] = field(default_factory=list)

    async def judge_draft(self, draft: str, passages: list[tuple[str, str]], thread: str) -> Judgement:
        """`passages`: (title, text) of each cited article; `thread`: the ticket as text (untrusted)."""
        said = sentences(draft)
        if not said:
            return Judgement((), "", 0.0, 0, 0.0)
        started = time.perf_counter()
        messages = judge_messages(said, passages, thread)
        prompt = prompts.load(TASK.name)
        key = cache_key(TASK.name, prompt.version, self.model.ref, dumps([said, passages, thread]))
        route = Route(TASK.name, "judge", (self.model.ref,), "the replay's judge")
        calls = AccountedCalls(self.log, TASK.name, route, None)
        hit = await calls.from_cache(key)
        if hit is not None:
            return _judged(said, hit[0], 0.0, 0, time.perf_counter() - started)  # a hit spends nothing (as logged)
        if self.down:
            return Judgement((), self.down[0], 0.0, 0, time.perf_counter() - started)
        outcomes: list[str] = []
        account = calls.accountant()

        async def on_attempt(attempt: Attempt) -> None:
            outcomes.append(attempt.outcome)
            await account(attempt)

        try:
            completion = await self.client.complete(
                [self.model], messages, on_attempt=on_attempt, max_tokens=40 + 12 * len(said)
            )
        except ModelCallError as exc:
            failed = f"judge failed: {exc.message}"
            if outcomes and set(outcomes) <= JUDGE_DOWN:
                self.down.append(failed)
            return Judgement((), failed, 0.0, 0, time.perf_counter() - started)
        spent = completion.cost_usd, completion.tokens_in + completion.tokens_out
        try:
            value = verdicts(completion.text, len(said))
        except schema.SchemaError as exc:
            return Judgement((), f"judge failed: {exc}", *spent, time.perf_counter() - started)
        await calls.remember(key, prompt.version, "", value, completion)
        return _judged(said, value, *spent, time.perf_counter() - started)


def _judged(said: list[str], value: list[str], cost: float, tokens: int, seconds: float) -> Judgement:
    unsupported = tuple(s for s, v in zip(said, value, strict=True) if v == UNSUPPORTED)
    return Judgement(unsupported, "", cost, tokens, seconds)


def verdicts(text: str, count: int) -> list[str]:
    """The judge's answer as one verdict per sentence; anything else (not JSON, a wrong count, another word)
    raises SchemaError."""
    if TASK.schema is None:
        raise ValueError("the judge answers in JSON")
    value = [str(v).strip().lower() for v in schema.parse(text, TASK.schema)["verdicts"]]
    if len(value) != count:
        raise schema.SchemaError(f"{len(value)} verdicts for {count} sentences")
    strange = [v for v in value if v not in (SUPPORTED, UNSUPPORTED)]
    if strange:
        raise schema.SchemaError(f"'{strange[0]}' is neither supported nor unsupported")
    return value


def judge_messages(said: list[str], passages: list[tuple[str, str]], thread: str) -> list[dict[str, str]]:
    """The judge's instructions and guard; the thread (the customer's words) and the draft, which may echo them,
    as delimited untrusted data, as the draft prompt does; the articles as the sources."""
    numbered = "\n".join(f"[{n}] {s}" for n, s in enumerate(said, start=1))
    sources = "\n\n".join(f"[{title}]\n{text[:PASSAGE_CHARS]}" for title, text in passages) or "(none cited)"
    user = (
        f"{prompts.ticket_block(thread)}\n\nCited article passages:\n{sources}\n\n"
        f"Draft sentences to judge ({len(said)}):\n{prompts.reply_block(numbered)}"
    )
    return [
        {"role": "system", "content": prompts.system_message(TASK.name)},
        {"role": "user", "content": user},
    ]


async def ready_judge(services: Services, judge: Judge, timeout_s: float = JUDGE_TIMEOUT_S) -> ReadyJudge:
    """Resolve the judge's model: one of the user's providers ("local/small"), else an endpoint given with it
    or a cloud provider by its litellm name (as `--model` is)."""
    if not judge.model.strip():
        raise ValidationError("Name the judge's model.", "e.g. --judge local/small, or openai/gpt-4o-mini.")
    rows = await services.store.run(_providers, services.store.db)
    providers = {p.id: p for p in rows}
    provider_id = judge.model.partition("/")[0]
    if not judge.api_base and provider_id in providers:
        model = catalog.resolve(judge.model, providers)
    else:
        provider, name = catalog.named_model(ModelOverride(judge.model.strip(), judge.api_base), "judge", "the judge")
        providers = {"judge": provider}
        model = catalog.resolve(f"judge/{name}", providers)
    if model is None:
        raise ValidationError(f"'{judge.model}' cannot name the judge's model.", "Write it as provider/model.")
    kinds = {pid: p.kind for pid, p in providers.items()}
    client = ModelClient(lambda pid: provider_key(pid, kinds.get(pid, "")), timeout_s=timeout_s)
    return ReadyJudge(judge, model, client, StoreCallLog(services.store))


def _providers(db: Database) -> list[Provider]:
    return [
        catalog.stored_provider(p.id, p.kind, p.api_base)
        for p in usage.list_providers(db)
        if p.kind in catalog.PROVIDER_KINDS
    ]


def configured_judge(services: Services) -> Judge | None:
    """The judge the settings name (models.judge), used by every replay unless told otherwise."""
    model = services.settings.models.judge.strip()
    return Judge(model) if model else None
