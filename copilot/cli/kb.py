"""`support-copilot kb`: import articles, search them, and see where the knowledge base has gaps."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from copilot.cli.common import with_services
from copilot.helpdesk.demo import DEMO_WORKSPACE

if TYPE_CHECKING:
    from copilot.services import Services

COMMANDS = ("kb",)


def add_parsers(sub: Any) -> None:
    kb = sub.add_parser("kb", help="the knowledge base").add_subparsers(
        dest="kb_command", metavar="ACTION", required=True
    )
    imp = kb.add_parser("import", help="import a folder of Markdown files or a JSON Lines file {id,title,body}")
    imp.add_argument("path", type=Path)
    imp.add_argument("--workspace", default=DEMO_WORKSPACE)
    g = kb.add_parser("gaps", help='where agents got "No good article": tickets grouped by topic')
    g.add_argument("--workspace", default=DEMO_WORKSPACE)
    g.add_argument("--json", action="store_true")
    s = kb.add_parser("search", help="search the knowledge base")
    s.add_argument("query")
    s.add_argument("--workspace")
    s.add_argument("--limit", type=int, default=5)
    s.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.indexing import refresh_vectors
    from copilot.assist.knowledge import import_kb, knowledge_gaps, search_kb
    from copilot.assist.workspace import open_workspace

    async def work(services: Services) -> int:
        if args.kb_command == "import":
            created, updated = await import_kb(services, args.path, args.workspace)
            out.write(f"Imported {created} new and {updated} changed articles into '{args.workspace}'.\n")
            return 0
        if args.kb_command == "gaps":
            gaps = await knowledge_gaps(services, args.workspace)
            if args.json:
                out.write(json.dumps([asdict(g) for g in gaps], ensure_ascii=False, indent=2) + "\n")
            elif not gaps:
                out.write("No gaps: every ticket the copilot has seen had an article above the weak threshold.\n")
            for gap in [] if args.json else gaps:
                examples = "; ".join(f"#{n} {subject}" for n, subject in gap.examples)
                out.write(f"{gap.tickets:4d}  {gap.topic}  (best match {gap.best_confidence:.0%})  {examples}\n")
                if gap.words:
                    out.write(f"      words: {', '.join(gap.words)}\n")
            return 0
        if args.workspace in (None, DEMO_WORKSPACE):
            await open_workspace(services, DEMO_WORKSPACE)
        await refresh_vectors(services, args.workspace)
        hits = await search_kb(services, args.query, args.workspace, args.limit)
        if args.json:
            out.write(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, indent=2, default=list) + "\n")
        elif not hits:
            out.write("No article matches.\n")
        else:
            for h in hits:
                out.write(f"{h.confidence:.0%}  {h.title}  [{h.article_id}]\n      {h.passage[:160]}\n")
        return 0

    return with_services(args, work)
