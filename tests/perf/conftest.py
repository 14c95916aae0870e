"""The perf tests print their figures with `capsys.disabled()`. An xdist worker's stdout is /dev/null, so there
the figures are captured instead and sent back on the test's report; tests/conftest.py prints them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from copilot.assist.indexing import refresh_vectors
from copilot.assist.workspace import open_workspace
from copilot.services import Services


@pytest.fixture
def capsys(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Iterator[pytest.CaptureFixture[str]]:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield capsys
        return
    capsys.disabled = contextlib.nullcontext  # type: ignore[method-assign]
    yield capsys
    request.node.user_properties.append(("perf_output", capsys.readouterr().out))


@pytest.fixture
async def demo_services(services: Services) -> Services:
    """`services` with the demo workspace opened and its vectors made (the default path: hybrid suggestions), in
    the set-up: under xdist a perf test holds the machine alone only while it measures (its call), and seeding the
    demo is not what it measures."""
    await open_workspace(services, "demo")
    await refresh_vectors(services, "demo")
    return services
