"""The `support-copilot` command: the GUI by default, headless sub-commands for scripting and evaluation.
One module per command group declares its COMMANDS, adds its parsers and runs them. No Qt is imported here;
the GUI is loaded only when it is asked for."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TextIO

from copilot import __version__
from copilot.boundary import clean_text
from copilot.cli import assist, doctor, eval, helpdesk, kb, llm, review, settings, triage
from copilot.errors import as_copilot_error, log_if_bug
from copilot.helpdesk.demo import DEMO_WORKSPACE

log = logging.getLogger(__name__)
GROUPS: tuple[ModuleType, ...] = (assist, kb, triage, eval, helpdesk, llm, review, settings, doctor)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="support-copilot",
        description="A copilot beside your help desk. With no command, opens the desktop app.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--home", type=Path, help="data folder (default: your user data folder, or $COPILOT_HOME)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("--workspace", default=DEMO_WORKSPACE)
    for group in GROUPS:
        group.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.command in (None, "gui"):
            from copilot.app import run_gui

            return run_gui(workspace=getattr(args, "workspace", DEMO_WORKSPACE), home=args.home)
        group = next(g for g in GROUPS if args.command in g.COMMANDS)
        code: int = group.run(args, out)
        return code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        error = as_copilot_error(exc)
        log_if_bug(exc, log)
        err.write(f"error: {clean_text(error.user_text())}\n")
        return 1 if error.is_bug else 2


if __name__ == "__main__":
    raise SystemExit(main())
