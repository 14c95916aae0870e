"""The ticket as the copilot reads it."""

from __future__ import annotations

import time

from copilot.domain import Message, Role, Ticket, Visibility
from copilot.domain.tickets import READ_LIMIT
from copilot.engine.signals import detect_flags
from copilot.engine.summarize import summarize


def _ticket(body: str) -> Ticket:
    message = Message(1, 1, "Gina", Role.CUSTOMER, Visibility.PUBLIC, body, "text", "2026-01-01T00:00:00")
    return Ticket(1, "ws", 1, "Hub offline", "Gina", "g@example.com", "open", "", "", messages=(message,))


def test_a_huge_message_is_read_by_its_beginning_and_its_end() -> None:
    log = " ".join(f"Line {i}: the hub went offline again with error E{i}." for i in range(30_000))
    body = f"My Hub keeps going offline, log below. {log} Can you replace it? This is urgent."
    short = _ticket(body).readable()
    read = short.messages[0].body
    assert len(body) > 1_000_000 and len(read) < READ_LIMIT + 100
    assert read.startswith("My Hub keeps going offline") and read.endswith("This is urgent.")
    assert "characters left out" in read
    started = time.perf_counter()
    flags, lines = detect_flags(short), summarize(short).lines
    assert time.perf_counter() - started < 10  # the whole message took the engine over a minute
    assert "urgency" in {f.kind for f in flags} and lines
    everyday = _ticket("My Hub is offline. Can you help?")
    assert everyday.readable() is everyday
