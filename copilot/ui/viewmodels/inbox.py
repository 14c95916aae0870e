"""The inbox: the tickets of the open workspace under the agent's filter, read as they are needed.

A refresh reads the first rows under the filter and how many there are in all (a sorted LIMIT query, so a
filter at 10,000 tickets costs about what it does at 66). Scrolling to the end of those asks for the ids of all
(`fetch_ids`); rows then scroll into view a page at a time (`fetch_rows`)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from copilot.assist import conversation
from copilot.domain.inbox import InboxFilter, InboxPage, InboxRow
from copilot.services import Services
from copilot.ui.runner import Runner
from copilot.ui.viewmodels.ticket_session import TicketSession

FIRST_PAGE = 120  # more rows than a tall screen shows


class InboxViewModel(QObject):
    rows_changed = Signal(object, object)  # an InboxPage, the ticket to keep selected (or None)
    rows_fetched = Signal(list)  # InboxRows the table asked for
    ids_fetched = Signal(list)  # the ids of every ticket under the filter, when the table scrolled past the head
    first_wanted = Signal()  # the workspace just opened and nothing is selected: select the first row

    def __init__(self, services: Services, runner: Runner, session: TicketSession) -> None:
        super().__init__()
        self.services = services
        self.runner = runner
        self.session = session
        self.workspace = ""
        self.filter = InboxFilter()
        self.page = InboxPage((), (), 0)
        self._generation = 0  # rows asked for before the latest refresh belong to an older listing

    def set_workspace(self, workspace: str) -> None:
        if workspace != self.workspace:
            self.workspace = workspace
            self._generation += 1
            self.page = InboxPage((), (), 0)
            self.rows_changed.emit(self.page, None)

    def set_filter(self, filt: InboxFilter) -> None:
        self.filter = filt
        self.refresh()

    def refresh(self, select_first: bool = False) -> None:
        workspace = self.workspace
        current = self.session.current_ticket

        def show(page: InboxPage) -> None:
            if workspace != self.workspace:
                return  # another workspace opened meanwhile
            self._generation += 1
            self.page = page
            self.rows_changed.emit(page, self.session.current_ticket)
            if select_first and page.ids and self.session.current_ticket is None:  # never override the agent's pick
                self.first_wanted.emit()
            self.session.notice_rows(list(page.rows))

        self.runner.run(conversation.inbox_head(self.services, workspace, self.filter, FIRST_PAGE, current), show, "")

    def fetch_rows(self, ids: list[int]) -> None:
        """Read the rows of tickets the table is about to show."""
        generation = self._generation

        def fetched(rows: list[InboxRow]) -> None:
            if generation == self._generation:
                self.rows_fetched.emit(rows)

        self.runner.run(conversation.inbox_rows(self.services, ids), fetched, "")

    def fetch_ids(self) -> None:
        """Read the ids of every ticket under the filter (the table scrolled to the end of the first rows)."""
        generation = self._generation

        def fetched(ids: list[int]) -> None:
            if generation == self._generation:
                self.ids_fetched.emit(ids)

        self.runner.run(conversation.inbox_ids(self.services, self.workspace, self.filter), fetched, "")
