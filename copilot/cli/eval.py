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


def run(args: argparse.Namespace, out: TextIO) -> int:
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
        emit(next(iter(reports.values())), args.json, out)
    else:
        emit_side_by_side(reports, args.json, out)
    return 0
