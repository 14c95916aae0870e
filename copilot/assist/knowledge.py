"""Knowledge-base use cases: search, import, correcting an article with its history, and where it has gaps."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from copilot.domain import Article, ArticleVersion, Suggestion
from copilot.domain.events import ArticleDidChange
from copilot.domain.workspaces import KB_ONLY_KIND
from copilot.engine.text import asks_nothing, key_terms
from copilot.kb import articles, importer, retrieve
from copilot.services import Services
from copilot.store.transaction import transaction


async def search_kb(services: Services, text: str, workspace: str | None = None, limit: int = 10) -> list[Suggestion]:
    """Keyword and (with the local model) meaning search over a workspace's articles."""

    def _search(db: Database) -> list[Suggestion]:
        from copilot.assist.ticket_assist import dense_search

        dense = dense_search(db, workspace, services.caches) if workspace else None
        query = retrieve.WeightedQuery.from_parts([(text, 1.0)])
        counts = services.caches.term_counts
        return retrieve.search(db, query, workspace=workspace, limit=limit, dense=dense, counts=counts)

    return await services.store.run(_search, services.store.db)


async def import_kb(services: Services, path: Path, workspace: str, author: str = "import") -> tuple[int, int]:
    items = importer.read_articles(  # raises before anything is written
        path,
        max_article_bytes=services.settings.limits.article_bytes,
        max_line_bytes=services.settings.limits.jsonl_line_bytes,
    )

    def _write(db: Database) -> tuple[int, int]:
        from copilot.store.tickets import ensure_workspace

        ensure_workspace(db, workspace, workspace, KB_ONLY_KIND)
        return articles.import_articles(db, workspace, items, author)

    result = await services.store.run(_write, services.store.db)
    await _refresh_vectors(services, workspace)
    services.bus.emit(ArticleDidChange(article_id=""))
    return result


async def _refresh_vectors(services: Services, workspace: str | None) -> None:
    from copilot.assist.indexing import refresh_vectors

    await refresh_vectors(services, workspace)


async def get_article(services: Services, workspace: str, article_id: str) -> Article:
    return await services.store.run(articles.get_article, services.store.db, workspace, article_id)


async def save_article(
    services: Services,
    workspace: str,
    article_id: str,
    title: str,
    body: str,
    reason: str,
    author: str = "",
    ticket_id: int | None = None,
) -> Article:
    """Save a correction. From a ticket (`ticket_id`), the corrected article becomes that ticket's chosen one in
    the same transaction: the next draft for it cites the correction, whatever its confidence."""
    who = author or services.agent_name()

    def _save(db: Database) -> Article:
        with transaction(db):
            saved = articles.save_article(db, workspace, article_id, title, body, who, reason)
            if ticket_id is not None:
                articles.choose_article(db, workspace, article_id, ticket_id)
        return saved

    saved = await services.store.run(_save, services.store.db)
    await _refresh_vectors(services, workspace)  # the corrected text is what meaning search sees next
    services.bus.emit(ArticleDidChange(article_id=article_id))
    await _push_to_helpdesk(services, workspace, article_id)
    return saved


async def _push_to_helpdesk(services: Services, workspace: str, article_id: str) -> None:
    """A correction goes back to the help desk's knowledge base too, through the outbox (never lost)."""
    from copilot.assist import outbox as sending
    from copilot.helpdesk.base import Capability

    connector = services.connectors.find(workspace)
    if connector is None or connector.kind == "demo" or Capability.KB_UPDATE not in connector.capabilities:
        return
    item = await sending.queue_article(services, workspace, article_id)
    async with services.lock(f"outbox:{workspace}"):
        await sending.deliver(services, item.id)


async def article_history(services: Services, workspace: str, article_id: str) -> list[ArticleVersion]:
    return await services.store.run(articles.history, services.store.db, workspace, article_id)


async def revert_article(
    services: Services, workspace: str, article_id: str, version: int, author: str = ""
) -> Article:
    who = author or services.agent_name()
    saved = await services.store.run(articles.revert_article, services.store.db, workspace, article_id, version, who)
    await _refresh_vectors(services, workspace)
    services.bus.emit(ArticleDidChange(article_id=article_id))
    await _push_to_helpdesk(services, workspace, article_id)
    return saved


