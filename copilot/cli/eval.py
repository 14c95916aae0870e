"""`support-copilot eval`: quality measured on labelled data, one configuration or two side by side."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from copilot.cli.common import emit, emit_side_by_side

COMMANDS = ("eval",)


def add_parsers(sub: Any) -> None:
    ev = sub.add_parser("eval", help="measure quality on labelled data").add_subparsers(
        dest="eval_command", metavar="WHAT", required=True
    )
    r = ev.add_parser("retrieval", help="recall@k, MRR and latency of article suggestion")
    r.add_argument("--kb", type=Path, required=True)
    r.add_argument("--queries", type=Path, required=True)
    r.add_argument("--limit", type=int, help="only the first N queries")
    r.add_argument("--keyword-only", action="store_true", help="no local embedding model: FTS5 bm25 alone")
    r.add_argument(
        "--split",
        choices=("all", "fit", "held"),
        default="all",
        help="score one half of the queries (by a hash of the id): the ranking weights were fitted on 'fit'",
    )
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
    t.add_argument(
        "--part",
        choices=("all", "fit", "held-out"),
        default="all",
        help="score every test row, or one half of them chosen by a hash of the id (choose constants on `fit`, "
        "report `held-out`)",
    )
    t.add_argument(
        "--intent-names",
        action="store_true",
        help="each intent's name counts as one more example, as in the app on day one",
    )
    t.add_argument("--json", action="store_true")
    a = ev.add_parser("assist", help="the whole assist on tickets with gold answers, end to end")
    a.add_argument("--tickets", type=Path, required=True, help="tickets in the demo's shape (JSON Lines)")
    a.add_argument("--workspace", required=True, help="whose knowledge base and labelled history to use")
    a.add_argument("--gold", type=Path, help="gold answers by ticket number, besides any `gold` in the tickets")
    a.add_argument("--tone", choices=("friendly", "concise", "formal"))
    a.add_argument("--per-ticket", action="store_true", help="also print what each ticket got")
    a.add_argument("--model", help="one model for the cheap and frontier tiers (as for `assist`)")
    a.add_argument("--api-base", default="", help="an OpenAI-compatible endpoint for --model")
    a.add_argument("--json", action="store_true")
    _add_case_parsers(ev)
    p = ev.add_parser(
        "replay",
        help="replay a regression set with a candidate model or routing and the current configuration; "
        "exit 1 when the candidate is worse",
    )
    p.add_argument("--set", dest="set_name", required=True, help="the regression set (the demo ships 'demo')")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="a provider's model (local/small) or a litellm name, for both model tiers")
    which.add_argument("--prompt-version", help="a folder of prompt files in <data folder>/prompts/V")
    which.add_argument("--routing", type=Path, help='a JSON file: {"models.cheap": …, "models.frontier": …, '
                       '"routing.tasks": …}')  # fmt: skip
    p.add_argument("--api-base", default="", help="an OpenAI-compatible endpoint for --model")
    p.add_argument("--baseline", choices=("current", "built-in"), default="current")
    p.add_argument("--tolerance", type=float, default=0.05, help="share of cases allowed to get worse (0.05)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--html", type=Path, metavar="REPORT.html", help="also write the side-by-side report here")
    judged = p.add_mutually_exclusive_group()
    judged.add_argument("--judge", metavar="MODEL", help="a model that also judges unsupported sentences (its count "
                        "decides; default: the models.judge setting); exit 3 when it failed on a case and nothing "
                        "else was worse")  # fmt: skip
    judged.add_argument("--no-judge", action="store_true", help="the lexical check alone, whatever models.judge says")
    p.add_argument("--judge-api-base", default="", help="an OpenAI-compatible endpoint for --judge")


def _add_case_parsers(ev: Any) -> None:
    c = ev.add_parser(
        "cases", help="regression cases: list, export, import, offer, confirm, from-flag, edit"
    ).add_subparsers(dest="cases_command", metavar="ACTION", required=True)
    ls = c.add_parser("list", help="the sets, or one set's cases")
    ls.add_argument("--set", dest="set_name", default="")
    ls.add_argument("--json", action="store_true")
    ex = c.add_parser("export", help="a set as JSON Lines in the `eval assist` shape")
    ex.add_argument("--set", dest="set_name", required=True)
    ex.add_argument("file", type=Path)
    im = c.add_parser("import", help="cases from JSON Lines in the `eval assist` shape (each line needs `gold`)")
    im.add_argument("--set", dest="set_name", required=True)
    im.add_argument("--workspace", required=True, help="whose knowledge base answers the cases")
    im.add_argument("file", type=Path)
    of = c.add_parser("offer", help="replies sent with edit ratio <= 0.2 become candidate cases")
    of.add_argument("--set", dest="set_name", required=True)
    of.add_argument("--workspace", required=True)
    co = c.add_parser("confirm", help="confirm candidate cases (all, or the ticket numbers given)")
    co.add_argument("--set", dest="set_name", required=True)
    co.add_argument("numbers", type=int, nargs="*")
    fl = c.add_parser("from-flag", help="a resolved flag with a correction becomes a case")
    fl.add_argument("--set", dest="set_name", required=True)
    fl.add_argument("flag", type=int)
    ed = c.add_parser("edit", help="change a case's expectations (its next version); what is not given stays")
    ed.add_argument("--set", dest="set_name", required=True)
    ed.add_argument("number", type=int, help="the case's ticket number")
    arts = ed.add_mutually_exclusive_group()
    arts.add_argument("--articles", help="comma-separated article ids: the draft must cite one of them")
    arts.add_argument("--no-article", action="store_true", help='"no good article" is the right answer')
    arts.add_argument("--any-article", action="store_true", help="do not check the articles")
    ed.add_argument("--must", action="append", metavar="TEXT", help="the draft must contain it (repeat; '' clears)")
    ed.add_argument("--must-not", action="append", metavar="TEXT", help="the draft must not contain it (repeat)")
    ed.add_argument("--intent", help="the right intent ('' clears)")


def _cases(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist import regression
    from copilot.cli.common import with_services

    async def work(services: Any) -> int:
        action = args.cases_command
        if action == "list" and not args.set_name:
            sets = await regression.case_sets(services)
            if args.json:
                out.write(json.dumps([{"set": s, "confirmed": n, "candidates": c} for s, n, c in sets]) + "\n")
            for name, confirmed, candidates in [] if args.json else sets:
                out.write(f"{name:<20} {confirmed:>5} cases  {candidates:>4} candidates\n")
        elif action == "list":
            cases = await regression.list_cases(services, args.set_name)
            if args.json:
                out.write(json.dumps([regression.case_line(c) for c in cases], ensure_ascii=False) + "\n")
            if not cases and not args.json:
                out.write(f"No cases in '{args.set_name}'. See `support-copilot eval cases list` for the sets.\n")
            for c in [] if args.json else cases:
                expect = ", ".join(sorted(c.expect))
                out.write(f"#{c.number:<6} v{c.version:<3} {c.status:<9} {c.source:<16} {c.kb_version}  "
                          f"{str(c.ticket.get('subject', ''))[:50]:<50}  expects {expect}\n")  # fmt: skip
        elif action == "export":
            count = await regression.export_cases(services, args.set_name, args.file)
            out.write(f"Wrote {count} cases of '{args.set_name}' to {args.file}.\n")
        elif action == "import":
            written, same = await regression.import_cases(services, args.set_name, args.file, args.workspace)
            out.write(f"Imported into '{args.set_name}': {written} new or changed, {same} unchanged.\n")
        elif action == "offer":
            numbers = await regression.offer_accepted_replies(services, args.workspace, args.set_name)
            listed = ", ".join(f"#{n}" for n in numbers) or "none"
            out.write(f"Candidate cases from accepted replies: {listed}. Confirm with `eval cases confirm`.\n")
        elif action == "confirm":
            numbers = await regression.confirm_cases(services, args.set_name, args.numbers)
            out.write(f"Confirmed {len(numbers)} cases in '{args.set_name}'.\n")
        elif action == "edit":
            case = await regression.edit_case(services, args.set_name, args.number, await _edited(args, services))
            out.write(
                f"#{case.number} v{case.version} of '{args.set_name}' expects: {regression.describe(case.expect)}\n"
            )
        else:
            case = await regression.add_flag_case(services, args.flag, args.set_name)
            out.write(f"Flag {args.flag} is case #{case.number} v{case.version} of '{args.set_name}'.\n")
        return 0

    return with_services(args, work)


async def _edited(args: argparse.Namespace, services: Any) -> Any:
    """The case's expectations with the fields given on the command line replaced."""
    from copilot.assist import regression
    from copilot.errors import NotFoundError

    cases = await regression.list_cases(services, args.set_name)
    if not cases:
        raise NotFoundError(f"There is no regression set '{args.set_name}'.", "See `support-copilot eval cases list`.")
    case = next((c for c in cases if c.number == args.number), None)
    if case is None:
        raise NotFoundError(f"'{args.set_name}' has no case #{args.number}.", "See `eval cases list --set NAME`.")
    now = regression.Expectations.of(case.expect)
    articles = now.articles
    if args.articles is not None:
        articles = tuple(a.strip() for a in args.articles.split(",") if a.strip())
    elif args.no_article or args.any_article:
        articles = () if args.no_article else None
    return regression.Expectations(
        articles,
        now.must_include if args.must is None else tuple(args.must),
        now.must_not_include if args.must_not is None else tuple(args.must_not),
        now.intent if args.intent is None else args.intent,
    )


