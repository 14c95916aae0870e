"""`support-copilot assist`: the copilot for one ticket, as text or JSON."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from copilot.cli.common import with_services
from copilot.helpdesk.demo import DEMO_WORKSPACE

if TYPE_CHECKING:
    from copilot.domain import AssistResult, Suggestion
    from copilot.services import Services

COMMANDS = ("assist",)


def _drafted_by(result: AssistResult) -> str:
    """Who wrote the draft and, when a model was asked and the built-in engine answered, why."""
    routed = result.routing.get("draft") or {}
    if routed.get("tier", "built-in") != "built-in":
        return f"by {routed.get('model', 'a model')}"
    note = routed.get("note")
    return f"by the built-in engine; {note}" if note else "by the built-in engine"


def add_parsers(sub: Any) -> None:
    a = sub.add_parser("assist", help="summary, flags, triage, suggestions and a draft for one ticket")
    a.add_argument("ticket", type=int, help="the ticket number")
    a.add_argument("--workspace", default=DEMO_WORKSPACE, help="the ticket's workspace (default: the demo)")
    a.add_argument("--tone", choices=("friendly", "concise", "formal"))
    a.add_argument("--json", action="store_true", help="print JSON")
    choice = a.add_mutually_exclusive_group()
    choice.add_argument(
        "--use-article",
        metavar="ID",
        help="the article that answers this ticket: listed first and cited by the draft (replaces an earlier choice)",
    )
    choice.add_argument("--clear-article", action="store_true", help="undo --use-article: the ranking decides again")
    a.add_argument(
        "--model", help="one model for the cheap and frontier tiers (provider/model, or a model name with --api-base)"
    )
    a.add_argument(
        "--api-base", default="", help="an OpenAI-compatible endpoint for --model (key: keyring or COPILOT_API_KEY)"
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist import knowledge
    from copilot.assist.indexing import refresh_vectors
    from copilot.assist.routing import assist_ticket
    from copilot.assist.ticket_assist import result_json
    from copilot.assist.workspace import open_workspace
    from copilot.kb.articles import count_articles
    from copilot.store.tickets import find_ticket

    async def work(services: Services) -> int:
        await open_workspace(services, args.workspace)  # a ticket import's workspace opens without a help desk
        await refresh_vectors(services, args.workspace)
        ticket = await services.store.run(find_ticket, services.store.db, args.workspace, args.ticket)
        if args.use_article:
            await knowledge.choose_article(services, ticket.id, args.use_article)
        elif args.clear_article:
            await knowledge.clear_article_choice(services, ticket.id)
        result = await assist_ticket(services, ticket.id, tone=args.tone)
        if args.json:
            out.write(result_json(result) + "\n")
            return 0
        out.write(f"#{ticket.number} {ticket.subject}  ({ticket.customer_name}, {ticket.status})\n\nSummary\n")
        out.writelines(f"  {line.label}: {line.text}\n" for line in result.summary.lines)
        out.write(f"\nSentiment: {result.sentiment}\nFlags\n")
        out.writelines(f"  {f.label}: {f.reason}\n    “{f.evidence}”\n" for f in result.flags)
        if not result.flags:
            out.write("  none\n")
        tr = result.triage
        intent = f"{tr.intent} ({tr.confidence:.0%})" if tr.intent else "(no labelled history)"
        if tr.intent and tr.is_unsure:
            intent = "unsure: " + ", ".join(f"{label} {share:.0%}" for label, share in tr.candidates)
        out.write(f"\nTriage: {intent}; priority {tr.priority} ({tr.priority_reason})\n")
        if "tags" in result.extras:
            out.write(f"Suggested tags: {', '.join(result.extras['tags'].get('tags', [])) or 'none new'}\n")
        out.write("\nSuggested articles\n")
        out.writelines(f"  {_shown_confidence(s)}  {s.title}  [{s.article_id}]\n" for s in result.suggestions)
        if not await services.store.run(count_articles, services.store.db, args.workspace):
            out.write(
                f"  none: '{args.workspace}' has no knowledge-base articles. Import some: "
                f"support-copilot kb import FOLDER-OR-FILE --workspace {args.workspace}\n"
            )
        out.write(f"\nDraft ({result.draft.tone}, {result.draft.language}, {_drafted_by(result)})\n\n")
        out.write(f"{result.draft.text}\n")
        if result.draft.note:
            out.write(f"\nNote for you (not sent): {result.draft.note}\n")
        guessed = services.guessed_agent_name(args.workspace)
        if guessed:
            out.write(
                f"\nSigned as '{guessed}' (this computer's user name). Set your name once: "
                'support-copilot settings set agent.name "Your Name"\n'
            )
        return 0

    from copilot.llm.catalog import ModelOverride

    override = ModelOverride(args.model, args.api_base) if args.model else None
    return with_services(args, work, override)


def _shown_confidence(s: Suggestion) -> str:
    """The article the agent chose says so; the ranking's own figure stays beside it."""
    return f"chosen by you (ranked {s.confidence:.0%})" if s.chosen else f"{s.confidence:.0%}"
