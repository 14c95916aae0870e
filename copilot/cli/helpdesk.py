"""Headless help-desk commands: workspace, sync, tickets, reply and outbox (the same use cases as the GUI).

Longer than most modules because it is one command group: the parsers and thin runners of five related
commands, each a few lines over a use case; splitting them would scatter one `support-copilot` group."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from copilot.cli.common import with_services
from copilot.config.secrets import HELPDESK_TOKEN_ENV
from copilot.errors import ValidationError

COMMANDS = ("workspace", "sync", "tickets", "reply", "status", "outbox")
# What an agent sets, as the app says it ("solved") and as it is stored ("resolved").
STATUS_CHOICES = {"open": "open", "pending": "pending", "solved": "resolved", "resolved": "resolved"}
EXIT_QUEUED = 3  # `reply`: written to the outbox, not delivered yet


def add_parsers(sub: Any) -> None:
    from copilot.helpdesk.registry import KINDS, form_fields

    ws = sub.add_parser("workspace", help="add, list, test or remove help-desk workspaces")
    ws_sub = ws.add_subparsers(dest="ws_command", metavar="ACTION", required=True)
    add = ws_sub.add_parser("add", help="add a help desk (the token goes to the OS keyring)")
    add.add_argument("name", help="a short name: letters, digits, - or _")
    kinds = "; ".join(f"{k.kind}: {k.label}" for k in KINDS.values())
    add.add_argument("--type", dest="kind", required=True, choices=tuple(KINDS), help=kinds)
    add.add_argument("--url", required=True, help="the help desk's web address, e.g. https://rt.example.com")
    add.add_argument("--user", required=True, help="your user name there")
    for f in form_fields():  # what each kind declares beyond address, user and token
        used_by = ", ".join(k.kind for k in KINDS.values() if f in k.fields)
        more = " (repeatable)" if f.many else ""
        add.add_argument(
            f.option, dest=f"field_{f.name}", action="append" if f.many else "store",
            help=f"{used_by}: {f.help}{more}{' Required.' if f.required else ''}",
        )  # fmt: skip
    add.add_argument("--title", help="the name shown in the app (default: NAME)")
    add.add_argument("--no-test", action="store_true", help="save without trying the connection")
    lst = ws_sub.add_parser("list", help="the workspaces, with sync state and outbox counts")
    lst.add_argument("--json", action="store_true")
    for action, text in (
        ("test", "try the connection"),
        ("token", "store a new API token"),
    ):
        ws_sub.add_parser(action, help=text).add_argument("name")
    rm = ws_sub.add_parser("remove", help="forget a workspace and its cache")
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true", help="remove even with undelivered replies or drafts")

    s = sub.add_parser("sync", help="pull what changed in a help desk, then deliver the outbox")
    s.add_argument("name")
    s.add_argument("--json", action="store_true")

    t = sub.add_parser(
        "tickets",
        help="list a workspace's tickets from the local cache, or `tickets import FILE --workspace W`",
        description="tickets NAME lists a workspace's tickets; tickets import FILE --workspace W imports a JSON "
        "Lines file in the demo's shape (or Zendesk's JSON export), all or nothing.",
    )
    t.add_argument("name", help="the workspace, or 'import'")
    t.add_argument("file", nargs="?", type=Path, help="with 'import': the file to import")
    t.add_argument("--workspace", help="with 'import': the workspace the tickets go to")
    t.add_argument(
        "--set",
        dest="set_name",
        default="",
        help="with 'import': the regression set for tickets with gold (the workspace)",
    )
    t.add_argument("--status", default="", help="only this status (new, open, pending, resolved)")
    t.add_argument("--search", default="", help="words that must appear")
    t.add_argument("--json", action="store_true")

    r = sub.add_parser("reply", help="send a reply (or --internal note) through the outbox")
    r.add_argument("name")
    r.add_argument("ticket", type=int)
    r.add_argument("--text", required=True, help="the message; '-' reads it from standard input")
    r.add_argument("--internal", action="store_true", help="an internal note the customer does not see")
    r.add_argument("--status", choices=tuple(STATUS_CHOICES), help="then set the ticket's status (after the reply)")
    r.add_argument("--json", action="store_true")

    st = sub.add_parser("status", help="set a ticket's status (open, pending, solved) through the outbox")
    st.add_argument("name")
    st.add_argument("ticket", type=int)
    st.add_argument("status", choices=tuple(STATUS_CHOICES))
    st.add_argument("--json", action="store_true")

    o = sub.add_parser("outbox", help="what is waiting to be sent, sent or failed")
    o.add_argument("name")
    o.add_argument("--deliver", action="store_true", help="attempt everything that is due now")
    o.add_argument("--retry", type=int, metavar="ID", help="attempt this failed item again")
    o.add_argument("--json", action="store_true")


def _read_token(name: str) -> tuple[str, bool]:
    """(token, from_env). The environment variable is the documented way where no keyring exists."""
    env = os.environ.get(HELPDESK_TOKEN_ENV, "").strip()
    if env:
        return env, True
    if sys.stdin.isatty():
        token = getpass.getpass(f"API token for '{name}' (stored in the OS keyring): ").strip()
    else:
        token = sys.stdin.readline().strip()
    if not token:
        raise ValidationError(
            "No token was given.", f"Type or pipe the help desk's API token, or set {HELPDESK_TOKEN_ENV}."
        )
    return token, False


def _item_json(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "ticket": item.ticket_number or None,
        "article": item.article_id or None,
        "kind": item.kind.value,
        "state": item.state.value,
        "attempts": item.attempts,
        "outcome_unknown": item.outcome_unknown,
        "last_error": item.last_error,
        "next_attempt_at": item.next_attempt_at if item.state.value == "pending" else None,
        "remote_id": item.remote_id or None,
        "created_at": item.created_at,
        "sent_at": item.sent_at or None,
        "text": item.body,
    }


def run(args: argparse.Namespace, out: TextIO) -> int:
    handlers = {
        "workspace": _workspace, "sync": _sync, "tickets": _tickets, "reply": _reply, "status": _status,
        "outbox": _outbox,
    }  # fmt: skip
    return handlers[args.command](args, out)


def _workspace(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist import outbox as sending
    from copilot.assist import workspace as ws
    from copilot.domain.workspaces import WorkspaceConfig

    async def work(services: Any) -> int:
        if args.ws_command == "add":
            options = _declared_options(args)
            config = WorkspaceConfig(
                args.name, args.title or args.name, args.kind, args.url.rstrip("/"), args.user, options
            )
            ws.validate_config(config)
            token, from_env = _read_token(args.name)
            if not args.no_test:
                info = await ws.check_connection(services, config, token)
                config = WorkspaceConfig(**{**config.__dict__, "options": {**config.options, "agent_name": info.user}})
                out.write(
                    f"Connected: {info.version}, as {info.user}; queues: {', '.join(info.queues) or '(none visible)'}\n"
                )
            await ws.save_workspace(services, config, None if from_env else token)
            where = f"read from {HELPDESK_TOKEN_ENV} (not stored)" if from_env else "stored in the OS keyring"
            out.write(f"Added workspace '{args.name}'; token {where}. Next: support-copilot sync {args.name}\n")
            return 0
        if args.ws_command == "list":
            rows = await ws.list_workspaces(services)
            data = [
                {
                    "name": r.config.id,
                    "title": r.config.name,
                    "type": r.config.kind,
                    "url": r.config.url,
                    "user": r.config.username,
                    "tickets": r.tickets,
                    "last_sync": r.state.last_sync_at or None,
                    "offline_since": r.state.offline_since or None,
                    "last_error": r.state.last_error or None,
                    "outbox": r.outbox,
                }
                for r in rows
            ]
            if args.json:
                out.write(json.dumps(data, indent=2) + "\n")
            for d in [] if args.json else data:
                state = (
                    f"offline since {d['offline_since']}"
                    if d["offline_since"]
                    else f"synced {d['last_sync'] or 'never'}"
                )
                out.write(f"{d['name']:<14} {d['type']:<5} {d['tickets']:>6} tickets  {state}  {d['url']}\n")
            return 0
        if args.ws_command == "test":
            info = await services.connector(args.name).test_connection()
            out.write(
                f"Connected: {info.version}, as {info.user}; queues: {', '.join(info.queues) or '(none visible)'}\n"
            )
            return 0
        if args.ws_command == "token":
            services.connector(args.name)  # a clear error for an unknown name, before asking for the token
            token, from_env = _read_token(args.name)
            if from_env:
                raise ValidationError(
                    f"{HELPDESK_TOKEN_ENV} is set, so the keyring is not used.", "Unset it to store a token."
                )
            await ws.set_token(services, args.name, token)
            retried = await sending.retry_refused(services, args.name)
            out.write(f"Token stored in the OS keyring. {len(retried)} waiting message(s) attempted again.\n")
            return 0
        await ws.remove_workspace(services, args.name, force=args.force)
        out.write(f"Removed workspace '{args.name}' and its local cache (the help desk is untouched).\n")
        return 0

    return with_services(args, work)


def _sync(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.sync import sync_workspace

    async def work(services: Any) -> int:
        report = await sync_workspace(services, args.name)
        if args.json:
            out.write(json.dumps(report.as_json(), indent=2) + "\n")
        else:
            out.write(
                f"Synced '{args.name}' in {report.seconds:.1f} s: {report.tickets_changed} tickets changed, "
                f"{report.messages_added} new messages, {report.articles_created + report.articles_updated} articles "
                f"changed, {report.delivered} outbox messages delivered; {report.requests} requests "
                f"({report.wait_s:.1f} s waiting on the help desk).\n"
            )
            out.writelines(f"  skipped {e}\n" for e in report.errors)
            if report.skipped_total:
                out.write(f"{report.skipped_total} help-desk records skipped so far, each kept with its reason.\n")
        return 0

    return with_services(args, work)


def _tickets(args: argparse.Namespace, out: TextIO) -> int:
    if args.name == "import" and args.file is not None:
        return _import_tickets(args, out)
    if args.file is not None or args.workspace:
        raise ValidationError("A file and --workspace go with `tickets import FILE --workspace W`.")
    from copilot.assist.conversation import list_inbox
    from copilot.assist.tickets_import import is_file_workspace
    from copilot.domain.inbox import InboxFilter

    async def work(services: Any) -> int:
        if not await is_file_workspace(services, args.name):
            services.connector(args.name)
        rows = await list_inbox(services, args.name, InboxFilter(query=args.search, status=args.status))
        if args.json:
            data = [
                {
                    "number": r.number,
                    "subject": r.subject,
                    "customer": r.customer,
                    "status": r.status,
                    "updated_at": r.updated_at,
                    "sentiment": r.sentiment,
                    "urgent": r.urgent,
                    "has_draft": r.has_draft,
                }
                for r in rows
            ]
            out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        elif not rows:
            out.write(f"No tickets in '{args.name}' yet. Run: support-copilot sync {args.name}\n")
        else:
            for r in rows:
                mark = "!" if r.urgent else " "
                out.write(f"{mark}#{r.number:<7} {r.status:<9} {r.customer[:24]:<24} {r.subject[:70]}\n")
        return 0

    return with_services(args, work)


def _import_tickets(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.tickets_import import import_tickets

    if not args.workspace:
        raise ValidationError("Say which workspace the tickets go to.", "Add --workspace NAME.")

    async def work(services: Any) -> int:
        count = await import_tickets(services, args.file, args.workspace, args.set_name)
        if args.json:
            out.write(json.dumps({"workspace": args.workspace, "imported": count}) + "\n")
        else:
            out.write(f"Imported {count} ticket{'' if count == 1 else 's'} into '{args.workspace}'.\n")
        return 0

    return with_services(args, work)


def _reply(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.conversation import send
    from copilot.store.tickets import find_ticket

    text = sys.stdin.read() if args.text == "-" else args.text

    async def work(services: Any) -> int:
        services.connector(args.name)
        ticket = await services.store.run(find_ticket, services.store.db, args.name, args.ticket)
        status = STATUS_CHOICES[args.status] if args.status else ""
        delivery = await send(services, ticket.id, text, internal=args.internal, status=status)
        item = delivery.item
        what = "Note" if args.internal else "Reply"
        return _reported(
            item,
            args,
            out,
            sent=f"{what} sent to #{args.ticket} (outbox item {item.id}).{_status_line(delivery.status_item)}",
            failed=f"{what} not sent: {item.last_error}",
            waiting=f"{what} is waiting in the outbox (item {item.id}): {item.last_error} It is delivered by the next "
            f"`support-copilot sync {args.name}` or `outbox {args.name} --deliver`.",
        )

    return with_services(args, work)


def _declared_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options the chosen kind declares, from the command line; another kind's option is an error."""
    from copilot.helpdesk.registry import KINDS, form_fields

    declared = {f.name: f for f in KINDS[args.kind].fields}
    options: dict[str, Any] = {}
    for f in form_fields():
        given = getattr(args, f"field_{f.name}", None)
        if f.name not in declared:
            if given:
                raise ValidationError(
                    f"{f.option} does not apply to {KINDS[args.kind].label}.", f"Leave out {f.option}."
                )
            continue
        options[f.name] = f.value(given if isinstance(given, list) else [given] if given else [])
        if f.required and not options[f.name]:
            raise ValidationError(f"{KINDS[args.kind].label} needs {f.option}.", f"Add {f.option} VALUE: {f.help}")
    return options


