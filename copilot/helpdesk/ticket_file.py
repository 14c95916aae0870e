"""Tickets from a file: the demo's own shape (one JSON object per line, or `{"tickets": [...]}`), and Zendesk's
JSON ticket export converted to it. Every line is checked before anything is used; a bad one is named.

The demo's shape: `id` (or `number`), `subject`, `customer {name, email}`, optional `language`, `status`,
`tags`, `messages [{from: customer|agent|note, body, internal?}]`, optional `intent` and `gold` (what the
evaluation scores against); a message with `format: html` is read as plain text (scripts dropped), as a help
desk's is, and so is a body or subject without a `format` that is HTML markup (a help desk's export). Zendesk's export: `id`, `subject`, `status`, `tags`, `requester_id` (or a `requester {id, name,
email}` object) and `comments [{author_id, plain_body | body | html_body, public}]`; a comment by the requester
is the customer's, any other is an agent's, and a private one is an internal note."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copilot.domain import Message, Role, Ticket, Visibility
from copilot.engine.signals import RULES
from copilot.engine.text import detect_language
from copilot.errors import ImportFileError
from copilot.helpdesk.html_text import html_to_text, looks_like_html

_NOTHING = "Nothing was imported."
GOLD_KEYS = frozenset({"articles", "intent", "sentiment", "flags", "must_include", "must_not_include"})
# The flags gold may name: the kinds the copilot raises (negative sentiment is scored as `sentiment`, not a flag).
FLAG_KINDS = tuple(sorted({rule.kind for rule in RULES} | {"repeated_contact"}))
SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class TicketRecord:
    """One ticket read from a file, not yet in any workspace (its `workspace` is ""), and its gold if any."""

    ticket: Ticket
    gold: dict[str, Any] = field(default_factory=dict)


def read_ticket_file(path: Path, now: datetime | None = None) -> list[TicketRecord]:
    """Every ticket in the file, or ImportFileError naming the first bad line (nothing is half-read)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name}: not valid UTF-8 text.", _NOTHING) from exc
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.", _NOTHING) from exc
    moment = now or datetime.now(UTC)
    objects = _objects(text, path.name)
    if not objects:
        raise ImportFileError(f"{path.name} holds no tickets.", "Give one JSON object per line.")
    records: list[TicketRecord] = []
    seen: dict[int, str] = {}
    for where, obj in objects:
        record = parse_ticket(obj, where, moment)
        number = record.ticket.number
        if number in seen:
            raise ImportFileError(f"{where}: ticket {number} appears twice (also {seen[number]}).", _NOTHING)
        seen[number] = where
        records.append(record)
    return records