def _replay(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.judge import Judge, configured_judge
    from copilot.assist.replay import Candidate, read_routing_file, replay
    from copilot.assist.replay_report import render_html, render_text
    from copilot.cli.common import with_services

    if args.routing is not None:
        candidate = Candidate(routing=read_routing_file(args.routing), routing_name=args.routing.name)
    elif args.prompt_version:
        candidate = Candidate(prompt_version=args.prompt_version)
    else:
        candidate = Candidate(model=args.model, api_base=args.api_base)

    async def work(services: Any) -> int:
        judge = Judge(args.judge, args.judge_api_base) if args.judge else None
        if judge is None and not args.no_judge:
            judge = configured_judge(services)
        report = await replay(
            services, args.set_name, candidate, baseline=args.baseline, tolerance=args.tolerance, judge=judge
        )
        if args.html is not None:
            args.html.write_text(render_html(report), encoding="utf-8")
        if args.json:
            out.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(render_text(report))
        return report.exit_code

    return with_services(args, work)


def _assist(args: argparse.Namespace, out: TextIO) -> int:
    from dataclasses import asdict

    from copilot.cli.common import with_services
    from copilot.evaluation.assist import evaluate_assist
    from copilot.llm.catalog import ModelOverride

    override = ModelOverride(args.model, args.api_base) if args.model else None

    async def work(services: Any) -> int:
        report, outcomes = await evaluate_assist(
            services, args.tickets, args.workspace, args.gold, model_override=override, tone=args.tone
        )
        data = report.as_dict()
        if args.per_ticket:
            data = {**data, "per_ticket": [asdict(o) for o in outcomes]}
        emit(data, args.json, out)
        return 0

    return with_services(args, work)


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.eval_command == "assist":
        return _assist(args, out)
    if args.eval_command == "cases":
        return _cases(args, out)
    if args.eval_command == "replay":
        return _replay(args, out)
    reports: dict[str, dict[str, Any]] = {}
    if args.eval_command == "retrieval":
        from copilot.evaluation.retrieval import evaluate_retrieval

        first = "keyword" if args.keyword_only else "hybrid"
        for config in dict.fromkeys([first, *([args.compare] if args.compare else [])]):
            reports[config] = evaluate_retrieval(
                args.kb, args.queries, args.limit, dense=config == "hybrid", split=args.split
            ).as_dict()
    else:
        from copilot.evaluation.triage import evaluate_triage

        first = "words" if args.keyword_only else args.method
        for method in dict.fromkeys([first, *([args.compare] if args.compare else [])]):
            reports[method] = evaluate_triage(
                args.examples,
                args.test,
                dense=method != "words",
                method=method,
                part=args.part,
                intent_names=args.intent_names,
            ).as_dict()
    if len(reports) == 1:
        emit(next(iter(reports.values())), args.json, out)
    else:
        emit_side_by_side(reports, args.json, out)
    return 0