def _reported(item: Any, args: argparse.Namespace, out: TextIO, *, sent: str, failed: str, waiting: str) -> int:
    """How an outbox write went: 0 sent, an error naming the item when refused, EXIT_QUEUED when it waits."""
    if args.json:
        out.write(json.dumps(_item_json(item), indent=2, ensure_ascii=False) + "\n")
    if item.state.value == "failed":
        raise ValidationError(
            failed,
            f"It is kept as outbox item {item.id}: fix the cause, then `support-copilot outbox {args.name} --retry {item.id}`.",
        )
    if not args.json:
        out.write((sent if item.state.value == "sent" else waiting) + "\n")
    return 0 if item.state.value == "sent" else EXIT_QUEUED


def _status_line(item: Any) -> str:
    if item is None:
        return ""
    word = "solved" if item.body == "resolved" else item.body
    if item.state.value == "sent":
        return f" Status set to {word}."
    return f" Status {word} is waiting in the outbox (item {item.id})."


def _status(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist.conversation import find_ticket_number
    from copilot.assist.outbox import set_status

    async def work(services: Any) -> int:
        services.connector(args.name)
        ticket = await find_ticket_number(services, args.name, args.ticket)
        item = await set_status(services, ticket.id, STATUS_CHOICES[args.status])
        return _reported(
            item,
            args,
            out,
            sent=f"#{args.ticket} is now {args.status}.",
            failed=f"#{args.ticket} is {args.status} here, but the help desk refused it: {item.last_error}",
            waiting=f"#{args.ticket} is {args.status} here; the help desk gets it with the next "
            f"`support-copilot sync {args.name}` (outbox item {item.id}).",
        )

    return with_services(args, work)


def _outbox(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.assist import outbox as sending

    async def work(services: Any) -> int:
        services.connector(args.name)
        if args.retry is not None:
            await sending.retry(services, args.retry)
        if args.deliver:
            await sending.deliver_due(services, args.name)
        items = await sending.list_outbox(services, args.name)
        if args.json:
            out.write(json.dumps([_item_json(i) for i in items], indent=2, ensure_ascii=False) + "\n")
        elif not items:
            out.write("The outbox is empty.\n")
        else:
            for i in items:
                target = f"#{i.ticket_number}" if i.ticket_number else i.article_id
                note = f"  ({i.last_error})" if i.last_error and i.state.value != "sent" else ""
                out.write(f"{i.id:>5} {i.state.value:<8} {i.kind.value:<7} {target:<10} {i.body[:50]!r}{note}\n")
        return 0

    return with_services(args, work)
