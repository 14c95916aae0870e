"""Render the main window on the demo workspace to a PNG (README screenshot). Not a test.

Usage: QT_QPA_PLATFORM=offscreen python tests/ui/make_screenshot.py OUT.png [TICKET_NUMBER]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from copilot.app import build_services
from copilot.store.tickets import find_ticket
from copilot.ui.main_window import MainWindow


async def _shoot(window: MainWindow, out: Path, number: int) -> None:
    window.start()
    while window.inbox.model.rowCount() == 0:
        await asyncio.sleep(0.05)
    ticket = window.services.store.run_sync(find_ticket, window.services.store.db, "demo", number)
    window.inbox.select_ticket(ticket.id)
    while window.result is None or not window.runner.idle:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    window.grab().save(str(out))


def main() -> None:
    out = Path(sys.argv[1])
    number = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as home:
        services = build_services(Path(home))
        loop = qasync.QEventLoop(app)
        window = MainWindow(services, "demo", loop)
        window.resize(1440, 900)
        window.show()
        with loop:
            loop.run_until_complete(_shoot(window, out, number))
        window.close()
        services.close()


if __name__ == "__main__":
    main()
