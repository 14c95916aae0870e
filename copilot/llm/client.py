"""Calls to models through litellm: streaming, the provider-error table, fallbacks, cost and timing.

litellm is imported lazily, off the calling thread (it takes ~4 s), with its price list read from the package
(no network at import). Every attempt is reported to `on_call` for the accounting table.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from copilot.config.secrets import SecretStoreError
from copilot.errors import CopilotError
from copilot.llm import catalog
from copilot.llm.catalog import ResolvedModel

_lock = threading.Lock()
_litellm: ModuleType | None = None


def _import_litellm() -> ModuleType:
    global _litellm
    with _lock:
        if _litellm is None:
            os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # never fetch prices from the internet
            import litellm

            litellm.suppress_debug_info = True
            litellm.telemetry = False
            # Its cost callback counts tokens; for "llama-3…"-like names it would download a tokenizer from
            # Hugging Face. Never: count with the tiktoken files the package ships.
            litellm.disable_hf_tokenizer_download = True
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx"):
                logging.getLogger(name).setLevel(logging.WARNING)  # its INFO lines would reach stderr and the CLI
            _warm_up(litellm)
            _litellm = litellm
        return _litellm


def _warm_up(litellm: ModuleType) -> None:
    """Run litellm's first-call work here, on the import thread: done lazily inside the first real call it
    held the GUI's event loop for 200-400 ms (measured). Offline: mock responses and the OpenAI SDK's import."""
    messages = [{"role": "user", "content": "warm up"}]
    try:
        litellm.completion(model="openai/warm-up", messages=messages, mock_response="ok")
        for _ in litellm.completion(model="openai/warm-up", messages=messages, mock_response="ok", stream=True):
            pass
        # The OpenAI SDK (litellm's client for OpenAI-compatible endpoints) imports its resources on first use.
        import openai.resources.chat.completions  # noqa: F401
        from litellm.llms.openai.openai import OpenAIChatCompletion  # noqa: F401
    except Exception:  # warming up is an optimisation; a real call reports real problems
        logging.getLogger(__name__).debug("litellm warm-up failed", exc_info=True)


async def load_litellm() -> ModuleType:
    """litellm, imported on a plain worker thread (not the loop's executor: under qasync that is a QThread)."""
    if _litellm is not None:
        return _litellm
    result: asyncio.Future[ModuleType] = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()

    def settle(module: ModuleType | None, error: BaseException | None) -> None:
        if result.done():
            return
        if error is not None:
            result.set_exception(error)
        else:
            assert module is not None
            result.set_result(module)

    def work() -> None:
        try:
            module = _import_litellm()
        except BaseException as error:
            loop.call_soon_threadsafe(settle, None, error)
        else:
            loop.call_soon_threadsafe(settle, module, None)

    threading.Thread(target=work, name="litellm-import", daemon=True).start()
    return await result


@dataclass(frozen=True)
class ErrorRule:
    kind: str
    retry_same: bool  # try this model again (after backoff) before moving on
    message: str  # what the agent reads; {model} and {provider} are filled in


# One table for every provider error (litellm maps them all onto OpenAI-style exception classes).
ERROR_TABLE: dict[str, ErrorRule] = {
    "AuthenticationError": ErrorRule("bad_key", False, "{provider} refused the API key: check the key stored for it."),
    "PermissionDeniedError": ErrorRule(
        "bad_key", False, "{provider} refused access to {model}: check the key's permissions."
    ),
    "NotFoundError": ErrorRule("unknown_model", False, "{provider} does not know the model {model}."),
    "RateLimitError": ErrorRule("rate_limit", True, "{provider} is rate-limiting us."),
    "Timeout": ErrorRule("timeout", True, "{model} did not answer in time."),
    "APIConnectionError": ErrorRule("unreachable", True, "{provider} cannot be reached{at}."),
    "InternalServerError": ErrorRule("server", True, "{provider} had an error."),
    "ServiceUnavailableError": ErrorRule("server", True, "{provider} is unavailable."),
    "BadGatewayError": ErrorRule("server", True, "{provider} is unavailable (bad gateway)."),
    "APIError": ErrorRule("server", True, "{provider} had an error."),
    "ContextWindowExceededError": ErrorRule("context", False, "The ticket is too long for {model}."),
    "ContentPolicyViolationError": ErrorRule("refused", False, "{provider} refused the request (content policy)."),
    "BadRequestError": ErrorRule("bad_request", False, "{provider} refused the request."),
    "TruncatedStream": ErrorRule("truncated", True, "{model}'s answer stopped half-way."),
    "EmptyAnswer": ErrorRule("empty", True, "{model} sent an empty or unreadable answer."),
    "MissingKey": ErrorRule("bad_key", False, "No API key is stored for {provider}."),
    "SecretStoreError": ErrorRule(
        "no_keyring", False, "There is no keyring to read the key of {provider} from: set COPILOT_API_KEY instead."
    ),
}
DEFAULT_RULE = ErrorRule("error", False, "{provider} failed.")


class ModelCallError(CopilotError):
    """No model in the chain produced an answer; `notes` says what happened to each."""

    retryable = True

    def __init__(self, message: str, hint: str = "", notes: list[str] | None = None) -> None:
        super().__init__(message, hint)
        self.notes = notes or []


class _Truncated(Exception):
    pass


class _Empty(Exception):
    pass


@dataclass
class Completion:
    text: str
    model: str  # the ref that answered
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None
    notes: list[str] = field(default_factory=list)  # what failed before this answer (fallbacks)


@dataclass(frozen=True)
class Attempt:
    model: str
    outcome: str  # "ok" or the error kind
    error: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None


def classify(exc: BaseException) -> ErrorRule:
    if isinstance(exc, _Truncated):
        return ERROR_TABLE["TruncatedStream"]
    if isinstance(exc, _Empty):
        return ERROR_TABLE["EmptyAnswer"]
    rule = next((ERROR_TABLE[c.__name__] for c in type(exc).__mro__ if c.__name__ in ERROR_TABLE), DEFAULT_RULE)
    if rule.kind in ("server", "error"):  # litellm reports a refused connection as InternalServerError
        return _cause_rule(exc) or rule
    return rule


def _cause_rule(exc: BaseException) -> ErrorRule | None:
    """Unreachable or timed out, when that is what lies under a generic error (its cause chain)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        names = {c.__name__ for c in type(cause).__mro__}
        if "APITimeoutError" in names or isinstance(cause, TimeoutError):
            return ERROR_TABLE["Timeout"]
        if "APIConnectionError" in names or isinstance(cause, ConnectionError):
            return ERROR_TABLE["APIConnectionError"]
        cause = cause.__cause__ or cause.__context__
    return None


def retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None) or {}
    try:
        value = headers.get("retry-after") if hasattr(headers, "get") else None
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def cost_of(litellm: ModuleType, model: ResolvedModel, tokens_in: int, tokens_out: int) -> float:
    if not model.provider.spec.paid:
        return 0.0
    table_price = catalog.price_per_token(model.ref)
    if table_price is not None:
        return tokens_in * table_price[0] + tokens_out * table_price[1]
    try:
        cost_in, cost_out = litellm.cost_per_token(
            model=model.litellm_model, prompt_tokens=tokens_in, completion_tokens=tokens_out
        )
        return float(cost_in) + float(cost_out)
    except Exception:
        fallback = catalog.table().get("fallback_price", {"input": 1.0, "output": 3.0})
        return tokens_in * float(fallback["input"]) / 1e6 + tokens_out * float(fallback["output"]) / 1e6


class ModelClient:
    def __init__(
        self,
        key_for: Callable[[str], str],
        *,
        timeout_s: float = 60.0,
        max_backoff_s: float = 8.0,
        max_retry_after_s: float = 20.0,
    ) -> None:
        self.key_for = key_for  # provider id -> API key ("" when none)
        self.timeout_s = timeout_s
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s

    async def complete(
        self,
        chain: list[ResolvedModel],
        messages: list[dict[str, str]],
        *,
        on_delta: Callable[[str], None] | None = None,
        on_attempt: Callable[[Attempt], Awaitable[None]] | None = None,
        shorten: Callable[[list[dict[str, str]]], list[dict[str, str]] | None] | None = None,
        max_tokens: int = 800,
    ) -> Completion:
        """The first answer from the chain. Retries and fallbacks follow ERROR_TABLE; `shorten` trims the
        ticket once when it is too long for a model."""
        litellm = await load_litellm()
        notes: list[str] = []
        for model in chain:
            current = messages
            tries = 0
            trimmed = False
            while True:
                tries += 1
                started = time.perf_counter()
                try:
                    completion = await self._once(litellm, model, current, on_delta, started, max_tokens)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    rule = classify(exc)
                    at = f" at {model.api_base}" if model.api_base else ""
                    note = rule.message.format(model=model.ref, provider=model.provider.label, at=at)
                    if rule is DEFAULT_RULE:  # not in the table: say what it was, and keep the traceback in the log
                        logging.getLogger(__name__).warning("model call to %s failed", model.ref, exc_info=exc)
                        detail = str(exc).splitlines()[0][:160] if str(exc) else ""
                        note = f"{note[:-1]} ({type(exc).__name__}: {detail})."
                    if on_attempt is not None:
                        elapsed = (time.perf_counter() - started) * 1000
                        await on_attempt(
                            Attempt(model.ref, rule.kind, f"{note} ({type(exc).__name__})", 0, 0, 0.0, elapsed, None)
                        )
                    if rule.kind == "context" and not trimmed and shorten is not None:
                        shorter = shorten(current)
                        if shorter is not None:
                            current, trimmed = shorter, True
                            notes.append(f"{note} Retried with the oldest messages left out.")
                            continue
                    if rule.retry_same and tries < 3:
                        wait = retry_after(exc)
                        if wait is not None and wait > self.max_retry_after_s:
                            notes.append(f"{note} It asked us to wait {wait:.0f} s; trying the next model.")
                            break
                        await asyncio.sleep(
                            wait if wait is not None else min(self.max_backoff_s, 0.5 * 2 ** (tries - 1))
                        )
                        continue
                    notes.append(note)
                    break
                completion.notes = notes
                if on_attempt is not None:
                    await on_attempt(
                        Attempt(
                            model.ref,
                            "ok",
                            "",
                            completion.tokens_in,
                            completion.tokens_out,
                            completion.cost_usd,
                            completion.latency_ms,
                            completion.ttft_ms,
                        )
                    )
                return completion
        raise ModelCallError(
            "No model could answer: " + " ".join(notes) if notes else "No model is configured for this task.",
            "The built-in engine's result is shown instead.",
            notes,
        )

    async def _once(
        self,
        litellm: ModuleType,
        model: ResolvedModel,
        messages: list[dict[str, str]],
        on_delta: Callable[[str], None] | None,
        started: float,
        max_tokens: int,
    ) -> Completion:
        try:
            key = self.key_for(model.provider.id)
        except SecretStoreError:
            if model.provider.spec.needs_key:
                raise
            key = ""  # a keyless endpoint (own server, Ollama) works without any keyring
        if model.provider.spec.needs_key and not key:
            raise _MissingKey()
        kwargs: dict[str, Any] = {
            "model": model.litellm_model,
            "messages": messages,
            "timeout": self.timeout_s,
            "max_retries": 0,  # retries are ours (ERROR_TABLE), not the SDK's
            "max_tokens": max_tokens,
            "api_key": key or "no-key",
        }
        if model.api_base:
            kwargs["api_base"] = model.api_base
        if on_delta is None:
            response = await litellm.acompletion(**kwargs)
            text = response.choices[0].message.content or ""
            if not text.strip():
                raise _Empty()
            usage = getattr(response, "usage", None)
            tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
            tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
            latency = (time.perf_counter() - started) * 1000
            return Completion(
                text, model.ref, tokens_in, tokens_out, cost_of(litellm, model, tokens_in, tokens_out), latency, None
            )
        stream = await litellm.acompletion(**kwargs, stream=True, stream_options={"include_usage": True})
        parts: list[str] = []
        ttft: float | None = None
        finished = False
        tokens_in = tokens_out = 0
        async for chunk in stream:
            usage = getattr(chunk, "usage", None)
            if usage is not None:
                tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0) or tokens_in
                tokens_out = int(getattr(usage, "completion_tokens", 0) or 0) or tokens_out
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            piece = getattr(choice.delta, "content", None) or ""
            if piece:
                if ttft is None:
                    ttft = (time.perf_counter() - started) * 1000
                parts.append(piece)
                on_delta(piece)
            if getattr(choice, "finish_reason", None):
                finished = True
        # litellm closes a cut stream with a finish reason of its own; what the server sent is kept apart.
        upstream = getattr(stream, "received_finish_reason", "absent")
        if not finished or upstream is None:
            raise _Truncated()
        text = "".join(parts)
        if not text.strip():
            raise _Empty()
        if not tokens_out:
            tokens_out = max(1, len(text.split()))
        latency = (time.perf_counter() - started) * 1000
        return Completion(
            text, model.ref, tokens_in, tokens_out, cost_of(litellm, model, tokens_in, tokens_out), latency, ttft
        )


class _MissingKey(Exception):
    pass


ERROR_TABLE_BY_CLASS = {"_MissingKey": ERROR_TABLE["MissingKey"]}
ERROR_TABLE.update(ERROR_TABLE_BY_CLASS)
