"""The help-desk commands' status options, and `workspace add` built from the fields each kind declares."""

from __future__ import annotations

import asyncio
import io
import json

import pytest

from copilot.app import build_services
from copilot.assist.workspace import open_workspace
from copilot.cli import main
from copilot.helpdesk.registry import KINDS
from copilot.store import outbox
from copilot.store.tickets import find_ticket


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def demo_in_the_store() -> None:
    """The demo's tickets in the store (its first open imports and encodes them: one per test file is enough)."""
    services = build_services()
    try:
        asyncio.run(open_workspace(services, "demo"))
    finally:
        services.close()


def _status_and_outbox(number: int) -> tuple[str, list[tuple[str, str, str]]]:
    services = build_services()
    try:
        ticket = services.store.run_sync(find_ticket, services.store.db, "demo", number)
        items = services.store.run_sync(outbox.items, services.store.db, "demo")
        return ticket.status, [(i.kind.value, i.body, i.state.value) for i in items]
    finally:
        services.close()


@pytest.mark.usefixtures("demo_in_the_store")
def test_reply_then_set_pending_and_the_status_command_go_through_the_outbox() -> None:
    code, out, err = run("reply", "demo", "3", "--text", "Refund issued.", "--status", "pending")
    assert code == 0, err
    assert "Reply sent to #3" in out and "Status set to pending." in out
    status, items = _status_and_outbox(3)
    assert status == "pending"
    assert items == [("reply", "Refund issued.", "sent"), ("status", "pending", "sent")]

    code, out, err = run("status", "demo", "5", "solved", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["kind"], data["text"], data["state"]) == ("status", "resolved", "sent")
    assert _status_and_outbox(5)[0] == "resolved"
    code, out, err = run("status", "demo", "5", "open")
    assert code == 0 and "#5 is now open." in out, err


def test_status_of_an_unknown_ticket_is_a_clear_error() -> None:
    code, _, err = run("status", "demo", "999", "pending")
    assert code == 2 and "#999" in err and "Traceback" not in err


def test_an_unknown_status_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        run("status", "demo", "5", "closed-forever")


def test_workspace_add_offers_the_registry_kinds_and_their_declared_fields(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run("workspace", "add", "--help")
    text = capsys.readouterr().out
    for kind in KINDS.values():
        assert f"{kind.kind}: {kind.label}" in text
        for field in kind.fields:
            assert field.option in text
    with pytest.raises(SystemExit):
        run("workspace", "add", "acme", "--type", "zendesk-not-yet", "--url", "https://x", "--user", "u")
