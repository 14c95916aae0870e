"""`support-copilot settings`: list the declared settings, or get and set one."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from copilot.cli.common import with_services

if TYPE_CHECKING:
    from copilot.services import Services

COMMANDS = ("settings",)


def add_parsers(sub: Any) -> None:
    st = sub.add_parser("settings", help="list the settings, or get/set one")
    st_sub = st.add_subparsers(dest="settings_command", metavar="ACTION")
    st_get = st_sub.add_parser("get", help="print a setting's current value")
    st_get.add_argument("key")
    st_set = st_sub.add_parser("set", help="change a setting")
    st_set.add_argument("key")
    st_set.add_argument("value")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from copilot.config.settings import settings_markdown

    if args.settings_command is None:
        out.write(settings_markdown() + "\n")
        return 0
    from copilot.assist.preferences import change_setting
    from copilot.config.settings import SPECS
    from copilot.errors import ValidationError

    if args.key not in SPECS:
        raise ValidationError(f"There is no setting called {args.key}.", "See `support-copilot settings`.")

    async def work(services: Services) -> int:
        if args.settings_command == "set":
            value = await change_setting(services, args.key, args.value)
            out.write(f"{args.key} = {value!r}\n")
        else:
            out.write(f"{services.settings.get(args.key)!r}\n")
        return 0

    return with_services(args, work)
