"""Turn the logic's "did" events into Qt signals that views connect to."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from copilot.domain.events import ArticleDidChange, DraftDidUpdate, EventBus, FlagsDidChange, TicketDidChange


class EventBridge(QObject):
    ticket_changed = Signal(int, object)  # ticket id (0: many), initiator
    draft_updated = Signal(int, object)
    article_changed = Signal(str)
    flags_changed = Signal()

    def __init__(self, bus: EventBus) -> None:
        super().__init__()
        self._unsubscribe = [
            bus.subscribe(TicketDidChange, lambda e: self.ticket_changed.emit(e.ticket_id, e.initiator)),
            bus.subscribe(DraftDidUpdate, lambda e: self.draft_updated.emit(e.ticket_id, e.initiator)),
            bus.subscribe(ArticleDidChange, lambda e: self.article_changed.emit(e.article_id)),
            bus.subscribe(FlagsDidChange, self._flags),
        ]

    def _flags(self, _event: Any) -> None:
        self.flags_changed.emit()

    def detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
