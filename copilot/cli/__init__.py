"""The `support-copilot` command: the GUI by default, headless sub-commands for scripting and evaluation.
No Qt is imported here; the GUI is loaded only when it is asked for."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from copilot import __version__
from copilot.errors import as_copilot_error
from copilot.helpdesk.demo import DEMO_WORKSPACE

log = logging.getLogger(__name__)


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

    a = sub.add_parser("assist", help="summary, flags, triage, suggestions and a draft for one ticket")
    a.add_argument("ticket", type=int, help="the ticket number")
    a.add_argument("--workspace", default=DEMO_WORKSPACE)
    a.add_argument("--tone", choices=("friendly", "concise", "formal"))
    a.add_argument("--json", action="store_true", help="print JSON")
    a.add_argument(
        "--model", help="one model for the cheap and frontier tiers (provider/model, or a model name with --api-base)"
    )
    a.add_argument(
        "--api-base", default="", help="an OpenAI-compatible endpoint for --model (key: keyring or COPILOT_API_KEY)"
    )

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

    ev = sub.add_parser("eval", help="measure quality on labelled data").add_subparsers(
        dest="eval_command", metavar="WHAT", required=True
    )
    r = ev.add_parser("retrieval", help="recall@k, MRR and latency of article suggestion")
    r.add_argument("--kb", type=Path, required=True)
    r.add_argument("--queries", type=Path, required=True)
    r.add_argument("--limit", type=int, help="only the first N queries")
    r.add_argument("--keyword-only", action="store_true", help="no local embedding model: FTS5 bm25 alone")
    r.add_argument(
        "--compare", choices=("hybrid", "keyword"), help="also run this configuration and show both side by side"
    )
    r.add_argument("--json", action="store_true")
    t = ev.add_parser("triage", help="accuracy and macro-F1 of triage")
    t.add_argument("--examples", type=Path, required=True)
    t.add_argument("--test", type=Path, required=True)
    t.add_argument("--keyword-only", action="store_true", help="no local embedding model: TF-IDF neighbours")
    t.add_argument(
        "--method",
        choices=("auto", "linear", "neighbours", "words"),
        default="auto",
        help="linear classifier on sentence vectors (auto: when the local model is installed), nearest examples "
        "by meaning, or nearest examples by words",
    )
    t.add_argument("--compare", choices=("auto", "linear", "neighbours", "words"), help="a second method, side by side")
    t.add_argument("--json", action="store_true")

    from copilot.cli import helpdesk as cli_helpdesk

    cli_helpdesk.add_parsers(sub)
    from copilot.cli import llm as cli_models

    cli_models.add_parsers(sub)

    st = sub.add_parser("settings", help="list the settings, or get/set one")
    st_sub = st.add_subparsers(dest="settings_command", metavar="ACTION")
    st_get = st_sub.add_parser("get", help="print a setting's current value")
    st_get.add_argument("key")
    st_set = st_sub.add_parser("set", help="change a setting")
    st_set.add_argument("key")
    st_set.add_argument("value")
    return p


def _emit(data: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        width = max(len(k) for k in data)
        for k, v in data.items():
            out.write(f"{k.ljust(width)}  {v}\n")


def _with_services(args: argparse.Namespace, work: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    from copilot.app import build_services

    services = build_services(args.home)
    try:
        return asyncio.run(work(services))
    finally:
        services.close()


def _assist(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.ticket_assist import assist_ticket, refresh_vectors, result_json
    from copilot.assist.workspace import open_workspace
    from copilot.store.tickets import find_ticket

    async def work(services: Any) -> int:
        if args.model:
            from copilot.llm.catalog import ModelOverride

            services.model_override = ModelOverride(args.model, args.api_base)
        await open_workspace(services, args.workspace)
        await refresh_vectors(services, args.workspace)
        ticket = await services.store.run(find_ticket, services.store.db, args.workspace, args.ticket)
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
        out.write("\nSuggested articles\n")
        out.writelines(f"  {s.confidence:.0%}  {s.title}  [{s.article_id}]\n" for s in result.suggestions)
        out.write(
            f"\nDraft ({result.draft.tone}, {result.draft.language}, by the built-in engine)\n\n{result.draft.text}\n"
        )
        return 0

    return _with_services(args, work)


def _triage(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.labels import example_counts, import_examples

    async def work(services: Any) -> int:
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

    return _with_services(args, work)


def _kb(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.knowledge import import_kb, knowledge_gaps, search_kb
    from copilot.assist.ticket_assist import refresh_vectors
    from copilot.assist.workspace import open_workspace

    async def work(services: Any) -> int:
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

    return _with_services(args, work)


def _eval(args: argparse.Namespace, out: TextIO) -> int:
    reports: dict[str, dict[str, Any]] = {}
    if args.eval_command == "retrieval":
        from copilot.evaluation.retrieval import evaluate_retrieval

        first = "keyword" if args.keyword_only else "hybrid"
        for config in dict.fromkeys([first, *([args.compare] if args.compare else [])]):
            reports[config] = evaluate_retrieval(args.kb, args.queries, args.limit, dense=config == "hybrid").as_dict()
    else:
        from copilot.evaluation.triage import evaluate_triage

        first = "words" if args.keyword_only else args.method
        for method in dict.fromkeys([first, *([args.compare] if args.compare else [])]):
            reports[method] = evaluate_triage(
                args.examples, args.test, dense=method != "words", method=method
            ).as_dict()
    if len(reports) == 1:
        _emit(next(iter(reports.values())), args.json, out)
    else:
        _emit_side_by_side(reports, args.json, out)
    return 0


def _emit_side_by_side(reports: dict[str, dict[str, Any]], as_json: bool, out: TextIO) -> None:
    """Two configurations' reports in columns, with the difference for every number."""
    if as_json:
        out.write(json.dumps(reports, ensure_ascii=False, indent=2) + "\n")
        return
    (a, ra), (b, rb) = reports.items()
    rows = [("", a, b, "difference")]
    for key, va in ra.items():
        vb = rb.get(key)
        numbers = isinstance(va, int | float) and isinstance(vb, int | float) and not isinstance(va, bool)
        diff = f"{vb - va:+.4g}" if numbers and vb != va else ""
        rows.append((key, str(va), str(vb), diff))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")


