"""Every model call passes through here: the result cache first, then one accounting record per attempt —
completions, fallbacks, failures, cache hits and embeddings alike — so cost and quality reviews have facts.

Where records and cached answers are kept is the caller's choice (`CallLog`; the app keeps them in SQLite).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from copilot.domain.usage import CallRecord, RoutedOutput
from copilot.llm.client import Attempt, Completion
from copilot.llm.router import Route


class CallLog(Protocol):
    async def log(self, record: CallRecord) -> None: ...

    def log_soon(self, record: CallRecord) -> None:
        """Record without waiting, from any thread (an embedding call on the compute thread)."""
        ...

    async def cached(self, key: str) -> dict[str, Any] | None: ...

    async def keep(
        self, key: str, task: str, model: str, prompt_version: str, content_hash: str, payload: dict[str, Any]
    ) -> None: ...


def cache_key(task: str, prompt_version: str, model: str, content: str) -> str:
    return hashlib.sha256(f"{task}|{prompt_version}|{model}|{content}".encode()).hexdigest()


class AccountedCalls:
    """The cache and the call log for one task's model calls (`ModelClient` does the calling)."""

    def __init__(self, log: CallLog, task: str, route: Route, ticket_id: int | None) -> None:
        self.log, self.task, self.route, self.ticket_id = log, task, route, ticket_id

    async def from_cache(self, key: str) -> tuple[Any, RoutedOutput] | None:
        """A cached answer (logged as a cache hit, at no cost), or None."""
        cached = await self.log.cached(key)
        if cached is None:
            return None
        r = self.route
        await self.log.log(
            CallRecord(
                self.task, r.tier, cached["model"], 0, 0, 0.0, 0.0, None, True, self.ticket_id, "ok", "", r.reason
            )
        )
        tokens = (cached["tokens_in"], cached["tokens_out"])
        return cached["value"], RoutedOutput(
            self.task, r.tier, cached["model"], r.reason, *tokens, 0.0, 0.0, None, True
        )

    async def remember(self, key: str, version: str, thread: str, value: Any, completion: Completion) -> RoutedOutput:
        """Cache a model's answer and describe how it was made (model, tokens, cost, latency, routing reason)."""
        payload = {
            "value": value, "model": completion.model,
            "tokens_in": completion.tokens_in, "tokens_out": completion.tokens_out,
        }  # fmt: skip
        await self.log.keep(key, self.task, completion.model, version, thread, payload)
        r = self.route
        return RoutedOutput(
            self.task, r.tier, completion.model, r.reason, completion.tokens_in, completion.tokens_out,
            completion.cost_usd, completion.latency_ms, completion.ttft_ms, False,
            " ".join([*r.warnings, *completion.notes]),
        )  # fmt: skip

    def accountant(self) -> Callable[[Attempt], Awaitable[None]]:
        """Log every attempt at a model call (fallbacks and failures included)."""

        async def account(a: Attempt) -> None:
            r = self.route
            await self.log.log(
                CallRecord(
                    self.task,
                    r.tier,
                    a.model,
                    a.tokens_in,
                    a.tokens_out,
                    a.cost_usd,
                    a.latency_ms,
                    a.ttft_ms,
                    False,
                    self.ticket_id,
                    a.outcome,
                    a.error,
                    r.reason,
                )
            )

        return account


def embedding_accountant(log: CallLog) -> Callable[[Attempt], None]:
    """A hook for an embedding model: each request becomes one call record, logged without waiting."""

    def account(a: Attempt) -> None:
        log.log_soon(
            CallRecord(
                "embed",
                "embedding",
                a.model,
                a.tokens_in,
                0,
                a.cost_usd,
                a.latency_ms,
                None,
                False,
                None,
                a.outcome,
                a.error,
            )
        )

    return account
