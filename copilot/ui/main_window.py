"""The main window: inbox | conversation | copilot, wired to the use cases through the runner."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
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
from copilot.assist.conversation import TicketView
from copilot.assist.indexing import refresh_vectors
from copilot.assist.providers import BudgetStatus, budget_status
from copilot.assist.routing import Rewritten, assist_ticket, assist_with_models, models_configured, rewrite_reply
from copilot.assist.ticket_assist import assist_builtin
from copilot.assist.workspace import open_workspace
from copilot.domain import AssistResult, Suggestion
from copilot.domain.inbox import InboxFilter, InboxRow
from copilot.engine.text import edit_ratio
from copilot.services import Services
from copilot.store.drafts import save_draft
from copilot.store.outbox import OutboxItem, OutboxState
from copilot.store.settings import get_setting, set_setting
from copilot.store.tickets import find_ticket
from copilot.ui.bridge import EventBridge
from copilot.ui.dialogs.misc import ArticleEditor, FlagDialog, GapsDialog, PreferencesDialog, ReviewDialog
from copilot.ui.runner import ErrorPresenter, Runner
from copilot.ui.widgets.conversation import ConversationPane
from copilot.ui.widgets.copilot_panel import CopilotPanel
from copilot.ui.widgets.inbox import InboxPane

INDEXING_DELAY_MS = 1500
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


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
        self.current_ticket: int | None = None
        self.view: TicketView | None = None
        self.result: AssistResult | None = None
        self.ai_draft = ""
        self._filter = InboxFilter()
        self._dirty_draft: tuple[int, str] | None = None
        self._generation: tuple[asyncio.Task[None], AssistResult] | None = None

        self.inbox = InboxPane()
        self.conversation = ConversationPane()
        self.panel = CopilotPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        for pane in (self.inbox, self.conversation, self.panel):
            self.splitter.addWidget(pane)
        self.splitter.setSizes([430, 430, 540])
        # A banner above the panes for what concerns the whole team (the monthly model budget).
        self.banner = QLabel()
        self.banner.setObjectName("budgetBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
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
        self.statusBar().addPermanentWidget(self.busy_label)
        self.statusBar().addPermanentWidget(self.progress)
        self.runner.busy_changed.connect(self._busy)

        self.sync_label = QLabel()
        self.sync_label.setObjectName("syncState")
        self.statusBar().addPermanentWidget(self.sync_label)
        self.sync_timer = QTimer(self)
        self.sync_timer.timeout.connect(lambda: self.sync_now(background=True))
        self._syncing = False
        self._asking_token = False

        self.autosave = QTimer(self, singleShot=True, interval=services.settings.draft.autosave_ms)
        self.autosave.timeout.connect(self.flush_draft)

        self.panel.set_tone(services.settings.draft.tone)
        self._menus()
        self._connect()
        self._restore_layout()

    # ----- set-up -----
    def _menus(self) -> None:
        def action(menu_name: str, text: str, shortcut: str, slot: object) -> QAction:
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            if menu_name not in menus:
                menus[menu_name] = self.menuBar().addMenu(menu_name)
            menus[menu_name].addAction(act)
            return act

        menus: dict[str, QMenu] = {}
        action("&File", "&Preferences…", "Ctrl+,", self.open_preferences)
        action("&File", "&Quit", "Ctrl+Q", self.close)
        action("&Ticket", "&Search tickets", "Ctrl+F", self._focus_search)
        action("&Ticket", "&Regenerate draft", "Ctrl+R", lambda: self.regenerate(self.panel.current_tone()))
        action(
            "&Ticket", "Re&write the reply in the chosen tone", "Ctrl+Shift+E",
            lambda: self.rewrite("rewrite", self.panel.current_tone()),
        )  # fmt: skip
        action(
            "&Ticket", "&Translate the reply into the customer's language", "Ctrl+Shift+L",
            lambda: self.rewrite("translate", self.view.ticket.language or "en" if self.view else "en"),
        )  # fmt: skip
        action("&Ticket", "Next ticket", "Ctrl+Down", lambda: self._move(1))
        action("&Ticket", "Previous ticket", "Ctrl+Up", lambda: self._move(-1))
        action("&Ticket", "Focus the draft", "Ctrl+D", self.panel.editor.setFocus)
        action("&Knowledge", "&Open article…", "Ctrl+K", self._open_article_by_search)
        action("&Knowledge", "&Gaps in the knowledge base…", "Ctrl+Shift+G", self.open_gaps)
        action("&Review", "Review &flags…", "Ctrl+Shift+R", self.open_review)
        action("&Review", "&Weekly review…", "Ctrl+Shift+Y", self.open_weekly_review)
        action("&Models", "&Providers…", "Ctrl+Shift+M", self.open_providers)
        action("&Models", "&Usage and cost…", "Ctrl+Shift+U", self.open_usage)
        self.workspace_menu = self.menuBar().addMenu("&Workspace")
        self.workspace_menu.aboutToShow.connect(self._fill_workspace_menu)
        self.sync_action = QAction("&Sync now", self, shortcut=QKeySequence("F5"))
        self.sync_action.triggered.connect(lambda: self.sync_now(background=False))
        self.helpdesks_action = QAction("&Help desks…", self, shortcut=QKeySequence("Ctrl+Shift+W"))
        self.helpdesks_action.triggered.connect(self.open_workspaces)
        self.addActions([self.sync_action, self.helpdesks_action])  # shortcuts work before the menu is opened
        action("&Help", "&About", "", self._about)

    def _connect(self) -> None:
        self.inbox.filter_changed.connect(self._filter_changed)
        self.inbox.ticket_selected.connect(self.select_ticket)
        self.conversation.earlier_ticket_selected.connect(self._select_earlier)
        self.conversation.thread_view.article_link.connect(self.open_article)
        self.conversation.outbox_action.connect(self._outbox_action)
        p = self.panel
        p.regenerate.connect(self.regenerate)
        p.rewrite.connect(self.rewrite)
        p.stop_generation.connect(self.stop_generation)
        p.send.connect(self.send)
        p.draft_edited.connect(self._draft_edited)
        p.flag_requested.connect(self.flag_output)
        p.flag_sentence.connect(self._flag_sentence)
        p.open_article.connect(self.open_article)
        p.edit_article.connect(self.open_article)
        p.insert_link.connect(self._insert_link)
        p.not_relevant.connect(self._not_relevant)
        self.bridge.ticket_changed.connect(lambda _tid, _init: self.refresh_inbox())
        self.bridge.draft_updated.connect(lambda _tid, _init: self.refresh_inbox())
        self.bridge.article_changed.connect(self._article_changed)

    def start(self) -> None:
        self.statusBar().showMessage("Opening workspace…")
        self.runner.run(open_workspace(self.services, self.workspace), self._workspace_open, "Opening workspace")

    def _workspace_open(self, count: int) -> None:
        connector = self.services.connector(self.workspace)
        name = connector.display_name
        self.setWindowTitle(f"Support Copilot — {name}")
        self.statusBar().showMessage(f"{name}: {count} tickets. Everything runs on this computer (built-in engine).")
        self.refresh_inbox(select_first=True)
        self.sync_timer.stop()
        if connector.kind == "demo":
            self.sync_label.setText("Demo workspace · built in, works offline")
        else:
            self._show_sync_state()
            self.sync_now(background=True)
            interval = self.services.settings.sync.interval_s
            if interval > 0:
                self.sync_timer.start(interval * 1000)
        # Meaning search needs article vectors: compute new ones in the background, then refresh the panel.
        # Start after the first paint: loading the model at the same moment delayed it by ~0.3 s.
        QTimer.singleShot(INDEXING_DELAY_MS, self._start_indexing)
        self.refresh_budget()

    def refresh_budget(self) -> None:
        """Show the budget banner at 80% of the monthly model budget, and say so plainly at 100%."""

        def show(status: BudgetStatus) -> None:
            self.banner.setVisible(status.level != "ok")
            self.banner.setText(status.message)
            self.banner.setProperty("level", status.level)
            self.banner.setStyleSheet(
                "QLabel#budgetBanner { padding: 6px 10px; color: #3d2c00; background: "
                + ("#ffd7d5;" if status.level == "spent" else "#fff4cc;")
                + " border-bottom: 1px solid #d9c27a; }"
            )

        self.runner.run(budget_status(self.services), show, "")

    def _start_indexing(self) -> None:
        self.runner.run(refresh_vectors(self.services, self.workspace), self._vectors_ready, "Indexing articles")

    def _vectors_ready(self, embedded: int) -> None:
        if embedded and self.current_ticket is not None:
            self._reassist(self.current_ticket)

    # ----- inbox -----
    def _filter_changed(self, filt: InboxFilter) -> None:
        self._filter = filt
        self.refresh_inbox()

    def refresh_inbox(self, select_first: bool = False) -> None:
        def show(rows: list[InboxRow]) -> None:
            self.inbox.set_rows(rows, self.current_ticket)
            if select_first and rows and self.current_ticket is None:  # never override the agent's own pick
                self.inbox.select_first()
            shown = self.view.ticket if self.view is not None else None
            row = next((r for r in rows if shown is not None and r.ticket_id == shown.id), None)
            if row is not None and shown is not None and row.updated_at != shown.updated_at:
                # A sync brought news for the open ticket: refresh the thread, leave the draft alone.
                self.runner.run(conversation.open_ticket(self.services, shown.id), self._thread_refreshed, "")

        self.runner.run(conversation.list_inbox(self.services, self.workspace, self._filter), show, "")

    def _thread_refreshed(self, view: TicketView) -> None:
        if self.view is not None and view.ticket.id == self.view.ticket.id:
            self.view = view
            self.conversation.show_ticket(view)

    def _focus_search(self) -> None:
        self.inbox.search.setFocus()
        self.inbox.search.selectAll()

    def _move(self, step: int) -> None:
        self.inbox.select_row(self.inbox.table.currentIndex().row() + step)

    def _select_earlier(self, ticket_id: int) -> None:
        if not self.inbox.select_ticket(ticket_id):
            self.inbox.search.clear()
            self.inbox.status.setCurrentIndex(0)
            self.select_ticket(ticket_id)

    # ----- one ticket -----
    def select_ticket(self, ticket_id: int) -> None:
        self.stop_generation()
        self.flush_draft()
        self.current_ticket = ticket_id
        self.result = None
        self.panel.clear()
        self.panel.show_loading("Reading the ticket…")
        self.runner.run(conversation.open_ticket(self.services, ticket_id), self._ticket_opened, "Opening ticket")

    def _ticket_opened(self, view: TicketView) -> None:
        if view.ticket.id != self.current_ticket:
            return  # the agent already moved on
        self.view = view
        self.conversation.show_ticket(view)
        if view.draft is not None:
            self.ai_draft = view.draft.ai_body
            self.panel.load_draft_text(view.draft.body)
            self.panel.saved.setText(f"Restored your unsent draft from {view.draft.updated_at[11:16]} UTC")
        self.panel.show_loading("The copilot is reading the ticket…")
        self.runner.run(
            assist_builtin(self.services, view.ticket.id, self.panel.current_tone()), self._assisted, "Copilot"
        )

    def _assisted(self, result: AssistResult) -> None:
        if result.ticket.id != self.current_ticket:
            return
        self.result = result
        self.panel.show_result(result, self.services.settings.suggest.min_confidence)
        if self.view is not None and self.view.draft is None:
            self.ai_draft = result.draft.text
            self.panel.load_draft_text(result.draft.text)
            self.panel.saved.setText("")
        self._route_to_models(result)

    # ----- model tiers: the built-in result shows at once, routed model output streams in after -----
    def _route_to_models(self, builtin_result: AssistResult) -> None:
        self.stop_generation()
        ticket_id = builtin_result.ticket.id
        first = [True]

        def on_delta(task: str, piece: str) -> None:
            if ticket_id != self.current_ticket:
                return
            if task == "summary":
                self.panel.stream_summary(piece)
                return
            if first[0] and self.panel.editor.toPlainText() != self.ai_draft:
                return  # the agent has started editing: their text wins, the final draft is offered later
            self.panel.stream_piece(piece, first[0])
            first[0] = False
            self.ai_draft = self.panel.editor.toPlainText()

        async def generate() -> AssistResult | None:
            if not await models_configured(self.services):
                return None
            self.panel.set_generating(True)
            return await assist_with_models(
                self.services, builtin_result, tone=self.panel.current_tone(), on_delta=on_delta
            )

        def done(final: AssistResult | None) -> None:
            self._generation = None
            if final is None:
                return  # no model configured: the built-in result stands, nothing on screen changes
            self.panel.set_generating(False)
            self.refresh_budget()
            if final.ticket.id != self.current_ticket:
                if self.result is not None:
                    self.panel._show_draft_meta(self.result)
                return
            untouched = self.panel.editor.toPlainText() == self.ai_draft
            self.result = final
            self.panel.show_result(final, self.services.settings.suggest.min_confidence, untouched)
            if untouched:
                if self.panel.editor.toPlainText() != final.draft.text:
                    self.panel.set_draft_text(final.draft.text)
                self.ai_draft = final.draft.text
                self._draft_edited(final.draft.text)

        # No busy label: with no model configured this ends at once, and the panel shows its own progress.
        self._generation = (self.runner.run(generate(), done, ""), builtin_result)

    def stop_generation(self) -> None:
        """Cancel a model that is still writing; the built-in draft comes back if the stream had started."""
        if self._generation is None:
            return
        task, builtin_result = self._generation
        self._generation = None
        task.cancel()
        self.panel.set_generating(False)
        if builtin_result.ticket.id == self.current_ticket:
            if self.panel.editor.toPlainText() == self.ai_draft and self.ai_draft != builtin_result.draft.text:
                self.panel.set_draft_text(builtin_result.draft.text)
                self.ai_draft = builtin_result.draft.text
            self.panel._show_draft_meta(builtin_result)

    def regenerate(self, tone: str) -> None:
        if self.current_ticket is None:
            return
        ticket_id = self.current_ticket

        def done(result: AssistResult) -> None:
            if result.ticket.id != self.current_ticket:
                return
            self.result = result
            self.panel.show_result(result, self.services.settings.suggest.min_confidence)
            self.ai_draft = result.draft.text
            self.panel.set_draft_text(result.draft.text)  # undoable with Ctrl+Z
            self._draft_edited(result.draft.text)

        self.runner.run(assist_ticket(self.services, ticket_id, tone), done, "Regenerating draft")

    def rewrite(self, task: str, value: str) -> None:
        """The agent's reply in another tone, or translated, by a model, streamed into the editor as one
        undoable change (Ctrl+Z brings their text back); if the model fails, their text is put back at once."""
        if self.current_ticket is None or self._generation is not None:
            return
        ticket_id, original = self.current_ticket, self.panel.editor.toPlainText()
        first = [True]

        def on_delta(piece: str) -> None:
            if ticket_id == self.current_ticket:
                self.panel.stream_piece(piece, first[0])
                first[0] = False

        def done(out: Rewritten) -> None:
            if ticket_id != self.current_ticket:
                return
            if self.panel.editor.toPlainText() != out.text:
                self.panel.set_draft_text(out.text)
            self._draft_edited(out.text)
            what = f"Rewritten ({value})" if task == "rewrite" else f"Translated ({value})"
            cost = "from cache" if out.routed.cache_hit else f"${out.routed.cost_usd:.4f}"
            self.panel.draft_meta.setText(
                f"{what} by {out.routed.model} · {out.routed.reason} · {cost} · Ctrl+Z brings your text back"
            )

        def failed(exc: BaseException) -> None:
            if ticket_id == self.current_ticket and not first[0]:
                self.panel.set_draft_text(original)  # a half-written rewrite never replaces the agent's text
            self.presenter.present(exc)

        label = "Rewriting the reply" if task == "rewrite" else "Translating the reply"
        coro = rewrite_reply(
            self.services, ticket_id, original, task=task, tone=value, language=value, on_delta=on_delta
        )
        self.runner.run(coro, done, label, on_error=failed)

    # ----- the draft: saved as the agent types -----
    def _draft_edited(self, text: str) -> None:
        if self.current_ticket is None:
            return
        self._dirty_draft = (self.current_ticket, text)
        self.panel.saved.setText("Editing…")
        self.autosave.start()

    def _take_pending_draft(self) -> tuple[int, str, int | None] | None:
        """The unsaved draft edit, if any, as (ticket, text, AI output id); it is no longer pending after."""
        self.autosave.stop()
        if self._dirty_draft is None:
            return None
        ticket_id, text = self._dirty_draft
        self._dirty_draft = None
        return ticket_id, text, self.result.output_ids.get("draft") if self.result else None

    def flush_draft(self) -> None:
        pending = self._take_pending_draft()
        if pending is None:
            return
        ticket_id, text, output_id = pending

        def saved(_none: None) -> None:
            if ticket_id == self.current_ticket:
                self.panel.saved.setText(f"Draft saved {datetime.now().strftime('%H:%M:%S')}")

        self.runner.run(
            conversation.save_draft(self.services, ticket_id, text, self.ai_draft, output_id, initiator=self), saved, ""
        )

    def send(self, internal: bool) -> None:
        if self.current_ticket is None:
            return
        self.autosave.stop()
        self._dirty_draft = None
        ticket_id = self.current_ticket
        body = self.panel.editor.toPlainText()
        output_id = self.result.output_ids.get("draft") if self.result else None

        ai_draft = self.ai_draft

        def sent(item: OutboxItem) -> None:
            what = "Internal note" if internal else "Reply"
            if item.state is OutboxState.SENT:
                changed = edit_ratio(ai_draft, body.strip())
                self.statusBar().showMessage(f"{what} sent. You changed {changed:.0%} of the AI draft.", 8000)
            elif item.state is OutboxState.FAILED:
                self.statusBar().showMessage(f"{what} not sent: {item.last_error} It is kept in the outbox.", 15000)
                if "refused the credentials" in item.last_error or "No API token" in item.last_error:
                    self.ask_for_token(item.workspace, item.last_error.split(" Enter a new")[0])
            else:
                self.statusBar().showMessage(
                    f"{what} is in the outbox and will be sent when the help desk answers ({item.last_error}).", 15000
                )
            if ticket_id == self.current_ticket:
                self.select_ticket(ticket_id)

        coro = conversation.send_reply(
            self.services, ticket_id, body, internal=internal, ai_draft=self.ai_draft, output_id=output_id
        )
        self.runner.run(coro, sent, "Sending")

    # ----- review and knowledge -----
    def flag_output(self, task: str, target: str, text: str) -> None:
        if self.result is None or task not in self.result.output_ids:
            return
        dialog = FlagDialog(self, f"{task}: {target}", text)
        if dialog.exec() != FlagDialog.DialogCode.Accepted:
            return
        reason, note, correction = dialog.values()
        coro = review.flag_output(
            self.services,
            self.result.output_ids[task],
            target=target,
            target_text=text,
            reason=reason,
            note=note,
            correction=correction,
        )
        self.runner.run(
            coro, lambda _id: self.statusBar().showMessage("Flagged for review. Thank you.", 5000), "Flagging"
        )

    def _flag_sentence(self) -> None:
        text = self.result.draft.text if self.result else ""
        sentences = [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 3]
        if not sentences:
            return
        choice, ok = QInputDialog.getItem(
            self, "Flag a sentence", "Which sentence of the AI draft is wrong?", sentences, 0, False
        )
        if ok:
            self.flag_output("draft", f"draft:sentence:{sentences.index(choice)}", choice)

    def open_preferences(self) -> None:
        dialog = PreferencesDialog(self, self.services, self.runner)
        dialog.accepted.connect(self._preferences_changed)
        dialog.show()

    def _preferences_changed(self) -> None:
        self.autosave.setInterval(self.services.settings.draft.autosave_ms)
        self.panel.set_tone(self.services.settings.draft.tone)
        self.refresh_budget()
        self._start_indexing()  # a new embedding model re-embeds the articles; otherwise this finds nothing to do
        interval = self.services.settings.sync.interval_s
        if self.sync_timer.isActive() or interval > 0:
            self.sync_timer.stop()
            if interval > 0 and self.services.connector(self.workspace).kind != "demo":
                self.sync_timer.start(interval * 1000)
        if self.current_ticket is not None:
            self._reassist(self.current_ticket)

    def open_providers(self) -> None:
        from copilot.ui.dialogs.providers import ProvidersDialog

        ProvidersDialog(self, self.services, self.runner).show()

    def open_usage(self) -> None:
        from copilot.ui.dialogs.providers import UsageDialog

        UsageDialog(self, self.services, self.runner).show()

    def open_review(self) -> None:
        dialog = ReviewDialog(self, self.services, self.runner)
        dialog.open_ticket.connect(self._select_earlier)
        dialog.show()

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

    def select_ticket_number(self, number: int) -> None:
        def found(ticket: object) -> None:
            self._select_earlier(getattr(ticket, "id", 0))

        self.runner.run(self.services.store.run(find_ticket, self.services.store.db, self.workspace, number), found)

    def open_article(self, article_id: str) -> None:
        editor = ArticleEditor(self, self.services, self.runner, article_id)
        editor.show()

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

    def _insert_link(self, article_id: str, title: str) -> None:
        def insert(link: str) -> None:
            self.panel.insert_text(f"{title}: {link}" if link != title else title)
            self.panel.editor.setFocus()

        self.runner.run(knowledge.article_link(self.services, self.workspace, article_id), insert, "")

    def _not_relevant(self, article_id: str) -> None:
        if self.current_ticket is None:
            return
        ticket_id = self.current_ticket
        self.runner.run(
            knowledge.mark_not_relevant(self.services, article_id, ticket_id),
            lambda _n: self._reassist(ticket_id),
            "Updating suggestions",
        )

    def _article_changed(self, _article_id: str) -> None:
        if self.current_ticket is not None:
            self._reassist(self.current_ticket)

    def _reassist(self, ticket_id: int) -> None:
        """Refresh the panel (e.g. after an article edit or indexing). An untouched AI draft is replaced (undoably)
        so that text and citations agree; a draft the agent has edited is kept, with the citations it came with."""

        def done(result: AssistResult) -> None:
            if result.ticket.id != self.current_ticket:
                return
            untouched = self.panel.editor.toPlainText() == self.ai_draft
            self.result = result
            self.panel.show_result(result, self.services.settings.suggest.min_confidence, untouched)
            if untouched and result.draft.text != self.ai_draft:
                self.ai_draft = result.draft.text
                self.panel.set_draft_text(result.draft.text)

        self.runner.run(assist_ticket(self.services, ticket_id, self.panel.current_tone()), done, "Copilot")

    # ----- help desks: sync, outbox, workspaces -----
    def sync_now(self, background: bool) -> None:
        """Pull changes and deliver the outbox. In the background a failure only updates the status line."""
        from copilot.assist.sync import SyncReport, sync_workspace

        workspace = self.workspace
        if self.services.connector(workspace).kind == "demo":
            if not background:
                self.statusBar().showMessage("The demo workspace has nothing to sync: it is built in.", 5000)
            return
        if self._syncing:
            return
        self._syncing = True
        self.sync_label.setText("Syncing…")

        def done(report: SyncReport) -> None:
            self._syncing = False
            if workspace != self.workspace:
                return
            self._show_sync_state()
            if report.messages_added or report.errors or not background:
                skipped = f", {len(report.errors)} items skipped (see the log)" if report.errors else ""
                self.statusBar().showMessage(
                    f"Synced: {report.tickets_changed} tickets changed, {report.messages_added} new messages{skipped}.",
                    8000,
                )
            if report.errors:
                import logging

                logging.getLogger(__name__).warning("sync %s skipped: %s", workspace, "; ".join(report.errors))

        def failed(exc: BaseException) -> None:
            from copilot.errors import HelpdeskAuthError

            self._syncing = False
            self._show_sync_state()
            if isinstance(exc, HelpdeskAuthError):
                self.ask_for_token(workspace, exc.message)
            elif not background:
                self.presenter.present(exc)

        self.runner.run(
            sync_workspace(self.services, workspace), done, "" if background else "Syncing", on_error=failed
        )

    def ask_for_token(self, workspace: str, why: str) -> None:
        """The help desk refused the token: ask for a new one (once at a time), then resend what it refused."""
        from copilot.assist import outbox
        from copilot.assist.workspace import set_token

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
        if not ok or not token.strip():
            return

        async def renew() -> int:
            await set_token(self.services, workspace, token)
            return len(await outbox.retry_refused(self.services, workspace))

        def renewed(resent: int) -> None:
            self.statusBar().showMessage(f"Token saved. {resent} waiting message(s) sent again.", 8000)
            self.sync_now(background=False)

        self.runner.run(renew(), renewed, "Saving token")

    def _show_sync_state(self) -> None:
        from copilot.store.outbox import counts
        from copilot.store.workspaces import sync_state

        workspace = self.workspace

        def read(db: object) -> tuple[object, dict[str, int]]:
            return sync_state(self.services.store.db, workspace), counts(self.services.store.db, workspace)

        def show(found: tuple[object, dict[str, int]]) -> None:
            state, waiting = found
            if workspace != self.workspace or self._syncing:
                return  # a sync started meanwhile: its end shows the state
            unsent = waiting.get("pending", 0) + waiting.get("sending", 0)
            failed = waiting.get("failed", 0)
            outbox = f" · {unsent} waiting to send" if unsent else ""
            outbox += f" · {failed} not sent" if failed else ""
            offline = getattr(state, "offline_since", "")
            last = getattr(state, "last_sync_at", "")
            error = getattr(state, "last_error", "")
            if offline:
                text = f"⚠ Offline since {_local_time(offline)} — working from the local copy{outbox}"
            elif error:
                text = f"⚠ Sync stopped: {error}{outbox}"
            else:
                text = f"Synced {_local_time(last) if last else 'never'}{outbox}"
            self.sync_label.setText(text)
            self.sync_label.setToolTip(error)

        self.runner.run(self.services.store.run(read, None), show, "")

    def _outbox_action(self, action: str, item_id: int) -> None:
        from copilot.assist import outbox

        if action == "retry":
            self.runner.run(outbox.retry(self.services, item_id), lambda _i: self._after_outbox(), "Sending")
        else:
            self.runner.run(outbox.take_back(self.services, item_id), lambda _i: self._after_outbox(), "")

    def _after_outbox(self) -> None:
        self._show_sync_state()
        if self.current_ticket is not None:
            self.select_ticket(self.current_ticket)

    def _fill_workspace_menu(self) -> None:
        from PySide6.QtGui import QActionGroup

        menu = self.workspace_menu
        menu.clear()
        group = QActionGroup(menu)
        for name, connector in self.services.connectors.items():
            act = menu.addAction(connector.display_name)
            act.setCheckable(True)
            act.setChecked(name == self.workspace)
            act.triggered.connect(lambda _checked=False, n=name: self.switch_workspace(n))
            group.addAction(act)
        menu.addSeparator()
        menu.addAction(self.sync_action)
        menu.addAction(self.helpdesks_action)

    def switch_workspace(self, name: str) -> None:
        if name == self.workspace or name not in self.services.connectors:
            return
        self.flush_draft()
        self.sync_timer.stop()
        self.workspace = name
        self.current_ticket = None
        self.view = None
        self.result = None
        self.panel.clear()
        self.conversation.header.setText("Select a ticket in the inbox.")
        self.conversation.thread_view.clear()
        self.inbox.set_rows([], None)
        self.start()

    def open_workspaces(self) -> None:
        from copilot.ui.dialogs.helpdesks import WorkspacesDialog

        dialog = WorkspacesDialog(self, self.services, self.runner)
        dialog.workspaces_changed.connect(self._workspaces_changed)
        dialog.show()

    def _workspaces_changed(self, name: str) -> None:
        if name == self.workspace and name not in self.services.connectors:  # the open one was removed
            self.workspace = ""
            self.switch_workspace("demo")
        elif name == self.workspace:
            self.start()

    def _about(self) -> None:
        from copilot import __version__

        QMessageBox.about(
            self,
            "About Support Copilot",
            f"Support Copilot {__version__}\nData folder: {self.services.paths.home}\nLog: {self.services.paths.log_file}",
        )

    def _busy(self, label: str) -> None:
        self.progress.setVisible(bool(label))
        self.busy_label.setText(label)

    # ----- layout memory -----
    def _restore_layout(self) -> None:
        def read(db: object) -> tuple[str | None, str | None]:
            return get_setting(self.services.store.db, "ui.geometry"), get_setting(
                self.services.store.db, "ui.splitter"
            )

        geometry, splitter = self.services.store.run_sync(read, None)
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        else:
            self.resize(1280, 800)
        if splitter:
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode()))

    def _save_layout(self) -> None:
        geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        splitter = bytes(self.splitter.saveState().toBase64().data()).decode()

        def write(db: object) -> None:
            set_setting(self.services.store.db, "ui.geometry", geometry)
            set_setting(self.services.store.db, "ui.splitter", splitter)

        self.services.store.run_sync(write, None)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_pending_draft_now()
        self._save_layout()
        self.bridge.detach()
        super().closeEvent(event)

    def _save_pending_draft_now(self) -> None:
        """On close the loop may not run again: save synchronously on the store's thread."""
        pending = self._take_pending_draft()
        if pending is not None:
            ticket_id, text, output_id = pending
            self.services.store.run_sync(save_draft, self.services.store.db, ticket_id, text, self.ai_draft, output_id)


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M")
    except ValueError:
        return iso


def pane(window: MainWindow, name: str) -> QWidget:
    found = window.findChild(QWidget, name)
    assert found is not None
    return found