def _settings(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.config.settings import settings_markdown

    if args.settings_command is None:
        out.write(settings_markdown() + "\n")
        return 0
    from copilot.assist.preferences import change_setting
    from copilot.config.settings import SPECS
    from copilot.errors import ValidationError

    if args.key not in SPECS:
        raise ValidationError(f"There is no setting called {args.key}.", "See `support-copilot settings`.")

    async def work(services: Any) -> int:
        if args.settings_command == "set":
            value = await change_setting(services, args.key, args.value)
            out.write(f"{args.key} = {value!r}\n")
        else:
            out.write(f"{services.settings.get(args.key)!r}\n")
        return 0

    return _with_services(args, work)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.command in (None, "gui"):
            from copilot.app import run_gui

            return run_gui(workspace=getattr(args, "workspace", DEMO_WORKSPACE), home=args.home)
        if args.command == "assist":
            return _assist(args, out)
        if args.command == "kb":
            return _kb(args, out)
        if args.command == "eval":
            return _eval(args, out)
        if args.command == "triage":
            return _triage(args, out)
        if args.command in ("provider", "usage"):
            from copilot.cli import llm as cli_models

            return cli_models.run(args, out)
        if args.command in ("workspace", "sync", "tickets", "reply", "status", "outbox"):
            from copilot.cli import helpdesk as cli_helpdesk

            return cli_helpdesk.run(args, out)
        return _settings(args, out)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        error = as_copilot_error(exc)
        if error.is_bug:
            log.exception("unexpected error")
        err.write(f"error: {error.user_text()}\n")
        return 1 if error.is_bug else 2


if __name__ == "__main__":
    raise SystemExit(main())
