"""The help desks the app can talk to. A new one is a module with a Connector class and one entry here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import ValidationError
from copilot.helpdesk.base import Connector


@dataclass(frozen=True)
class HelpdeskKind:
    kind: str
    label: str
    url_example: str
    token_label: str
    factory: Callable[[WorkspaceConfig, Callable[[], str]], Connector]


def _rt(config: WorkspaceConfig, token: Callable[[], str]) -> Connector:
    from copilot.helpdesk.rt import RTConnector

    return RTConnector(config, token)


KINDS: dict[str, HelpdeskKind] = {
    "rt": HelpdeskKind("rt", "Request Tracker 5", "https://rt.example.com", "API token (Settings → Auth Tokens)", _rt),
}


def make_connector(config: WorkspaceConfig, token: Callable[[], str]) -> Connector:
    kind = KINDS.get(config.kind)
    if kind is None:
        raise ValidationError(
            f"Support Copilot cannot talk to a help desk of type '{config.kind}'.",
            f"Known types: {', '.join(KINDS)}.",
        )
    return kind.factory(config, token)
