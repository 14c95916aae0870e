"""The whole assist, end to end, scored on tickets with gold answers: what an agent in front of the ticket
would see (suggested articles, "No good article", triage, sentiment, flags, the draft), not a benchmark.

The workspace's knowledge base and labelled history are copied into a temporary store, so the evaluation
never writes to the user's own; the evaluated tickets are imported there. A ticket that is also in the
labelled history is left out of its own triage (the classifier excludes the ticket's own number)."""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from copilot.domain import AssistResult, Ticket
from copilot.errors import BugError, ImportFileError
from copilot.evaluation.data import percentile
from copilot.evaluation.grounding import unsupported_sentences
from copilot.helpdesk.ticket_file import GOLD_KEYS, TicketRecord, check_gold, read_ticket_file
from copilot.kb.articles import ArticleInput, import_articles
from copilot.store import tickets as ticket_store
from copilot.store.transaction import transaction

if TYPE_CHECKING:
    from copilot.llm.catalog import ModelOverride
    from copilot.services import Services

_CITATION = re.compile(r"\[\d+\]")
_MENU_PATH = re.compile(r"[\w][\w &'/-]*(?:\s*>\s*[\w][\w &'/-]*)+")
_SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class AssistReport:
    article_top1: float | None
    article_top3: float | None
    no_article_precision: float | None
    no_article_recall: float | None
    triage_accuracy: float | None
    sentiment_accuracy: float | None
    flag_precision: float | None
    flag_recall: float | None
    draft_must_include: float | None
    draft_must_not_hits: int
    markup_leaks: int
    p50_s: float
    p95_s: float
    tickets: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TicketOutcome:
    """What the assist produced for one ticket, reduced to what is scored (also printed per ticket)."""

    number: int
    articles: tuple[str, ...]  # suggested, best first
    no_article: bool  # no suggestion reached the confidence the draft needs
    intent: str  # "" when triage was unsure
    sentiment: str
    flags: tuple[str, ...]
    draft: str
    leaks: tuple[str, ...]
    seconds: float
    unsupported: tuple[str, ...] = ()  # draft sentences the lexical check found no support for
    cost_usd: float = 0.0  # model calls made for this ticket
    tokens: int = 0
    intent_candidates: tuple[tuple[str, float], ...] = ()  # triage's best intents, however unsure
    confidences: tuple[float, ...] = ()  # of the suggested articles, in the same order
    cited: tuple[str, ...] = ()  # the articles the draft cites (ids)


def read_gold(path: Path) -> dict[int, dict[str, Any]]:
    """A gold file: one JSON object per line with `number` (or `id`) and the gold keys."""
    gold: dict[int, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"Cannot read {path}: {exc}.") from exc
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}, line {i}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{where}: not valid JSON ({exc.msg}).") from exc
        number = obj.get("number", obj.get("id")) if isinstance(obj, dict) else None
        if not isinstance(number, int):
            raise ImportFileError(f"{where}: needs the ticket's number.")
        extra = set(obj) - GOLD_KEYS - {"number", "id", "note"}
        if extra:
            raise ImportFileError(f"{where}: unknown gold keys {', '.join(sorted(extra))}.")
        gold[number] = check_gold({k: v for k, v in obj.items() if k in GOLD_KEYS}, where)
    return gold


def markup_leaks(draft: str, cited_bodies: list[str]) -> list[str]:
    """Markup that would reach the customer: citation markers, Markdown bold, and menu paths of the cited
    articles whose `>` was lost ("Profile   Subscription")."""
    leaks = [f"citation {m.group(0)}" for m in _CITATION.finditer(draft)]
    if "**" in draft:
        leaks.append("**")
    folded = " ".join(draft.replace("**", "").split()).lower()
    for body in cited_bodies:
        for path in _MENU_PATH.findall(body.replace("**", "")):
            parts = [p.strip().lower() for p in path.split(">")]
            # The last words before the first '>' and the first after the last: enough to recognise the path
            # with its arrows gone, without matching a title that merely uses two of its words.
            lost = " ".join([parts[0].split()[-1], *parts[1:-1], parts[-1].split()[0]])
            if len(parts) > 2 and lost in folded:
                leaks.append(f"lost '>' in {' > '.join(parts)}")
    return leaks


