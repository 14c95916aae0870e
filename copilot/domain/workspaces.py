"""Workspaces: which help desk each one talks to (the token lives in the OS keyring), and its sync state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FILE_KIND = "file"  # a workspace whose tickets came from files (`tickets import`), with no help desk behind it
KB_ONLY_KIND = "imported"  # made by a `kb import` into a workspace that did not exist: articles, no tickets


def no_helpdesk_reason(workspace: str) -> str:
    """Why a workspace made by a ticket import cannot sync or send, and what to do instead."""
    return (
        f"'{workspace}' has no help desk: its tickets came from a file, so there is nothing to sync and replies "
        f"cannot be sent from here (drafts are kept). To refresh the tickets, import the file again: "
        f"support-copilot tickets import FILE --workspace {workspace}"
    )


@dataclass(frozen=True)
class WorkspaceConfig:
    """A help-desk workspace as the user set it up. The token is in the OS keyring, never here."""

    id: str
    name: str
    kind: str
    url: str = ""
    username: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SkippedRecord:
    """A help-desk record a sync skipped (it could not be read or stored), and why."""

    record: str  # "ticket #12", "transaction #345"
    reason: str
    skipped_at: str

    def __str__(self) -> str:
        return f"{self.record}: {self.reason}"


@dataclass(frozen=True)
class SyncState:
    cursor: str
    last_sync_at: str
    offline_since: str
    last_error: str
