"""One declaration per copilot task: its default tier, the answer's schema, what the prompt carries beside the
ticket, when a model is worth asking, the built-in answer, and how a model's answer changes the result.

The prompt itself is the task's file in resources/prompts/ (versioned). Adding a task is one entry in TASKS and
its prompt file (and a widget, if it shows something new); routing, caching, the call log, streaming, fallbacks
and recording the output are the same for every task (copilot.assist.routing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from copilot.domain import AssistResult, Citation, Draft, Flag, Summary, SummaryLine, Triage
from copilot.llm.schema import Schema

RERANK_CANDIDATES = 5
SUMMARY_LABELS = (("Wants", "wants"), ("Now", "now"), ("Tried", "tried"), ("Next", "next"))
TAG_CANDIDATES = 40


@dataclass(frozen=True)
class TaskInputs:
    """What a task's prompt may use beside the ticket, gathered once per ticket."""

    language: str  # the customer's language, by name ("German")
    tone: str
    agent: str
    min_confidence: float
    known_tags: tuple[str, ...] = ()  # the tags this workspace uses, most used first

    def values(self, result: AssistResult) -> dict[str, str]:
        """The placeholders a prompt file may use. Nothing from the ticket goes into the system message: the
        customer's name is read from the delimited ticket itself."""
        return {
            "language": self.language,
            "tone": self.tone,
            "agent": self.agent,
            "candidates": ", ".join(label for label, _ in result.triage.candidates[:6]),
        }


@dataclass(frozen=True)
class Applied:
    """A model's answer taken into the result, and what is recorded as the task's output."""

    result: AssistResult
    payload: dict[str, Any]


def _nothing(result: AssistResult, inputs: TaskInputs) -> str:
    return ""


def _always(result: AssistResult, inputs: TaskInputs) -> bool:
    return True


@dataclass(frozen=True)
class Task:
    name: str
    tier: str  # the default: built-in, cheap, frontier, or escalate (frontier for hard tickets); users override
    apply: Callable[[AssistResult, Any, TaskInputs], Applied | str]  # a str says why the answer was not used
    schema: Schema | None = None  # a JSON answer is checked against it (and repaired once); None: plain text
    shows_as: str = ""  # the output it fills, when not its own name (the re-rank fills the suggestions)
    after: str = ""  # a task whose answer it waits for (the draft cites the re-ranked articles)
    context_heading: str = ""
    context: Callable[[AssistResult, TaskInputs], str] = _nothing  # numbered passages or candidates for the prompt
    values_in_key: bool = False  # tone, names and candidates change the answer: part of the cache key
    worth_asking: Callable[[AssistResult, TaskInputs], bool] = _always
    builtin: Callable[[AssistResult], dict[str, Any]] | None = None  # for tasks the built-in pass does not cover
    stream_labels: tuple[tuple[str, str], ...] = ()  # a JSON answer shown line by line while it streams
    per_ticket: bool = True  # False: a tool on the agent's own reply (rewrite, translate), run on request

    @property
    def output(self) -> str:
        return self.shows_as or self.name


# --- summary, signals, triage -------------------------------------------------------------------------------


def _summary(result: AssistResult, value: Any, inputs: TaskInputs) -> Applied:
    summary = Summary(tuple(SummaryLine(label, str(value[key])) for label, key in SUMMARY_LABELS))
    return Applied(replace(result, summary=summary), {"lines": [asdict(line) for line in summary.lines]})


def _signals(result: AssistResult, value: Any, inputs: TaskInputs) -> Applied:
    flags = result.flags
    if value["urgency"] == "high" and not any(f.kind == "urgency" for f in flags):
        why = "; ".join(value["reasons"][:2]) or "the model judged it urgent"
        evidence = value["reasons"][0] if value["reasons"] else ""
        flags = (*flags, Flag("urgency", "Urgent", f"the model judged it urgent: {why}", evidence, None, 2))
    sentiment = str(value["sentiment"])
    payload = {
        "sentiment": sentiment,
        "urgency": value["urgency"],
        "reasons": value["reasons"],
        "flags": [asdict(f) for f in flags],
    }
    return Applied(replace(result, sentiment=sentiment, flags=flags), payload)


def _triage(result: AssistResult, value: Any, inputs: TaskInputs) -> Applied | str:
    chosen = str(value["intent"])
    if chosen not in {label for label, _ in result.triage.candidates}:
        return f"the model chose '{chosen}', not a candidate"
    confidence = max(0.0, min(1.0, float(value["confidence"])))
    triage = replace(result.triage, intent=chosen, confidence=max(confidence, Triage.UNSURE_BELOW))
    return Applied(replace(result, triage=triage), asdict(triage))


# --- articles: re-rank and the draft that cites them ---------------------------------------------------------


def _candidates(result: AssistResult, inputs: TaskInputs | None = None) -> str:
    """The suggestions a model may re-order: numbered, with title and best passage."""
    return "\n".join(
        f"[{n}] {s.title}: {s.passage}" for n, s in enumerate(result.suggestions[:RERANK_CANDIDATES], start=1)
    )