def score(records: list[TicketRecord], outcomes: list[TicketOutcome]) -> AssistReport:
    top1 = top3 = with_article = 0
    predicted_none = right_none = gold_none = 0
    triage = [0, 0]
    sentiment = [0, 0]
    flag_tp = flag_fp = flag_fn = 0
    flags_scored = False
    include = [0, 0]
    must_not = 0
    for record, out in zip(records, outcomes, strict=True):
        gold = record.gold
        if "articles" in gold:
            ids = set(gold["articles"])
            if ids:
                with_article += 1
                top1 += bool(out.articles[:1] and out.articles[0] in ids)
                top3 += bool(ids & set(out.articles[:3]))
            else:
                gold_none += 1
                right_none += out.no_article
            predicted_none += out.no_article
        if gold.get("intent"):
            triage[0] += out.intent == gold["intent"]
            triage[1] += 1
        if gold.get("sentiment"):
            sentiment[0] += out.sentiment == gold["sentiment"]
            sentiment[1] += 1
        if "flags" in gold:
            flags_scored = True
            want, got = set(gold["flags"]), set(out.flags)
            flag_tp += len(want & got)
            flag_fp += len(got - want)
            flag_fn += len(want - got)
        text = out.draft.lower()
        if gold.get("must_include"):
            include[0] += all(s.lower() in text for s in gold["must_include"])
            include[1] += 1
        must_not += sum(s.lower() in text for s in gold.get("must_not_include", []))
    seconds = [o.seconds for o in outcomes]
    articles_scored = any("articles" in r.gold for r in records)
    none_precision_defined = articles_scored and predicted_none > 0
    return AssistReport(
        article_top1=_share(top1, with_article),
        article_top3=_share(top3, with_article),
        no_article_precision=_share(right_none, predicted_none) if none_precision_defined else None,
        no_article_recall=_share(right_none, gold_none),
        triage_accuracy=_share(*triage),
        sentiment_accuracy=_share(*sentiment),
        flag_precision=_share(flag_tp, flag_tp + flag_fp) if flags_scored else None,
        flag_recall=_share(flag_tp, flag_tp + flag_fn) if flags_scored else None,
        draft_must_include=_share(*include),
        draft_must_not_hits=must_not,
        markup_leaks=sum(len(o.leaks) for o in outcomes),
        p50_s=round(percentile(seconds, 0.5), 3),
        p95_s=round(percentile(seconds, 0.95), 3),
        tickets=len(outcomes),
    )


def _share(right: int, total: int) -> float | None:
    return round(right / total, 4) if total else None


def outcome_of(result: AssistResult, min_confidence: float, cited_bodies: list[str], seconds: float) -> TicketOutcome:
    tr = result.triage
    thread = [result.ticket.subject, result.ticket.customer_name, *(m.body for m in result.ticket.messages)]
    titles = [s.title for s in result.suggestions] + [c.title for c in result.draft.citations]
    return TicketOutcome(
        number=result.ticket.number,
        articles=tuple(s.article_id for s in result.suggestions),
        no_article=not any(s.confidence >= min_confidence for s in result.suggestions),
        intent="" if not tr.intent or tr.is_unsure else tr.intent,
        sentiment=result.sentiment,
        flags=tuple(sorted({f.kind for f in result.flags} - {"negative_sentiment"})),  # that is sentiment
        draft=result.draft.text,
        leaks=tuple(markup_leaks(result.draft.text, cited_bodies)),
        seconds=round(seconds, 3),
        unsupported=tuple(
            unsupported_sentences(result.draft.text, [*cited_bodies, *titles, *thread], result.draft.language)
        ),
        intent_candidates=tuple(tr.candidates[:3]),
        confidences=tuple(round(s.confidence, 3) for s in result.suggestions),
        cited=tuple(c.article_id for c in result.draft.citations),
    )


# -- the temporary store ------------------------------------------------------------------------------------


def _knowledge(db: Database, workspace: str) -> dict[str, Any]:
    """What the evaluation copies from the user's store: the workspace row, articles, labelled history."""
    ws = db.execute("SELECT name, kind, article_url FROM workspaces WHERE id = ?", [workspace]).fetchone()
    articles = [
        ArticleInput(str(r[0]), str(r[1]), str(r[2]), tuple(json.loads(r[3])), str(r[4] or ""))
        for r in db.execute("SELECT id, title, body, tags, entity FROM articles WHERE workspace = ?", [workspace])
    ]
    history = [
        ticket_store.get_ticket(db, int(r[0]))
        for r in db.execute("SELECT id FROM tickets WHERE workspace = ? AND intent != ''", [workspace])
    ]
    examples = [
        tuple(r)
        for r in db.execute(
            "SELECT key, text, label, imported_at FROM triage_examples WHERE workspace = ?", [workspace]
        )
    ]
    return {"workspace": tuple(ws) if ws else (workspace, "file", ""), "articles": articles, "history": history,
            "examples": examples}  # fmt: skip