def _objects(text: str, name: str) -> list[tuple[str, Any]]:
    """(where, object) for each ticket: a whole-file `{"tickets": [...]}` document, or one object per line."""
    stripped = text.strip()
    if stripped.startswith("{") and "\n" in stripped:
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict) and isinstance(whole.get("tickets"), list):
            return [(f"{name}, ticket {i}", obj) for i, obj in enumerate(whole["tickets"], start=1)]
    out: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        try:
            out.append((where, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{where}: not valid JSON ({exc.msg}).", _NOTHING) from exc
    return out


def parse_ticket(obj: Any, where: str, now: datetime) -> TicketRecord:
    if not isinstance(obj, dict):
        raise ImportFileError(f"{where}: expected a JSON object (a ticket).", _NOTHING)
    if "comments" in obj or "requester_id" in obj:
        obj = _from_zendesk(obj, where)
    number = obj.get("id", obj.get("number"))
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number)
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise ImportFileError(f"{where}: 'id' must be a positive ticket number.", _NOTHING)
    subject = _plain(_text(obj, "subject", where), where, "subject")
    customer = obj.get("customer")
    if not isinstance(customer, dict):
        raise ImportFileError(f"{where}: 'customer' must be an object with name and email.", _NOTHING)
    name = _plain(_text(customer, "name", where, "customer.name"), where, "customer.name")
    email = str(customer.get("email") or "")
    raw_messages = obj.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise ImportFileError(f"{where}: 'messages' must be a non-empty list.", _NOTHING)
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ImportFileError(f"{where}: 'tags' must be a list of strings.", _NOTHING)
    age = obj.get("age_hours", 0)
    if not isinstance(age, int | float) or isinstance(age, bool) or age < 0:
        raise ImportFileError(f"{where}: 'age_hours' must be a number of hours.", _NOTHING)
    created = now - timedelta(hours=float(age))
    step = timedelta(hours=float(age) * 0.8 / len(raw_messages))
    messages = tuple(_message(m, i, where, name, created + step * i) for i, m in enumerate(raw_messages, start=1))
    customer_text = " ".join(m.body for m in messages if m.role is Role.CUSTOMER)
    language = obj.get("language") or detect_language(f"{subject} {customer_text}")
    gold = check_gold(obj.get("gold") or {}, where)
    ticket = Ticket(
        id=0,
        workspace="",
        number=number,
        subject=subject,
        customer_name=name,
        customer_email=email,
        status=str(obj.get("status") or "open"),
        created_at=_iso(created),
        updated_at=messages[-1].created_at,
        tags=tuple(tags),
        intent=str(obj.get("intent") or ""),
        language=str(language),
        messages=messages,
    )
    return TicketRecord(ticket, gold)


def check_gold(gold: Any, where: str) -> dict[str, Any]:
    """A ticket's gold, refused (naming `where`) when a value could never be matched: it would score 0 silently.
    Intents are the team's own names, so any is taken."""
    if not isinstance(gold, dict) or not set(gold) <= GOLD_KEYS:
        raise ImportFileError(f"{where}: 'gold' may only hold {', '.join(sorted(GOLD_KEYS))}.", _NOTHING)
    flags = gold.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ImportFileError(f"{where}: gold 'flags' must be a list of flag kinds.", _NOTHING)
    unknown = [f for f in flags if f not in FLAG_KINDS]
    if unknown:
        names = ", ".join(repr(f) for f in unknown)
        raise ImportFileError(
            f"{where}: gold 'flags' names an unknown flag kind ({names}). Known kinds: {', '.join(FLAG_KINDS)}.",
            _NOTHING,
        )
    sentiment = gold.get("sentiment")
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise ImportFileError(
            f"{where}: gold 'sentiment' must be {', '.join(SENTIMENTS)} (not {sentiment!r}).", _NOTHING
        )
    return gold


def _message(raw: Any, index: int, where: str, customer: str, at: datetime) -> Message:
    here = f"{where}, message {index}"
    if not isinstance(raw, dict):
        raise ImportFileError(f"{here}: expected an object with from and body.", _NOTHING)
    who = raw.get("from")
    if who not in ("customer", "agent", "note"):
        raise ImportFileError(f"{here}: 'from' must be customer or agent.", _NOTHING)
    body = raw.get("body")
    if not isinstance(body, str) or not body.strip():
        raise ImportFileError(f"{here}: 'body' must be non-empty text.", _NOTHING)
    body_format = str(raw.get("format") or ("html" if looks_like_html(body) else "text"))
    if body_format not in _FORMATS:
        raise ImportFileError(f"{here}: 'format' must be {', '.join(_FORMATS)}.", _NOTHING)
    if body_format == "html":  # the engine reads text: markup would reach the summary and the draft
        body, body_format = html_to_text(body), "text"
        if not body:
            raise ImportFileError(f"{here}: the HTML 'body' holds no text.", _NOTHING)
    internal = who == "note" or bool(raw.get("internal"))
    role = Role.CUSTOMER if who == "customer" else Role.AGENT
    author = customer if role is Role.CUSTOMER else str(raw.get("author") or "Agent")
    visibility = Visibility.INTERNAL if internal else Visibility.PUBLIC
    return Message(0, 0, author, role, visibility, body, body_format, _iso(at))


_FORMATS = ("text", "markdown", "html")


def _from_zendesk(obj: dict[str, Any], where: str) -> dict[str, Any]:
    """A ticket of Zendesk's JSON export in the demo's shape."""
    comments = obj.get("comments")
    if not isinstance(comments, list) or not comments:
        description = obj.get("description")
        if not isinstance(description, str) or not description.strip():
            raise ImportFileError(f"{where}: a Zendesk ticket needs 'comments' (or a 'description').", _NOTHING)
        comments = [{"author_id": obj.get("requester_id"), "body": description, "public": True}]
    given = obj.get("requester")
    requester: dict[str, Any] = given if isinstance(given, dict) else {}
    requester_id = obj.get("requester_id", requester.get("id"))
    if requester_id is None and not requester.get("name"):
        raise ImportFileError(
            f"{where}: a Zendesk ticket needs 'requester_id' (or a 'requester' object with id and name).", _NOTHING
        )
    messages: list[dict[str, Any]] = []
    for i, comment in enumerate(comments, start=1):
        if not isinstance(comment, dict):
            raise ImportFileError(f"{where}, comment {i}: expected an object.", _NOTHING)
        body, body_format = _comment_body(comment, f"{where}, comment {i}")
        # Exports mix 123 and "123" for the same person: compare ids as text.
        by_customer = str(comment.get("author_id")) == str(requester_id)
        public = comment.get("public", True) is not False
        messages.append(
            {
                "from": "customer" if by_customer else ("agent" if public else "note"),
                "body": body,
                "format": body_format,
                "author": "" if by_customer else f"Agent {comment.get('author_id', '')}".strip(),
            }
        )
    name = requester.get("name") or (f"Requester {requester_id}" if requester_id is not None else "")
    converted: dict[str, Any] = {
        "id": obj.get("id"),
        "subject": obj.get("subject") or obj.get("raw_subject") or "",
        "customer": {"name": name, "email": requester.get("email", "")},
        "status": _ZENDESK_STATUS.get(str(obj.get("status", "open")), "open"),
        "tags": obj.get("tags") or [],
        "messages": messages,
    }
    for key in ("language", "intent", "gold"):
        if key in obj:
            converted[key] = obj[key]
    return converted


def _comment_body(comment: dict[str, Any], where: str) -> tuple[str, str]:
    """A Zendesk comment's text and its format: `plain_body`, `body` or `value` (read as HTML when it is markup,
    "" = decided from the text), else `html_body`."""
    for key in ("plain_body", "body", "value"):
        text = comment.get(key)
        if isinstance(text, str) and text.strip():
            return text, "text" if key == "plain_body" else ""
    markup = comment.get("html_body")
    if isinstance(markup, str) and markup.strip():
        return markup, "html"
    raise ImportFileError(f"{where}: needs text in 'plain_body', 'body' or 'html_body'.", _NOTHING)


_ZENDESK_STATUS = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "pending",
    "solved": "resolved",
    "closed": "resolved",
}


