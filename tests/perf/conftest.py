"""The perf tests print their figures with `capsys.disabled()`. An xdist worker's stdout is /dev/null, so there
the figures are captured instead and sent back on the test's report; tests/conftest.py prints them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def capsys(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Iterator[pytest.CaptureFixture[str]]:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield capsys
        return
    capsys.disabled = contextlib.nullcontext  # type: ignore[method-assign]
    yield capsys
    request.node.user_properties.append(("perf_output", capsys.readouterr().out))
