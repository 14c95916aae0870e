"""Adding, listing and removing help-desk workspaces; the token never touches the database."""

from __future__ import annotations

import pytest

from copilot.app import Services, build_services
from copilot.assist.workspace import list_workspaces, remove_workspace, save_workspace
from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import ValidationError
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
        assert again.connector("acme").display_name == "Acme" and again.tokens["acme"]() == "1-27-very-secret-token"
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
