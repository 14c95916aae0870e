"""The built-in demo workspace: a fictional company's help desk that ships with the app and works offline."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copilot.domain import Message, Role, Ticket, Visibility
from copilot.engine.text import detect_language
from copilot.errors import HelpdeskError, HelpdeskRejected
from copilot.helpdesk.base import Capability, ConnectionInfo, Posted, SyncBatch
from copilot.helpdesk.html_text import html_to_text
from copilot.kb.articles import ArticleInput
from copilot.kb.importer import read_articles

DEMO_WORKSPACE = "demo"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class DemoHelpdesk:
    """Reads `resources/demo/`; ticket ages are relative to the first time the demo is opened."""

    kind = "demo"
    workspace_id = DEMO_WORKSPACE
    capabilities = frozenset(Capability)

    def __init__(self, folder: Path, now: datetime | None = None) -> None:
        self.folder = folder
        self._now = now
        self._data: dict[str, Any] | None = None

    def _content(self) -> dict[str, Any]:
        """The demo's tickets and company details, read once."""
        if self._data is None:
            path = self.folder / "tickets.json"
            try:
                self._data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise HelpdeskError(
                    f"The demo workspace at {path} cannot be read: {exc}.", "Reinstall the app."
                ) from exc
        assert self._data is not None
        return self._data

    @property
    def display_name(self) -> str:
        return f"Demo: {self._content()['company']['name']}"

    @property
    def article_url_template(self) -> str:
        return str(self._content()["company"].get("help_center", ""))

    @property
    def default_agent(self) -> str:
        return str(self._content()["agent"])

    async def sync(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        if cursor:  # the demo's tickets never change after the first sync; replies live in the local store
            return
        data = self._content()
        now = self._now or datetime.now(UTC)
        tickets = [self._ticket(raw, now) for raw in data["tickets"]]
        yield SyncBatch(tickets, cursor=_iso(now), full_threads=True)

    async def fetch_ticket(self, number: int) -> Ticket:
        now = self._now or datetime.now(UTC)
        for raw in self._content()["tickets"]:
            if int(raw["number"]) == number:
                return self._ticket(raw, now)
        raise HelpdeskRejected(f"The demo has no ticket #{number}.")

    async def test_connection(self) -> ConnectionInfo:
        return ConnectionInfo(version="built in", user=self.default_agent, queues=("Support",))

    async def find_posted(self, ticket: Ticket, body: str, visibility: Visibility, watermark: str) -> Posted | None:
        return None  # demo sends never fail half-way

    async def set_tags(self, ticket: Ticket, tags: tuple[str, ...]) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def _ticket(self, raw: dict[str, Any], now: datetime) -> Ticket:
        created = now - timedelta(hours=float(raw["age_hours"]))
        msgs_raw: list[dict[str, Any]] = raw["messages"]
        step = timedelta(hours=float(raw["age_hours"]) * 0.8 / max(1, len(msgs_raw)))
        messages: list[Message] = []
        for i, m in enumerate(msgs_raw):
            who = m["from"]
            role = Role.CUSTOMER if who == "customer" else Role.AGENT
            author = raw["customer"]["name"] if who == "customer" else m.get("author", "Sam Rivera")
            visibility = Visibility.INTERNAL if who == "note" else Visibility.PUBLIC
            body, fmt = m["body"], m.get("format", "text")
            if fmt == "html":  # as every help desk's HTML mail: plain text, scripts and tracking images dropped
                body, fmt = html_to_text(body), "text"
            messages.append(Message(0, 0, author, role, visibility, body, fmt, _iso(created + step * i)))
        customer_text = " ".join(m.body for m in messages if m.role is Role.CUSTOMER)
        return Ticket(
            id=0,
            workspace=DEMO_WORKSPACE,
            number=int(raw["number"]),
            subject=raw["subject"],
            customer_name=raw["customer"]["name"],
            customer_email=raw["customer"]["email"],
            status=raw.get("status", "open"),
            created_at=_iso(created),
            updated_at=messages[-1].created_at if messages else _iso(created),
            tags=tuple(raw.get("tags", [])),
            intent=raw.get("intent", ""),
            language=detect_language(f"{raw['subject']} {customer_text}"),
            messages=tuple(messages),
        )

    async def post_message(
        self, ticket: Ticket, body: str, visibility: Visibility, author: str, watermark: str
    ) -> Posted:
        # The demo help desk accepts everything; the local store is its record.
        return Posted(remote_id=f"demo-{uuid.uuid4().hex[:12]}", created_at=_iso(datetime.now(UTC)))

    async def set_status(self, ticket: Ticket, status: str) -> None:
        return None

    async def list_articles(self) -> list[ArticleInput]:
        return read_articles(self.folder / "articles")

    async def update_article(self, article: ArticleInput) -> None:
        return None
