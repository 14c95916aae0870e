"""The main window: inbox | conversation | copilot, laid out with its menus and wired to the view-models.

Long because it holds every menu, shortcut and signal connection of the window in one readable place; state
lives in the view-models and screens in dialogs/."""

from __future__ import annotations

import asyncio
from functools import partial

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from copilot.assist import conversation, knowledge, review
from copilot.assist.indexing import refresh_vectors
from copilot.assist.maintenance import DatabaseCheck, check_database
from copilot.assist.outbox import set_status
from copilot.assist.preferences import load_window_state, save_window_state
from copilot.assist.providers import budget_status
from copilot.assist.workspace import (
    OpenedWorkspace,
    WorkspaceChoice,
    open_for_window,
    remove_workspace,
    unsent_work,
)
from copilot.domain import Article, AssistResult, Suggestion, Ticket
from copilot.domain.workspaces import no_helpdesk_reason
from copilot.services import Services
from copilot.store.outbox import OutboxItem
from copilot.ui.bridge import EventBridge
from copilot.ui.dialogs.article_editor import ArticleEditor
from copilot.ui.dialogs.flag import FlagDialog
from copilot.ui.dialogs.gaps import GapsDialog
from copilot.ui.dialogs.preferences import PreferencesDialog
from copilot.ui.dialogs.review import ReviewDialog
from copilot.ui.runner import ErrorPresenter, Runner
from copilot.ui.viewmodels.inbox import InboxViewModel
from copilot.ui.viewmodels.sync_status import SyncStatusViewModel
from copilot.ui.viewmodels.ticket_session import STATUS_WORDS, TicketSession
from copilot.ui.viewmodels.triage_folds import TriageFoldsViewModel
from copilot.ui.widgets.budget_banner import BudgetBanner
from copilot.ui.widgets.conversation import ConversationPane
from copilot.ui.widgets.copilot_panel import CopilotPanel
from copilot.ui.widgets.inbox import InboxPane
from copilot.ui.widgets.panel_html import CHOICE_KEYS, shown_suggestions

INDEXING_DELAY_MS = 1500
LAYOUT_KEYS = ("ui.geometry", "ui.splitter")