async def article_link(services: Services, workspace: str, article_id: str) -> str:
    """What to paste into a reply: the customer-visible address, or the title when there is none."""

    def _read(db: Database) -> str:
        from copilot.store.tickets import article_url

        url = article_url(db, workspace, article_id)
        return url or articles.get_article(db, workspace, article_id).title

    return await services.store.run(_read, services.store.db)


async def mark_not_relevant(services: Services, article_id: str, ticket_id: int) -> None:
    """Hide an article for one ticket (and clear it as the ticket's chosen article, if it was)."""
    await services.store.run(articles.mark_not_relevant, services.store.db, article_id, ticket_id)


async def choose_article(services: Services, ticket_id: int, article_id: str) -> Article:
    """Use this article: the agent's word that it answers the ticket. The assist lists it first and grounds the
    draft on it even under the "No good article" line; choosing another replaces it."""

    def _choose(db: Database) -> Article:
        from copilot.store.tickets import get_ticket

        return articles.choose_article(db, get_ticket(db, ticket_id).workspace, article_id, ticket_id)

    return await services.store.run(_choose, services.store.db)


async def clear_article_choice(services: Services, ticket_id: int) -> str:
    """Don't use: undo the choice (the ranking decides again). Returns the article that was chosen, or ""."""
    return await services.store.run(articles.clear_chosen, services.store.db, ticket_id)


@dataclass(frozen=True)
class KnowledgeGap:
    """Tickets the knowledge base could not answer well, grouped by what they are about."""

    topic: str  # the tickets' triage intent, or "unlabelled"
    tickets: int
    best_confidence: float  # the best match any of them got
    examples: tuple[tuple[int, str], ...]  # (ticket number, subject), newest first
    words: tuple[str, ...]  # the words their subjects share most: what a new article should cover


def _gaps(db: Database, workspace: str, below: float) -> list[KnowledgeGap]:
    # The latest suggestions the copilot showed for each ticket (recorded whenever it assisted one), and the
    # customer's latest message: a thank-you that asks for nothing needs no article, so it is no gap.
    rows = db.execute(
        "SELECT t.number, t.subject, t.intent, o.payload, (SELECT m.body FROM messages m WHERE m.ticket_id = t.id "
        "AND m.role = 'customer' ORDER BY m.created_at DESC, m.id DESC LIMIT 1) "
        "FROM ai_outputs o JOIN tickets t ON t.id = o.ticket_id "
        "WHERE t.workspace = ? AND o.task = 'suggestions' AND o.id = (SELECT max(o2.id) FROM ai_outputs o2 "
        "WHERE o2.ticket_id = o.ticket_id AND o2.task = 'suggestions') "
        # An agent who chose the article that answers a ticket says the knowledge base covers it.
        "AND NOT EXISTS (SELECT 1 FROM article_feedback f WHERE f.ticket_id = t.id AND f.verdict = 'chosen') "
        "ORDER BY t.updated_at DESC",
        [workspace],
    ).fetchall()
    groups: dict[str, list[tuple[int, str, float]]] = {}
    for number, subject, intent, payload, latest in rows:
        items = json.loads(payload).get("items", [])
        best = max((float(i.get("confidence", 0.0)) for i in items), default=0.0)
        if best < below and not (latest and asks_nothing(latest)):
            groups.setdefault(intent or "unlabelled", []).append((int(number), str(subject), best))
    gaps = []
    for topic, found in groups.items():
        words = Counter(w for _n, subject, _b in found for w in dict.fromkeys(key_terms(subject.lower())))
        gaps.append(
            KnowledgeGap(
                topic,
                len(found),
                round(max(b for *_x, b in found), 3),
                tuple((n, s) for n, s, _b in found[:3]),
                tuple(w for w, c in words.most_common(5) if c > 1 or len(found) == 1),
            )
        )
    return sorted(gaps, key=lambda g: (-g.tickets, g.topic))


async def knowledge_gaps(services: Services, workspace: str) -> list[KnowledgeGap]:
    """Where agents got "No good article": the tickets whose best suggestion stayed under the weak threshold
    (`suggest.min_confidence`), grouped by intent, largest group first. A ticket the agent chose an article for
    ("Use this article", or a correction saved from it) is answered, not a gap."""
    below = services.settings.suggest.min_confidence
    return await services.store.run(_gaps, services.store.db, workspace, below)
