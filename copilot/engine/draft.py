"""A reply drafted from templates, grounded in the chosen articles, in the customer's language and the
agent's tone. When no article is confident enough it says so plainly instead of inventing an answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.domain import Citation, Draft, Flag, Suggestion, Ticket
from copilot.engine.phrases import TONES, phrase
from copilot.engine.text import strip_markdown

PROMPT_VERSION = "draft-templates-1"
_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.*\S)\s*$")
MAX_STEPS = 5


@dataclass(frozen=True)
class DraftInputs:
    ticket: Ticket
    suggestions: tuple[Suggestion, ...]
    article_bodies: dict[str, str]
    flags: tuple[Flag, ...]
    sentiment: str
    language: str
    tone: str
    agent_name: str
    min_confidence: float
    article_urls: dict[str, str] = field(default_factory=dict)  # where the customer can read each article


def _steps(body: str) -> list[str]:
    return [strip_markdown(m.group(1)).strip() for line in body.splitlines() if (m := _STEP.match(line))]


def _grounded_lines(suggestion: Suggestion, body: str) -> list[str]:
    steps = _steps(body)
    if steps:
        return [f"{i}. {s}" for i, s in enumerate(steps[:MAX_STEPS], start=1)]
    return [strip_markdown(suggestion.passage).strip()]


def _linked(suggestion: Suggestion, urls: dict[str, str]) -> str:
    url = urls.get(suggestion.article_id, "")
    return f"{suggestion.title} ({url})" if url else suggestion.title


def build_draft(inp: DraftInputs) -> Draft:
    tone = inp.tone if inp.tone in TONES else "friendly"
    lang = inp.language
    t = inp.ticket
    kinds = {f.kind for f in inp.flags}
    parts: list[str] = []
    if t.customer_first_name:
        parts.append(phrase(lang, f"greet.{tone}", name=t.customer_first_name, full_name=t.customer_name))
    else:
        parts.append(phrase(lang, "greet.anon"))

    opening: list[str] = []
    if tone != "concise":
        upset = inp.sentiment == "negative" or kinds & {"frustration", "legal_threat", "churn_risk"}
        opening.append(
            phrase(lang, "sorry.formal" if tone == "formal" else "sorry.friendly")
            if upset
            else phrase(lang, f"thanks.{'formal' if tone == 'formal' else 'friendly'}")
        )
    if "repeated_contact" in kinds:
        opening.append(phrase(lang, "sorry.repeat"))
    if "asks_for_human" in kinds:
        opening.append(phrase(lang, "human"))
    if opening:
        parts.append(" ".join(opening))

    usable = [s for s in inp.suggestions if s.confidence >= inp.min_confidence]
    citations: list[Citation] = []
    if usable:
        top = usable[0]
        citations.append(Citation(1, top.article_id, top.title, top.article_version))
        block = [phrase(lang, "grounded.intro", title=top.title)]
        if lang != "en":
            block.append(phrase(lang, "english_source"))
        lines = _grounded_lines(top, inp.article_bodies.get(top.article_id, top.passage))
        lines[-1] = f"{lines[-1]} [1]"
        parts.append("\n".join([*block, *lines]))
        refs = [phrase(lang, "grounded.more", title=_linked(top, inp.article_urls), n=1)]
        if len(usable) > 1 and tone != "concise":
            second = usable[1]
            citations.append(Citation(2, second.article_id, second.title, second.article_version))
            refs.append(phrase(lang, "grounded.also", title=_linked(second, inp.article_urls), n=2))
        parts.append(" ".join(refs))
    else:
        parts.append(phrase(lang, "nosource"))

    closing = phrase(lang, f"close.{tone}")
    if closing:
        parts.append(closing)
    parts.append(phrase(lang, f"sign.{tone}", agent=inp.agent_name))
    return Draft("\n\n".join(parts), lang, tone, tuple(citations), grounded=bool(usable))
