"""The ticket session: the selected ticket, its thread, the copilot's result, the draft and model streaming.

It holds the state and runs the use cases; views connect to its signals and redraw themselves. The draft's
text lives in the editor (`editor_text` reads it), so it is never kept twice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from copilot.assist import conversation, knowledge, review
from copilot.assist.conversation import Delivery, TicketView
from copilot.assist.routing import Rewritten, assist_ticket, assist_with_models, models_configured, rewrite_reply
from copilot.assist.ticket_assist import assist_builtin
from copilot.domain import Article, AssistResult
from copilot.domain.inbox import InboxRow
from copilot.engine.text import edit_ratio
from copilot.services import Services
from copilot.store.outbox import OutboxState
from copilot.ui.runner import Runner

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
STATUS_WORDS = {"open": "open", "pending": "pending", "resolved": "solved"}


class TicketSession(QObject):
    cleared = Signal()
    loading = Signal(str)
    thread_changed = Signal(object)  # TicketView
    result_changed = Signal(object, float, bool)  # AssistResult, min confidence, whether the draft's sources follow
    draft_sources_changed = Signal(object)  # the AssistResult whose draft the editor holds
    draft_loaded = Signal(str)  # a ticket's draft, shown fresh (not an edit)
    draft_replaced = Signal(str)  # one undoable replacement
    draft_streamed = Signal(str, bool)  # piece, first piece of the stream
    text_inserted = Signal(str)
    summary_streamed = Signal(str)
    generating_changed = Signal(bool)
    draft_note = Signal(str)  # who wrote the text in the editor
    save_state = Signal(str)
    message = Signal(str, int)  # status-bar text, milliseconds
    token_refused = Signal(str, str)  # workspace, why
    models_used = Signal()

    def __init__(
        self, services: Services, runner: Runner, editor_text: Callable[[], str], tone: Callable[[], str]
    ) -> None:
        super().__init__()
        self.services = services
        self.runner = runner
        self.editor_text = editor_text
        self.tone = tone
        self.workspace = ""
        self.current_ticket: int | None = None
        self.view: TicketView | None = None
        self.result: AssistResult | None = None
        self.ai_draft = ""  # the AI's text the editor was last filled with
        self.prefill = True  # whether AI drafts go into the editor (not once the customer has our answer)
        self.sending = False
        self.send_blocked = ""  # why this workspace cannot send (no help desk behind it); "" when it can
        self._dirty_draft: tuple[int, str] | None = None
        self._generation: tuple[asyncio.Task[None], AssistResult] | None = None
        self.autosave = QTimer(self, singleShot=True, interval=services.settings.draft.autosave_ms)
        self.autosave.timeout.connect(self.flush_draft)

    @property
    def min_confidence(self) -> float:
        return self.services.settings.suggest.min_confidence

    def _untouched(self) -> bool:
        """The editor still holds the AI's text, so a newer AI text may replace it."""
        return self.prefill and self.editor_text() == self.ai_draft

    def _show(self, result: AssistResult, with_sources: bool = True) -> None:
        self.result = result
        self.result_changed.emit(result, self.min_confidence, with_sources)

    # ----- selecting -----
    def select(self, ticket_id: int) -> None:
        self.stop_generation()
        self.flush_draft()
        self.current_ticket = ticket_id
        self.result = None
        self.cleared.emit()
        self.loading.emit("Reading the ticket…")
        self.runner.run(conversation.open_ticket(self.services, ticket_id), self._opened, "Opening ticket")

    def clear(self) -> None:
        """No ticket (another workspace is opening)."""
        self.flush_draft()
        self.current_ticket, self.view, self.result = None, None, None
        self.cleared.emit()

    def _opened(self, view: TicketView) -> None:
        if view.ticket.id != self.current_ticket:
            return  # the agent already moved on
        self.view = view
        self.prefill = view.awaits_reply
        self.ai_draft = ""
        self.thread_changed.emit(view)
        if view.draft is not None:
            self.ai_draft = view.draft.ai_body
            self.draft_loaded.emit(view.draft.body)
            self.save_state.emit(f"Restored your unsent draft from {view.draft.updated_at[11:16]} UTC")
        self.loading.emit("The copilot is reading the ticket…")
        self.runner.run(assist_builtin(self.services, view.ticket.id, self.tone()), self._assisted, "Copilot")

    def _assisted(self, result: AssistResult) -> None:
        if result.ticket.id != self.current_ticket:
            return
        self._show(result)
        if self.view is not None and self.view.draft is None and self.prefill:
            self.ai_draft = result.draft.text
            self.draft_loaded.emit(result.draft.text)
            self.save_state.emit("")
        self._route_to_models(result)

    def notice_rows(self, rows: list[InboxRow]) -> None:
        """A sync brought news for the open ticket: refresh the thread, leave the draft alone."""
        shown = self.view.ticket if self.view is not None else None
        row = next((r for r in rows if shown is not None and r.ticket_id == shown.id), None)
        if row is not None and shown is not None and row.updated_at != shown.updated_at:
            self.runner.run(conversation.open_ticket(self.services, shown.id), self._thread_refreshed, "")

    def refresh_thread(self) -> None:
        """Read the open ticket again (its status changed); the draft and the copilot's result stay."""
        if self.view is not None:
            self.runner.run(conversation.open_ticket(self.services, self.view.ticket.id), self._thread_refreshed, "")

    def _thread_refreshed(self, view: TicketView) -> None:
        if self.view is not None and view.ticket.id == self.view.ticket.id:
            self.view = view
            self.thread_changed.emit(view)

    # ----- model tiers: the built-in result shows at once, routed model output streams in after -----
    def _route_to_models(self, builtin_result: AssistResult) -> None:
        self.stop_generation()
        ticket_id = builtin_result.ticket.id
        first = [True]

        def on_delta(task: str, piece: str) -> None:
            if ticket_id != self.current_ticket:
                return
            if task == "summary":
                self.summary_streamed.emit(piece)
                return
            if first[0] and not self._untouched():
                return  # the agent has started editing: their text wins, the final draft is offered later
            self.draft_streamed.emit(piece, first[0])
            first[0] = False
            self.ai_draft = self.editor_text()

        async def generate() -> AssistResult | None:
            if not await models_configured(self.services):
                return None
            self.generating_changed.emit(True)
            return await assist_with_models(self.services, builtin_result, tone=self.tone(), on_delta=on_delta)

        def done(final: AssistResult | None) -> None:
            self._generation = None
            if final is None:
                return  # no model configured: the built-in result stands, nothing on screen changes
            self.generating_changed.emit(False)
            self.models_used.emit()
            if final.ticket.id != self.current_ticket:
                if self.result is not None:
                    self.draft_sources_changed.emit(self.result)
                return
            untouched = self._untouched()
            self._show(final, untouched)
            if untouched:
                if self.editor_text() != final.draft.text:
                    self.draft_replaced.emit(final.draft.text)
                self.ai_draft = final.draft.text
                self.draft_edited(final.draft.text)

        # No busy label: with no model configured this ends at once, and the panel shows its own progress.
        self._generation = (self.runner.run(generate(), done, ""), builtin_result)

    def stop_generation(self) -> None:
        """Cancel a model that is still writing; the built-in draft comes back if the stream had started."""
        if self._generation is None:
            return
        task, builtin_result = self._generation
        self._generation = None
        task.cancel()
        self.generating_changed.emit(False)
        if builtin_result.ticket.id == self.current_ticket:
            if self._untouched() and self.ai_draft != builtin_result.draft.text:
                self.draft_replaced.emit(builtin_result.draft.text)
                self.ai_draft = builtin_result.draft.text
            self.draft_sources_changed.emit(builtin_result)

    def regenerate(self, tone: str) -> None:
        if self.current_ticket is None:
            return
        ticket_id = self.current_ticket

        def done(result: AssistResult) -> None:
            if result.ticket.id != self.current_ticket:
                return
            self._show(result)
            self.prefill = True  # asked for: the AI draft goes into the editor even after a reply
            self.ai_draft = result.draft.text
            self.draft_replaced.emit(result.draft.text)  # undoable with Ctrl+Z
            self.draft_edited(result.draft.text)

        self.runner.run(assist_ticket(self.services, ticket_id, tone), done, "Regenerating draft")

    def reassist(self) -> None:
        """Refresh the panel (e.g. after an article edit or indexing). An untouched AI draft is replaced (undoably)
        so that text and citations agree; a draft the agent has edited is kept, with the citations it came with."""
        if self.current_ticket is None:
            return

        def done(result: AssistResult) -> None:
            if result.ticket.id != self.current_ticket:
                return
            untouched = self._untouched()
            self._show(result, untouched)
            if untouched and result.draft.text != self.ai_draft:
                self.ai_draft = result.draft.text
                self.draft_replaced.emit(result.draft.text)

        self.runner.run(assist_ticket(self.services, self.current_ticket, self.tone()), done, "Copilot")

    def rewrite(self, task: str, value: str) -> None:
        """The agent's reply in another tone, or translated, by a model, streamed into the editor as one
        undoable change (Ctrl+Z brings their text back); if the model fails, their text is put back at once."""
        if self.current_ticket is None or self._generation is not None:
            return
        ticket_id, original = self.current_ticket, self.editor_text()
        first = [True]

        def on_delta(piece: str) -> None:
            if ticket_id == self.current_ticket:
                self.draft_streamed.emit(piece, first[0])
                first[0] = False

        def done(out: Rewritten) -> None:
            if ticket_id != self.current_ticket:
                return
            if self.editor_text() != out.text:
                self.draft_replaced.emit(out.text)
            self.draft_edited(out.text)
            what = f"Rewritten ({value})" if task == "rewrite" else f"Translated ({value})"
            cost = "from cache" if out.routed.cache_hit else f"${out.routed.cost_usd:.4f}"
            self.draft_note.emit(
                f"{what} by {out.routed.model} · {out.routed.reason} · {cost} · Ctrl+Z brings your text back"
            )

        def failed(exc: BaseException) -> None:
            if ticket_id == self.current_ticket and not first[0]:
                self.draft_replaced.emit(original)  # a half-written rewrite never replaces the agent's text
            self.runner.presenter.present(exc)

        label = "Rewriting the reply" if task == "rewrite" else "Translating the reply"
        coro = rewrite_reply(
            self.services, ticket_id, original, task=task, tone=value, language=value, on_delta=on_delta
        )
        self.runner.run(coro, done, label, on_error=failed)

    # ----- the draft: saved as the agent types -----
    def draft_edited(self, text: str) -> None:
        if self.current_ticket is None:
            return
        self._dirty_draft = (self.current_ticket, text)
        self.save_state.emit("Editing…")
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
                self.save_state.emit(f"Draft saved {datetime.now().strftime('%H:%M:%S')}")

        coro = conversation.save_draft(self.services, ticket_id, text, self.ai_draft, output_id, initiator=self)
        self.runner.run(coro, saved, "")

    def save_pending_draft_now(self) -> None:
        """On close the loop may not run again: save synchronously on the store's thread."""
        pending = self._take_pending_draft()
        if pending is not None:
            ticket_id, text, output_id = pending
            conversation.save_draft_now(self.services, ticket_id, text, self.ai_draft, output_id)

    # ----- sending -----
    def send(self, internal: bool, status: str = "") -> None:
        """Send the editor's text (and set the status after it, if asked). Once it is in the outbox the editor
        is empty and the thread shows it; a second Ctrl+Enter meanwhile does nothing."""
        if self.current_ticket is None or self.sending:
            return
        if self.send_blocked:  # Ctrl+Enter with the buttons disabled: say why; the draft stays and is saved
            self.message.emit(self.send_blocked, 15000)
            return
        if not self.editor_text().strip():  # Ctrl+Enter on an empty editor (e.g. just after sending): say why
            self.message.emit("Nothing to send: the reply is empty. Write one, or draft again (Ctrl+R).", 8000)
            return
        self.autosave.stop()
        self._dirty_draft = None
        ticket_id, body, ai_draft = self.current_ticket, self.editor_text(), self.ai_draft
        output_id = self.result.output_ids.get("draft") if self.result else None
        what = "Internal note" if internal else "Reply"

        def sent(delivery: Delivery) -> None:
            self.sending = False
            item = delivery.item
            if item.state is OutboxState.SENT:
                changed = changed_words(edit_ratio(ai_draft, body.strip()))
                self.message.emit(f"{what} sent. {changed}{_status_note(delivery)}", 8000)
            elif item.state is OutboxState.FAILED:
                self.message.emit(f"{what} not sent: {item.last_error} It is kept in the outbox.", 15000)
                if delivery.needs_token and delivery.error is not None:
                    self.token_refused.emit(item.workspace, delivery.error.message)
            else:
                self.message.emit(
                    f"{what} is in the outbox and will be sent when the help desk answers ({item.last_error}).", 15000
                )
            if ticket_id == self.current_ticket:
                self.select(ticket_id)

        def failed(exc: BaseException) -> None:
            self.sending = False
            self.runner.presenter.present(exc)

        self.sending = True
        coro = conversation.send(
            self.services, ticket_id, body, internal=internal, ai_draft=ai_draft, output_id=output_id, status=status
        )
        self.runner.run(coro, sent, "Sending", on_error=failed)

    def outbox_action(self, action: str, item_id: int, done: Callable[[], None]) -> None:
        from copilot.assist import outbox

        def after(_item: object) -> None:
            done()
            if self.current_ticket is not None:
                self.select(self.current_ticket)

        if action == "retry":
            self.runner.run(outbox.retry(self.services, item_id), after, "Sending")
        else:
            self.runner.run(outbox.take_back(self.services, item_id), after, "")

    # ----- flags and knowledge -----
    def can_flag(self, task: str) -> bool:
        return self.result is not None and task in self.result.output_ids

    def flag(self, task: str, target: str, text: str, reason: str, note: str, correction: str) -> None:
        if self.result is None or task not in self.result.output_ids:
            return
        coro = review.flag_output(
            self.services, self.result.output_ids[task], target=target, target_text=text, reason=reason, note=note,
            correction=correction,
        )  # fmt: skip
        self.runner.run(coro, lambda _id: self.message.emit("Flagged for review. Thank you.", 5000), "Flagging")

    def draft_sentences(self) -> list[str]:
        text = self.result.draft.text if self.result else ""
        return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 3]

    def insert_link(self, article_id: str, title: str) -> None:
        def insert(link: str) -> None:
            self.text_inserted.emit(f"{title}: {link}" if link != title else title)

        self.runner.run(knowledge.article_link(self.services, self.workspace, article_id), insert, "")

    def not_relevant(self, article_id: str) -> None:
        if self.current_ticket is None:
            return
        coro = knowledge.mark_not_relevant(self.services, article_id, self.current_ticket)
        self.runner.run(coro, lambda _n: self.reassist(), "Updating suggestions")

    def choose_article(self, article_id: str) -> None:
        """Use this article (an article id) or Don't use (""): the draft is made again from the choice."""
        if self.current_ticket is None:
            return
        if not article_id:
            coro_clear = knowledge.clear_article_choice(self.services, self.current_ticket)
            self.runner.run(coro_clear, self._choice_cleared, "Updating suggestions")
            return
        coro = knowledge.choose_article(self.services, self.current_ticket, article_id)
        self.runner.run(coro, self._chose, "Updating suggestions")

    def _chose(self, article: Article) -> None:
        self.message.emit(f"Using “{article.title}” for this ticket: the draft cites it.", 6000)
        self.reassist()

    def _choice_cleared(self, article_id: str) -> None:
        if article_id:
            self.message.emit("The copilot ranks the articles again for this ticket.", 5000)
        self.reassist()


def changed_words(ratio: float) -> str:
    """How much of the AI draft the agent changed before sending, said so a small edit does not read "0%"."""
    if ratio <= 0:
        return "You sent the AI draft unchanged."
    share = "less than 1%" if ratio < 0.01 else f"{ratio:.0%}"
    return f"You changed {share} of the AI draft."


def _status_note(delivery: Delivery) -> str:
    status = delivery.status_item
    if status is None:
        return ""
    word = STATUS_WORDS.get(status.body, status.body)
    if status.state is OutboxState.SENT:
        return f" Status set to {word}."
    return f" The status change to {word} waits in the outbox."
