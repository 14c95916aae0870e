"""Request Tracker 5 over REST 2.0 with token auth.

Sync is incremental and cheap in requests: ticket fields come from one TicketSQL search per 100 changed
tickets, and new messages from one TransactionSQL search per 100 transactions plus one attachment search for
their text. RT answers some failures with HTTP 200 and a message array; those are detected and raised.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copilot.boundary import BoundaryError, check_date, check_id, clean_text
from copilot.domain import Message, Role, Ticket, Visibility
from copilot.domain.workspaces import WorkspaceConfig
from copilot.engine.text import detect_language
from copilot.errors import HelpdeskPayloadError, HelpdeskRejected
from copilot.helpdesk.base import Capability, ConnectionInfo, Posted, SyncBatch
from copilot.helpdesk.html_text import html_to_text
from copilot.helpdesk.http import HelpdeskHttp
from copilot.kb.articles import ArticleInput

PAGE = 100  # RT caps per_page at 100
MESSAGE_TYPES = ("Create", "Correspond", "Comment")
RT_TIME = "%Y-%m-%d %H:%M:%S"
TICKET_FIELDS = "Subject,Status,Created,LastUpdated,Requestor,CustomFields,Queue"
# RT status -> ours, and back for updates.
STATUS_IN = {"new": "new", "open": "open", "stalled": "pending", "resolved": "resolved", "rejected": "resolved"}
STATUS_OUT = {"new": "new", "open": "open", "pending": "stalled", "resolved": "resolved"}
# Words in RT's 200-OK message arrays that mean the change did not happen.
_REFUSAL = re.compile(
    r"isn't a valid|is not a valid|permission denied|not allowed|could not|couldn't|failed|invalid|no such|"
    r"unknown|not found|you can't|cannot",
    re.IGNORECASE,
)
_NOOP = re.compile(r"can't change status from '(\w+)' to '\1'|That is already the current value", re.IGNORECASE)


@dataclass(frozen=True)
class RTCursor:
    updated: str  # RT time of the newest ticket change seen
    txn: int  # the newest message transaction seen

    @classmethod
    def parse(cls, raw: str | None) -> RTCursor:
        if not raw:
            return cls("1970-01-01 00:00:00", 0)
        try:
            data = json.loads(raw)
            return cls(str(data["updated"]), int(data["txn"]))
        except (ValueError, KeyError, TypeError):
            return cls("1970-01-01 00:00:00", 0)

    def dump(self) -> str:
        return json.dumps({"updated": self.updated, "txn": self.txn})


def rt_time(iso: str) -> str:
    """RT's '2026-11-23T15:59:26Z' as the 'YYYY-MM-DD HH:MM:SS' (UTC) that TicketSQL compares."""
    return _parse_time(iso).strftime(RT_TIME)


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        raise ValueError("missing time")
    text = value.replace("Z", "+00:00")
    if len(text) >= 19 and text[10] == ":":  # RT's "2018-06-29:10:25Z" flavour
        text = text[:10] + "T" + text[11:]
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(value: Any) -> str:
    text = value.replace("Z", "+00:00") if isinstance(value, str) else value
    if isinstance(text, str) and len(text) >= 19 and text[10] == ":":  # RT's "2018-06-29:10:25Z" flavour
        text = text[:10] + "T" + text[11:]
    try:
        return check_date(text, "a time")
    except BoundaryError as exc:  # out of range (year 9999 minus a zone, year 1) or not a time at all
        raise ValueError(exc.message) from exc


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return clean_text(str(value))
    raise HelpdeskPayloadError(f"Request Tracker sent {what} as {type(value).__name__}, not text.")


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HelpdeskPayloadError(f"Request Tracker sent {what} as {type(value).__name__}, not an object.")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise HelpdeskPayloadError(f"Request Tracker sent {what} as {type(value).__name__}, not a list.")
    return value


def _number(value: Any, what: str) -> int:
    try:
        return check_id(value, what)
    except BoundaryError as exc:  # not a number, not positive, or too large for the store (a 20-digit id)
        raise HelpdeskPayloadError(f"Request Tracker sent an unusable value: {exc.message}") from exc


def _clean(text: str) -> str:
    """Text as stored: normalised (no lone surrogates or control characters), bounded size."""
    cleaned = clean_text(text)
    return cleaned if len(cleaned) <= 200_000 else cleaned[:200_000] + "\n[… message shortened by Support Copilot]"


