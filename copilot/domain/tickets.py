"""Tickets and their messages, as every layer sees them. Times are ISO-8601 UTC strings, as stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Message:
    id: int
    ticket_id: int
    author: str
    role: Role
    visibility: Visibility
    body: str
    body_format: str  # "text", "markdown" or "html"
    created_at: str
    remote_id: str = ""  # the help desk's id for this message ("" for local-only messages)


@dataclass(frozen=True)
class Ticket:
    id: int  # the store's key
    workspace: str
    number: int  # the help desk's own ticket number, shown to people
    subject: str
    customer_name: str
    customer_email: str
    status: str
    created_at: str
    updated_at: str
    tags: tuple[str, ...] = ()
    intent: str = ""  # a label from the team's history, when there is one
    language: str = ""
    messages: tuple[Message, ...] = ()

    @property
    def customer_first_name(self) -> str:
        return self.customer_name.split()[0] if self.customer_name.strip() else ""

    def customer_messages(self) -> list[Message]:
        return [m for m in self.messages if m.role is Role.CUSTOMER]

    def public_messages(self) -> list[Message]:
        return [m for m in self.messages if m.visibility is Visibility.PUBLIC]

    def readable(self) -> Ticket:
        """The ticket as the copilot reads it: a message longer than READ_LIMIT characters (a pasted log, a
        forwarded mail archive) keeps its beginning and its end, where people write what they want, with a
        marker for what was left out. Reading 1.6 MB took the built-in engine 60 s, and a model's prompt would
        cost as much as the text is long. The agent still sees the whole message."""
        if all(len(m.body) <= READ_LIMIT for m in self.messages):
            return self
        return replace(self, messages=tuple(replace(m, body=_shortened(m.body)) for m in self.messages))


READ_LIMIT = 12_000
_HEAD, _TAIL = 8_000, 4_000


def _shortened(body: str) -> str:
    if len(body) <= READ_LIMIT:
        return body
    head, tail = body[:_HEAD].rsplit(" ", 1)[0], body[-_TAIL:].split(" ", 1)[-1]
    left_out = len(body) - len(head) - len(tail)
    return f"{head}\n\n[… {left_out:,} characters left out …]\n\n{tail}"


@dataclass(frozen=True)
class SentReply:
    id: int
    ticket_id: int
    visibility: Visibility
    body: str
    ai_draft: str
    edit_ratio: float
    sent_at: str


def content_key(ticket: Ticket) -> str:
    """A short hash of the whole thread: outputs and badges computed from it stay valid while it is the same."""
    h = hashlib.sha256()
    for m in ticket.messages:
        h.update(f"{m.id}|{m.role}|{m.visibility}|{m.body}\x00".encode())
    return h.hexdigest()[:16]
