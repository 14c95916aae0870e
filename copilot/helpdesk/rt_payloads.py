"""Request Tracker's REST 2.0 payloads read safely: times, ids, texts, bodies and the cursor, each bad field a
clear per-record error (the connector in rt.py skips that record and keeps syncing)."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copilot.boundary import BoundaryError, check_date, check_id, clean_text
from copilot.domain import Message, Role, Ticket
from copilot.engine.text import detect_language
from copilot.errors import HelpdeskPayloadError, HelpdeskRejected
from copilot.helpdesk.html_text import html_to_text

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


def iso_time(value: Any) -> str:
    text = value.replace("Z", "+00:00") if isinstance(value, str) else value
    if isinstance(text, str) and len(text) >= 19 and text[10] == ":":  # RT's "2018-06-29:10:25Z" flavour
        text = text[:10] + "T" + text[11:]
    try:
        return check_date(text, "a time")
    except BoundaryError as exc:  # out of range (year 9999 minus a zone, year 1) or not a time at all
        raise ValueError(exc.message) from exc


def as_text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return clean_text(str(value))
    raise HelpdeskPayloadError(f"Request Tracker sent {what} as {type(value).__name__}, not text.")


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HelpdeskPayloadError(f"Request Tracker sent {what} as {type(value).__name__}, not an object.")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise HelpdeskPayloadError(f"Request Tracker sent {what} as {type(value).__name__}, not a list.")
    return value


def as_number(value: Any, what: str) -> int:
    try:
        return check_id(value, what)
    except BoundaryError as exc:  # not a number, not positive, or too large for the store (a 20-digit id)
        raise HelpdeskPayloadError(f"Request Tracker sent an unusable value: {exc.message}") from exc


def clean_field(text: str) -> str:
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


def readable_ids(txns: list[Any]) -> list[int]:
    ids = []
    for t in txns:
        with contextlib.suppress(HelpdeskPayloadError):
            ids.append(as_number(as_dict(t, "a transaction").get("id"), "a transaction id"))
    return ids


def name_from_email(email: str) -> str:
    """'jane.doe@example.com' -> 'Jane Doe': better in a greeting than the address."""
    local = email.split("@", 1)[0]
    words = [w for w in re.split(r"[._+-]+", local) if w and not w.isdigit()]
    return " ".join(w.capitalize() for w in words) if words else email


def quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def label_of(raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str | int):
        return f"#{raw['id']}"
    return "(unreadable)"


def body_text(parts: list[dict[str, Any]]) -> tuple[str, str]:
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
