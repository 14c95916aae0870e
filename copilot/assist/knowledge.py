"""Knowledge-base use cases: search, import, and correcting an article with its history."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from copilot.app import Services
from copilot.domain.models import Article, ArticleVersion, Suggestion
from copilot.events import ArticleDidChange
from copilot.kb import articles, importer, retrieve


async def search_kb(services: Services, text: str, workspace: str | None = None, limit: int = 10) -> list[Suggestion]:
    """Keyword and (with the local model) meaning search over a workspace's articles."""

    def _search(db: Database) -> list[Suggestion]:
        from copilot.assist.copilot import dense_search, term_counts

        dense = dense_search(db, workspace, services.engine_cache) if workspace else None
        query = retrieve.WeightedQuery.from_parts([(text, 1.0)])
        counts = term_counts(services.engine_cache)
        return retrieve.search(db, query, workspace=workspace, limit=limit, dense=dense, counts=counts)

    return await services.store.run(_search, services.store.db)


async def import_kb(services: Services, path: Path, workspace: str, author: str = "import") -> tuple[int, int]:
    items = importer.read_articles(path)  # raises before anything is written

    def _write(db: Database) -> tuple[int, int]:
        from copilot.store.tickets import ensure_workspace

        ensure_workspace(db, workspace, workspace, "imported")
        return articles.import_articles(db, workspace, items, author)

    result = await services.store.run(_write, services.store.db)
    await _refresh_vectors(services, workspace)
    services.bus.emit(ArticleDidChange(article_id=""))
    return result


async def _refresh_vectors(services: Services, workspace: str | None) -> None:
    from copilot.assist.copilot import refresh_vectors

    await refresh_vectors(services, workspace)


async def get_article(services: Services, article_id: str) -> Article:
    return await services.store.run(articles.get_article, services.store.db, article_id)


async def save_article(
    services: Services, article_id: str, title: str, body: str, reason: str, author: str = ""
) -> Article:
    who = author or services.agent_name()
    saved = await services.store.run(articles.save_article, services.store.db, article_id, title, body, who, reason)
    await _refresh_vectors(services, None)  # the corrected text is what meaning search sees next
    services.bus.emit(ArticleDidChange(article_id=article_id))
    await _push_to_helpdesk(services, article_id)
    return saved


async def _push_to_helpdesk(services: Services, article_id: str) -> None:
    """A correction goes back to the help desk's knowledge base too, through the outbox (never lost)."""
    from copilot.assist import outbox as sending
    from copilot.helpdesk.base import Capability

    workspace = await services.store.run(articles.workspace_of, services.store.db, article_id)
    connector = services.connectors.get(workspace)
    if connector is None or connector.kind == "demo" or Capability.KB_UPDATE not in connector.capabilities:
        return
    item = await sending.queue_article(services, workspace, article_id)
    async with services.lock(f"outbox:{workspace}"):
        await sending.deliver(services, item.id)


async def article_history(services: Services, article_id: str) -> list[ArticleVersion]:
    return await services.store.run(articles.history, services.store.db, article_id)


async def revert_article(services: Services, article_id: str, version: int, author: str = "") -> Article:
    who = author or services.agent_name()
    saved = await services.store.run(articles.revert_article, services.store.db, article_id, version, who)
    await _refresh_vectors(services, None)
    services.bus.emit(ArticleDidChange(article_id=article_id))
    await _push_to_helpdesk(services, article_id)
    return saved


async def article_link(services: Services, workspace: str, article_id: str) -> str:
    """What to paste into a reply: the customer-visible address, or the title when there is none."""

    def _read(db: Database) -> str:
        from copilot.store.tickets import article_url

        url = article_url(db, workspace, article_id)
        return url or articles.get_article(db, article_id).title

    return await services.store.run(_read, services.store.db)


async def mark_not_relevant(services: Services, article_id: str, ticket_id: int) -> None:
    await services.store.run(articles.mark_not_relevant, services.store.db, article_id, ticket_id)
