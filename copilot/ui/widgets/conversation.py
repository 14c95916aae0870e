"""The conversation: the thread, rendered safely, with the customer's details and earlier tickets."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from copilot.assist.conversation import TicketView
from copilot.domain import Role, Visibility
from copilot.store.outbox import OutboxKind, OutboxState
from copilot.ui.render import message_html
from copilot.ui.widgets.safe_browser import SafeBrowser

STYLE = """
<style>
 .msg { margin: 0 0 10px 0; padding: 6px 8px; }
 .customer { background: #f4f6fa; }
 .agent { background: #eef8f0; }
 .internal { background: #fff6d6; }
 .outbox { background: #fdeeee; border: 1px dashed #c99; }
 .who { color: #555; font-size: small; }
</style>
"""


def thread_html(view: TicketView) -> str:
    parts = [STYLE]
    for m in view.ticket.messages:
        css = "internal" if m.visibility is Visibility.INTERNAL else m.role.value
        label = (
            "Internal note"
            if m.visibility is Visibility.INTERNAL
            else ("Customer" if m.role is Role.CUSTOMER else "Agent")
        )
        parts.append(
            f'<table width="100%" class="msg {css}" cellpadding="6"><tr><td>'
            f'<div class="who"><b>{html.escape(m.author)}</b> · {label} · {html.escape(m.created_at[:16].replace("T", " "))}</div>'
            f"{message_html(m.body, m.body_format)}</td></tr></table>"
        )
    for item in view.unsent:
        label = "Internal note" if item.kind is OutboxKind.NOTE else "Reply"
        if item.state is OutboxState.FAILED:
            state = f"<b style='color:#a40000'>not sent</b>: {html.escape(item.last_error)}"
        elif item.state is OutboxState.SENDING:
            state = "<b>sending…</b>"
        else:
            when = item.next_attempt_at[11:16]
            why = f" ({html.escape(item.last_error)})" if item.last_error else ""
            state = f"<b>waiting to send</b>, next attempt {when} UTC{why}"
        actions = f'<a href="outbox:retry:{item.id}">Retry now</a>'
        if not item.outcome_unknown and item.state is not OutboxState.SENDING:
            actions += f' · <a href="outbox:edit:{item.id}">Back to draft</a>'
        parts.append(
            f'<table width="100%" class="msg outbox" cellpadding="6"><tr><td>'
            f'<div class="who"><b>{html.escape(item.author)}</b> · {label} · {state}</div>'
            f"{message_html(item.body, 'text')}<div class='who'>{actions}</div></td></tr></table>"
        )
    return "".join(parts)


class ConversationPane(QWidget):
    earlier_ticket_selected = Signal(int)
    outbox_action = Signal(str, int)  # ("retry" | "edit", outbox item id)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("conversation")
        self.header = QLabel("Select a ticket in the inbox.")
        self.header.setObjectName("ticketHeader")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.thread_view = SafeBrowser()
        self.thread_view.setObjectName("thread")
        self.thread_view.other_link.connect(self._link)
        self.customer = QLabel()
        self.customer.setWordWrap(True)
        self.earlier = QListWidget()
        self.earlier.setMaximumHeight(90)
        self.earlier.itemActivated.connect(self._earlier_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.thread_view, 1)
        layout.addWidget(self.customer)
        layout.addWidget(QLabel("Earlier tickets from this customer:"))
        layout.addWidget(self.earlier)

    def show_ticket(self, view: TicketView) -> None:
        t = view.ticket
        self.header.setText(
            f"<h3 style='margin:0'>#{t.number} {html.escape(t.subject)}</h3>"
            f"<span>{html.escape(t.status)} · opened {html.escape(t.created_at[:10])}"
            f"{' · ' + html.escape(', '.join(t.tags)) if t.tags else ''}</span>"
        )
        self.thread_view.setHtml(thread_html(view))
        bar = self.thread_view.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.customer.setText(
            f"<b>{html.escape(t.customer_name)}</b> &lt;{html.escape(t.customer_email)}&gt; · language: {t.language or 'en'}"
        )
        self.earlier.clear()
        for ticket_id, number, subject, status, created in view.earlier:
            item = QListWidgetItem(f"#{number} {subject} ({status}, {created[:10]})")
            item.setData(Qt.ItemDataRole.UserRole, ticket_id)
            self.earlier.addItem(item)
        if not view.earlier:
            self.earlier.addItem("None")

    def clear(self) -> None:
        self.header.setText("Select a ticket in the inbox.")
        self.thread_view.clear()
        self.customer.clear()
        self.earlier.clear()

    def _link(self, url: str) -> None:
        scheme, _, rest = url.partition(":")
        action, _, item_id = rest.partition(":")
        if scheme == "outbox" and action in ("retry", "edit") and item_id.isdigit():
            self.outbox_action.emit(action, int(item_id))

    def _earlier_activated(self, item: QListWidgetItem) -> None:
        ticket_id = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(ticket_id, int):
            self.earlier_ticket_selected.emit(ticket_id)
