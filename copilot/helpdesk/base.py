"""The connector protocol every help desk implements, with the capabilities it declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from copilot.domain.models import Ticket, Visibility
from copilot.kb.articles import ArticleInput


class Capability(StrEnum):
    SYNC = "sync"
    READ_THREAD = "read_thread"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    SET_STATUS = "set_status"
    SET_TAGS = "set_tags"
    KB_READ = "kb_read"
    KB_UPDATE = "kb_update"


@dataclass(frozen=True)
class SyncBatch:
    tickets: list[Ticket]
    cursor: str
    errors: list[str] = field(default_factory=list)  # one line per ticket that could not be read


@dataclass(frozen=True)
class Posted:
    """The help desk's receipt for a message we sent."""

    remote_id: str
    created_at: str


class Connector(Protocol):
    kind: str
    workspace_id: str
    capabilities: frozenset[Capability]

    @property
    def display_name(self) -> str: ...

    @property
    def default_agent(self) -> str:
        """The agent this help-desk account acts as ("" when unknown)."""
        ...

    @property
    def article_url_template(self) -> str:
        """The customer-visible address of an article, with {id}; "" when the help desk has none."""
        ...

    async def sync(self, cursor: str | None) -> SyncBatch: ...

    async def post_message(self, ticket: Ticket, body: str, visibility: Visibility, author: str) -> Posted: ...

    async def set_status(self, ticket: Ticket, status: str) -> None: ...

    async def list_articles(self) -> list[ArticleInput]: ...

    async def update_article(self, article: ArticleInput) -> None: ...
