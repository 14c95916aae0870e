"""The one secrets scrubber: every error text, log line and stored error passes through `scrub` before it is
shown or written. It removes the secrets this process has read (tokens, API keys) wherever they appear, and
anything that looks like a credential echo (Authorization, Cookie, api_key=, Bearer …) even when unknown."""

from __future__ import annotations

import logging
import re
import threading

HIDDEN = "[hidden]"
_MIN_SECRET = 6  # shorter values would blank out ordinary words

_PATTERNS = (
    # Header echoes, as text or inside JSON/dict reprs: the rest of the value up to the line's end or a quote.
    re.compile(r"(?i)((?:proxy-)?authorization|set-cookie|cookie|x-api-key|api-key)(\"?'?\s*[:=]\s*\"?'?)[^\r\n\"']+"),
    re.compile(
        r"(?i)\b(api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|client[_-]?secret|password|passwd|secret|token)"
        r"(\"?'?\s*[:=]\s*\"?'?)[^\s\"',;&}]+"
    ),
    re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"()()\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}"),  # provider API keys (OpenAI and alike)
)


class Scrubber:
    """Known secrets plus credential-shaped text; thread-safe (the store and the loop both log)."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, secret: str) -> None:
        value = secret.strip()
        if len(value) >= _MIN_SECRET:
            with self._lock:
                self._known.add(value)

    def __call__(self, text: str) -> str:
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)
        for secret in known:
            text = text.replace(secret, HIDDEN)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
        return text


# One per process, like the logging module's root logger: the keyring wrapper feeds it, every writer uses it.
SCRUBBER = Scrubber()


def scrub(text: str) -> str:
    return SCRUBBER(text)


def remember_secret(secret: str) -> None:
    SCRUBBER.remember(secret)


class ScrubbingFormatter(logging.Formatter):
    """Log lines (tracebacks included) pass the scrubber before they reach a file or a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))