def _text(obj: dict[str, Any], key: str, where: str, label: str = "") -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ImportFileError(f"{where}: '{label or key}' must be non-empty text.", _NOTHING)
    return value.strip()


def _plain(value: str, where: str, label: str) -> str:
    """A subject or a name as plain text: a help desk's export may carry them as HTML."""
    if not looks_like_html(value):
        return value
    text = " ".join(html_to_text(value).split())
    if not text:
        raise ImportFileError(f"{where}: the HTML '{label}' holds no text.", _NOTHING)
    return text


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def ticket_object(ticket: Ticket, gold: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stored ticket in the demo's shape (what `read_ticket_file` reads back), with its gold when given."""
    messages = [
        {
            "from": "customer"
            if m.role is Role.CUSTOMER
            else ("note" if m.visibility is Visibility.INTERNAL else "agent"),
            "body": m.body,
            **({} if m.role is Role.CUSTOMER else {"author": m.author}),
        }
        for m in ticket.messages
    ]
    obj: dict[str, Any] = {
        "id": ticket.number,
        "subject": ticket.subject,
        "customer": {"name": ticket.customer_name, "email": ticket.customer_email},
        "language": ticket.language,
        "status": ticket.status,
        "tags": list(ticket.tags),
        "messages": messages,
    }
    if gold:
        obj["gold"] = gold
    return obj
