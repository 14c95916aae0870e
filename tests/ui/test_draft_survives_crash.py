"""Type into the draft in a real app process, kill it hard, and find the text again after a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from copilot.app import build_services
from copilot.store.drafts import load_draft
from copilot.store.tickets import find_ticket
from tests.conftest import REPO

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    import qasync
    from PySide6.QtWidgets import QApplication
    from copilot.app import build_services
    from copilot.store.tickets import find_ticket
    from copilot.ui.main_window import MainWindow

    async def work(w):
        w.start()
        while w.inbox.model.rowCount() == 0:
            await asyncio.sleep(0.05)
        t = w.services.store.run_sync(find_ticket, w.services.store.db, "demo", 5)
        w.inbox.select_ticket(t.id)
        while w.result is None:
            await asyncio.sleep(0.05)
        w.panel.editor.setFocus()
        w.panel.editor.moveCursor(w.panel.editor.textCursor().MoveOperation.End)
        w.panel.editor.insertPlainText("\\nAGENT TEXT THAT MUST SURVIVE")
        await asyncio.sleep(2.0)  # the autosave promise: within about 2 s
        print("killing", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    app = QApplication(sys.argv)
    services = build_services(Path(sys.argv[1]))
    loop = qasync.QEventLoop(app)
    w = MainWindow(services, "demo", loop)
    w.show()
    with loop:
        loop.run_until_complete(work(w))
    """
)


def test_draft_survives_a_kill(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(home)], capture_output=True, text=True, env=env, timeout=120, cwd=REPO
    )
    assert proc.returncode == -9, proc.stderr
    services = build_services(home)
    try:
        ticket = services.store.run_sync(find_ticket, services.store.db, "demo", 5)
        draft = services.store.run_sync(load_draft, services.store.db, ticket.id)
        assert draft is not None and draft.body.endswith("AGENT TEXT THAT MUST SURVIVE")
        assert draft.ai_body and "AGENT TEXT" not in draft.ai_body
    finally:
        services.close()
