"""What every command shares: services for one run, and printing a report as text or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TextIO

from copilot.errors import log_if_bug

if TYPE_CHECKING:
    from copilot.llm.catalog import ModelOverride
    from copilot.services import Services


log = logging.getLogger(__name__)
Work = Callable[["Services"], Coroutine[Any, Any, int]]


def with_services(args: argparse.Namespace, work: Work, model_override: ModelOverride | None = None) -> int:
    """Build the services for one command, run `work` on a fresh event loop, close connectors and services."""
    from copilot.app import build_services

    services = build_services(args.home, model_override=model_override)

    async def _main() -> int:
        try:
            return await work(services)
        finally:
            for connector in services.connectors.every_connector():
                await connector.aclose()

    try:
        return asyncio.run(_main())
    except Exception as exc:
        log_if_bug(exc, log)  # before close() detaches the log file
        raise
    finally:
        services.close()


def emit(data: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        width = max(len(k) for k in data)
        for k, v in data.items():
            out.write(f"{k.ljust(width)}  {v}\n")


def emit_side_by_side(reports: dict[str, dict[str, Any]], as_json: bool, out: TextIO) -> None:
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
