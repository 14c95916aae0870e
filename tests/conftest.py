"""Shared fixtures: a fresh data folder per test, services on it, and the public evaluation data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from copilot.app import Services, build_services

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("COPILOT_DATA", REPO.parent / "shared" / "data"))
EVAL = DATA / "eval"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("COPILOT_HOME", str(home))
    return home


@pytest.fixture
def services(_isolated_home: Path) -> Iterator[Services]:
    s = build_services(_isolated_home)
    yield s
    s.close()


@pytest.fixture
def eval_dir() -> Path:
    if not EVAL.is_dir():
        pytest.skip(f"evaluation data not found at {EVAL} (set COPILOT_DATA)")
    return EVAL
