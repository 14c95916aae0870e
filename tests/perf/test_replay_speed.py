"""How long a replay takes, and whether the GUI's event loop stays free while one runs. Prints figures; never
fails on a slow machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from copilot.evaluation.vector_cache import ENV
from tests.assist.test_replay import answer
from tests.llm_server import LLMServer

pytestmark = pytest.mark.perf
REPO = Path(__file__).resolve().parents[2]

REPLAY = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from copilot.app import build_services
    from copilot.assist import regression
    from copilot.assist.replay import Candidate, replay
    from copilot.store import regression as cases_store

    async def main():
        services = build_services(Path(sys.argv[2]))
        cases = await regression.list_cases(services, "demo")  # seeds the demo set
        size = int(sys.argv[3])
        inputs = [cases_store.CaseInput(c.workspace, c.number, c.ticket, c.expect, c.source, c.kb_version)
                  for c in cases[:size]]
        await services.store.run(cases_store.add_cases, services.store.db, "some", inputs)
        gaps, last = [], [time.perf_counter()]
        tick = QTimer(); tick.setInterval(5)
        def beat():
            now = time.perf_counter(); gaps.append(now - last[0]); last[0] = now
        tick.timeout.connect(beat); tick.start()
        started = time.perf_counter()
        report = await replay(services, "some", Candidate(model="keeps", api_base=sys.argv[1]))
        tick.stop()
        gaps.sort()
        print("FIGURES", json.dumps({"cases": report.cases, "replay_s": round(time.perf_counter() - started, 1),
              "baseline_s": round(report.baseline.seconds, 1), "candidate_s": round(report.candidate.seconds, 1),
              "longest_loop_stall_ms": round((gaps[-1] - 0.005) * 1000, 1),
              "p99_loop_gap_ms": round(gaps[int(0.99 * len(gaps))] * 1000, 1)}), flush=True)
        services.close()

    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    with loop:
        loop.run_until_complete(main())
    """
)


@pytest.mark.parametrize("size", [50])
def test_replay_of_demo_cases_and_the_gui_loop_meanwhile(
    size: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = LLMServer()
    server.responder = answer
    try:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
        env.pop(ENV, None)  # as a user's app starts: every vector encoded, none read from the suite's vector cache
        out = subprocess.run(
            [sys.executable, "-c", REPLAY, server.api_base, str(tmp_path / "home"), str(size)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            cwd=REPO,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        line = next(line for line in out.stdout.splitlines() if line.startswith("FIGURES "))
        figures = json.loads(line.removeprefix("FIGURES "))
        with capsys.disabled():
            print(f"\nPERF replay of {size} demo cases (built-in vs a scripted model on 127.0.0.1): {figures}")
        assert figures["cases"] == size
    finally:
        server.close()
