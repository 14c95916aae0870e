"""Secrets never leave the keyring: a help desk that echoes our Authorization header back (in a 401 or a 500
body) must not get the token into the database, the log or stderr."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from copilot.app import build_services
from copilot.assist.workspace import save_workspace
from copilot.cli import main
from copilot.domain.workspaces import WorkspaceConfig
from copilot.errors import HelpdeskError
from copilot.scrub import HIDDEN, scrub
from tests.conftest import MemoryKeyring
from tests.reliability.summary import FIGURES

TOKEN = "1-77-c0ffee-very-secret-token"


class EchoingHelpdesk(BaseHTTPRequestHandler):
    """Answers every request with the configured status and a body that repeats the request's headers."""

    status = 500

    def do_GET(self) -> None:
        body = json.dumps({"message": f"failed for {dict(self.headers)}", "cookie": "Cookie: sid=abcdef123456"})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    do_POST = do_PUT = do_GET

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def echo_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingHelpdesk)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_scrubber_removes_credential_echoes() -> None:
    samples = {
        "Authorization: token 1-2-abcdef": "Authorization: [hidden]",
        "{'Authorization': 'Bearer abc.def.ghi'}": "{'Authorization': '[hidden]'}",
        "Cookie: sid=123; theme=dark": "Cookie: [hidden]",
        "https://x/api?api_key=sk123456&x=1": "https://x/api?api_key=[hidden]&x=1",
        '{"password": "hunter22"}': '{"password": "[hidden]"}',
        "key sk-abcdefghijklmnopqrstuv used": f"key {HIDDEN} used",
        "The token was refused. Paste a new API token.": "The token was refused. Paste a new API token.",
    }
    for raw, expected in samples.items():
        assert scrub(raw) == expected


@pytest.mark.parametrize("status", [401, 500])
def test_echoed_token_reaches_neither_database_nor_log_nor_stderr(
    status: int, echo_server: ThreadingHTTPServer, memory_keyring: MemoryKeyring
) -> None:
    home = Path(os.environ["COPILOT_HOME"])  # the per-test data folder (tests/conftest.py)
    EchoingHelpdesk.status = status
    url = f"http://127.0.0.1:{echo_server.server_address[1]}"

    async def in_the_app() -> None:
        from copilot.assist.sync import sync_workspace

        services = build_services(home)
        try:
            config = WorkspaceConfig("acme", "Acme", "rt", url, "agent1", {"queues": ["Support"]})
            await save_workspace(services, config, TOKEN)
            with pytest.raises(HelpdeskError) as info:
                await sync_workspace(services, "acme")
            assert TOKEN not in info.value.user_text()
            logging.getLogger("copilot.test").error("while syncing: Authorization: token %s", TOKEN)
            await services.connectors.get("acme").aclose()
        finally:
            services.close()

    asyncio.run(in_the_app())
    err = io.StringIO()
    for argv in (["sync", "acme"], ["sync", "acme", "--json"], ["workspace", "test", "acme"]):
        assert main(argv, io.StringIO(), err) != 0
    assert "error:" in err.getvalue()

    found = _everywhere(home) + err.getvalue()
    for leak in (TOKEN, "c0ffee", "sid=abcdef123456"):
        assert leak not in found, f"{leak} leaked"
    assert memory_keyring.secrets  # it is still where it belongs
    FIGURES["secrets: fault scenarios scanned"] += 1
    FIGURES["secrets: leaks found"] += 0


def _everywhere(home: Path) -> str:
    """Every byte the app wrote: database pages and rows, write-ahead log, log files."""
    text = []
    for path in sorted(home.rglob("*")):
        if path.is_file():
            text.append(path.read_bytes().decode("utf-8", "replace"))
    db = sqlite3.connect(home / "copilot.db")
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        text.extend(repr(row) for row in db.execute(f'SELECT * FROM "{table}"'))
    db.close()
    return "\n".join(text)