def reranked(result: AssistResult, order: list[int]) -> AssistResult:
    """The model's order first (numbers it invented or repeated are ignored), the rest after, as they were."""
    top = result.suggestions[:RERANK_CANDIDATES]
    picked = list(dict.fromkeys(n for n in order if 1 <= n <= len(top)))
    rest = [s for n, s in enumerate(top, start=1) if n not in picked]
    ordered = [*[top[n - 1] for n in picked], *rest, *result.suggestions[RERANK_CANDIDATES:]]
    # The article the agent chose stays first: their word outranks the model's.
    return replace(result, suggestions=(*[s for s in ordered if s.chosen], *[s for s in ordered if not s.chosen]))


def _rerank(result: AssistResult, value: Any, inputs: TaskInputs) -> Applied:
    ordered = reranked(result, value["order"])
    payload = {"items": [asdict(s) for s in ordered.suggestions], "model_order": value["order"]}
    return Applied(ordered, payload)


def passages(result: AssistResult, min_confidence: float) -> list[tuple[int, str, str, int, str]]:
    """Numbered passages the draft may cite: (number, article id, title, version, text). The article the agent
    chose is one, even under the line."""
    strong = [s for s in result.suggestions if s.chosen or s.confidence >= min_confidence][:3]
    return [(i + 1, s.article_id, s.title, s.article_version, s.passage) for i, s in enumerate(strong)]


def _passage_text(result: AssistResult, inputs: TaskInputs) -> str:
    return "\n".join(f"[{n}] {title}: {text}" for n, _, title, _, text in passages(result, inputs.min_confidence))


_CITE = re.compile(r"\[(\d)\]")


def draft_from(text: str, result: AssistResult, min_conf: float) -> Draft:
    """The model's draft with its [n] markers mapped back to the passages it was given (the draft's
    citations, which the agent sees); the markers themselves never reach the customer."""
    given = {n: (aid, title, version) for n, aid, title, version, _ in passages(result, min_conf)}
    used = sorted({int(n) for n in _CITE.findall(text) if int(n) in given})
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", _CITE.sub("", text))
    citations = tuple(Citation(n, given[n][0], given[n][1], given[n][2]) for n in used)
    return Draft(cleaned.strip(), result.draft.language, result.draft.tone, citations, grounded=bool(citations))


def _draft(result: AssistResult, value: Any, inputs: TaskInputs) -> Applied:
    draft = draft_from(str(value), result, inputs.min_confidence)
    return Applied(replace(result, draft=draft), asdict(draft))


# --- tags ----------------------------------------------------------------------------------------------------


def builtin_tags(result: AssistResult) -> dict[str, Any]:
    """The built-in answer: the triage's tags (a sure intent, the flags raised) the ticket does not have yet."""
    have = set(result.ticket.tags)
    return {"tags": [t for t in result.triage.tags if t not in have]}


def _tag_candidates(result: AssistResult, inputs: TaskInputs) -> str:
    have = set(result.ticket.tags)
    pool = [*inputs.known_tags, *result.triage.tags, *(label for label, _ in result.triage.candidates)]
    return ", ".join(t for t in dict.fromkeys(pool) if t not in have)


def _tags(result: AssistResult, value: Any, inputs: TaskInputs) -> Applied | str:
    allowed = {t.strip() for t in _tag_candidates(result, inputs).split(",")}
    chosen = [t for t in dict.fromkeys(str(v).strip() for v in value["tags"]) if t in allowed]
    if value["tags"] and not chosen:
        return "the model suggested tags this workspace does not use"
    payload = {"tags": chosen[:5]}
    return Applied(replace(result, extras={**result.extras, "tags": payload}), payload)


# --- the agent's own reply -----------------------------------------------------------------------------------


def _not_per_ticket(result: AssistResult, value: Any, inputs: TaskInputs) -> str:
    return "runs on the agent's reply, not on the ticket"


TASKS: tuple[Task, ...] = (
    Task("summary", "cheap", _summary, schema={"wants": str, "now": str, "tried": str, "next": str},
         stream_labels=SUMMARY_LABELS),
    Task("signals", "cheap", _signals, schema={
        "sentiment": ("positive", "neutral", "negative"), "urgency": ("low", "normal", "high"), "reasons": [str]}),
    Task("triage", "built-in", _triage, schema={"intent": str, "confidence": float}, values_in_key=True,
         worth_asking=lambda result, _inputs: len(result.triage.candidates) >= 2),
    Task("rerank", "cheap", _rerank, schema={"order": [int]}, shows_as="suggestions",
         context_heading="Articles to order", context=_candidates,
         worth_asking=lambda result, _inputs: len(result.suggestions) >= 2),
    Task("draft", "escalate", _draft, after="rerank", context_heading="Article passages you may cite",
         context=_passage_text, values_in_key=True),
    Task("tags", "cheap", _tags, schema={"tags": [str]}, context_heading="Tags this team uses",
         context=_tag_candidates, builtin=builtin_tags,
         worth_asking=lambda result, inputs: bool(_tag_candidates(result, inputs))),
    Task("rewrite", "cheap", _not_per_ticket, per_ticket=False),
    # The replay's judge of unsupported sentences (copilot.assist.judge): its model is chosen per replay.
    Task("judge", "cheap", _not_per_ticket, schema={"verdicts": [str]}, per_ticket=False),
    Task("translate", "cheap", _not_per_ticket, per_ticket=False),
)  # fmt: skip
BY_NAME = {task.name: task for task in TASKS}
ROUTABLE = tuple(name for name in BY_NAME if name != "judge")  # the judge's model is chosen per replay, not routed
PER_TICKET = tuple(task for task in TASKS if task.per_ticket)
