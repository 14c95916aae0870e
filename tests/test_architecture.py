"""The hard line: no Qt (and no litellm) is loaded by any module outside copilot/ui."""

from __future__ import annotations

import subprocess
import sys

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
