"""Typed "did" events: logic announces what changed; each view redraws itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    initiator: object | None = None


@dataclass(frozen=True)
class TicketDidChange(Event):
    ticket_id: int = 0


@dataclass(frozen=True)
class DraftDidUpdate(Event):
    ticket_id: int = 0


@dataclass(frozen=True)
class ArticleDidChange(Event):
    article_id: str = ""


@dataclass(frozen=True)
class FlagsDidChange(Event):
    flag_id: int = 0


Listener = Callable[[Any], None]


class EventBus:
    """Synchronous publish/subscribe on the event loop's thread."""

    def __init__(self) -> None:
        self._listeners: dict[type[Event], list[Listener]] = {}

    def subscribe(self, kind: type[Event], listener: Listener) -> Callable[[], None]:
        self._listeners.setdefault(kind, []).append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners.get(kind, []):
                self._listeners[kind].remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners.get(type(event), [])):
            listener(event)
