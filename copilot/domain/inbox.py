"""Inbox rows and the filter that selects them: what the inbox shows for each ticket."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InboxRow:
    ticket_id: int
    number: int
    subject: str
    customer: str
    status: str
    created_at: str
    updated_at: str
    sentiment: str
    urgent: bool
    flags: tuple[str, ...]
    has_draft: bool


@dataclass(frozen=True)
class InboxFilter:
    query: str = ""
    status: str = ""  # "" means any
    urgent_only: bool = False
    with_draft_only: bool = False


@dataclass(frozen=True)
class InboxPage:
    """The head of the inbox under a filter: the first tickets' ids in inbox order, the rows read so far (those
    and the open ticket's) and how many tickets the filter lists in all. The rest is read as it is scrolled to."""

    ids: tuple[int, ...]
    rows: tuple[InboxRow, ...]
    total: int
