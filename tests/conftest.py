"""Shared fixtures: a fresh data folder per test, services on it, and the public evaluation data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from copilot.app import build_services
from copilot.services import Services
from tests.integration.rt_server import RTServer, rt_installed
from tests.llm_server import LLMServer, serving

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("COPILOT_DATA", REPO.parent / "shared" / "data"))
EVAL = DATA / "eval"


def pytest_configure(config: pytest.Config) -> None:
    # The encoder's ONNX graph is built once into pytest's cache dir, not the user's cache (CI builds it once).
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider: the user's cache folder then
    if cache is not None:
        os.environ.setdefault("COPILOT_MODEL_CACHE", str(cache.mkdir("copilot-models")))
        # Encoded evaluation sets, keyed by the encoder's hash: a rerun encodes only what changed.
        os.environ.setdefault("COPILOT_EVAL_VECTORS", str(cache.mkdir("copilot-eval-vectors")))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("COPILOT_HOME", str(home))
    return home


class MemoryKeyring(keyring.backend.KeyringBackend):
    """The OS keyring stand-in for tests: secrets in a dict, gone with the test."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("COPILOT_HELPDESK_TOKEN", raising=False)
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def services(_isolated_home: Path) -> Iterator[Services]:
    s = build_services(_isolated_home)
    yield s
    s.close()


@pytest.fixture
def llm(request: pytest.FixtureRequest) -> Iterator[LLMServer]:
    """The local OpenAI-compatible test server, scripted by the test module's `answer(body) -> text` (when it
    has one; else it answers "OK"). Tests may change `llm.responder` or queue `llm.script` replies."""
    with serving(getattr(request.module, "answer", None)) as server:
        yield server


@pytest.fixture
def eval_dir() -> Path:
    if not EVAL.is_dir():
        pytest.skip(f"evaluation data not found at {EVAL} (set COPILOT_DATA)")
    return EVAL


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
