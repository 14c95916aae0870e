"""Adding, listing and removing help-desk workspaces; the token never touches the database."""

from __future__ import annotations

import pytest

from copilot.app import build_services
from copilot.assist.workspace import list_workspaces, remove_workspace, save_workspace
from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import ValidationError
from copilot.services import Services
from tests.conftest import MemoryKeyring


async def test_token_goes_to_the_keyring_only(services: Services, memory_keyring: MemoryKeyring) -> None:
    config = WorkspaceConfig("acme", "Acme", "rt", "http://127.0.0.1:9", "agent1", {"queues": ["Support"]})
    await save_workspace(services, config, "1-27-very-secret-token")
    assert memory_keyring.secrets == {("support-copilot", "helpdesk/acme"): "1-27-very-secret-token"}
    services.store.checkpoint()
    raw = b"".join(p.read_bytes() for p in services.paths.database.parent.glob("copilot.db*"))
    assert b"very-secret" not in raw
    names = [w.config.id for w in await list_workspaces(services)]
    assert names == ["demo", "acme"]
    # A restart brings the workspace back, with its token read lazily from the keyring.
    again = build_services(services.paths.home)
    try:
        assert (
            again.connector("acme").display_name == "Acme"
            and (again.connectors.token("acme") or (lambda: ""))() == "1-27-very-secret-token"
        )
    finally:
        again.close()
    await remove_workspace(services, "acme")
    assert memory_keyring.secrets == {} and "acme" not in services.connectors


@pytest.mark.parametrize(
    ("name", "kind", "url"),
    [
        ("Acme Corp", "rt", "http://x"),
        ("demo", "rt", "http://x"),
        ("acme", "zendesk", "http://x"),
        ("acme", "rt", "rt.example.com"),
    ],
)
async def test_bad_settings_are_refused_before_anything_is_saved(
    services: Services, name: str, kind: str, url: str
) -> None:
    with pytest.raises(ValidationError):
        await save_workspace(services, WorkspaceConfig(name, name, kind, url, "u"), "t")
    assert [w.config.id for w in await list_workspaces(services)] == ["demo"]


async def test_removing_a_workspace_with_unsent_work_refuses_and_names_it(services: Services) -> None:
    from copilot.domain import Ticket
    from copilot.errors import UnsentWorkError
    from copilot.store import drafts, outbox, review, tickets

    config = WorkspaceConfig("acme", "Acme", "rt", "http://127.0.0.1:9", "agent1", {"queues": ["Support"]})
    await save_workspace(services, config, "tok")

    def _work(db: object) -> None:
        t = Ticket(0, "acme", 41, "Printer", "Ana", "ana@example.com", "open", "2026-01-01", "2026-01-01")
        u = Ticket(0, "acme", 42, "Login", "Bo", "bo@example.com", "open", "2026-01-01", "2026-01-01")
        first, second = tickets.upsert_ticket(services.store.db, t), tickets.upsert_ticket(services.store.db, u)
        drafts.save_draft(services.store.db, first, "half a reply", "", None)
        review.record_open(services.store.db, first)  # the weekly review's time to reply: it goes too
        outbox.enqueue(services.store.db, "acme", second, outbox.OutboxKind.REPLY, "queued", "agent1")

    await services.store.run(_work, None)
    with pytest.raises(UnsentWorkError) as info:
        await remove_workspace(services, "acme")
    assert "an undelivered reply on ticket #42" in info.value.message
    assert "a draft on ticket #41" in info.value.message and "--force" in info.value.hint
    assert "acme" in [w.config.id for w in await list_workspaces(services)]  # nothing was deleted
    await remove_workspace(services, "acme", force=True)
    assert "acme" not in [w.config.id for w in await list_workspaces(services)]
    assert services.store.db.execute("SELECT count(*) FROM ticket_opens").fetchone()[0] == 0
