"""Request Tracker 5 over REST 2.0 with token auth.

Sync is incremental and cheap in requests: ticket fields come from one TicketSQL search per 100 changed
tickets, and new messages from one TransactionSQL search per 100 transactions plus one attachment search for
their text. RT answers some failures with HTTP 200 and a message array; those are detected and raised.

Long because it is the whole connector for one help desk (sync, fetch, post with an exactly-once look-up,
status, tags, article push); its payload parsing lives in rt_payloads.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from copilot.domain import Message, Role, Ticket, Visibility
from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import HelpdeskError, HelpdeskPayloadError, HelpdeskRejected, HelpdeskUnreachable
from copilot.helpdesk.base import Capability, ConnectionInfo, Posted, SyncBatch
from copilot.helpdesk.html_text import as_plain_text
from copilot.helpdesk.http import HelpdeskHttp
from copilot.helpdesk.rt_payloads import (
    MESSAGE_TYPES,
    PAGE,
    STATUS_IN,
    STATUS_OUT,
    TICKET_FIELDS,
    RTCursor,
    as_dict,
    as_list,
    as_number,
    as_text,
    body_text,
    check_messages,
    clean_field,
    iso_time,
    label_of,
    name_from_email,
    normalise_body,
    quote,
    readable_ids,
    rt_time,
)
from copilot.kb.articles import ArticleInput


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
        names = " OR ".join(f"{field} = '{quote(q)}'" for q in self.queues)
        return f" AND ({names})"

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---- reading ---------------------------------------------------------------------------------------------

    async def test_connection(self) -> ConnectionInfo:
        version = as_text(as_dict(await self.http.get_json("/rt"), "the version").get("Version"), "the version")
        queues = await self.http.get_json("/queues/all", {"fields": "Name", "per_page": PAGE})
        names = tuple(
            as_text(as_dict(q, "a queue").get("Name"), "a queue name")
            for q in as_list(as_dict(queues, "the queue list").get("items"), "queues")
        )
        user = self.config.username
        if user:
            me = as_dict(await self.http.get_json(f"/user/{user}"), "the user")
            self._agent = as_text(me.get("RealName"), "a name") or user
        return ConnectionInfo(version, self._agent or user, names)

    async def sync(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        start = RTCursor.parse(cursor)
        updated, txn = start.updated, start.txn
        page = 1
        while True:  # 1. ticket fields, oldest change first
            answer = as_dict(
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
            items = as_list(answer.get("items"), "the ticket search items")
            tickets, errors = [], []
            for raw in items:
                try:
                    ticket = self._ticket(raw)
                except HelpdeskPayloadError as exc:
                    errors.append(f"ticket {label_of(raw)}: {exc.message}")
                    continue
                tickets.append(ticket)
                updated = max(updated, rt_time(ticket.updated_at))
            yield SyncBatch(tickets=tickets, cursor=RTCursor(updated, start.txn).dump(), errors=errors)
            if len(items) < PAGE:
                break
            page += 1
        while True:  # 2. new messages, by transaction id (keyset paging: resumable and stable)
            found = as_dict(
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
            txns = as_list(found.get("items"), "the transaction search items")
            if not txns:
                break
            messages, errors, extra = await self._messages(txns)
            txn = max([txn, *readable_ids(txns)])  # past unreadable ones too: they are reported, not retried
            yield SyncBatch(tickets=extra, messages=messages, cursor=RTCursor(updated, txn).dump(), errors=errors)
            if len(txns) < PAGE:
                break

    def _ticket(self, raw: Any) -> Ticket:
        item = as_dict(raw, "a ticket")
        number = as_number(item.get("id"), "a ticket id")
        requestors = [as_dict(r, "a requestor") for r in as_list(item.get("Requestor"), "the requestors")]
        emails = [as_text(r.get("EmailAddress") or r.get("id"), "an email address") for r in requestors]
        self._requestors[number] = {e.lower() for e in emails if e}
        first = requestors[0] if requestors else {}
        email = emails[0] if emails else ""
        name = as_text(first.get("RealName"), "a name") or name_from_email(email) or "Unknown customer"
        self._names[number] = name
        tags: list[str] = []
        for cf in as_list(item.get("CustomFields"), "the custom fields"):
            cf = as_dict(cf, "a custom field")
            if as_text(cf.get("name"), "a custom field name").lower() in ("tags", "tag"):
                tags += [as_text(v, "a tag") for v in as_list(cf.get("values"), "tag values")]
        status = as_text(item.get("Status"), "a status")
        subject = clean_field(as_text(item.get("Subject"), "a subject")) or "(no subject)"
        try:
            created, updated = iso_time(item.get("Created")), iso_time(item.get("LastUpdated"))
        except ValueError as exc:
            raise HelpdeskPayloadError(f"Request Tracker sent an unreadable time ({exc}).") from exc
        return Ticket(
            id=0,
            workspace=self.workspace_id,
            number=number,
            subject=subject,
            customer_name=clean_field(name),
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
        item = as_dict(raw, "a ticket")
        # The single-ticket endpoint gives Requestor as ids (emails) unless expanded; normalise to the search shape.
        return self._ticket({**item, "id": item.get("id", number)})

    async def _messages(self, txns: list[Any]) -> tuple[dict[int, list[Message]], list[str], list[Ticket]]:
        """Messages by ticket number, errors, and the tickets we had to read to place them."""
        meta: dict[int, tuple[int, str, str, dict[str, Any]]] = {}
        errors: list[str] = []
        for raw in txns:
            try:
                t = as_dict(raw, "a transaction")
                txn_id = as_number(t.get("id"), "a transaction id")
                ticket = as_number(t.get("ObjectId"), "a ticket id")
                kind = as_text(t.get("Type"), "a transaction type")
                creator = t.get("Creator")
                meta[txn_id] = (ticket, kind, iso_time(t.get("Created")), creator if isinstance(creator, dict) else {})
            except (HelpdeskPayloadError, ValueError) as exc:
                errors.append(f"transaction {label_of(raw)}: {exc}")
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
            body, body_format = body_text(parts.get(txn_id, []))
            if not body.strip():
                continue  # e.g. a status change made through the correspond form without text
            email = as_text(creator.get("EmailAddress"), "an email").lower()
            from_requestor = email in self._requestors.get(ticket, set())
            # A ticket's first message is the customer's request, even when an agent typed it in for them.
            customer = kind == "Create" or (kind == "Correspond" and from_requestor)
            author = as_text(creator.get("RealName"), "a name") or as_text(creator.get("Name"), "a name") or email
            if customer and not from_requestor:
                author = self._names.get(ticket, author)
            messages.setdefault(ticket, []).append(
                Message(
                    id=0,
                    ticket_id=0,
                    author=clean_field(author or "Unknown"),
                    role=Role.CUSTOMER if customer else Role.AGENT,
                    visibility=Visibility.INTERNAL if kind == "Comment" else Visibility.PUBLIC,
                    body=clean_field(body),
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
            answer = as_dict(self.http.parse_json(response), "the attachment search")
            items = as_list(answer.get("items"), "attachments")
            for raw in items:
                if not isinstance(raw, dict):
                    continue
                try:
                    txn = as_number(raw.get("TransactionId"), "a transaction id")
                except HelpdeskPayloadError:
                    continue
                found.setdefault(txn, []).append(raw)
            if len(items) < PAGE:
                return found
            page += 1

    async def _thread_after(self, ticket: Ticket, watermark: str, kind: str) -> list[tuple[int, str]]:
        found = as_dict(
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
            as_number(as_dict(t, "a transaction").get("id"), "a transaction id")
            for t in as_list(found.get("items"), "items")
        ]
        parts = await self._attachments(ids)
        return [(i, body_text(parts.get(i, []))[0]) for i in ids]

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
        try:
            posted = await self.find_posted(ticket, body, visibility, watermark)
        except HelpdeskError as exc:
            # The message is in RT; only its id is not. A plain read error would let the outbox post it again:
            # say the outcome is unknown, so the next attempt looks it up first (found in the reliability suite).
            raise HelpdeskUnreachable(
                f"The message reached {self.display_name}, but reading its id failed: {exc.message}",
                "The app looks it up before trying again; it is not sent twice.",
                outcome_unknown=True,
            ) from exc
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
            answer = as_dict(self.http.parse_json(response), "the article search")
            items = as_list(answer.get("items"), "articles")
            for raw in items:
                try:
                    out.append(self._article(raw))
                except HelpdeskPayloadError:
                    continue
            if len(items) < PAGE:
                return out
            page += 1

    def _article(self, raw: Any) -> ArticleInput:
        item = as_dict(raw, "an article")
        number = as_number(item.get("id"), "an article id")
        body = ""
        for cf in as_list(item.get("CustomFields"), "the article fields"):
            cf = as_dict(cf, "an article field")
            if as_text(cf.get("name"), "a field name") == "Content":
                body = "\n\n".join(as_text(v, "article content") for v in as_list(cf.get("values"), "content"))
        title = clean_field(as_text(item.get("Name"), "an article name")) or f"Article {number}"
        summary = as_text(item.get("Summary"), "a summary")
        text = body or summary
        text = as_plain_text(text)
        return ArticleInput(id=self.article_id(number), title=title, body=clean_field(text))

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
