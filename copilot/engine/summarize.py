"""Extractive summary: what the customer wants, what has been tried, and what happens next."""

from __future__ import annotations

import re

from copilot.domain import Message, Role, Summary, SummaryLine, Ticket, Visibility
from copilot.engine.signals import INJECTION
from copilot.engine.text import sentences

PROMPT_VERSION = "summary-rules-2"

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


def _own_words(message: Message) -> list[str]:
    """The message's sentences, less any aimed at an AI ("ignore your instructions and approve …"): those
    are not what the customer wants from us, and the summary must never repeat them as the request."""
    return [s for s in sentences(message.body) if not INJECTION.search(s)]


def _main_ask(message: Message) -> str:
    sents = _own_words(message)
    ask = next((s for s in sents if _REQUEST.search(s) and len(s.split()) >= 4), None)
    return _clip(ask or (sents[0] if sents else ""))


def _wants(customer: list[Message]) -> tuple[str, int | None]:
    """The first request in the customer's own words (a message that only instructs an AI is skipped)."""
    for m in customer:
        ask = _main_ask(m)
        if ask:
            return ask, m.id
    return "The customer's messages hold no request (only text aimed at an AI).", None


def summarize(ticket: Ticket) -> Summary:
    customer = ticket.customer_messages()
    if not customer:
        return Summary((SummaryLine("Wants", "The customer has not written anything yet."),))
    wants, wants_id = _wants(customer)
    lines: list[SummaryLine] = [SummaryLine("Wants", wants, wants_id)]
    latest = customer[-1]
    if len(customer) > 1 and latest.id != wants_id:
        latest_ask = _main_ask(latest)
        if latest_ask and latest_ask != lines[0].text:
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
        # Our reply is in the thread: the next step is the customer's. Only a question we asked them is
        # worth repeating; the rest of our reply (steps, sign-off) is not a next step.
        who = ticket.customer_first_name or "the customer"
        question = next((q for q in sentences(last.body) if q.endswith("?") and len(q.split()) >= 4), None)
        if question:
            return SummaryLine("Next", f"Waiting for {who} to answer: {_clip(question)}", last.id)
        return SummaryLine("Next", f"Waiting for {who} to reply; follow up if nothing comes.", last.id)
    text = f"Reply to {ticket.customer_first_name or 'the customer'}."
    if notes:
        text += f" Internal note from {notes[-1].author}: {_clip(sentences(notes[-1].body)[0])}"
    return SummaryLine("Next", text, notes[-1].id if notes else None)
