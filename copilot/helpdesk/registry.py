"""The help desks the app can talk to. A new one is a module with a Connector class and one entry here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import ValidationError
from copilot.helpdesk.base import Connector, FormField


@dataclass(frozen=True)
class HelpdeskKind:
    kind: str
    label: str
    url_example: str
    token_label: str
    factory: Callable[[WorkspaceConfig, Callable[[], str]], Connector]
    fields: tuple[FormField, ...] = ()  # what it needs beyond address, user and token


def form_fields() -> list[FormField]:
    """Every declared field once (two kinds may share one, e.g. a queue), for the CLI's options."""
    seen: dict[str, FormField] = {}
    for kind in KINDS.values():
        for f in kind.fields:
            seen.setdefault(f.name, f)
    return list(seen.values())


def _rt(config: WorkspaceConfig, token: Callable[[], str]) -> Connector:
    from copilot.helpdesk.rt import RTConnector

    return RTConnector(config, token)


RT_QUEUE = FormField(
    "queues", "Queue", "Which queue to sync; empty: all queues you can see. Test the connection to list them.",
    "--queue", many=True, suggest="queues",
)  # fmt: skip

KINDS: dict[str, HelpdeskKind] = {
    "rt": HelpdeskKind(
        "rt", "Request Tracker 5", "https://rt.example.com", "API token (Settings → Auth Tokens)", _rt, (RT_QUEUE,)
    ),
}


def make_connector(config: WorkspaceConfig, token: Callable[[], str]) -> Connector:
    kind = KINDS.get(config.kind)
    if kind is None:
        raise ValidationError(
            f"Support Copilot cannot talk to a help desk of type '{config.kind}'.",
            f"Known types: {', '.join(KINDS)}.",
        )
    return kind.factory(config, token)
