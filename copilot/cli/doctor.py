"""`support-copilot doctor`: where the data and the log live, a full integrity check of the database, and
whether a keyring exists. Reads only; it never repairs or writes anything."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import TextIO

COMMANDS = ("doctor",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("doctor", help="check the database, and show where data, log and secrets live")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """0 when everything is sound, 1 when the database failed its check (the report says what to do)."""
    from copilot.config.paths import default_home

    home: Path = args.home or default_home()
    database, log_file = home / "copilot.db", home / "copilot.log"
    out.write(f"data folder: {home}{'' if home.is_dir() else ' (not created yet)'}\n")
    out.write(f"log file:    {log_file}{'' if log_file.exists() else ' (empty so far)'}\n")
    out.write(f"keyring:     {_keyring()}\n")
    out.write(f"database:    {database}\n")
    if not database.exists():
        out.write("  not created yet: it is made on first start.\n")
        return 0
    problems, versions = _check(database)
    out.write(f"  {versions}\n")
    if not problems:
        out.write("  integrity check: ok\n")
        return 0
    out.write(f"  integrity check FAILED ({len(problems)} problem(s)):\n")
    out.writelines(f"    {p}\n" for p in problems[:20])
    out.write(
        "  Move the file aside (nothing is deleted) and start Support Copilot to begin a fresh one, "
        "or restore a backup. Help-desk workspaces sync again; unsent replies are in the old file.\n"
    )
    return 1


def _check(database: Path) -> tuple[list[str], str]:
    from copilot.store.db import integrity_problems

    conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        problems = integrity_problems(conn, "integrity_check")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            applied = int(conn.execute("SELECT count(*) FROM _migrations").fetchone()[0])
            versions = f"schema version {version}, {applied} migrations recorded"
        except sqlite3.Error as exc:
            versions = f"schema unreadable ({exc})"
        return problems, versions
    except sqlite3.DatabaseError as exc:
        return [str(exc)], "schema unreadable"
    finally:
        conn.close()


def _keyring() -> str:
    try:
        import keyring
        import keyring.backends.fail

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring install is a finding, not a crash
        return f"unusable ({type(exc).__name__}: {exc})"
    if isinstance(backend, keyring.backends.fail.Keyring):
        return (
            "none found: tokens cannot be stored. Install and unlock a Secret Service keyring (GNOME Keyring, "
            "KWallet), or set COPILOT_HELPDESK_TOKEN for the session."
        )
    return f"{type(backend).__module__}.{type(backend).__name__}"
