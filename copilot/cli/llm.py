"""Headless model commands: providers (keys to the OS keyring) and the usage accounting."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from typing import Any, TextIO

from copilot.errors import ValidationError

COMMANDS = ("provider", "usage")


def add_parsers(sub: Any) -> None:
    from copilot.llm.catalog import PROVIDER_KINDS

    pr = sub.add_parser("provider", help="add, list or remove model providers (keys go to the OS keyring)")
    pr_sub = pr.add_subparsers(dest="provider_command", metavar="ACTION", required=True)
    add = pr_sub.add_parser("add", help="add a provider; models are then named ID/model")
    add.add_argument("id", help="the name models use, e.g. openai, or local for your own server")
    add.add_argument("--kind", required=True, choices=sorted(PROVIDER_KINDS))
    add.add_argument(
        "--api-base", default="", help="the endpoint, for OpenAI-compatible servers, Ollama or a LiteLLM Proxy"
    )
    add.add_argument("--no-key", action="store_true", help="the endpoint needs no key")
    pr_sub.add_parser("list", help="the providers").add_argument("--json", action="store_true")
    pr_sub.add_parser("remove", help="forget a provider and its key").add_argument("id")

    u = sub.add_parser("usage", help="model calls: cost per day, model, task and ticket, and the budget")
    u.add_argument("--since", default="", help="only calls since this date (YYYY-MM-DD)")
    u.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.app import build_services

    services = build_services(args.home)
    try:
        return asyncio.run(
            _provider(services, args, out) if args.command == "provider" else _usage(services, args, out)
        )
    finally:
        services.close()


async def _provider(services: Any, args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist import providers as model_cases

    if args.provider_command == "add":
        key = ""
        if not args.no_key:
            env = os.environ.get("COPILOT_API_KEY", "").strip()
            if env:
                raise ValidationError(
                    "COPILOT_API_KEY is set, so the keyring is not used.",
                    "Unset it, or add the provider with --no-key and keep using the variable.",
                )
            key = (
                getpass.getpass(f"API key for {args.id} (stored in the OS keyring): ")
                if sys.stdin.isatty()
                else sys.stdin.readline()
            )
        provider = await model_cases.save_provider(services, args.id, args.kind, args.api_base, key.strip() or None)
        out.write(f"Added provider '{provider.id}' ({provider.label}). Models are named {provider.id}/MODEL.\n")
        return 0
    if args.provider_command == "list":
        rows = await model_cases.list_providers(services)
        if args.json:
            out.write(json.dumps([r.__dict__ for r in rows], indent=2) + "\n")
        elif not rows:
            out.write(
                "No model providers yet: everything runs on the built-in engine. Add one with `support-copilot provider add`.\n"
            )
        for r in [] if args.json else rows:
            out.write(f"{r.id:<14} {r.kind:<18} {r.api_base}\n")
        return 0
    await model_cases.remove_provider(services, args.id)
    out.write(f"Removed provider '{args.id}' and its key.\n")
    return 0


async def _usage(services: Any, args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist import providers as model_cases

    report = await model_cases.usage(services, args.since)
    if args.json:
        out.write(json.dumps(report, indent=2) + "\n")
        return 0
    budget = report["budget"]
    line = f"${budget['spent_usd']:.4f} spent this month"
    if budget["monthly_usd"]:
        line += f" of ${budget['monthly_usd']:.2f} ({budget['share']:.0%})"
    out.write(
        f"{report['calls']} model calls, ${report['cost_usd']:.4f}, {report['cache_hits']} from cache, {report['errors']} failed. {line}.\n"
    )
    for title, rows, key in (
        ("Per day", report["per_day"], "day"),
        ("Per model", report["per_model"], "model"),
        ("Per task", report["per_task"], "task"),
    ):
        if rows:
            out.write(f"\n{title}\n")
            out.writelines(
                f"  {r[key]:<40} {r['calls']:>6} calls  ${r['cost_usd']:.4f}  {r['tokens_in']}+{r['tokens_out']} tokens\n"
                for r in rows
            )
    if report["per_ticket"]:
        out.write("\nMost expensive tickets\n")
        out.writelines(
            f"  {r['workspace']} #{r['ticket']:<8} {r['calls']:>4} calls  ${r['cost_usd']:.4f}\n"
            for r in report["per_ticket"][:10]
        )
    return 0