def _fill(db: Database, workspace: str, knowledge: dict[str, Any], records: list[TicketRecord]) -> list[int]:
    """The copy: workspace, articles, labelled history, then the evaluated tickets (a history ticket with the
    same number is replaced, keeping its label; a new one carries none). Returns the evaluated tickets' ids."""
    name, kind, url = knowledge["workspace"]
    ticket_store.ensure_workspace(db, workspace, name, kind, url)
    import_articles(db, workspace, knowledge["articles"], "evaluation")
    labels: dict[int, str] = {}
    for ticket in knowledge["history"]:
        ticket_store.upsert_ticket(db, _bare(ticket, workspace, ticket.intent))
        labels[ticket.number] = ticket.intent
    with transaction(db):
        for key, text, label, at in knowledge["examples"]:
            db.execute(
                "INSERT OR REPLACE INTO triage_examples (workspace, key, text, label, imported_at) VALUES (?,?,?,?,?)",
                [workspace, key, text, label, at],
            )
    return [
        ticket_store.upsert_ticket(db, _bare(r.ticket, workspace, labels.get(r.ticket.number, ""))) for r in records
    ]


def _spent_on(db: Database, ticket_id: int) -> tuple[float, int]:
    row = db.execute(
        "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(tokens_in + tokens_out), 0) FROM model_calls "
        "WHERE ticket_id = ?",
        [ticket_id],
    ).fetchone()
    return round(float(row[0]), 6), int(row[1])


def _bare(ticket: Ticket, workspace: str, intent: str) -> Ticket:
    """The ticket as a fresh copy in `workspace`: local ids cleared (the store gives new ones)."""
    messages = tuple(replace(m, id=0, ticket_id=0, remote_id="") for m in ticket.messages)
    return replace(ticket, id=0, workspace=workspace, intent=intent, messages=messages)


async def evaluate_assist(
    services: Services,
    tickets: Path,
    workspace: str,
    gold: Path | None = None,
    model_override: ModelOverride | None = None,
    tone: str | None = None,
    configure: Callable[[Services], Awaitable[None]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[AssistReport, list[TicketOutcome]]:
    """Run the whole assist on every ticket of the file in a temporary copy of the workspace and score it.
    `configure` sets up the temporary services (providers, routing) before the first ticket; `progress` hears
    (done, total) after each ticket."""
    from copilot.assist.indexing import refresh_vectors
    from copilot.assist.routing import assist_ticket
    from copilot.assist.workspace import open_workspace
    from copilot.kb.articles import get_article

    records = await asyncio.to_thread(read_ticket_file, tickets)  # files and SQLite off the GUI's loop
    if gold is not None:
        by_number = await asyncio.to_thread(read_gold, gold)
        records = [replace(r, gold={**by_number.get(r.ticket.number, {}), **r.gold}) for r in records]
    if services.connectors.find(workspace) is not None:
        await open_workspace(services, workspace)
    knowledge = await services.store.run(_knowledge, services.store.db, workspace)
    outcomes: list[TicketOutcome] = []
    with tempfile.TemporaryDirectory(prefix="copilot-eval-") as folder:
        if services.scratch is None:
            raise BugError("Evaluation needs services built by copilot.app (no scratch factory).")
        temp = await asyncio.to_thread(services.scratch, Path(folder), model_override)
        try:
            ids = await temp.store.run(_fill, temp.store.db, workspace, knowledge, records)
            await refresh_vectors(temp, workspace)
            if configure is not None:
                await configure(temp)
            min_confidence = temp.settings.suggest.min_confidence
            for done, ticket_id in enumerate(ids, start=1):
                started = time.perf_counter()
                result = await assist_ticket(temp, ticket_id, tone=tone)
                elapsed = time.perf_counter() - started
                cited = [
                    (await temp.store.run(get_article, temp.store.db, workspace, c.article_id)).body
                    for c in result.draft.citations
                ]
                cost, tokens = await temp.store.run(_spent_on, temp.store.db, ticket_id)
                outcome = outcome_of(result, min_confidence, cited, elapsed)
                outcomes.append(replace(outcome, cost_usd=cost, tokens=tokens))
                if progress is not None:
                    progress(done, len(ids))
        finally:
            for connector in temp.connectors.every_connector():
                await connector.aclose()
            temp.close()
    return score(records, outcomes), outcomes
