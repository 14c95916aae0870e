"""Each test's reliability figures (faults, kills, cases, lost, doubled, crashes) go on its report; tests/conftest.py
adds them up and prints them at the end of the run (from every xdist worker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.summary import FIGURES


@pytest.fixture(autouse=True)
def _figures(request: pytest.FixtureRequest) -> Iterator[None]:
    before = FIGURES.copy()
    yield
    added = {
        name: FIGURES[name] - before.get(name, 0)
        for name in FIGURES
        if name not in before or FIGURES[name] != before[name]
    }
    if added:
        request.node.user_properties.append(("reliability_figures", added))
