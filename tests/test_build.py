"""Build the one-folder bundle with build.spec and start the frozen app once, headless."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.llm_server import LLMServer


@pytest.mark.slow
def test_frozen_app_builds_and_runs(tmp_path: Path) -> None:
    if shutil.which("pyinstaller", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("PyInstaller is not installed (it is in the dev extra)")
    dist, work = tmp_path / "dist", tmp_path / "build"
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(REPO / "build.spec")],
        check=True, cwd=REPO, timeout=900,
    )  # fmt: skip
    exe = dist / "support-copilot" / ("support-copilot.exe" if os.name == "nt" else "support-copilot")
    env = {**os.environ, "COPILOT_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    headless = subprocess.run([exe, "assist", "3", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert headless.returncode == 0, headless.stderr
    assert json.loads(headless.stdout)["suggestions"][0]["article_id"] == "billing-double-charge"
    # litellm inside the bundle: a routed run against a real OpenAI-compatible server on 127.0.0.1.
    server = LLMServer()
    server.responder = lambda body: "Hi Marcus, we are on it [1]."
    try:
        routed = subprocess.run(
            [exe, "assist", "3", "--json", "--model", "tiny", "--api-base", server.api_base],
            capture_output=True, text=True, env={**env, "COPILOT_API_KEY": "sk-frozen"}, timeout=180,
        )  # fmt: skip
    finally:
        server.close()
    assert routed.returncode == 0, routed.stderr
    assert json.loads(routed.stdout)["outputs"]["draft"]["routing"]["model"] == "cli/tiny", routed.stdout[-2000:]
    # The GUI starts, opens the demo workspace and keeps running until we stop it.
    gui = subprocess.Popen([exe], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            gui.wait(timeout=8)
    finally:
        gui.terminate()
        _out, err = gui.communicate(timeout=10)
    assert "Traceback" not in err
