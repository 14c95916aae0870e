"""The sync status line: when the workspace last synced, whether it is offline, what waits in the outbox;
background sync on a timer, and a new token when the help desk refuses the old one."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from copilot.assist import outbox
from copilot.assist.sync import SyncReport, SyncStatus, sync_status, sync_workspace
from copilot.assist.workspace import set_token
from copilot.domain.workspaces import no_helpdesk_reason
from copilot.errors import HelpdeskAuthError
from copilot.services import Services
from copilot.ui.runner import Runner

log = logging.getLogger(__name__)
DEMO_TEXT = "Demo workspace · its help desk is built in: nothing to sync"
IMPORTED_TEXT = "Imported tickets · no help desk: nothing to sync"


class SyncStatusViewModel(QObject):
    text_changed = Signal(str, str)  # the line, its tooltip (the last error, the skipped records and why)
    message = Signal(str, int)  # status-bar text, milliseconds
    token_refused = Signal(str, str)  # workspace, why

    def __init__(self, services: Services, runner: Runner) -> None:
        super().__init__()
        self.services = services
        self.runner = runner
        self.workspace = ""
        self.syncing = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now(background=True))

    def _is_demo(self) -> bool:
        connector = self.services.connectors.find(self.workspace)
        return connector is not None and connector.kind == "demo"

    def has_helpdesk(self) -> bool:
        """False for a workspace made by a ticket import: its tickets came from a file."""
        return self.workspace in self.services.connectors

    def set_workspace(self, workspace: str) -> None:
        """The workspace opened: show its state, sync it now and then every `sync.interval_s`."""
        self.workspace = workspace
        self.timer.stop()
        if self._is_demo():
            self.text_changed.emit(DEMO_TEXT, "")
            return
        if not self.has_helpdesk():
            self.text_changed.emit(IMPORTED_TEXT, no_helpdesk_reason(workspace))
            return
        self.show_state()
        self.sync_now(background=True)
        self.settings_changed()

    def stop(self) -> None:
        self.timer.stop()

    def settings_changed(self) -> None:
        interval = self.services.settings.sync.interval_s
        self.timer.stop()
        if interval > 0 and self.has_helpdesk() and not self._is_demo():
            self.timer.start(interval * 1000)

    def sync_now(self, background: bool) -> None:
        """Pull changes and deliver the outbox. In the background a failure only updates the status line."""
        workspace = self.workspace
        if self._is_demo():
            if not background:
                self.message.emit("The demo workspace has nothing to sync: it is built in.", 5000)
            return
        if not self.has_helpdesk():
            if not background:
                self.message.emit(no_helpdesk_reason(workspace), 15000)
            return
        if self.syncing:
            return
        self.syncing = True
        self.text_changed.emit("Syncing…", "")

        def done(report: SyncReport) -> None:
            self.syncing = False
            if workspace != self.workspace:
                return
            self.show_state()
            if report.messages_added or report.errors or not background:
                skipped = f", {len(report.errors)} skipped (the status line's tip says why)" if report.errors else ""
                self.message.emit(
                    f"Synced: {report.tickets_changed} tickets changed, {report.messages_added} new messages{skipped}.",
                    8000,
                )
            if report.errors:
                log.warning("sync %s skipped: %s", workspace, "; ".join(report.errors))

        def failed(exc: BaseException) -> None:
            self.syncing = False
            self.show_state()
            if isinstance(exc, HelpdeskAuthError):
                self.token_refused.emit(workspace, exc.message)
            elif not background:
                self.runner.presenter.present(exc)

        label = "" if background else "Syncing"
        self.runner.run(sync_workspace(self.services, workspace), done, label, on_error=failed)

    def renew_token(self, workspace: str, token: str) -> None:
        """Store the new token, then resend what the old one got refused, then sync."""

        async def renew() -> int:
            await set_token(self.services, workspace, token)
            return len(await outbox.retry_refused(self.services, workspace))

        def renewed(resent: int) -> None:
            self.message.emit(f"Token saved. {resent} waiting message(s) sent again.", 8000)
            self.sync_now(background=False)

        self.runner.run(renew(), renewed, "Saving token")

    def show_state(self) -> None:
        workspace = self.workspace

        def show(status: SyncStatus) -> None:
            if workspace != self.workspace or self.syncing:
                return  # a sync started meanwhile: its end shows the state
            self.text_changed.emit(status_text(status), status_tip(status))

        self.runner.run(sync_status(self.services, workspace), show, "")


def status_text(status: SyncStatus) -> str:
    outbox_text = f" · {status.unsent} waiting to send" if status.unsent else ""
    outbox_text += f" · {status.failed} not sent" if status.failed else ""
    outbox_text += f" · {status.skipped} skipped" if status.skipped else ""
    state = status.state
    if state.offline_since:
        return f"⚠ Offline since {_local_time(state.offline_since)} — working from the local copy{outbox_text}"
    if state.last_error:
        return f"⚠ Sync stopped: {state.last_error}{outbox_text}"
    return f"Synced {_local_time(state.last_sync_at) if state.last_sync_at else 'never'}{outbox_text}"


def status_tip(status: SyncStatus) -> str:
    """The status line's tooltip: the last error, then the records the syncs skipped and why."""
    lines = [status.state.last_error] if status.state.last_error else []
    if status.skipped:
        lines.append(f"{status.skipped} help-desk records skipped (a ticket is read again when it changes there):")
        lines += [f"• {_local_time(r.skipped_at)} {r}" for r in status.skipped_latest]
        if status.skipped > len(status.skipped_latest):
            lines.append(f"… and {status.skipped - len(status.skipped_latest)} older ones")
    return "\n".join(lines)


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M")
    except ValueError:
        return iso