class MainWindow(QMainWindow):
    def __init__(self, services: Services, workspace: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.services = services
        self.workspace = workspace
        self.setObjectName("mainWindow")
        self.setWindowTitle("Support Copilot")
        self.presenter = ErrorPresenter(self)
        self.runner = Runner(self.presenter, loop)
        self.bridge = EventBridge(services.bus)
        self._asking_token = False
        self._choices: dict[str, WorkspaceChoice] = {}  # every workspace there was at the last open

        self.inbox = InboxPane()
        self.conversation = ConversationPane()
        self.panel = CopilotPanel()
        self.session = TicketSession(services, self.runner, self.panel.editor.toPlainText, self.panel.current_tone)
        self.inbox_model = InboxViewModel(services, self.runner, self.session)
        self.sync = SyncStatusViewModel(services, self.runner)
        self.triage_folds = TriageFoldsViewModel(services, self.runner)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        for pane in (self.inbox, self.conversation, self.panel):
            self.splitter.addWidget(pane)
        self.splitter.setSizes([430, 430, 540])
        # A banner above the panes for what concerns the whole team (the monthly model budget).
        self.banner = BudgetBanner()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(120)
        self.progress.hide()
        self.busy_label = QLabel()
        self.sync_label = QLabel()
        self.sync_label.setObjectName("syncState")
        self.triage_label = QLabel()  # its own place: it never hides a message shown meanwhile
        self.triage_label.setObjectName("triageFolds")
        for widget in (self.triage_label, self.busy_label, self.progress, self.sync_label):
            self.statusBar().addPermanentWidget(widget)
        self.panel.set_tone(services.settings.draft.tone)
        self._menus()
        self._connect()
        self._restore_layout()

    # What tests and scripts read: the session holds it.
    @property
    def current_ticket(self) -> int | None:
        return self.session.current_ticket

    @property
    def result(self) -> AssistResult | None:
        return self.session.result

    @property
    def autosave(self) -> QTimer:
        return self.session.autosave

    # ----- set-up -----
    def _menus(self) -> None:
        menus: dict[str, QMenu] = {}

        def action(menu_name: str, text: str, shortcut: str, slot: object) -> QAction:
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            if menu_name not in menus:
                menus[menu_name] = self.menuBar().addMenu(menu_name)
            menus[menu_name].addAction(act)
            return act

        s = self.session
        action("&File", "&Preferences…", "Ctrl+,", self.open_preferences)
        action("&File", "&Quit", "Ctrl+Q", self.close)
        action("&Ticket", "&Search tickets", "Ctrl+F", self._focus_search)
        action("&Ticket", "&Regenerate draft", "Ctrl+R", lambda: s.regenerate(self.panel.current_tone()))
        action(
            "&Ticket", "Re&write the reply in the chosen tone", "Ctrl+Shift+E",
            lambda: s.rewrite("rewrite", self.panel.current_tone()),
        )  # fmt: skip
        action(
            "&Ticket", "&Translate the reply into the customer's language", "Ctrl+Shift+L",
            lambda: s.rewrite("translate", s.view.ticket.language or "en" if s.view else "en"),
        )  # fmt: skip
        action("&Ticket", "Next ticket", "Ctrl+Down", lambda: self._move(1))
        action("&Ticket", "Previous ticket", "Ctrl+Up", lambda: self._move(-1))
        action("&Ticket", "Focus the draft", "Ctrl+D", self.panel.editor.setFocus)
        choose = menus["&Ticket"].addMenu("&Use a suggested article")
        for n in range(1, CHOICE_KEYS + 1):
            act = choose.addAction(f"Suggestion {n} answers the ticket (again: don't use it)")
            act.setShortcut(QKeySequence(f"Alt+{n}"))
            act.triggered.connect(partial(self.use_suggestion, n))
        menus["&Ticket"].addSeparator()
        self.status_actions = [  # without sending anything (Send and set… sends first)
            action("&Ticket", f"Set status: {word}", "", partial(self.set_status, status))
            for status, word in STATUS_WORDS.items()
        ]
        action("&Knowledge", "&Open article…", "Ctrl+K", self._open_article_by_search)
        action("&Knowledge", "&Gaps in the knowledge base…", "Ctrl+Shift+G", self.open_gaps)
        action("&Review", "Review &flags…", "Ctrl+Shift+R", self.open_review)
        action("&Review", "&Weekly review…", "Ctrl+Shift+Y", self.open_weekly_review)
        action("&Review", "&Try a model or prompt…", "", self.open_replay)
        action("&Review", "Regression &set…", "Ctrl+Shift+X", self.open_regression_set)
        action("&Models", "&Providers…", "Ctrl+Shift+M", self.open_providers)
        action("&Models", "&Usage and cost…", "Ctrl+Shift+U", self.open_usage)
        self.workspace_menu = self.menuBar().addMenu("&Workspace")
        self.workspace_menu.setToolTipsVisible(True)  # a disabled Sync says why
        self.workspace_menu.aboutToShow.connect(self._fill_workspace_menu)
        self.sync_action = QAction("&Sync now", self, shortcut=QKeySequence("F5"))
        self.sync_action.triggered.connect(lambda: self.sync.sync_now(background=False))
        self.helpdesks_action = QAction("&Help desks…", self, shortcut=QKeySequence("Ctrl+Shift+W"))
        self.helpdesks_action.triggered.connect(self.open_workspaces)
        # F5 in a workspace with no help desk (Sync disabled) says why instead of doing nothing.
        self.no_sync_action = QAction("Sync now", self, shortcut=QKeySequence("F5"), enabled=False)
        self.no_sync_action.triggered.connect(lambda: self.sync.sync_now(background=False))
        self.addActions(
            [self.sync_action, self.no_sync_action, self.helpdesks_action]
        )  # shortcuts work before the menu is opened
        action("&Help", "Check the &database…", "", self._check_database)
        action("&Help", "&About", "", self._about)

    def _connect(self) -> None:
        s, p, inbox = self.session, self.panel, self.inbox
        inbox.filter_changed.connect(self.inbox_model.set_filter)
        inbox.ticket_selected.connect(s.select)
        self.inbox_model.rows_changed.connect(inbox.set_rows)
        self.inbox_model.first_wanted.connect(inbox.select_first)
        inbox.rows_wanted.connect(self.inbox_model.fetch_rows)
        self.inbox_model.rows_fetched.connect(inbox.add_rows)
        inbox.ids_wanted.connect(self.inbox_model.fetch_ids)
        self.inbox_model.ids_fetched.connect(inbox.extend_ids)
        self.conversation.earlier_ticket_selected.connect(self._select_earlier)
        self.conversation.thread_view.article_link.connect(self.open_article)
        self.conversation.outbox_action.connect(self._outbox_action)
        for signal, slot in (
            (p.regenerate, s.regenerate), (p.rewrite, s.rewrite), (p.stop_generation, s.stop_generation),
            (p.send, s.send), (p.draft_edited, s.draft_edited), (p.flag_requested, self.flag_output),
            (p.flag_sentence, self._flag_sentence), (p.open_article, self.open_article),
            (p.set_name_requested, self.set_your_name),
            (p.edit_article, self.edit_article_for_ticket), (p.insert_link, s.insert_link),
            (p.not_relevant, s.not_relevant), (p.choose_article, s.choose_article),
            (s.cleared, p.clear), (s.loading, p.show_loading), (s.thread_changed, self.conversation.show_ticket),
            (s.result_changed, p.show_result), (s.draft_sources_changed, p.show_draft_meta),
            (s.draft_loaded, p.load_draft_text), (s.draft_replaced, p.set_draft_text),
            (s.draft_streamed, p.stream_piece), (s.summary_streamed, p.stream_summary),
            (s.generating_changed, p.set_generating), (s.draft_note, p.set_draft_note),
            (s.save_state, p.set_save_state), (s.message, self.statusBar().showMessage),
            (s.token_refused, self.ask_for_token), (s.models_used, self.refresh_budget),
            (self.sync.text_changed, self._show_sync_text), (self.sync.message, self.statusBar().showMessage),
            (self.sync.token_refused, self.ask_for_token), (self.runner.busy_changed, self._busy),
            (self.triage_folds.text_changed, self.triage_label.setText),
        ):  # fmt: skip
            signal.connect(slot)
        s.text_inserted.connect(p.insert_text)
        self.bridge.ticket_changed.connect(lambda _tid, _init: self.inbox_model.refresh())
        self.bridge.ticket_changed.connect(self._tickets_changed)
        self.bridge.draft_updated.connect(lambda _tid, _init: self.inbox_model.refresh())
        self.bridge.article_changed.connect(lambda _article_id: s.reassist())

    def start(self) -> None:
        self.statusBar().showMessage("Opening workspace…")
        self.session.workspace = self.workspace
        self.inbox_model.set_workspace(self.workspace)
        self.runner.run(open_for_window(self.services, self.workspace), self._workspace_open, "Opening workspace")

    def _workspace_open(self, opened: OpenedWorkspace) -> None:
        self._choices = {c.id: c for c in opened.choices}
        name, count = opened.choice.name, opened.tickets
        self.setWindowTitle(f"Support Copilot — {name}")
        self._show_helpdesk(opened.choice.has_helpdesk)
        self.panel.set_guessed_signer(self.services.guessed_agent_name(self.workspace))
        self.panel.set_empty_kb(
            ""
            if opened.articles
            else f"This workspace has no knowledge-base articles, so none can be suggested. Import some: "
            f"support-copilot kb import FOLDER-OR-FILE --workspace {self.workspace}"
        )
        where = "" if opened.choice.has_helpdesk else " imported from a file (no help desk: no sync, no sending)"
        self.statusBar().showMessage(f"{name}: {count} tickets{where}. {opened.engines}")
        self.inbox_model.refresh(select_first=True)
        self.sync.set_workspace(self.workspace)
        # Meaning search needs article vectors: compute new ones in the background, then refresh the panel.
        # Start after the first paint: loading the model at the same moment delayed it by ~0.3 s.
        QTimer.singleShot(INDEXING_DELAY_MS, self._start_indexing)
        self.refresh_budget()
        # Every labelled ticket's triage classifier (its fold), trained ahead once the window is idle.
        self.triage_folds.schedule(self.workspace)

    def _tickets_changed(self, ticket_id: int, _initiator: object) -> None:
        if ticket_id == 0 and self.triage_folds.workspace == self.workspace:  # a sync or import: maybe new labels
            self.triage_folds.schedule(self.workspace)

    def _show_helpdesk(self, has_helpdesk: bool) -> None:
        """Sync, Send and Set status need a help desk: without one they are disabled and say why."""
        reason = "" if has_helpdesk else no_helpdesk_reason(self.workspace)
        self.sync_action.setEnabled(has_helpdesk)
        self.sync_action.setText("&Sync now" if has_helpdesk else "Sync now (no help desk: tickets from a file)")
        self.no_sync_action.setEnabled(not has_helpdesk)
        self.sync_action.setToolTip(reason or "Pull changes from the help desk and send the outbox (F5)")
        for act in self.status_actions:
            act.setEnabled(has_helpdesk)
        self.session.send_blocked = reason
        self.panel.set_send_blocked(reason)

    def refresh_budget(self) -> None:
        """Show the budget banner at 80% of the monthly model budget, and say so plainly at 100%."""
        self.runner.run(budget_status(self.services), self.banner.show_status, "")

    def _start_indexing(self) -> None:
        def ready(embedded: int) -> None:
            if embedded:
                self.session.reassist()

        self.runner.run(refresh_vectors(self.services, self.workspace), ready, "Indexing articles")

    # ----- inbox and tickets -----
    def _focus_search(self) -> None:
        self.inbox.search.setFocus()
        self.inbox.search.selectAll()

    def _move(self, step: int) -> None:
        self.inbox.select_row(self.inbox.table.currentIndex().row() + step)

    def _select_earlier(self, ticket_id: int) -> None:
        if not self.inbox.select_ticket(ticket_id):
            self.inbox.search.clear()
            self.inbox.status.setCurrentIndex(0)
            self.session.select(ticket_id)

    def select_ticket_number(self, number: int) -> None:
        def found(ticket: Ticket) -> None:
            self._select_earlier(ticket.id)

        self.runner.run(conversation.find_ticket_number(self.services, self.workspace, number), found)

    def set_status(self, status: str) -> None:
        """Set the open ticket's status without sending anything (through the outbox, like every write)."""
        ticket_id = self.session.current_ticket
        if ticket_id is None:
            return

        def done(item: OutboxItem) -> None:
            word = STATUS_WORDS.get(status, status)
            waiting = "" if item.state.value == "sent" else f" here; the help desk gets it later ({item.last_error})"
            self.statusBar().showMessage(f"Status set to {word}{waiting}.", 8000)
            self.session.refresh_thread()

        self.runner.run(set_status(self.services, ticket_id, status), done, "Setting the status")

    # ----- review and knowledge -----
    def flag_output(self, task: str, target: str, text: str) -> None:
        if not self.session.can_flag(task):
            return
        dialog = FlagDialog(self, f"Flag {review.flagged_part(task, target)} as wrong:", text)
        if dialog.exec() == FlagDialog.DialogCode.Accepted:
            self.session.flag(task, target, text, *dialog.values())

    def _flag_sentence(self) -> None:
        sentences = self.session.draft_sentences()
        if not sentences:
            return
        choice, ok = QInputDialog.getItem(
            self, "Flag a sentence", "Which sentence of the AI draft is wrong?", sentences, 0, False
        )
        if ok:
            self.flag_output("draft", f"draft:sentence:{sentences.index(choice)}", choice)

    def open_preferences(self) -> PreferencesDialog:
        dialog = PreferencesDialog(self, self.services, self.runner)
        dialog.accepted.connect(self._preferences_changed)
        dialog.show()
        return dialog

    def set_your_name(self) -> None:
        """Preferences with the cursor in "Your name": the name drafts are signed with."""
        self.open_preferences().focus_setting("agent.name")

    def _preferences_changed(self) -> None:
        self.panel.set_guessed_signer(self.services.guessed_agent_name(self.workspace))
        self.session.autosave.setInterval(self.services.settings.draft.autosave_ms)
        self.panel.set_tone(self.services.settings.draft.tone)
        self.refresh_budget()
        self._start_indexing()  # a new embedding model re-embeds the articles; otherwise this finds nothing to do
        self.sync.settings_changed()
        self.session.reassist()

    def open_providers(self) -> None:
        from copilot.ui.dialogs.providers import ProvidersDialog

        ProvidersDialog(self, self.services, self.runner).show()

    def open_usage(self) -> None:
        from copilot.ui.dialogs.usage import UsageDialog

        UsageDialog(self, self.services, self.runner).show()

    def open_review(self) -> None:
        dialog = ReviewDialog(self, self.services, self.runner)
        dialog.open_ticket.connect(self._select_earlier)
        dialog.show()

    def open_replay(self) -> None:
        from copilot.ui.dialogs.replay import ReplayDialog

        ReplayDialog(self, self.services, self.runner).show()

    def open_regression_set(self) -> None:
        from copilot.ui.dialogs.regression_set import RegressionSetDialog

        RegressionSetDialog(self, self.services, self.runner).show()

    def open_weekly_review(self) -> None:
        from copilot.ui.dialogs.weekly_review import WeeklyReviewDialog

        dialog = WeeklyReviewDialog(self, self.services, self.runner, self.workspace)
        dialog.open_ticket_number.connect(self.select_ticket_number)
        dialog.edit_article.connect(self.open_article)
        dialog.show()

    def open_gaps(self) -> None:
        dialog = GapsDialog(self, self.services, self.runner, self.workspace)
        dialog.open_ticket_number.connect(self.select_ticket_number)
        dialog.show()

    def open_article(self, article_id: str) -> None:
        ArticleEditor(self, self.services, self.runner, self.workspace, article_id).show()

    def edit_article_for_ticket(self, article_id: str) -> None:
        """Edit from a ticket's panel: saving also makes the corrected article the one that ticket's draft cites."""
        ticket = self.session.current_ticket
        number = self.session.view.ticket.number if self.session.view else None

        def saved(article: Article) -> None:
            if ticket is not None:
                self.statusBar().showMessage(
                    f"Saved “{article.title}”: the draft for #{number} cites the corrected article.", 8000
                )

        ArticleEditor(self, self.services, self.runner, self.workspace, article_id, saved, ticket_id=ticket).show()

    def use_suggestion(self, n: int) -> None:
        """Alt+N: the N-th article the panel lists answers the ticket; on the chosen one, undo the choice."""
        result = self.session.result
        shown = shown_suggestions(result) if result is not None else []
        if 1 <= n <= len(shown):
            self.session.choose_article("" if shown[n - 1].chosen else shown[n - 1].article_id)

    def _open_article_by_search(self) -> None:
        text, ok = QInputDialog.getText(self, "Open article", "Search the knowledge base:")
        if not ok or not text.strip():
            return

        def show(found: list[Suggestion]) -> None:
            if not found:
                QMessageBox.information(self, "Open article", "No article matches. Try other words.")
                return
            titles = [f"{h.title} [{h.article_id}]" for h in found]
            choice, chosen = QInputDialog.getItem(self, "Open article", "Articles:", titles, 0, False)
            if chosen:
                self.open_article(found[titles.index(choice)].article_id)

        self.runner.run(knowledge.search_kb(self.services, text, self.workspace, 10), show, "Searching")

    # ----- help desks: sync, outbox, workspaces -----
    def _show_sync_text(self, text: str, tooltip: str) -> None:
        self.sync_label.setText(text)
        self.sync_label.setToolTip(tooltip)

    def ask_for_token(self, workspace: str, why: str) -> None:
        """The help desk refused the token: ask for a new one (once at a time), then resend what it refused."""
        if self._asking_token:
            return
        self._asking_token = True
        name = self.services.connector(workspace).display_name
        token, ok = QInputDialog.getText(
            self,
            "New API token",
            f"{why}\n\nPaste a new API token for {name}. It is stored in your system keyring.",
            QLineEdit.EchoMode.Password,
        )
        self._asking_token = False
        if ok and token.strip():
            self.sync.renew_token(workspace, token)

    def _outbox_action(self, action: str, item_id: int) -> None:
        self.session.outbox_action(action, item_id, self.sync.show_state)

    def _fill_workspace_menu(self) -> None:
        menu = self.workspace_menu
        menu.clear()
        group = QActionGroup(menu)
        for choice in self._menu_choices():
            act = menu.addAction(choice.name)
            act.setCheckable(True)
            act.setChecked(choice.id == self.workspace)
            act.triggered.connect(lambda _checked=False, n=choice.id: self.switch_workspace(n))
            group.addAction(act)
        menu.addSeparator()
        menu.addAction(self.sync_action)
        menu.addAction(self.helpdesks_action)
        current = self._choices.get(self.workspace)
        if current is not None and not current.has_helpdesk:  # a ticket import: the Help desks dialog lists none
            remove = menu.addAction(f"Remove '{current.name}'…")
            remove.setObjectName("removeImported")
            remove.triggered.connect(self.remove_imported_workspace)

    def _menu_choices(self) -> list[WorkspaceChoice]:
        """The help desks as they are now (the Help desks dialog changes them), then the workspaces made by a
        ticket import as of the last open."""
        helpdesks = [WorkspaceChoice(n, c.display_name, True) for n, c in self.services.connectors.items()]
        return helpdesks + [c for c in self._choices.values() if not c.has_helpdesk]

    def switch_workspace(self, name: str) -> None:
        if name == self.workspace or name not in {c.id for c in self._menu_choices()}:
            return
        self.sync.stop()
        self.triage_folds.stop()
        self.session.clear()
        self.workspace = name
        self.conversation.clear()
        self.start()

    def open_workspaces(self) -> None:
        from copilot.ui.dialogs.helpdesks import WorkspacesDialog

        dialog = WorkspacesDialog(self, self.services, self.runner)
        dialog.workspaces_changed.connect(self._workspaces_changed)
        dialog.show()

    def remove_imported_workspace(self) -> None:
        """Forget the open workspace made by a ticket import (its tickets, articles and drafts in this store; the
        file it came from is untouched), after saying what would be lost; the demo opens instead."""
        name = self.workspace
        choice = self._choices.get(name)
        if choice is None or choice.has_helpdesk:
            return

        def ask(unsent: list[str]) -> None:
            question = f"Forget '{choice.name}' and everything kept of it here? The file it came "
            question += "from is untouched: `support-copilot tickets import` brings it back."
            if unsent:
                question += "\n\nThese drafts exist nowhere else and will be deleted:\n• " + "\n• ".join(unsent[:10])
            if QMessageBox.question(self, "Remove imported workspace", question) != QMessageBox.StandardButton.Yes:
                return
            self.runner.run(
                remove_workspace(self.services, name, force=True),
                lambda _none: self._imported_removed(name),
                "Removing workspace",
            )

        self.runner.run(unsent_work(self.services, name), ask, "Checking for unsent work")

    def _imported_removed(self, name: str) -> None:
        self._choices.pop(name, None)
        if self.workspace == name:
            self.workspace = ""
            self.switch_workspace("demo")

    def _workspaces_changed(self, name: str) -> None:
        if name == self.workspace and name not in self.services.connectors:  # the open one was removed
            self.workspace = ""
            self.switch_workspace("demo")
        elif name == self.workspace:
            self.start()

    def _check_database(self) -> None:
        def show(check: DatabaseCheck) -> None:
            if check.sound:
                QMessageBox.information(
                    self, "Database check", f"The database is sound ({check.schema}).\n{check.path}"
                )
                return
            listed = "\n".join(check.problems[:10])
            QMessageBox.warning(
                self,
                "Database check",
                f"The database failed SQLite's integrity check ({len(check.problems)} problem(s)):\n{listed}\n\n"
                f"{check.path}\nRun `support-copilot doctor` for what to do; copy the file before anything else.",
            )

        self.runner.run(check_database(self.services), show, "Checking the database")

    def _about(self) -> None:
        from copilot import __version__

        paths = self.services.paths
        text = f"Support Copilot {__version__}\nData folder: {paths.home}\nLog: {paths.log_file}"
        QMessageBox.about(self, "About Support Copilot", text)

    def _busy(self, label: str) -> None:
        self.progress.setVisible(bool(label))
        self.busy_label.setText(label)

    # ----- layout memory -----
    def _restore_layout(self) -> None:
        state = load_window_state(self.services, LAYOUT_KEYS)
        geometry, splitter = state["ui.geometry"], state["ui.splitter"]
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        else:
            self.resize(1280, 800)
        if splitter:
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode()))

    def _save_layout(self) -> None:
        geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        splitter = bytes(self.splitter.saveState().toBase64().data()).decode()
        save_window_state(self.services, dict(zip(LAYOUT_KEYS, (geometry, splitter), strict=True)))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.session.save_pending_draft_now()
        self.triage_folds.stop()
        self._save_layout()
        self.bridge.detach()
        super().closeEvent(event)
