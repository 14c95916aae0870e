"""The inbox: the rows of the open workspace under the agent's filter."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from copilot.assist import conversation
from copilot.domain.inbox import InboxFilter, InboxRow
from copilot.services import Services
from copilot.ui.runner import Runner
from copilot.ui.viewmodels.ticket_session import TicketSession


class InboxViewModel(QObject):
    rows_changed = Signal(list, object)  # rows, the ticket to keep selected (or None)
    first_wanted = Signal()  # the workspace just opened and nothing is selected: select the first row

    def __init__(self, services: Services, runner: Runner, session: TicketSession) -> None:
        super().__init__()
        self.services = services
        self.runner = runner
        self.session = session
        self.workspace = ""
        self.filter = InboxFilter()
        self.rows: list[InboxRow] = []

    def set_workspace(self, workspace: str) -> None:
        if workspace != self.workspace:
            self.workspace = workspace
            self.rows = []
            self.rows_changed.emit([], None)

    def set_filter(self, filt: InboxFilter) -> None:
        self.filter = filt
        self.refresh()

    def refresh(self, select_first: bool = False) -> None:
        workspace = self.workspace

        def show(rows: list[InboxRow]) -> None:
            if workspace != self.workspace:
                return  # another workspace opened meanwhile
            self.rows = rows
            self.rows_changed.emit(rows, self.session.current_ticket)
            if select_first and rows and self.session.current_ticket is None:  # never override the agent's pick
                self.first_wanted.emit()
            self.session.notice_rows(rows)

        self.runner.run(conversation.list_inbox(self.services, workspace, self.filter), show, "")
