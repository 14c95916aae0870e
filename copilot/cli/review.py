"""`support-copilot review week`: the weekly review's numbers, worst outputs and knowledge-base side, as text,
JSON or one self-contained HTML file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from copilot.cli.common import with_services

if TYPE_CHECKING:
    from copilot.services import Services

COMMANDS = ("review",)


def add_parsers(sub: Any) -> None:
    rv = sub.add_parser("review", help="the team lead's review").add_subparsers(
        dest="review_command", metavar="WHAT", required=True
    )
    wk = rv.add_parser("week", help="acceptance, edit ratio, flags, no-article rate and cost, week by week")
    wk.add_argument("--workspace", default="", help="one workspace (default: all)")
    wk.add_argument("--weeks", type=int, default=8, help="how many weeks back (default 8)")
    wk.add_argument("--json", action="store_true")
    wk.add_argument("--html", type=Path, metavar="FILE", help="also write the report as one HTML file")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def run(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.weekly_report import render_html
    from copilot.assist.weekly_review import weekly_review

    async def work(services: Services) -> int:
        review = await weekly_review(services, args.workspace, weeks=args.weeks)
        if args.html:
            args.html.write_text(render_html(review), encoding="utf-8")
        if args.json:
            out.write(json.dumps(review.as_json(), ensure_ascii=False, indent=2) + "\n")
            return 0
        active = [w for w in review.weeks if w.ai_outputs or w.drafts_sent or w.flags or w.tickets]
        if not active:
            where = f" in '{args.workspace}'" if args.workspace else ""
            out.write(
                f"No reviews yet: in the last {len(review.weeks)} weeks the copilot worked on no ticket{where}. "
                "The weekly figures fill in as tickets are opened and replies sent.\n"
            )
        else:
            out.write("week      outputs  sent  accepted  median edit  flags/100  no article  cost/ticket\n")
        if 0 < len(active) < len(review.weeks):
            quiet = len(review.weeks) - len(active)
            out.write(f"({quiet} of the last {len(review.weeks)} weeks had no copilot work and are left out)\n")
        for w in active:
            cost = "–" if w.cost_per_ticket is None else f"${w.cost_per_ticket:.4f}"
            flags = "–" if w.flags_per_100 is None else f"{w.flags_per_100:g}"
            out.write(
                f"{w.week}  {w.ai_outputs:7d}  {w.drafts_sent:4d}  {_pct(w.acceptance):>8}  "
                f"{_pct(w.median_edit_ratio):>11}  {flags:>9}  {_pct(w.no_article_rate):>10}  {cost:>11}\n"
            )
        if review.worst:
            out.write("\nWorst of the week\n")
            out.writelines(f"  {w.kind:17} #{w.ticket_number}  {w.subject}  ({w.why})\n" for w in review.worst)
        if review.probably_outdated:
            out.write("\nProbably outdated articles\n")
            out.writelines(f"  {a.title}  ({a.why})\n" for a in review.probably_outdated)
        if args.html:
            out.write(f"\nReport written to {args.html}\n")
        return 0

    return with_services(args, work)
