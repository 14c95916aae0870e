"""Start the desktop app: QApplication, the qasync loop, services, the main window."""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication, QMessageBox

from copilot.errors import as_copilot_error
from copilot.services import Services
from copilot.ui.main_window import MainWindow


def run(build_services: Callable[[Path | None], Services], workspace: str, home: Path | None = None) -> int:
    """The app's event loop until the last window closes; `build_services` comes from the composition root."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Support Copilot")
    app.setOrganizationName("support-copilot")
    try:
        services = build_services(home)
    except Exception as exc:
        error = as_copilot_error(exc)
        QMessageBox.critical(None, "Support Copilot cannot start", f"{error.message}\n\n{error.hint}")
        return 2
    loop = qasync.QEventLoop(app)
    # DNS lookups and other blocking helpers on plain threads (qasync's default executor is QThreads).
    loop.set_default_executor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="copilot-io"))
    window = MainWindow(services, workspace, loop)
    window.show()
    window.start()
    try:
        with loop:
            loop.run_until_complete(_until_closed(app))
    finally:
        services.close()
    return 0


async def _until_closed(app: QApplication) -> None:
    import asyncio

    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finish() -> None:
        if not closed.done():
            closed.set_result(None)

    app.aboutToQuit.connect(finish)
    app.lastWindowClosed.connect(finish)
    await closed
