"""HTTP for connectors: timeouts, capped retries for reads, Retry-After, and errors a person can act on.

Writes are never retried here: the outbox decides, because only it knows whether a repeat would duplicate a
message. Every failure comes back as one of the HelpdeskError classes, with whether a write may have landed.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from copilot.boundary import BoundaryError, clean_text, load_json
from copilot.errors import (
    HelpdeskAuthError,
    HelpdeskError,
    HelpdeskPayloadError,
    HelpdeskRateLimited,
    HelpdeskRejected,
    HelpdeskUnreachable,
)

MAX_PAGE_BYTES = 64_000_000  # the largest page of a help desk's answer we read


@dataclass
class HttpStats:
    """What a sync or send cost: requests made and seconds spent waiting on the help desk."""

    requests: int = 0
    wait_s: float = 0.0
    retries: int = 0


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HelpdeskHttp:
    def __init__(
        self,
        base_url: str,
        headers: Callable[[], Mapping[str, str]],
        name: str,
        *,
        timeout_s: float = 30.0,
        read_retries: int = 3,
        max_wait_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = headers
        self.name = name
        self.timeout_s = timeout_s
        self.read_retries = read_retries
        self.max_wait_s = max_wait_s  # the longest Retry-After we sit out inside one call
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = HttpStats()

    def _client_for_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            # A client is bound to the loop it first ran on; the CLI runs one loop per command.
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
                transport=self._transport,
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": "support-copilot"},
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and not self._client.is_closed and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        write: bool = False,
    ) -> httpx.Response:
        """One call; reads are retried (capped backoff, Retry-After honoured), writes are attempted once."""
        attempts = 1 if write else 1 + self.read_retries
        last: HelpdeskError | None = None
        for attempt in range(attempts):
            if attempt:
                self.stats.retries += 1
                delay = min(self.max_wait_s, 0.5 * 2**attempt)
                if isinstance(last, HelpdeskRateLimited) and last.retry_after is not None:
                    if last.retry_after > self.max_wait_s:
                        raise last
                    delay = max(delay, last.retry_after)
                await asyncio.sleep(delay)
            try:
                return await self._once(method, path, params, json_body, headers, write)
            except (HelpdeskUnreachable, HelpdeskRateLimited) as exc:
                last = exc
            except HelpdeskError as exc:
                if exc.retryable and not write:
                    last = exc
                    continue
                raise
        assert last is not None
        raise last

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        write: bool,
    ) -> httpx.Response:
        client = self._client_for_loop()
        merged = {**self._headers(), **(headers or {})}
        started = time.perf_counter()
        self.stats.requests += 1
        try:
            response = await client.request(method, path, params=params, json=json_body, headers=merged)
        except httpx.ConnectError as exc:
            raise HelpdeskUnreachable(
                f"{self.name} at {self.base_url} cannot be reached ({exc.__class__.__name__}).",
                "Check the address and your network; the app keeps working from its cache.",
            ) from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise HelpdeskUnreachable(
                f"{self.name} did not answer in time ({exc.__class__.__name__}).",
                "It may be slow or down; the app retries and keeps working from its cache.",
                outcome_unknown=write and not isinstance(exc, httpx.ConnectTimeout),
            ) from exc
        finally:
            self.stats.wait_s += time.perf_counter() - started
        self._raise_for_status(response, write)
        return response

    def _raise_for_status(self, response: httpx.Response, write: bool) -> None:
        code = response.status_code
        if code < 400:
            return
        detail = _message_of(response)
        if code in (401, 403):
            raise HelpdeskAuthError(
                f"{self.name} refused the credentials (HTTP {code}{': ' + detail if detail else ''}).",
                "Enter a new API token for this workspace (Workspaces → Edit, or `support-copilot workspace token`).",
            )
        if code == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise HelpdeskRateLimited(
                f"{self.name} asked us to slow down (HTTP 429).",
                f"Retrying in {wait:.0f} s." if wait is not None else "Retrying shortly.",
                retry_after=wait,
            )
        if code >= 500:
            raise HelpdeskUnreachable(
                f"{self.name} had an internal error (HTTP {code}{': ' + detail if detail else ''}).",
                "This is on the help desk's side; the app retries.",
                outcome_unknown=write,
            )
        if code == 404:
            raise HelpdeskRejected(
                f"{self.name} has no such item ({response.request.url.path}).", "It may have been deleted."
            )
        raise HelpdeskRejected(f"{self.name} refused the request (HTTP {code}{': ' + detail if detail else ''}).")

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.parse_json(await self.request("GET", path, params=params))

    def parse_json(self, response: httpx.Response) -> Any:
        try:
            # Invalid UTF-8 in one message must not lose the whole page: undecodable bytes become U+FFFD.
            # Size and nesting are bounded: a hostile or broken server cannot exhaust memory or the stack.
            return load_json(response.content.decode("utf-8", "replace"), max_bytes=MAX_PAGE_BYTES)
        except BoundaryError as exc:
            snippet = clean_text(response.text[:80].replace("\n", " ")) if response.content else "an empty body"
            raise HelpdeskPayloadError(
                f"{self.name} answered {response.request.url.path} with something unusable: {exc.message} "
                f"({snippet!r}).",
                "The address may point at the wrong server, or a proxy is in the way.",
            ) from exc


def _message_of(response: httpx.Response) -> str:
    try:
        data = load_json(response.content)
    except BoundaryError:
        return ""
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:200]
    return ""
