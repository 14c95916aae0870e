"""The hard line: no Qt (and no litellm) is loaded by any module outside copilot/ui."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _modules_outside_ui() -> list[str]:
    names = []
    for path in sorted((REPO / "copilot").rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[1:2] == ["ui"] or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_no_qt_or_litellm_outside_ui() -> None:
    modules = _modules_outside_ui()
    assert "copilot.cli" in modules and "copilot.app" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'qasync', 'litellm'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == ""


def test_ui_modules_do_load_qt() -> None:
    """The check above would pass vacuously if the import scan were broken; prove it can see Qt."""
    code = "import sys, copilot.ui.widgets.inbox; print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "True"


def test_the_builtin_assist_does_not_load_litellm(tmp_path: Path) -> None:
    """litellm is ~170 MB of the window's memory; it loads when a model is configured and called, not before."""
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from copilot.app import build_services\n"
        "from copilot.assist.ticket_assist import assist_builtin\n"
        "from copilot.assist.workspace import open_workspace\n"
        "from copilot.store.tickets import all_tickets\n"
        "async def main():\n"
        "    s = build_services(Path(sys.argv[1]))\n"
        "    await open_workspace(s, 'demo')\n"
        "    ticket = (await s.store.run(all_tickets, s.store.db, 'demo'))[0]\n"
        "    result = await assist_builtin(s, ticket.id)\n"
        "    print(result.ticket.id == ticket.id, 'litellm' in sys.modules)\n"
        "    s.close()\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "home")], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "False"]
