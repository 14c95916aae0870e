"""`support-copilot triage`: labelled examples that teach triage (a team's export of past tickets)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from copilot.cli.common import with_services
from copilot.helpdesk.demo import DEMO_WORKSPACE

if TYPE_CHECKING:
    from copilot.services import Services

COMMANDS = ("triage",)


def add_parsers(sub: Any) -> None:
    tr = sub.add_parser("triage", help="labelled examples that teach triage").add_subparsers(
        dest="triage_command", metavar="ACTION", required=True
    )
    ti = tr.add_parser("import", help='import JSON Lines {"id","text","label"}: an export of past tickets')
    ti.add_argument("path", type=Path)
    ti.add_argument("--workspace", default=DEMO_WORKSPACE)
    ti.add_argument("--replace", action="store_true", help="forget the examples imported before")
    tl = tr.add_parser("labels", help="the imported examples per label")
    tl.add_argument("--workspace", default=DEMO_WORKSPACE)
    tl.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.labels import example_counts, import_examples

    async def work(services: Services) -> int:
        if args.triage_command == "import":
            count = await import_examples(services, args.path, args.workspace, replace_all=args.replace)
            out.write(f"Imported {count} labelled examples into '{args.workspace}'; triage learns from them now.\n")
            return 0
        counts = await example_counts(services, args.workspace)
        if args.json:
            out.write(json.dumps(counts, ensure_ascii=False, indent=2) + "\n")
        elif not counts:
            out.write(f"No imported examples in '{args.workspace}' (its labelled tickets still teach triage).\n")
        else:
            for label, n in counts.items():
                out.write(f"{n:6d}  {label}\n")
        return 0

    return with_services(args, work)
