"""`support-copilot eval`: quality measured on labelled data, one configuration or two side by side."""

from __future__ import annotations

import argparse
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
