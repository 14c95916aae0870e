"""The connector protocol every help desk implements, with the capabilities it declares.

Adding a help desk means one module with a class that satisfies `Connector`, plus one line in
`copilot.helpdesk.registry`. Nothing else in the app knows which help desk it talks to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from copilot.domain import Message, Ticket, Visibility
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
    """One resumable step of a sync: store it, then save `cursor`; a crash repeats at most this step."""

    tickets: list[Ticket] = field(default_factory=list)  # their fields; whole threads when full_threads
    messages: dict[int, list[Message]] = field(default_factory=dict)  # ticket number -> new or changed messages
    cursor: str = ""
    errors: list[str] = field(default_factory=list)  # one line per item that could not be read
    full_threads: bool = False  # tickets carry their whole thread (help desks without message ids)


@dataclass(frozen=True)
class Posted:
    """The help desk's receipt for a message we sent."""

    remote_id: str
    created_at: str


@dataclass(frozen=True)
class ConnectionInfo:
    """What "Test connection" learned: the help desk's version, who we are there, and the queues we see."""

    version: str
    user: str
    queues: tuple[str, ...]


@dataclass(frozen=True)
class FormField:
    """A setting one kind of help desk needs beyond address, user and token, stored in the workspace's
    `options[name]`. The Help desks dialog and `workspace add` build their fields from these."""

    name: str  # the key in WorkspaceConfig.options
    label: str  # the form's label
    help: str  # one line for the form's tooltip and the CLI's help
    option: str  # the CLI option, e.g. "--queue"
    required: bool = False
    many: bool = False  # a list of values: the CLI option repeats, the form takes one
    suggest: str = ""  # a ConnectionInfo field whose values a successful test offers, e.g. "queues"

    def value(self, texts: list[str]) -> str | list[str]:
        """The option's value from what was typed (empty entries dropped)."""
        kept = [t.strip() for t in texts if t.strip()]
        return kept if self.many else (kept[0] if kept else "")

    def texts(self, value: object) -> list[str]:
        """What to show for a stored value."""
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        return [str(value)] if value else []


def thread_watermark(ticket: Ticket) -> str:
    """The newest message id we know in a thread: a sent message whose fate is unknown is looked for after it."""
    ids = [int(m.remote_id) for m in ticket.messages if m.remote_id.isdigit()]
    return str(max(ids)) if ids else "0"


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

    def sync(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        """Everything changed since `cursor` (None: everything), in resumable batches."""
        ...

    async def fetch_ticket(self, number: int) -> Ticket:
        """One ticket's fields (not its thread)."""
        ...

    async def post_message(
        self, ticket: Ticket, body: str, visibility: Visibility, author: str, watermark: str
    ) -> Posted: ...

    async def find_posted(self, ticket: Ticket, body: str, visibility: Visibility, watermark: str) -> Posted | None:
        """The message with this text added after `watermark`, if the help desk has it (exactly-once sends)."""
        ...

    async def set_status(self, ticket: Ticket, status: str) -> None: ...

    async def set_tags(self, ticket: Ticket, tags: tuple[str, ...]) -> None: ...

    async def list_articles(self) -> list[ArticleInput]: ...

    async def update_article(self, article: ArticleInput) -> None: ...

    async def test_connection(self) -> ConnectionInfo: ...

    async def aclose(self) -> None: ...
