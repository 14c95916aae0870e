"""Shared fixtures: a fresh data folder per test, services on it, and the public evaluation data."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import tempfile
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

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
    if not hasattr(config, "workerinput") and not os.environ.get(LOCKS_ENV):  # the run itself, not an xdist worker
        folder = tempfile.mkdtemp(prefix="copilot-test-locks-")
        os.environ[LOCKS_ENV] = folder  # the workers start after this and inherit it
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


# --- Two workers (pytest-xdist, `-n 2 --dist loadgroup` in pyproject) -------------------------------------------
# Tests that use the Request Tracker server run on one worker (one server for them all, as in a serial run). A perf
# test measures alone: every test holds a shared lock while it runs, and a perf test's call (where it measures;
# its fixtures are set up and torn down under the shared lock like any test's) holds the exclusive one, so its
# figures and its own CPU burners never compete with the other worker. A turnstile lets a waiting perf test in
# ahead of the next test's shared lock. A perf test marked `untimed` (its figures are costs, not times) measures
# beside the other worker like any test. Without xdist nothing is locked.
LOCKS_ENV = "COPILOT_TEST_LOCKS"
_held: dict[str, Any] = {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The slow tests (a build, data-set evals, replays: minutes each) start first, so no worker is left with one of
    # them at the end while the other has nothing to do; the order is otherwise kept. Perf tests keep their places
    # (each holds the machine alone while it measures).
    items.sort(key=lambda item: item.get_closest_marker("slow") is None or item.get_closest_marker("perf") is not None)
    for item in items:
        if "rt_server" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("rt"))
        # `--dist loadgroup` sends tests whose id ends in @group to one worker. xdist 3.8's worker adds that suffix
        # by setting `item._nodeid`, which pytest 9.2 no longer reads (ids live in `item._id`): add it here.
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        if groups and hasattr(config, "workerinput") and "@" not in item.nodeid.rsplit("::", 1)[-1]:
            grouped = f"{item.nodeid}@{'_'.join(groups)}"
            if hasattr(item, "_id"):
                from _pytest.nodeid import coerce_node_id

                item._id = coerce_node_id(grouped)
            else:
                item._nodeid = grouped


def _locks() -> Path | None:
    folder = os.environ.get(LOCKS_ENV, "")
    return Path(folder) if folder and os.environ.get("PYTEST_XDIST_WORKER") else None


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outside pytest-timeout: waiting for the lock is not the test's time
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    folder = _locks()
    if folder is None:
        return (yield)
    with open(folder / "turnstile", "a") as turnstile, open(folder / "machine", "a") as machine:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        fcntl.flock(machine, fcntl.LOCK_SH)
        fcntl.flock(turnstile, fcntl.LOCK_UN)
        _held.update(turnstile=turnstile, machine=machine)
        try:
            return (yield)
        finally:
            _held.clear()
            fcntl.flock(machine, fcntl.LOCK_UN)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    if item.get_closest_marker("perf") is None or item.get_closest_marker("untimed") is not None or not _held:
        return (yield)
    turnstile, machine = _held["turnstile"], _held["machine"]
    paused = signal.setitimer(signal.ITIMER_REAL, 0)  # pytest-timeout's alarm: the wait is not the test's time
    fcntl.flock(machine, fcntl.LOCK_UN)  # holding nothing while waiting: no cycle with the other worker
    fcntl.flock(turnstile, fcntl.LOCK_EX)
    fcntl.flock(machine, fcntl.LOCK_EX)
    if paused[0]:
        signal.setitimer(signal.ITIMER_REAL, *paused)
    try:
        return (yield)
    finally:
        fcntl.flock(machine, fcntl.LOCK_SH)  # back to shared for the teardown; nobody else can hold it now
        fcntl.flock(turnstile, fcntl.LOCK_UN)


# A worker's stdout is /dev/null: the perf figures (tests/perf/conftest.py) and the reliability figures
# (tests/reliability/conftest.py) come back on the test reports as user properties and are printed here.
RELIABILITY: Counter[str] = Counter()
_terminal: list[Any] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _terminal[:] = [session.config.pluginmanager.get_plugin("terminalreporter")]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == "reliability_figures":
            RELIABILITY.update(value)
        elif name == "perf_output" and value and _terminal and _terminal[0] is not None:
            _terminal[0].write_line(f"\n{report.nodeid}:{value.rstrip()}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RELIABILITY:
        return
    terminalreporter.section("reliability figures")
    for name in sorted(RELIABILITY):
        terminalreporter.write_line(f"{name}: {RELIABILITY[name]}")


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
