"""Extractive summary: what the customer wants, what has been tried, and what happens next."""

from __future__ import annotations

import re

from copilot.domain import Message, Role, Summary, SummaryLine, Ticket, Visibility
from copilot.engine.text import sentences

PROMPT_VERSION = "summary-rules-1"

_REQUEST = re.compile(
    r"\?|\b(i want|i'd like|i would like|i need|can you|could you|please|how do i|how can i|is it possible|"
    r"help me|why is|why does|when will|where is|quiero|necesito|puede|ich möchte|ich brauche|können sie|"
    r"je voudrais|pouvez-vous|j'ai besoin)\b",
    re.IGNORECASE,
)
_TRIED = re.compile(
    r"\b(tried|restarted|reinstalled|cleared|reset|re-?entered|checked|updated|followed|already|"
    r"logged out|switched|he probado|intentado|versucht|neu gestartet|essayé|redémarré)\b",
    re.IGNORECASE,
)
_AGENT_STEP = re.compile(
    r"\b(please try|could you|can you|have you tried|try|I've|I have|we have|we've|I will|I'll|please send)\b",
    re.IGNORECASE,
)
MAX_CHARS = 180


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _first_matching(message: Message, pattern: re.Pattern[str]) -> str | None:
    # A greeting like "Hello?" is not an ask: want at least four words.
    return next((s for s in sentences(message.body) if pattern.search(s) and len(s.split()) >= 4), None)


def _main_ask(message: Message) -> str:
    sents = sentences(message.body)
    ask = _first_matching(message, _REQUEST)
    return _clip(ask or (sents[0] if sents else message.body))


def summarize(ticket: Ticket) -> Summary:
    customer = ticket.customer_messages()
    if not customer:
        return Summary((SummaryLine("Wants", "The customer has not written anything yet."),))
    lines: list[SummaryLine] = [SummaryLine("Wants", _main_ask(customer[0]), customer[0].id)]
    latest = customer[-1]
    if len(customer) > 1:
        latest_ask = _main_ask(latest)
        if latest_ask != lines[0].text:
            lines.append(SummaryLine("Now", latest_ask, latest.id))

    tried: list[SummaryLine] = []
    for m in customer:
        step = _first_matching(m, _TRIED)
        if step:
            tried.append(SummaryLine("Tried", _clip(step), m.id))
    for m in ticket.messages:
        if m.role is Role.AGENT and m.visibility is Visibility.PUBLIC:
            step = _first_matching(m, _AGENT_STEP) or next(iter(sentences(m.body)[1:2] or sentences(m.body)), "")
            if step:
                tried.append(SummaryLine("Tried", f"{m.author} replied: {_clip(step)}", m.id))
    lines.extend(tried[-3:] or [SummaryLine("Tried", "Nothing yet: no one has replied.")])
    lines.append(_next_step(ticket))
    return Summary(tuple(lines))


def _next_step(ticket: Ticket) -> SummaryLine:
    public = ticket.public_messages()
    last = public[-1] if public else None
    notes = [m for m in ticket.messages if m.visibility is Visibility.INTERNAL]
    if ticket.status in {"resolved", "closed"}:
        return SummaryLine("Next", f"Nothing: the ticket is {ticket.status}.")
    if last is not None and last.role is Role.AGENT:
        ask = _first_matching(last, _REQUEST)
        waiting = f"Waiting for {ticket.customer_first_name or 'the customer'} to answer"
        return SummaryLine("Next", f"{waiting}: {_clip(ask)}" if ask else f"{waiting}.", last.id)
    text = f"Reply to {ticket.customer_first_name or 'the customer'}."
    if notes:
        text += f" Internal note from {notes[-1].author}: {_clip(sentences(notes[-1].body)[0])}"
    return SummaryLine("Next", text, notes[-1].id if notes else None)
