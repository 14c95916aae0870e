"""A real Request Tracker 5 for the integration tests: set up once per session, bound to 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.rt_server import RTServer, rt_installed


@pytest.fixture(scope="session")
def rt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTServer]:
    if not rt_installed():
        message = "Request Tracker 5 is not installed (Debian: request-tracker5 rt5-db-sqlite rt5-standalone; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = RTServer(Path(tmp_path_factory.mktemp("rt")))
    server.setup()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def rt(rt_server: RTServer) -> RTServer:
    if not rt_server.running:  # a test that stopped it and failed before starting it again
        rt_server.start()
    return rt_server