def normalise_body(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check_messages(answer: Any, action: str) -> list[str]:
    """RT reports many failures as HTTP 200 with a list of messages: raise when one of them is a refusal."""
    if isinstance(answer, dict) and "message" in answer:
        answer = [answer["message"]]
    if not isinstance(answer, list):
        return []
    messages = [str(m) for m in answer]
    refusals = [m for m in messages if _REFUSAL.search(m) and not _NOOP.search(m)]
    if refusals:
        raise HelpdeskRejected(f"Request Tracker refused to {action}: {refusals[0]}", "Nothing was changed there.")
    return messages


class RTConnector:
    kind = "rt"
    capabilities = frozenset(Capability)

    def __init__(
        self,
        config: WorkspaceConfig,
        token: Callable[[], str],
        *,
        http: HelpdeskHttp | None = None,
    ) -> None:
        self.config = config
        self.workspace_id = config.id
        self._token = token
        self.http = http or HelpdeskHttp(
            f"{config.url.rstrip('/')}/REST/2.0", self._auth, f"Request Tracker ({config.name})"
        )
        self._requestors: dict[int, set[str]] = {}
        self._names: dict[int, str] = {}
        self._agent = str(config.options.get("agent_name", ""))

    def _auth(self) -> Mapping[str, str]:
        token = self._token()
        if not token:
            from copilot.errors import HelpdeskAuthError

            raise HelpdeskAuthError(
                f"No API token is stored for the workspace '{self.config.id}'.",
                "Add one with `support-copilot workspace token NAME`, or set COPILOT_HELPDESK_TOKEN.",
            )
        return {"Authorization": f"token {token}"}

    @property
    def display_name(self) -> str:
        return self.config.name

    @property
    def default_agent(self) -> str:
        return self._agent

    @property
    def article_url_template(self) -> str:
        return ""  # RT articles are internal; there is no public help centre to link customers to

    @property
    def queues(self) -> list[str]:
        raw = self.config.options.get("queues", [])
        return [str(q) for q in raw] if isinstance(raw, list) else []

    def _queue_clause(self, field: str) -> str:
        if not self.queues:
            return ""
        names = " OR ".join(f"{field} = '{_quote(q)}'" for q in self.queues)
        return f" AND ({names})"

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---- reading ---------------------------------------------------------------------------------------------

    async def test_connection(self) -> ConnectionInfo:
        version = _text(_dict(await self.http.get_json("/rt"), "the version").get("Version"), "the version")
        queues = await self.http.get_json("/queues/all", {"fields": "Name", "per_page": PAGE})
        names = tuple(
            _text(_dict(q, "a queue").get("Name"), "a queue name")
            for q in _list(_dict(queues, "the queue list").get("items"), "queues")
        )
        user = self.config.username
        if user:
            me = _dict(await self.http.get_json(f"/user/{user}"), "the user")
            self._agent = _text(me.get("RealName"), "a name") or user
        return ConnectionInfo(version, self._agent or user, names)

    async def sync(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        start = RTCursor.parse(cursor)
        updated, txn = start.updated, start.txn
        page = 1
        while True:  # 1. ticket fields, oldest change first
            answer = _dict(
                await self.http.get_json(
                    "/tickets",
                    {
                        "query": f"LastUpdated >= '{updated if page == 1 else start.updated}'"
                        + self._queue_clause("Queue"),
                        "fields": TICKET_FIELDS,
                        "fields[Requestor]": "EmailAddress,RealName",
                        "fields[Queue]": "Name",
                        "orderby": "LastUpdated",
                        "order": "ASC",
                        "per_page": PAGE,
                        "page": page,
                    },
                ),
                "the ticket search",
            )
            items = _list(answer.get("items"), "the ticket search items")
            tickets, errors = [], []
            for raw in items:
                try:
                    ticket = self._ticket(raw)
                except HelpdeskPayloadError as exc:
                    errors.append(f"ticket {_label(raw)}: {exc.message}")
                    continue
                tickets.append(ticket)
                updated = max(updated, rt_time(ticket.updated_at))
            yield SyncBatch(tickets=tickets, cursor=RTCursor(updated, start.txn).dump(), errors=errors)
            if len(items) < PAGE:
                break
            page += 1
        while True:  # 2. new messages, by transaction id (keyset paging: resumable and stable)
            found = _dict(
                await self.http.get_json(
                    "/transactions",
                    {
                        "query": "ObjectType = 'RT::Ticket' AND ("
                        + " OR ".join(f"Type = '{t}'" for t in MESSAGE_TYPES)
                        + f") AND id > {txn}"
                        + self._queue_clause("TicketQueue"),
                        "fields": "Type,ObjectId,Created,Creator",
                        "fields[Creator]": "EmailAddress,RealName,Name",
                        "orderby": "id",
                        "order": "ASC",
                        "per_page": PAGE,
                    },
                ),
                "the transaction search",
            )
            txns = _list(found.get("items"), "the transaction search items")
            if not txns:
                break
            messages, errors, extra = await self._messages(txns)
            txn = max([txn, *_readable_ids(txns)])  # past unreadable ones too: they are reported, not retried
            yield SyncBatch(tickets=extra, messages=messages, cursor=RTCursor(updated, txn).dump(), errors=errors)
            if len(txns) < PAGE:
                break

    def _ticket(self, raw: Any) -> Ticket:
        item = _dict(raw, "a ticket")
        number = _number(item.get("id"), "a ticket id")
        requestors = [_dict(r, "a requestor") for r in _list(item.get("Requestor"), "the requestors")]
        emails = [_text(r.get("EmailAddress") or r.get("id"), "an email address") for r in requestors]
        self._requestors[number] = {e.lower() for e in emails if e}
        first = requestors[0] if requestors else {}
        email = emails[0] if emails else ""
        name = _text(first.get("RealName"), "a name") or _name_from_email(email) or "Unknown customer"
        self._names[number] = name
        tags: list[str] = []
        for cf in _list(item.get("CustomFields"), "the custom fields"):
            cf = _dict(cf, "a custom field")
            if _text(cf.get("name"), "a custom field name").lower() in ("tags", "tag"):
                tags += [_text(v, "a tag") for v in _list(cf.get("values"), "tag values")]
        status = _text(item.get("Status"), "a status")
        subject = _clean(_text(item.get("Subject"), "a subject")) or "(no subject)"
        try:
            created, updated = _iso(item.get("Created")), _iso(item.get("LastUpdated"))
        except ValueError as exc:
            raise HelpdeskPayloadError(f"Request Tracker sent an unreadable time ({exc}).") from exc
        return Ticket(
            id=0,
            workspace=self.workspace_id,
            number=number,
            subject=subject,
            customer_name=_clean(name),
            customer_email=email,
            status=STATUS_IN.get(status, status or "open"),
            created_at=created,
            updated_at=updated,
            tags=tuple(t for t in tags if t),
            intent="",
            language="",
            messages=(),
        )

    async def fetch_ticket(self, number: int) -> Ticket:
        raw = await self.http.get_json(f"/ticket/{number}", {"fields[Requestor]": "EmailAddress,RealName"})
        item = _dict(raw, "a ticket")
        # The single-ticket endpoint gives Requestor as ids (emails) unless expanded; normalise to the search shape.
        return self._ticket({**item, "id": item.get("id", number)})

    async def _messages(self, txns: list[Any]) -> tuple[dict[int, list[Message]], list[str], list[Ticket]]:
        """Messages by ticket number, errors, and the tickets we had to read to place them."""
        meta: dict[int, tuple[int, str, str, dict[str, Any]]] = {}
        errors: list[str] = []
        for raw in txns:
            try:
                t = _dict(raw, "a transaction")
                txn_id = _number(t.get("id"), "a transaction id")
                ticket = _number(t.get("ObjectId"), "a ticket id")
                kind = _text(t.get("Type"), "a transaction type")
                creator = t.get("Creator")
                meta[txn_id] = (ticket, kind, _iso(t.get("Created")), creator if isinstance(creator, dict) else {})
            except (HelpdeskPayloadError, ValueError) as exc:
                errors.append(f"transaction {_label(raw)}: {exc}")
        parts = await self._attachments(list(meta))
        messages: dict[int, list[Message]] = {}
        extra: list[Ticket] = []
        for txn_id, (ticket, kind, created, creator) in meta.items():
            if ticket not in self._requestors:
                try:
                    extra.append(await self.fetch_ticket(ticket))
                except HelpdeskRejected:  # deleted, or outside what this account may see
                    self._requestors[ticket] = set()
                    continue
                except HelpdeskPayloadError as exc:
                    errors.append(f"ticket #{ticket}: {exc.message}")
                    self._requestors[ticket] = set()
                    continue
            body, body_format = _body(parts.get(txn_id, []))
            if not body.strip():
                continue  # e.g. a status change made through the correspond form without text
            email = _text(creator.get("EmailAddress"), "an email").lower()
            from_requestor = email in self._requestors.get(ticket, set())
            # A ticket's first message is the customer's request, even when an agent typed it in for them.
            customer = kind == "Create" or (kind == "Correspond" and from_requestor)
            author = _text(creator.get("RealName"), "a name") or _text(creator.get("Name"), "a name") or email
            if customer and not from_requestor:
                author = self._names.get(ticket, author)
            messages.setdefault(ticket, []).append(
                Message(
                    id=0,
                    ticket_id=0,
                    author=_clean(author or "Unknown"),
                    role=Role.CUSTOMER if customer else Role.AGENT,
                    visibility=Visibility.INTERNAL if kind == "Comment" else Visibility.PUBLIC,
                    body=_clean(body),
                    body_format=body_format,
                    created_at=created,
                    remote_id=str(txn_id),
                )
            )
        return messages, errors, extra

    async def _attachments(self, txn_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """The text parts of these transactions, in one search (paged when there are many parts)."""
        found: dict[int, list[dict[str, Any]]] = {}
        if not txn_ids:
            return found
        page = 1
        while True:
            response = await self.http.request(
                "POST",
                "/attachments",
                params={
                    "fields": "TransactionId,ContentType,Content,Filename",
                    "per_page": PAGE,
                    "page": page,
                    "orderby": "id",
                    "order": "ASC",
                },
                json_body=[{"field": "TransactionId", "operator": "IN", "value": [str(i) for i in txn_ids]}],
            )
            answer = _dict(self.http.parse_json(response), "the attachment search")
            items = _list(answer.get("items"), "attachments")
            for raw in items:
                if not isinstance(raw, dict):
                    continue
                try:
                    txn = _number(raw.get("TransactionId"), "a transaction id")
                except HelpdeskPayloadError:
                    continue
                found.setdefault(txn, []).append(raw)
            if len(items) < PAGE:
                return found
            page += 1

    async def _thread_after(self, ticket: Ticket, watermark: str, kind: str) -> list[tuple[int, str]]:
        found = _dict(
            await self.http.get_json(
                "/transactions",
                {
                    "query": f"ObjectType = 'RT::Ticket' AND ObjectId = {ticket.number} AND Type = '{kind}' "
                    f"AND id > {int(watermark or 0)}",
                    "fields": "Type",
                    "orderby": "id",
                    "order": "ASC",
                    "per_page": PAGE,
                },
            ),
            "the transaction search",
        )
        ids = [
            _number(_dict(t, "a transaction").get("id"), "a transaction id") for t in _list(found.get("items"), "items")
        ]
        parts = await self._attachments(ids)
        return [(i, _body(parts.get(i, []))[0]) for i in ids]

    async def find_posted(self, ticket: Ticket, body: str, visibility: Visibility, watermark: str) -> Posted | None:
        kind = "Comment" if visibility is Visibility.INTERNAL else "Correspond"
        wanted = normalise_body(body)
        for txn_id, text in await self._thread_after(ticket, watermark, kind):
            if normalise_body(text) == wanted:
                return Posted(remote_id=str(txn_id), created_at=datetime.now(UTC).isoformat(timespec="seconds"))
        return None

    # ---- writing ---------------------------------------------------------------------------------------------

    async def post_message(
        self, ticket: Ticket, body: str, visibility: Visibility, author: str, watermark: str
    ) -> Posted:
        action = "comment" if visibility is Visibility.INTERNAL else "correspond"
        response = await self.http.request(
            "POST",
            f"/ticket/{ticket.number}/{action}",
            json_body={"Content": body, "ContentType": "text/plain"},
            write=True,
        )
        check_messages(self.http.parse_json(response), f"add the {'note' if action == 'comment' else 'reply'}")
        # RT does not return the new transaction's id: find it, so the next sync merges instead of duplicating.
        posted = await self.find_posted(ticket, body, visibility, watermark)
        return posted or Posted(remote_id="", created_at=datetime.now(UTC).isoformat(timespec="seconds"))

    async def _update_ticket(self, ticket: Ticket, payload: dict[str, Any], action: str) -> None:
        response = await self.http.request("PUT", f"/ticket/{ticket.number}", json_body=payload, write=True)
        check_messages(self.http.parse_json(response), action)

    async def set_status(self, ticket: Ticket, status: str) -> None:
        await self._update_ticket(ticket, {"Status": STATUS_OUT.get(status, status)}, f"set the status to {status}")

    async def set_tags(self, ticket: Ticket, tags: tuple[str, ...]) -> None:
        # A multi-value custom field: RT replaces the whole list, so send all of them.
        await self._update_ticket(ticket, {"CustomFields": {"Tags": list(tags)}}, "change the tags")

    async def list_articles(self) -> list[ArticleInput]:
        out: list[ArticleInput] = []
        page = 1
        while True:
            response = await self.http.request(
                "POST",
                "/articles",
                params={"fields": "Name,Summary,CustomFields,Disabled", "per_page": PAGE, "page": page},
                json_body=[{"field": "id", "operator": ">", "value": "0"}],
            )
            answer = _dict(self.http.parse_json(response), "the article search")
            items = _list(answer.get("items"), "articles")
            for raw in items:
                try:
                    out.append(self._article(raw))
                except HelpdeskPayloadError:
                    continue
            if len(items) < PAGE:
                return out
            page += 1

    def _article(self, raw: Any) -> ArticleInput:
        item = _dict(raw, "an article")
        number = _number(item.get("id"), "an article id")
        body = ""
        for cf in _list(item.get("CustomFields"), "the article fields"):
            cf = _dict(cf, "an article field")
            if _text(cf.get("name"), "a field name") == "Content":
                body = "\n\n".join(_text(v, "article content") for v in _list(cf.get("values"), "content"))
        title = _clean(_text(item.get("Name"), "an article name")) or f"Article {number}"
        summary = _text(item.get("Summary"), "a summary")
        text = body or summary
        if "<" in text and ">" in text and re.search(r"</?(p|div|br|ul|li|b|i|a)\b", text, re.IGNORECASE):
            text = html_to_text(text)
        return ArticleInput(id=self.article_id(number), title=title, body=_clean(text))

    def article_id(self, number: int) -> str:
        return f"{self.workspace_id}-rt-{number}"

    async def update_article(self, article: ArticleInput) -> None:
        match = re.fullmatch(re.escape(self.workspace_id) + r"-rt-(\d+)", article.id)
        if not match:
            raise HelpdeskRejected(
                f"The article '{article.title}' exists only in Support Copilot, not in Request Tracker.",
                "Create it in Request Tracker first; the next sync links the two.",
            )
        response = await self.http.request(
            "PUT",
            f"/article/{match.group(1)}",
            json_body={"Name": article.title, "CustomFields": {"Content": article.body}},
            write=True,
        )
        check_messages(self.http.parse_json(response), f"update the article '{article.title}'")


def _readable_ids(txns: list[Any]) -> list[int]:
    ids = []
    for t in txns:
        with contextlib.suppress(HelpdeskPayloadError):
            ids.append(_number(_dict(t, "a transaction").get("id"), "a transaction id"))
    return ids


def _name_from_email(email: str) -> str:
    """'jane.doe@example.com' -> 'Jane Doe': better in a greeting than the address."""
    local = email.split("@", 1)[0]
    words = [w for w in re.split(r"[._+-]+", local) if w and not w.isdigit()]
    return " ".join(w.capitalize() for w in words) if words else email


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _label(raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str | int):
        return f"#{raw['id']}"
    return "(unreadable)"


def _body(parts: list[dict[str, Any]]) -> tuple[str, str]:
    """A transaction's message: its inline text/plain parts, else its HTML as text. Files are skipped."""
    plain, html = [], []
    for p in parts:
        content = p.get("Content")
        if not isinstance(content, str) or not content.strip():
            continue
        if p.get("Filename"):
            continue  # an attached file, not the message
        kind = str(p.get("ContentType") or "").lower()
        if kind.startswith("text/plain"):
            plain.append(content)
        elif kind.startswith("text/html"):
            html.append(html_to_text(content))
    if plain:
        return "\n\n".join(t.strip() for t in plain), "text"
    return "\n\n".join(t.strip() for t in html), "text"


def language_of(ticket: Ticket, messages: list[Message]) -> str:
    text = " ".join([ticket.subject, *(m.body for m in messages if m.role is Role.CUSTOMER)])
    return detect_language(text)
