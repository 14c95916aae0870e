"""Tickets and their messages, as every layer sees them. Times are ISO-8601 UTC strings, as stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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
